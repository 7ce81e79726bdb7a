import Foundation
import SwitchboardCore
import Testing

/// The leader's lease, decided with a manual clock: who claims, renews, steps down, and how a
/// paused former leader learns it lost (issue #21; the database's side is the lease row).
@Suite("Leadership: claiming, renewing and losing the lease")
struct LeadershipStateMachineTests {
    static let t0 = Date(timeIntervalSince1970: 1_790_000_000)
    static let settings = LeadershipStateMachine.Settings(lease: 3, interval: 1)

    @Test func aStandbyClaimsLeadsAndRenewsBeforeItsLeaseEnds() {
        var machine = LeadershipStateMachine(settings: Self.settings)
        #expect(machine.start() == [.claim])
        #expect(!machine.isLeading)
        #expect(machine.event(.claimed(epoch: 7, expiresAt: Self.t0 + 3, now: Self.t0)) == [.lead(epoch: 7), .schedule(at: Self.t0 + 1)])
        #expect(machine.isLeading)
        #expect(machine.event(.due(now: Self.t0 + 1)) == [.renew(epoch: 7)])
        #expect(machine.event(.renewed(expiresAt: Self.t0 + 4, now: Self.t0 + 1)) == [.schedule(at: Self.t0 + 2)])
        #expect(machine.state == .leading(epoch: 7, since: Self.t0, expiresAt: Self.t0 + 4))
    }

    @Test func aStandbyLooksAgainWhenTheHoldersLeaseWouldEndOrSooner() {
        var machine = LeadershipStateMachine(settings: Self.settings)
        _ = machine.start()
        // The holder's lease ends in half a second: look then, not a whole interval later.
        #expect(machine.event(.claimRefused(holder: "db1/4242", expiresAt: Self.t0 + 0.5, now: Self.t0)) == [.schedule(at: Self.t0 + 0.5)])
        // Far off: look every interval (the holder may release it on a graceful stop).
        #expect(machine.event(.claimRefused(holder: "db1/4242", expiresAt: Self.t0 + 30, now: Self.t0)) == [.schedule(at: Self.t0 + 1)])
        #expect(machine.event(.due(now: Self.t0 + 1)) == [.claim])
        #expect(machine.event(.databaseUnavailable(now: Self.t0 + 1)) == [.schedule(at: Self.t0 + 2)])
    }

    @Test func aLeaderWhoseRenewalIsRefusedStepsDownForGood() {
        var machine = LeadershipStateMachine(settings: Self.settings)
        _ = machine.start()
        _ = machine.event(.claimed(epoch: 7, expiresAt: Self.t0 + 3, now: Self.t0))
        #expect(machine.event(.renewalRefused(now: Self.t0 + 1)) == [.stepDown(reason: "another instance took the lease (this one led under epoch 7)")])
        #expect(!machine.isLeading)
        // Nothing brings it back in this process: it restarts as a standby.
        #expect(machine.event(.claimed(epoch: 9, expiresAt: Self.t0 + 9, now: Self.t0 + 6)).isEmpty)
        #expect(machine.event(.due(now: Self.t0 + 7)).isEmpty)
    }

    @Test func aLeaderKeepsAskingWhileTheDatabaseIsAwayGoesOnIfNobodyTookOverAndStepsDownIfSomeoneDid() {
        var machine = LeadershipStateMachine(settings: Self.settings)
        _ = machine.start()
        _ = machine.event(.claimed(epoch: 7, expiresAt: Self.t0 + 3, now: Self.t0))
        #expect(machine.event(.databaseUnavailable(now: Self.t0 + 1)) == [.schedule(at: Self.t0 + 1.5)])
        #expect(machine.event(.databaseUnavailable(now: Self.t0 + 2.8)) == [.schedule(at: Self.t0 + 3)])
        // The lease ran out while the database was away: no restart, it keeps asking.
        #expect(machine.event(.databaseUnavailable(now: Self.t0 + 4)) == [.schedule(at: Self.t0 + 4.5)])
        // The database is back and nobody claimed meanwhile: the renewal succeeds; it goes on.
        #expect(machine.event(.due(now: Self.t0 + 4.5)) == [.renew(epoch: 7)])
        #expect(machine.event(.renewed(expiresAt: Self.t0 + 7.5, now: Self.t0 + 4.5)) == [.schedule(at: Self.t0 + 5.5)])
        #expect(machine.isLeading)
        // Another time, someone did claim: the renewal is refused, and it steps down.
        _ = machine.event(.databaseUnavailable(now: Self.t0 + 9))
        #expect(machine.event(.renewalRefused(now: Self.t0 + 9.5)) == [.stepDown(reason: "another instance took the lease (this one led under epoch 7)")])
    }

    @Test func aGracefulStopGivesTheLeaseUp() {
        var leader = LeadershipStateMachine(settings: Self.settings)
        _ = leader.start()
        _ = leader.event(.claimed(epoch: 7, expiresAt: Self.t0 + 3, now: Self.t0))
        #expect(leader.event(.stopping) == [.release(epoch: 7)])
        #expect(leader.state == .stopped)
        var standby = LeadershipStateMachine(settings: Self.settings)
        _ = standby.start()
        #expect(standby.event(.stopping).isEmpty)
    }

    /// Two instances over a model of the lease row (database time, compare-and-set on the epoch): the
    /// leader is paused (SIGSTOP) past its lease, the standby takes over, the former leader resumes
    /// and its renewal is refused. At no instant do two instances hold an unexpired lease.
    @Test func aPausedLeaderIsReplacedAndLearnsItOnResuming() {
        struct Row { var epoch: Int64 = 0, holder = "", expiresAt = Date.distantPast }
        var row = Row()
        func claim(_ me: String, now: Date) -> LeadershipStateMachine.Event {
            guard row.expiresAt <= now || row.holder == me else { return .claimRefused(holder: row.holder, expiresAt: row.expiresAt, now: now) }
            row = Row(epoch: row.epoch + 1, holder: me, expiresAt: now + 3)
            return .claimed(epoch: row.epoch, expiresAt: row.expiresAt, now: now)
        }
        func renew(_ me: String, _ epoch: Int64, now: Date) -> LeadershipStateMachine.Event {
            guard row.epoch == epoch, row.holder == me else { return .renewalRefused(now: now) }
            row.expiresAt = now + 3
            return .renewed(expiresAt: row.expiresAt, now: now)
        }
        var a = LeadershipStateMachine(settings: Self.settings), b = LeadershipStateMachine(settings: Self.settings)
        var next: [String: Date] = [:]
        func run(_ name: String, _ machine: inout LeadershipStateMachine, _ actions: [LeadershipStateMachine.Action], now: Date) {
            var queue = actions
            while !queue.isEmpty {
                switch queue.removeFirst() {
                case .claim: queue += machine.event(claim(name, now: now))
                case .renew(let epoch): queue += machine.event(renew(name, epoch, now: now))
                case .schedule(let at): next[name] = at
                case .lead, .stepDown, .release: break
                }
            }
        }
        run("a", &a, a.start(), now: Self.t0)
        run("b", &b, b.start(), now: Self.t0 + 0.1)
        #expect(a.isLeading && !b.isLeading)
        var paused = false
        var now = Self.t0
        while now < Self.t0 + 20 {
            now += 0.1
            // A is paused from 5 s to 12 s: it neither renews nor hears anything.
            paused = now >= Self.t0 + 5 && now < Self.t0 + 12
            if !paused, let due = next["a"], due <= now { next["a"] = nil; run("a", &a, a.event(.due(now: now)), now: now) }
            if let due = next["b"], due <= now { next["b"] = nil; run("b", &b, b.event(.due(now: now)), now: now) }
            // Leading in the machine's eyes with an unexpired lease in the row: at most one.
            let holders = [("a", a), ("b", b)].filter { name, machine in
                guard case .leading(let epoch, _, _) = machine.state else { return false }
                return row.holder == name && row.epoch == epoch && row.expiresAt > now
            }
            #expect(holders.count <= 1, "two leaders at \(now.timeIntervalSince(Self.t0))")
        }
        #expect(b.isLeading, "the standby took over while the leader was paused")
        guard case .deposed(let epoch, _) = a.state else {
            Issue.record("the paused leader learned on resuming that it lost: \(a.state)")
            return
        }
        #expect(epoch == 1 && row.epoch == 2 && row.holder == "b")
    }
}
