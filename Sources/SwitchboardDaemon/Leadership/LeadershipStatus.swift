import Foundation
import Synchronization

/// What this instance knows of the lease, shared by whoever asks: the sink (route here or relay),
/// the sender (may it still send), the API and control (serve or pass on), `status`, `/metrics`.
public final class LeadershipStatus: Sendable {
    public enum Role: String, Sendable {
        /// The first look at the lease has not answered yet.
        case starting
        case leader
        case standby
        /// This instance led and another took over: it is stopping.
        case deposed
    }

    public struct Snapshot: Sendable, Equatable {
        public var role: Role = .starting
        public var node: String
        /// The epoch this instance leads under, or the last one it saw another lead under.
        public var epoch: Int64 = 0
        /// Who leads (this node when leading), where it answers, since when.
        public var leader: String?
        public var leaderAddress: String?
        public var since: Date?
        /// Signs control calls passed to the leader (`ControlForwarding`).
        public var relayKey: String?
    }

    private let state: Mutex<(snapshot: Snapshot, actUntil: ContinuousClock.Instant?)>

    public init(node: String) {
        state = Mutex((Snapshot(node: node), nil))
    }

    public var snapshot: Snapshot { state.withLock { $0.snapshot } }

    public var isLeading: Bool { snapshot.role == .leader }

    /// Whether this instance may still do what cannot be fenced by the database — above all, hand a
    /// message to Meta. True only while leading and before the lease could have run out as this
    /// process counts time (a process resumed after SIGSTOP finds its moment passed). The lease's
    /// expiry is measured from before the claim or renewal was sent, so this instance stops
    /// believing it leads before the database lets anyone else claim.
    public var mayAct: Bool {
        state.withLock { state in
            guard state.snapshot.role == .leader, let until = state.actUntil else { return false }
            return ContinuousClock.now < until
        }
    }

    func update(_ change: (inout Snapshot) -> Void, actUntil: ContinuousClock.Instant?? = .none) {
        state.withLock { state in
            change(&state.snapshot)
            if case .some(let until) = actUntil { state.actUntil = until }
        }
    }
}
