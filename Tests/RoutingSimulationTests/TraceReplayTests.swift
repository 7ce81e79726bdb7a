import RoutingSimulation
import SwitchboardCore
import Testing

/// Hand-worked traces replayed through the real queue and agent actors: the figures a user reads.
@Suite("Trace replay: waits, patience and shifts, every strategy beside round robin")
struct TraceReplayTests {
    @Test func oneAgentServesContactsInArrivalOrder() async throws {
        // Arrivals at 0, 10, 20 s, 100 s each, one agent: assigned at 0, 100, 200 → waits 0, 90, 180.
        let report = try await TraceRun.files(arrivals: "one-agent.csv")
        for strategy in RoutingStrategy.allCases {
            let row = try #require(report.row("billing", strategy))
            #expect(row.tickets == 3 && row.answered == 3)
            #expect(row.meanWait == 90)
            #expect(row.p90Wait == 180)
            #expect(abs(row.withinTarget - 1.0 / 3) < 1e-9)
            #expect(row.versusRoundRobin == 0)
        }
        #expect(report.rows.map(\.type) == Array(repeating: "billing", count: 4) + Array(repeating: "all", count: 4))
        #expect(report.rows.map(\.strategy) == RoutingStrategy.allCases + RoutingStrategy.allCases)
    }

    @Test func aContactPastItsPatienceAbandonsAndIsNoWaitSample() async throws {
        // The 20 s contact gives up at 70 s while the agent is busy until 100 s; the 10 s one, patient
        // for 90 s, is answered at exactly 90 s.
        let report = try await TraceRun.files(arrivals: "one-agent-patience.csv")
        let row = try #require(report.row("billing", .leastLoaded))
        #expect(row.tickets == 3 && row.answered == 2)
        #expect(row.meanWait == 45)
        #expect(row.p90Wait == 90)
        #expect(abs(row.abandoned - 1.0 / 3) < 1e-9)
        // Answered within 60 s among all offered: the one answered at once.
        #expect(abs(row.withinTarget - 1.0 / 3) < 1e-9)
        #expect(row.unanswered == 0)
    }

    @Test func nobodyOnShiftUntilHalfPastMidnight() async throws {
        // Contacts at 00:00 and 00:10, the first agent at 00:30: waits 30 min, then 31:40 − 10:00.
        let report = try await TraceRun.files(arrivals: "late-shift-arrivals.csv", shifts: "late-shift-shifts.csv")
        let row = try #require(report.row("billing", .roundRobin))
        #expect(row.answered == 2)
        #expect(row.meanWait == (1800 + 1300) / 2)
        #expect(row.p90Wait == 1800)
        #expect(row.withinTarget == 0)
    }

    @Test func anAgentGoingOffShiftFinishesTheTicketButTakesNoOther() async throws {
        // On 0–30 min and 60–90 min. The first contact (2000 s) runs past the end of the shift and
        // is finished; the second waits for the next shift, not for that completion at 2000 s.
        let built = try TraceRun.scenario(
            arrivals: TraceRun.table("arrival,handle_seconds,type\n0,2000,billing\n100,10,billing\n", "arrivals.csv"),
            shifts: TraceRun.table("start,skills,agents\n0,billing,1\n3600,billing,1\n", "shifts.csv"))
        let report = await TraceRun.report(built)
        let row = try #require(report.row("billing", .longestIdle))
        #expect(row.answered == 2)
        #expect(row.p90Wait == 3500)
        #expect(row.meanWait == 1750)
    }

    @Test func skillsDecideWhoWaitsAndRoundRobinIsReportedBeside() async throws {
        // A bilingual agent (sorted first) and an English one; an English contact at 0 s, a Spanish
        // one at 1 s. Best skill gives the English contact to the English agent; the others give it
        // to the bilingual one, and the Spanish contact waits until 100 s.
        let report = try await TraceRun.files(arrivals: "bilingual-arrivals.csv", types: "bilingual-types.csv", shifts: "bilingual-shifts.csv")
        let best = try #require(report.row("es", .bestSkill))
        #expect(best.meanWait == 0)
        #expect(best.withinTarget == 1)
        #expect(best.versusRoundRobin == 100)
        for strategy in [RoutingStrategy.leastLoaded, .longestIdle, .roundRobin] {
            let row = try #require(report.row("es", strategy))
            #expect(row.meanWait == 99)
            #expect(row.withinTarget == 0)
        }
        #expect(report.row("en", .bestSkill)?.meanWait == 0)
        #expect(report.row("all", .bestSkill)?.withinTarget == 1)
        #expect(report.row("all", .roundRobin)?.withinTarget == 0.5)
    }

    @Test func aContactWithoutHandleTimeIsReplayedWithItsTypesMean() async throws {
        // Recorded handles 100, 300 and 200 s: the contact abandoned in the log (no handle) takes
        // their mean, 200 s. One agent: 0–100, 100–400, 400–600, so the last contact waits 600 − 10 s.
        let built = try TraceRun.scenario(arrivals: TraceRun.table("""
            arrival,handle_seconds,type,patience_seconds
            0,100,billing,
            0,300,billing,
            10,,billing,1000
            10,200,billing,
            """, "arrivals.csv"))
        let report = await TraceRun.report(built)
        let row = try #require(report.row("billing", .bestSkill))
        #expect(row.answered == 4)
        #expect(row.p90Wait == 590)
        #expect(row.meanWait == (0 + 100 + 390 + 590) / 4)
    }

    @Test func aTypeNoAgentCanTakeIsCountedAsNeverAnswered() async throws {
        let built = try TraceRun.scenario(
            arrivals: TraceRun.table("arrival,handle_seconds,type\n0,100,billing\n5,100,tech\n", "arrivals.csv"),
            shifts: TraceRun.table("start,skills,agents\n0,billing,1\n0,biling,1\n", "shifts.csv"))
        #expect(built.notes == [#"shifts.csv:3: agents with "biling" fit no type of the trace and answer nothing (types need: billing>=1, tech>=1)"#])
        let report = await TraceRun.report(built)
        #expect(report.row("tech", .roundRobin)?.unanswered == 1)
        #expect(report.row("billing", .roundRobin)?.unanswered == 0)
    }
}
