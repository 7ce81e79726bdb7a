import RoutingSimulation
import SwitchboardCore
import Testing

@Suite("Trace report: the table the command prints")
struct TraceReportTests {
    @Test func everyStrategyPerTypeWithTotalsAndAbandonment() async throws {
        let report = try await TraceRun.files(arrivals: "one-agent-patience.csv")
        #expect(report.rendered() == """
            type     strategy      tickets  mean wait  p90 wait  ≤ 60 s  vs round robin  abandoned
            billing  least-loaded        3     45.0 s    90.0 s  33.3 %         +0.0 pt     33.3 %
                     longest-idle        3     45.0 s    90.0 s  33.3 %         +0.0 pt     33.3 %
                     round-robin         3     45.0 s    90.0 s  33.3 %               —     33.3 %
                     best-skill          3     45.0 s    90.0 s  33.3 %         +0.0 pt     33.3 %
            all      least-loaded        3     45.0 s    90.0 s  33.3 %         +0.0 pt     33.3 %
                     longest-idle        3     45.0 s    90.0 s  33.3 %         +0.0 pt     33.3 %
                     round-robin         3     45.0 s    90.0 s  33.3 %               —     33.3 %
                     best-skill          3     45.0 s    90.0 s  33.3 %         +0.0 pt     33.3 %
            """)
    }

    @Test func withoutPatienceNoAbandonmentColumnAndTypesByVolume() async throws {
        let built = try TraceRun.scenario(
            arrivals: TraceRun.table("arrival,handle_seconds,type\n0,10,tech\n0,10,billing\n20,10,billing\n", "arrivals.csv"), target: 5)
        let report = await TraceRun.report(built, target: 5)
        let lines = report.rendered().split(separator: "\n").map(String.init)
        #expect(lines[0] == "type     strategy      tickets  mean wait  p90 wait    ≤ 5 s  vs round robin")
        #expect(lines[1] == "billing  least-loaded        2      0.0 s     0.0 s  100.0 %         +0.0 pt")
        #expect(lines[5].hasPrefix("tech "))
        #expect(lines[9].hasPrefix("all "))
        #expect(lines.count == 13)
    }

    @Test func aTypeNeverAnsweredGetsItsOwnColumn() async throws {
        let built = try TraceRun.scenario(
            arrivals: TraceRun.table("arrival,handle_seconds,type\n0,100,billing\n", "arrivals.csv"),
            shifts: TraceRun.table("start,skills,agents\n600,tech,1\n", "shifts.csv"))
        let report = await TraceRun.report(built)
        let lines = report.rendered().split(separator: "\n").map(String.init)
        #expect(lines[0].hasSuffix("vs round robin  never answered"))
        #expect(lines[1] == "billing  least-loaded        1          —         —   0.0 %         +0.0 pt               1")
    }
}
