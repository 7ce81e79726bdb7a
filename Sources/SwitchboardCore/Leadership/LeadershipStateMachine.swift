import Foundation

/// One daemon's part in choosing the leader among the daemons on one database (issue #21), as a
/// state machine: event in, actions out; the IO layer performs the actions (claim or renew the
/// lease row, start or stop the leader's work, schedule the next step).
///
/// The leader holds a lease in PostgreSQL — a row with an epoch and an expiry in the database's
/// time — and renews it well before it expires. A standby claims the lease once it has expired,
/// which raises the epoch; every write only the leader may make carries its epoch, and the
/// database refuses a stale one. A lease rather than a session advisory lock: a leader stopped with
/// SIGSTOP (or cut off) keeps its TCP session, and a session lock with it, so nobody could ever
/// take over; a lease simply runs out.
public struct LeadershipStateMachine: Sendable, Equatable {
    public struct Settings: Sendable, Equatable {
        /// How long a claimed or renewed lease lasts: the longest a dead leader's work waits.
        public var lease: TimeInterval
        /// How often the leader renews, and a standby looks: a few times per lease.
        public var interval: TimeInterval

        public init(lease: TimeInterval = 3, interval: TimeInterval? = nil) {
            precondition(lease > 0, "a lease lasts some time")
            self.lease = lease
            self.interval = interval ?? lease / 3
            precondition(self.interval < lease, "the leader renews before its lease ends")
        }
    }

    public enum State: Sendable, Equatable {
        /// Not leading; waiting for the lease to be free.
        case standby
        /// Leading under `epoch` until `expiresAt` unless renewed.
        case leading(epoch: Int64, since: Date, expiresAt: Date)
        /// Stepped down for good (another instance took the lease): this process stops; it comes
        /// back as a standby.
        case deposed(epoch: Int64, reason: String)
        /// Stopping: the lease was given up, nothing more is done.
        case stopped
    }

    public enum Event: Sendable, Equatable {
        /// The scheduled moment to claim or renew has come.
        case due(now: Date)
        /// The claim succeeded: this instance leads under `epoch` until `expiresAt`.
        case claimed(epoch: Int64, expiresAt: Date, now: Date)
        /// Someone else holds an unexpired lease until `expiresAt`.
        case claimRefused(holder: String, expiresAt: Date, now: Date)
        case renewed(expiresAt: Date, now: Date)
        /// The lease row names another epoch or holder: someone took over.
        case renewalRefused(now: Date)
        /// The database did not answer the claim or the renewal.
        case databaseUnavailable(now: Date)
        /// A graceful stop.
        case stopping
    }

    public enum Action: Sendable, Equatable {
        case claim
        case renew(epoch: Int64)
        /// Start the leader's work (routing, SLA timers, outbox, automation) under `epoch`.
        case lead(epoch: Int64)
        /// Stop the leader's work and the process (it restarts as a standby).
        case stepDown(reason: String)
        /// Give up the lease at once, so a standby need not wait for it to run out.
        case release(epoch: Int64)
        case schedule(at: Date)
    }

    public let settings: Settings
    public private(set) var state: State = .standby

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// The first step: claim at once (a restart on the same node reclaims its own lease).
    public mutating func start() -> [Action] {
        state = .standby
        return [.claim]
    }

    public mutating func event(_ event: Event) -> [Action] {
        switch (state, event) {
        case (.standby, .due):
            return [.claim]
        case (.standby, .claimed(let epoch, let expiresAt, let now)):
            state = .leading(epoch: epoch, since: now, expiresAt: expiresAt)
            return [.lead(epoch: epoch), .schedule(at: now.addingTimeInterval(settings.interval))]
        case (.standby, .claimRefused(_, let expiresAt, let now)):
            // Look again when the holder's lease would end, or sooner: it may release it.
            return [.schedule(at: min(max(expiresAt, now), now.addingTimeInterval(settings.interval)))]
        case (.standby, .databaseUnavailable(let now)):
            return [.schedule(at: now.addingTimeInterval(settings.interval))]

        case (.leading(let epoch, _, _), .due):
            return [.renew(epoch: epoch)]
        case (.leading(let epoch, let since, _), .renewed(let expiresAt, let now)):
            state = .leading(epoch: epoch, since: since, expiresAt: expiresAt)
            return [.schedule(at: now.addingTimeInterval(settings.interval))]
        case (.leading(let epoch, _, _), .renewalRefused):
            let reason = "another instance took the lease (this one led under epoch \(epoch))"
            state = .deposed(epoch: epoch, reason: reason)
            return [.stepDown(reason: reason)]
        case (.leading(_, _, let expiresAt), .databaseUnavailable(let now)):
            // Keep asking. Until the lease runs out nobody else can lead. After, another may take
            // it: the database then refuses this epoch's writes, the IO layer hands nothing more to
            // Meta (its own clock says the lease ran out), and the next renewal is refused, which
            // steps down. If nobody took it — the database was away, not this instance — the
            // renewal succeeds and it goes on leading, without a restart.
            let retry = now.addingTimeInterval(settings.interval / 2)
            return [.schedule(at: now < expiresAt ? min(expiresAt, retry) : retry)]
        case (.leading(let epoch, _, _), .stopping):
            state = .stopped
            return [.release(epoch: epoch)]

        case (.standby, .stopping), (.deposed, .stopping):
            state = .stopped
            return []

        case (.standby, .renewed), (.standby, .renewalRefused),
             (.leading, .claimed), (.leading, .claimRefused),
             (.deposed, _), (.stopped, _):
            // An answer to a request this state did not make (a late reply after a change), or
            // anything after the end: nothing to do.
            return []
        }
    }

    /// Whether this instance may do the leader's work now.
    public var isLeading: Bool {
        if case .leading = state { return true }
        return false
    }
}
