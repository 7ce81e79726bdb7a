import Foundation
import SwitchboardCore
import Testing

@Suite("SLA clocks: first response, next response, resolution, pauses, reopen, late firing")
struct SLAStateMachineTests {
    let t0 = Date(timeIntervalSince1970: 1_790_000_000)
    let always = BusinessCalendar.alwaysOpen()

    func machine(first: TimeInterval? = 600, next: TimeInterval? = 900, resolution: TimeInterval? = 3600, warn: Double = 0.8,
                 calendar: BusinessCalendar? = nil) -> SLAStateMachine {
        SLAStateMachine(targets: SLATargets(firstResponse: first, nextResponse: next, resolution: resolution, warningFraction: warn, calendar: calendar ?? always))
    }

    func records(_ actions: [SLAStateMachine.Action]) -> [String] {
        actions.compactMap { action in
            guard case .record(let record) = action else { return nil }
            return "\(record.clock.rawValue) \(record.outcome.rawValue) \(Int(record.elapsedBusiness))"
        }
    }

    @Test func aStatusChangeIsTheClockEventItMeans() {
        #expect(SLAStateMachine.event(statusChangedFrom: .open, to: .pending) == .pending)
        #expect(SLAStateMachine.event(statusChangedFrom: .resolved, to: .pending) == .pending)
        #expect(SLAStateMachine.event(statusChangedFrom: .open, to: .resolved) == .resolved)
        #expect(SLAStateMachine.event(statusChangedFrom: .pending, to: .resolved) == .resolved)
        #expect(SLAStateMachine.event(statusChangedFrom: .pending, to: .open) == .resumed)
        #expect(SLAStateMachine.event(statusChangedFrom: .resolved, to: .open) == .reopened)
        #expect(SLAStateMachine.event(statusChangedFrom: .open, to: .open) == nil)
    }

    @Test func aReplyInTimeMeetsFirstResponse() {
        var sla = machine()
        #expect(sla.handle(.started, at: t0).isEmpty)
        #expect(sla.nextDeadline == t0.addingTimeInterval(480))  // 80 % of 10 minutes
        #expect(records(sla.handle(.agentReply, at: t0.addingTimeInterval(300))) == ["first_response met 300"])
        #expect(sla.nextDeadline == t0.addingTimeInterval(2880))  // the resolution clock's warning
    }

    @Test func theWarningThenTheBreachFireOnceEachAndTheLateReplyIsRecordedBreached() {
        var sla = machine()
        _ = sla.handle(.started, at: t0)
        #expect(sla.handle(.timerFired, at: t0.addingTimeInterval(480)) == [.warn(.firstResponse, deadline: t0.addingTimeInterval(480), late: 0)])
        #expect(sla.nextDeadline == t0.addingTimeInterval(600))
        #expect(sla.handle(.timerFired, at: t0.addingTimeInterval(600)) == [.breach(.firstResponse, deadline: t0.addingTimeInterval(600), late: 0)])
        #expect(sla.handle(.timerFired, at: t0.addingTimeInterval(601)).isEmpty)
        #expect(records(sla.handle(.agentReply, at: t0.addingTimeInterval(700))) == ["first_response breached 700"])
    }

    @Test func aTimerThatFiresLateSaysSoAndWarnsAndBreachesTogether() {
        var sla = machine()
        _ = sla.handle(.started, at: t0)
        // The daemon was down: both moments passed; the warning and the breach come at once, late.
        let actions = sla.handle(.timerFired, at: t0.addingTimeInterval(1000))
        #expect(actions == [.warn(.firstResponse, deadline: t0.addingTimeInterval(480), late: 520),
                            .breach(.firstResponse, deadline: t0.addingTimeInterval(600), late: 400)])
        #expect(sla.handle(.timerFired, at: t0.addingTimeInterval(1001)).isEmpty)
    }

    @Test func pendingPausesEveryClockUntilTheCustomerWrites() {
        var sla = machine()
        _ = sla.handle(.started, at: t0)
        _ = sla.handle(.pending, at: t0.addingTimeInterval(100))
        #expect(sla.nextDeadline == nil)
        #expect(sla.handle(.timerFired, at: t0.addingTimeInterval(5000)).isEmpty)
        _ = sla.handle(.customerMessage, at: t0.addingTimeInterval(5000))
        // 100 s had run; 500 s are left from 5000.
        #expect(sla.deadline(.firstResponse) == t0.addingTimeInterval(5500))
        #expect(records(sla.handle(.agentReply, at: t0.addingTimeInterval(5400))) == ["first_response met 500"])
    }

    @Test func nextResponseRunsFromEachCustomerMessageAfterAnAgentReply() {
        var sla = machine()
        _ = sla.handle(.started, at: t0)
        // A second customer message before any reply starts nothing new.
        _ = sla.handle(.customerMessage, at: t0.addingTimeInterval(10))
        #expect(sla.deadline(.nextResponse) == nil)
        _ = sla.handle(.agentReply, at: t0.addingTimeInterval(60))
        #expect(sla.deadline(.nextResponse) == nil)
        _ = sla.handle(.customerMessage, at: t0.addingTimeInterval(100))
        #expect(sla.deadline(.nextResponse) == t0.addingTimeInterval(1000))
        // A further customer message does not restart it.
        _ = sla.handle(.customerMessage, at: t0.addingTimeInterval(200))
        #expect(sla.deadline(.nextResponse) == t0.addingTimeInterval(1000))
        #expect(records(sla.handle(.agentReply, at: t0.addingTimeInterval(400))) == ["next_response met 300"])
    }

    @Test func resolvingRecordsResolutionAndCancelsUnansweredClocks() {
        var sla = machine()
        _ = sla.handle(.started, at: t0)
        #expect(records(sla.handle(.resolved, at: t0.addingTimeInterval(120))) == ["resolution met 120", "first_response cancelled 120"])
        #expect(sla.nextDeadline == nil)
    }

    @Test func aReopenRestartsFirstResponseAndResolution() {
        var sla = machine()
        _ = sla.handle(.started, at: t0)
        _ = sla.handle(.agentReply, at: t0.addingTimeInterval(60))
        _ = sla.handle(.resolved, at: t0.addingTimeInterval(120))
        let reopened = sla.handle(.reopened, at: t0.addingTimeInterval(7200))
        #expect(records(reopened).isEmpty)
        #expect(sla.deadline(.firstResponse) == t0.addingTimeInterval(7800))
        #expect(sla.deadline(.resolution) == t0.addingTimeInterval(10_800))
    }

    @Test func clocksCountBusinessTimeOnly() throws {
        var week = [[BusinessCalendar.Interval]](repeating: [], count: 7)
        for day in 1...5 { week[day] = [try #require(BusinessCalendar.parseInterval("09:00-18:00", allowOvernight: false))] }
        let office = BusinessCalendar(timeZone: try #require(TimeZone(identifier: "Europe/Madrid")), week: week)
        var sla = machine(first: 3600, calendar: office)
        // Friday 2026-11-27 17:30 Madrid (16:30Z): one business hour ends Monday 09:30 (08:30Z).
        let friday = try #require(ISO8601DateFormatter().date(from: "2026-11-27T16:30:00Z"))
        _ = sla.handle(.started, at: friday)
        #expect(sla.deadline(.firstResponse) == ISO8601DateFormatter().date(from: "2026-11-30T08:30:00Z"))
        #expect(sla.handle(.timerFired, at: try #require(ISO8601DateFormatter().date(from: "2026-11-29T12:00:00Z"))).isEmpty)
        #expect(records(sla.handle(.agentReply, at: try #require(ISO8601DateFormatter().date(from: "2026-11-30T08:10:00Z")))) == ["first_response met 2400"])
    }

    @Test func aMachineRebuiltFromItsSnapshotBehavesAsTheOriginal() {
        var original = machine(calendar: nil)
        _ = original.handle(.started, at: t0)
        _ = original.handle(.agentReply, at: t0.addingTimeInterval(100))
        _ = original.handle(.customerMessage, at: t0.addingTimeInterval(200))
        _ = original.handle(.pending, at: t0.addingTimeInterval(260))
        _ = original.handle(.timerFired, at: t0.addingTimeInterval(3000))
        var rebuilt = SLAStateMachine(targets: original.targets, snapshot: original.snapshot)
        #expect(rebuilt == original)
        for (event, offset) in [(SLAStateMachine.Event.customerMessage, 4000.0), (.timerFired, 6000), (.agentReply, 7000), (.resolved, 9000)] {
            #expect(rebuilt.handle(event, at: t0.addingTimeInterval(offset)) == original.handle(event, at: t0.addingTimeInterval(offset)))
            #expect(rebuilt.nextDeadline == original.nextDeadline)
        }
    }

    @Test func settingAPendingTicketOpenAgainResumesItsClocksWithoutStartingANextResponse() {
        var sla = machine(first: 600, next: 900, resolution: nil, warn: 1)
        _ = sla.handle(.started, at: t0)
        _ = sla.handle(.pending, at: t0.addingTimeInterval(100))
        #expect(sla.deadline(.firstResponse) == nil)
        _ = sla.handle(.resumed, at: t0.addingTimeInterval(1000))
        #expect(sla.deadline(.firstResponse) == t0.addingTimeInterval(1500))
        _ = sla.handle(.agentReply, at: t0.addingTimeInterval(1100))
        _ = sla.handle(.pending, at: t0.addingTimeInterval(1200))
        _ = sla.handle(.resumed, at: t0.addingTimeInterval(1300))
        #expect(sla.deadline(.nextResponse) == nil)
        #expect(sla.runningClocks.isEmpty)
    }
}
