import Foundation
import Logging
import Postgres
import ServiceLifecycle
import SwitchboardCore
import SwitchboardStore

/// Performs `LeadershipStateMachine`'s actions: claims or renews the lease row, marks the leader's
/// work startable (`Readiness.leading`) and fences this instance's sessions with its epoch, gives
/// the lease up on a graceful stop, and ends the process when another instance took over — systemd
/// starts it again, as a standby.
struct LeadershipService: Service {
    let store: LeadershipStore
    let status: LeadershipStatus
    let fence: SessionSetup
    let readiness: Readiness
    let settings: SwitchboardConfiguration.Cluster
    let metrics: SwitchboardMetrics
    let logger: Logger

    struct Deposed: Error, CustomStringConvertible {
        var reason: String
        var description: String { "this instance no longer leads: \(reason); it stops (systemd starts it again as a standby)" }
    }

    func run() async throws {
        var machine = LeadershipStateMachine(settings: .init(lease: settings.leaseSeconds, interval: settings.renewSeconds))
        let relayKey = Self.randomKey()
        var actions = machine.start()
        var next: Date?
        while true {
            var events: [LeadershipStateMachine.Event] = []
            for action in actions {
                switch action {
                case .schedule(let at): next = at
                case .claim: events.append(await claim(relayKey: relayKey))
                case .renew(let epoch): events.append(await renew(epoch))
                case .lead(let epoch): try await lead(epoch)
                case .stepDown(let reason):
                    status.update({ $0.role = .deposed }, actUntil: .some(nil))
                    fence.set(nil)
                    metrics.setLeadership(leading: false, epoch: status.snapshot.epoch, since: nil)
                    logger.critical("stepping down", metadata: ["reason": "\(reason)"])
                    throw Deposed(reason: reason)
                case .release(let epoch):
                    status.update({ $0.role = .standby }, actUntil: .some(nil))
                    do {
                        try await store.release(epoch: epoch)
                        logger.notice("lease given up for a graceful stop", metadata: ["epoch": "\(epoch)"])
                    } catch {
                        logger.warning("the lease could not be given up; a standby takes over when it runs out", metadata: ["error": "\(error)"])
                    }
                    return
                }
            }
            if !events.isEmpty {
                actions = events.flatMap { machine.event($0) }
                continue
            }
            if case .stopped = machine.state { return }
            // Wait for the next step. A graceful shutdown gives the lease up — this service stops
            // after the leader's work (it starts before it), so nothing of that work is left.
            let wait = max(0, (next ?? Date().addingTimeInterval(settings.renewSeconds)).timeIntervalSinceNow)
            next = nil
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(Int64(wait * 1000))) }
                actions = machine.event(.due(now: Date()))
            } catch {
                if Task.isCancelled && !Task.isShuttingDownGracefully { return }
                actions = machine.event(.stopping)
            }
        }
    }

    private func claim(relayKey: String) async -> LeadershipStateMachine.Event {
        let asked = ContinuousClock.now, askedAt = Date()
        do {
            switch try await store.claim(node: settings.node, address: settings.advertiseURL, lease: settings.leaseSeconds, relayKey: relayKey) {
            case .claimed(let epoch, let remaining):
                let lease = try await store.current()
                status.update({
                    $0.role = .leader
                    $0.epoch = epoch
                    $0.leader = settings.node
                    $0.leaderAddress = settings.advertiseURL
                    $0.since = askedAt
                    $0.relayKey = lease.relayKey
                }, actUntil: .some(asked + .milliseconds(Int64(remaining * 1000))))
                return .claimed(epoch: epoch, expiresAt: askedAt.addingTimeInterval(remaining), now: Date())
            case .refused(let holder, let remaining):
                let lease = try await store.current()
                let first = status.snapshot.role == .starting
                status.update {
                    $0.role = .standby
                    $0.epoch = lease.epoch
                    $0.leader = lease.isHeld ? lease.node : nil
                    $0.leaderAddress = lease.isHeld ? lease.address : nil
                    $0.since = lease.isHeld ? lease.since : nil
                    $0.relayKey = lease.relayKey
                }
                metrics.setLeadership(leading: false, epoch: lease.epoch, since: nil)
                if first {
                    logger.notice("standing by", metadata: ["leader": "\(holder ?? "none")", "epoch": "\(lease.epoch)"])
                    // Routing is the leader's work: a standby is ready to take webhooks.
                    readiness.mark(.routing)
                }
                return .claimRefused(holder: holder ?? "", expiresAt: askedAt.addingTimeInterval(remaining), now: Date())
            }
        } catch {
            logger.warning("the lease could not be read", metadata: ["error": "\(error)"])
            return .databaseUnavailable(now: Date())
        }
    }

    private func renew(_ epoch: Int64) async -> LeadershipStateMachine.Event {
        let asked = ContinuousClock.now, askedAt = Date()
        do {
            guard let remaining = try await store.renew(epoch: epoch, node: settings.node, lease: settings.leaseSeconds) else {
                return .renewalRefused(now: Date())
            }
            status.update({ _ in }, actUntil: .some(asked + .milliseconds(Int64(remaining * 1000))))
            return .renewed(expiresAt: askedAt.addingTimeInterval(remaining), now: Date())
        } catch let error as PostgresError where error.isStaleLeader {
            return .renewalRefused(now: Date())
        } catch {
            logger.warning("the lease could not be renewed", metadata: ["error": "\(error)", "epoch": "\(epoch)"])
            return .databaseUnavailable(now: Date())
        }
    }

    /// Fences this instance's sessions with the epoch, ends every session of an earlier one (and
    /// waits for that), then lets the leader's work start: it reads a state no former leader can
    /// still change.
    private func lead(_ epoch: Int64) async throws {
        // An Int64 from the database, so the text is digits only: session set-up has no parameters.
        fence.set("SELECT switchboard.fence_session(\(epoch))")
        var delay = Duration.milliseconds(100)
        while true {
            do {
                let former = try await store.endSessions(before: epoch)
                if former.remaining == 0 {
                    logger.notice("leading", metadata: ["epoch": "\(epoch)", "node": "\(settings.node)", "former_sessions_ended": "\(former.ended)"])
                    break
                }
                logger.warning("a former leader's sessions are not gone yet; asking again", metadata: ["remaining": "\(former.remaining)"])
            } catch let error as PostgresError where error.isStaleLeader {
                throw Deposed(reason: "another instance claimed the lease while this one was taking over")
            } catch {
                // Without this the leader's work must not start: a former leader's transaction
                // could still commit after the state was read.
                logger.warning("former leader's sessions not ended yet; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(1))
            }
        }
        metrics.setLeadership(leading: true, epoch: epoch, since: status.snapshot.since)
        readiness.mark(.leading)
    }

    /// 32 random bytes, hex: the key this instance offers for signing relayed calls.
    static func randomKey() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
    }
}
