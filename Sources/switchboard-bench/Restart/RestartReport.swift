import Foundation

/// The restart benchmark's tables: each start beside PostgreSQL's own read of the same rows and the
/// goal, the checks that must hold, and where the first start's time went.
struct RestartReport {
    struct Run {
        var label: String
        var start: RestartDaemon.Start
        var settledPeakMiB: Double
        var settledMiB: Double
        var stopSeconds: Double
        var status: Int32
        /// (what, found, must be).
        var checks: [(String, Int, Int)]
        /// The daemon's log lines until ready (first starts only).
        var timeline: [(offset: Double, line: String)]
    }

    let runs: [Run]
    let baseline: RestartBaseline.Result
    let settle: Int

    var failed: Bool { runs.contains { $0.checks.contains { $0.1 != $0.2 } } || runs.contains { $0.status != 0 } }

    func print() {
        Swift.print("")
        Swift.print("Restart with \(baseline.ticketRows) open tickets and \(baseline.clockRows) SLA clocks (tables read: \(format(baseline.tablesMiB)) MiB; database \(format(baseline.databaseMiB)) MiB)")
        var rows = [["measure"] + runs.map(\.label) + ["baseline: PostgreSQL COPY", "goal"]]
        rows.append(["spawn → /readyz 200, s"] + runs.map { format($0.start.readySeconds, 2) }
                    + ["\(format(baseline.ticketsSeconds + baseline.slaSeconds, 2)) (tickets \(format(baseline.ticketsSeconds, 2)) + SLA \(format(baseline.slaSeconds, 2)))", "≤ 10"])
        rows.append(["peak RSS (VmHWM) at ready, MiB"] + runs.map { format($0.start.peakAtReadyMiB) } + ["—", "≤ 1,024"])
        rows.append(["RSS at ready, MiB"] + runs.map { format($0.start.residentAtReadyMiB) } + ["—", ""])
        rows.append(["peak RSS \(settle) s after ready, MiB"] + runs.map { format($0.settledPeakMiB) } + ["—", "≤ 1,024"])
        rows.append(["RSS \(settle) s after ready, MiB"] + runs.map { format($0.settledMiB) } + ["—", ""])
        rows.append(["daemon CPU until ready, s"] + runs.map { format($0.start.cpuSeconds, 2) } + ["—", ""])
        rows.append(["graceful stop (SIGTERM → exit), s; status"] + runs.map { "\(format($0.stopSeconds, 2)); \($0.status)" } + ["—", ""])
        Swift.print(table(rows))
        let ours = runs.filter { $0.label.hasPrefix("daemon") }
        let slowest = ours.map(\.start.readySeconds).max() ?? 0
        let heaviest = ours.map { max($0.start.peakAtReadyMiB, $0.settledPeakMiB) }.max() ?? 0
        Swift.print("goal /readyz ≤ 10 s: \(slowest <= 10 ? "met" : "missed by \(format(slowest - 10, 2)) s"); "
                    + "RSS ≤ 1 GiB: \(heaviest <= 1024 ? "met" : "missed by \(format(heaviest - 1024)) MiB")")

        Swift.print("")
        var checkRows = [["check"] + runs.map(\.label) + ["must be"]]
        for (index, check) in (runs.first?.checks ?? []).enumerated() {
            let results = runs.map { index < $0.checks.count ? $0.checks[index] : (check.0, -1, check.2) }
            // What was due differs from start to start: shown beside what fired.
            if Set(results.map(\.2)).count == 1 {
                checkRows.append([check.0] + results.map { "\($0.1)" } + ["\(check.2)"])
            } else {
                checkRows.append([check.0] + results.map { "\($0.1) of \($0.2)" } + ["all"])
            }
        }
        Swift.print(table(checkRows))

        for run in runs where !run.timeline.isEmpty {
            Swift.print("")
            Swift.print("Where \(run.label) went (the daemon's log, seconds after spawn; each SLA warning and breach acted on is a line of its own, counted here):")
            let isAlert = { (line: String) in line.contains("SLA warning") || line.contains("SLA breach") }
            let alerts = run.timeline.filter { isAlert($0.line) }
            if let first = alerts.first, let last = alerts.last {
                Swift.print("  \(format(first.offset, 3))–\(format(last.offset, 3))  \(alerts.count) SLA warnings and breaches logged")
            }
            for entry in run.timeline.filter({ !isAlert($0.line) }).prefix(40) {
                Swift.print("  \(format(entry.offset, 3))  \(entry.line.prefix(150))")
            }
        }
    }
}
