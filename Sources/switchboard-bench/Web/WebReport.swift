import Foundation

/// What the browser driver answered, and the table printed from it: our figure, the baseline
/// measured in the same run, the goal, met or missed.
struct Report {
    var signIn: [String: Any] = [:]
    var resources: [String: Any] = [:]
    var list: [String: Any] = [:]
    var thread: [String: Any] = [:]
    var live: [LiveRun] = []

    static func numbers(_ value: Any?) -> [Double] { (value as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.doubleValue } }
    static func number(_ value: Any?) -> Double { (value as? NSNumber)?.doubleValue ?? .nan }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// "median (first, max)" in milliseconds.
    static func spread(_ values: [Double]) -> String {
        guard let first = values.first, let max = values.max() else { return "—" }
        return "\(format(median(values), 0)) ms (first \(format(first, 0)), max \(format(max, 0)))"
    }

    static func verdict(_ met: Bool, _ value: Double, _ goal: Double) -> String {
        if value.isNaN { return "not measured" }
        return met ? "met" : "missed by \(format(value - goal, 0)) ms (\(format(value / goal, 1))×)"
    }

    func print(tickets: Int, threadMessages: Int, marks: Int, markRate: Double, otherRate: Double, repeats: Int, threadReference: String) {
        var rows: [[String]] = [["measure", "ours", "baseline in the same run", "goal", ""]]
        for run in live {
            let p99 = run.page.percentile(99)
            let traffic = run.mode == "visible" ? "to the agent's own open tickets" : "to a queue the agent does not see"
            rows.append(["webhook 200 → message in the open page's DOM, p50 / p99 (\(run.page.values.count) of \(marks); \(format(otherRate, 0)) msg/s \(traffic))",
                         "\(format(run.page.percentile(50), 1)) / \(format(p99, 1)) ms",
                         "event-stream client read it: \(format(run.stream.percentile(50), 1)) / \(format(run.stream.percentile(99), 1)) ms",
                         "p99 ≤ 150 ms", Self.verdict(p99 <= 150, p99, 150)])
            rows.append(["  … and the next frame after it (requestAnimationFrame), p50 / p99",
                         "\(format(run.frame.percentile(50), 1)) / \(format(run.frame.percentile(99), 1)) ms", "", "", ""])
        }
        let listTimes = Self.numbers(list["ms"]), listAPI = Self.numbers(list["api_ms"])
        let listMedian = Self.median(listTimes)
        rows.append(["first list render, \(tickets) open tickets: navigation → first page of rows (\(Int(Self.number(list["rows"]))) rows; cold cache, \(repeats)×)",
                     Self.spread(listTimes), "GET /api/v1/tickets?view=all&status=open&limit=50: \(Self.spread(listAPI))", "≤ 500 ms",
                     Self.verdict(listMedian <= 500, listMedian, 500)])
        let signInMs = Self.number(signIn["signin_ms"])
        rows.append(["sign-in (submit) → first page of rows (includes the password check, PBKDF2 600,000 rounds, slow by design)", "\(format(signInMs, 0)) ms",
                     "POST /auth/sign-in + GET /api/v1/me + GET /api/v1/tickets: \(Self.spread(Self.numbers(list["api_signin_ms"])))", "—", ""])
        let threadTimes = Self.numbers(thread["ms"]), threadAPI = Self.numbers(thread["api_ms"])
        let threadMedian = Self.median(threadTimes)
        rows.append(["open a \(threadMessages)-message thread: click → latest messages rendered (\(Int(Self.number(thread["messages"]))) shown; \(repeats)×)",
                     Self.spread(threadTimes), "GET /api/v1/tickets/\(threadReference)?messages=50: \(Self.spread(threadAPI))", "≤ 500 ms",
                     Self.verdict(threadMedian <= 500, threadMedian, 500)])
        let js = Self.number(resources["js"]), css = Self.number(resources["css"]), html = Self.number(resources["html"])
        let total = js + css + html
        let external = resources["external"] as? [String] ?? []
        rows.append(["bytes of JavaScript + CSS + HTML the inbox loads (\(Int(Self.number(resources["files"]))) files, uncompressed)",
                     "\(format(total / 1000, 1)) KB (JS \(format(js / 1000, 1)), CSS \(format(css / 1000, 1)), HTML \(format(html / 1000, 1)))",
                     "on the wire with headers: \(format(Self.number(resources["transfer"]) / 1000, 1)) KB", "≤ 200 KB",
                     total <= 200_000 ? "met" : "missed by \(format((total - 200_000) / 1000, 1)) KB"])
        rows.append(["requests to another origin (Chromium's network log and resource timing)", "\(external.count)", "", "none",
                     external.isEmpty ? "met" : "missed: \(external.prefix(3).joined(separator: ", "))"])
        Swift.print(table(rows))
        Swift.print("")
        for run in live {
            let browser = ["TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration"].map { key in
                "\(key.replacingOccurrences(of: "Duration", with: "")) \(format((run.browser[key] ?? .nan) / run.seconds * 100, 0)) %"
            }.joined(separator: ", ")
            Swift.print("\(run.mode): page p50 of the first / last 100 marks \(format(run.firstHundred, 1)) / \(format(run.lastHundred, 1)) ms. "
                + "\(marks) marks at \(format(markRate, 0))/s beside \(run.otherSent) other messages in \(format(run.seconds, 0)) s; "
                + "webhook ack p50 / p99 \(format(run.ack.percentile(50), 1)) / \(format(run.ack.percentile(99), 1)) ms; not rendered \(run.notRendered), "
                + "not read by the stream client \(run.notRead), non-200 \(run.non200), sends more than 50 ms late \(run.behind); "
                + "the stream client read \(run.streamEvents) events; the page made \(run.pageRequests) API requests; daemon CPU \(format(run.daemonCPU / run.seconds * 100, 0)) % of a core; "
                + "page main thread (CDP, share of wall time): \(browser); page \(run.visibility); page clock − Date.now() \(format(run.clockSkew, 2)) ms; "
                + "machine CPU in use \(format(run.machineBusy * 100, 0)) % of all cores, load average after \(run.loadAverage); \(run.notes)")
        }
        Swift.print("a row asked about again as the page does for an event about a ticket not in its list "
            + "(GET /api/v1/tickets?view=all&status=open&references=T-…&limit=100): \(Self.spread(Self.numbers(list["api_refresh_ms"])))")
        Swift.print("list: \(Self.numbers(list["rows_all"]).map { String(Int($0)) }.joined(separator: ", ")) rows at first render; API answer \(format(Self.number(list["api_bytes"]) / 1000, 1)) KB; "
            + "thread: API answer \(format(Self.number(thread["api_bytes"]) / 1000, 1)) KB; next frame after the list \(Self.spread(Self.numbers(list["frame_ms"]))), "
            + "after the thread \(Self.spread(Self.numbers(thread["frame_ms"])))")
        if let files = resources["file_list"] as? [String] { Swift.print("files: " + files.joined(separator: ", ")) }
    }
}
