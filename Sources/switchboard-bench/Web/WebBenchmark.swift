import ArgumentParser
import Foundation
import Postgres

/// The web inbox in a real headless Chromium against the release daemon (issue #19's benchmark):
/// how long after a webhook's 200 its message is in an open agent page while other customers write
/// at 100 messages/s, beside an event-stream client reading the same events; the first list render
/// and opening a 2,000-message thread with 10,000 open tickets, beside the bare API calls for the
/// same data; and the bytes the page loads, every one from its own origin.
struct WebBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web",
        abstract: "The web inbox in headless Chromium: webhook → rendered in the open page under load (goal p99 ≤ 150 ms), list and 2,000-message thread with 10,000 open tickets (≤ 500 ms), page bytes (≤ 200 KB).",
        discussion: "Needs the release daemon (swift build -c release), Debian's chromium and chromium-driver, and a Python with Selenium (.build/test-python as dev/test makes it, or python3 on the PATH)."
    )

    @Option(help: "Marked messages whose render is timed, per traffic mode.") var marks = 500
    @Option(help: "Marked messages per second.") var markRate = 10.0
    @Option(help: "Other customers' messages per second meanwhile.") var otherRate = 100.0
    @Option(help: "Where the other traffic goes: 'elsewhere' (a queue the agent does not serve), 'visible' (the agent's open tickets), or both, comma-separated.")
    var otherTraffic = "elsewhere,visible"
    @Option(help: "Open tickets seeded (through webhooks), all visible to the signed-in agent.") var tickets = 10_000
    @Option(help: "Messages in the long thread.") var threadMessages = 2_000
    @Option(help: "Times each page measurement is repeated.") var repeats = 5
    @Option(help: "The switchboardd executable.") var daemon: String = ".build/release/switchboardd"
    @Option(help: "The Python that runs the browser driver (default: .build/test-python, else python3 with Selenium on the PATH).") var python: String?
    @Option(help: "The browser driver.") var driver: String = "Tests/Browser/bench_web.py"
    @Option(help: "Chromium's WebDriver.") var chromedriver: String = "/usr/bin/chromedriver"
    @Option(help: "Chromium.") var chromium: String = "/usr/bin/chromium"

    func validate() throws {
        guard marks >= 1, markRate > 0, otherRate >= 0, tickets >= 60, threadMessages >= 60, repeats >= 1 else {
            throw ValidationError("--marks ≥ 1, rates > 0, --tickets and --thread-messages ≥ 60, --repeats ≥ 1")
        }
        guard !modes.isEmpty, modes.allSatisfy({ ["elsewhere", "visible"].contains($0) }) else {
            throw ValidationError("--other-traffic: elsewhere, visible or both")
        }
        for (path, what) in [(daemon, "build it first: swift build -c release --product switchboardd"), (chromedriver, "apt-get install chromium-driver"),
                             (chromium, "apt-get install chromium")] where !FileManager.default.isExecutableFile(atPath: path) {
            throw ValidationError("no executable at \(path); \(what)")
        }
        guard FileManager.default.fileExists(atPath: driver) else { throw ValidationError("no browser driver at \(driver) (run from the repository)") }
    }

    private var modes: [String] { otherTraffic.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    func run() async throws {
        bootstrapBenchLogging()
        guard let python = BrowserDriver.python(explicit: python) else {
            throw ValidationError("no Python with Selenium: run dev/test once (it makes .build/test-python), or pip install selenium")
        }
        let db = try await BenchDatabase.open(url: nil, settings: ["synchronous_commit": "on", "max_connections": "100"])
        do {
            try await measure(db, python: python)
        } catch {
            await db.close()
            throw error
        }
        await db.close()
    }

    private func measure(_ db: BenchDatabase, python: String) async throws {
        guard let cluster = db.embedded, let directory = db.directory else { throw ValidationError("needs the embedded cluster") }
        let stage = try await WebStage.start(cluster: cluster, daemon: daemon, directory: directory, database: "web")
        var browser: BrowserDriver?
        do {
            let password = "A long password for the web benchmark"
            let token = try await stage.prepareAgent(password: password)
            print("switchboard-bench web: \(ProcessInfo.processInfo.activeProcessorCount) cores; release daemon \(daemon) on 127.0.0.1:\(stage.port), embedded PostgreSQL "
                + "(synchronous_commit on); headless \(chromium) through \(python) \(driver)")
            let seeded = try await seed(stage)
            let driver = try BrowserDriver(python: python, script: driver,
                                           arguments: ["--base", "http://127.0.0.1:\(stage.port)", "--handle", WebStage.agent, "--password", password,
                                                       "--chromedriver", chromedriver, "--chromium", chromium],
                                           logPath: directory + "/browser.log")
            browser = driver
            var report = Report()
            report.signIn = try await driver.call("start", ["view": "all"])
            report.resources = try await driver.call("resources")
            report.list = try await driver.call("list", ["repeats": repeats])
            report.thread = try await driver.call("thread", ["reference": seeded.threadReference, "marker": seeded.newestText, "repeats": repeats])
            for (index, mode) in modes.enumerated() {
                report.live.append(try await live(stage, driver: driver, token: token, mode: mode, offset: (index + 1) * 1_000_000, seeded: seeded))
            }
            await driver.quit()
            browser = nil
            await stage.stop()
            print("")
            report.print(tickets: tickets, threadMessages: threadMessages, marks: marks, markRate: markRate, otherRate: otherRate, repeats: repeats,
                         threadReference: seeded.threadReference)
        } catch {
            await browser?.quit()
            await stage.stop()
            throw error
        }
    }

    struct Seeded {
        let threadCustomer: String
        let threadReference: String
        let newestText: String
    }

    static func ticketCustomer(_ index: Int) -> String { String(format: "4915%09d", index) }

    /// 10,000 customers writing once (each an open ticket in the agent's queue), then one customer's
    /// 2,000 messages (the newest activity, so its row is first), all through signed webhooks.
    private func seed(_ stage: WebStage) async throws -> Seeded {
        let start = ContinuousClock.now
        let now = Int(Date().timeIntervalSince1970)
        let subjects = ["my order has not arrived", "how do I change my address", "the invoice shows the wrong amount", "can I return a gift",
                        "the app will not let me sign in", "is the blue one back in stock"]
        let customers = (0..<tickets).map { index in
            WebTraffic.Message(customer: Self.ticketCustomer(index), name: "Customer \(index)", wamid: "wamid.webseed.\(index)",
                               timestamp: now - 7200 + index * 3600 / tickets, text: "Hello, \(subjects[index % subjects.count]) (order \(100_000 + index))")
        }
        let failedTickets = try await WebTraffic.seed(port: stage.port, deliveries: stride(from: 0, to: customers.count, by: 25).map {
            WebTraffic.delivery(Array(customers[$0..<min($0 + 25, customers.count)]))
        }, connections: 4)
        try await waitFor("\(tickets) open tickets", stage, "SELECT count(*) FROM switchboard.tickets WHERE status = 'open'", atLeast: tickets)
        let threadCustomer = "447700900001"
        let thread = (0..<threadMessages).map { index in
            WebTraffic.Message(customer: threadCustomer, name: "Thread Bench", wamid: "wamid.webthread.\(index)", timestamp: now - threadMessages + index,
                               text: "threadmsg-\(index) a line of the long conversation, number \(index)")
        }
        let failedThread = try await WebTraffic.seed(port: stage.port, deliveries: stride(from: 0, to: thread.count, by: 50).map {
            WebTraffic.delivery(Array(thread[$0..<min($0 + 50, thread.count)]))
        }, connections: 1)
        try await waitFor("\(tickets + threadMessages) messages", stage, "SELECT count(*) FROM switchboard.messages", atLeast: tickets + threadMessages)
        try await waitFor("the agent's tickets assigned", stage, "SELECT count(*) FROM switchboard.tickets WHERE assignee = $1", [WebStage.agent], atLeast: 5)
        _ = try await stage.pool.query("ANALYZE")
        guard let reference = try await stage.pool.query("""
            SELECT t.reference FROM switchboard.tickets t JOIN switchboard.customers c ON c.id = t.customer_id WHERE c.wa_id = $1
            """, [threadCustomer]).first?.decode(0, as: String.self) else {
            throw PgBench.Failure(description: "the long thread's ticket is missing")
        }
        let elapsed = (ContinuousClock.now - start).seconds
        print("seeded \(tickets) open tickets and a \(threadMessages)-message thread (\(reference)) through webhooks in \(format(elapsed, 1)) s "
            + "(\(format(Double(tickets + threadMessages) / elapsed, 0)) messages/s; \(failedTickets + failedThread) deliveries not answered 200); ANALYZE")
        return Seeded(threadCustomer: threadCustomer, threadReference: reference, newestText: "threadmsg-\(threadMessages - 1) ")
    }

    private func waitFor(_ what: String, _ stage: WebStage, _ sql: String, _ parameters: [(any PostgresEncodable)?] = [], atLeast: Int) async throws {
        for _ in 0..<1200 {
            if try await stage.count(sql, parameters) >= atLeast { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw PgBench.Failure(description: "seeding: \(what) not there after 120 s")
    }

    /// One live run: the page open on the long thread, other customers writing at `otherRate`, the
    /// marked messages at `markRate`; each mark's acknowledgement, page render and stream read.
    private func live(_ stage: WebStage, driver: BrowserDriver, token: String, mode: String, offset: Int, seeded: Seeded) async throws -> LiveRun {
        let stream = try MarkedEventClient(port: stage.port, token: token, marker: "webmark-")
        stream.start()
        for _ in 0..<100 where !stream.opened { try await Task.sleep(for: .milliseconds(50)) }
        guard stream.opened else { throw PgBench.Failure(description: "the event stream did not open") }
        _ = try await driver.call("watch", ["reference": seeded.threadReference, "marker": "webmark-"])
        let metricsBefore = try await driver.call("metrics")
        let cpuBefore = processCPUSeconds(stage.process.processIdentifier)
        let machineBefore = Self.machineCPU()

        let warmup = 2.0
        let seconds = Double(marks) / markRate + warmup + 1
        let otherCount = Int(otherRate * seconds)
        let start = ContinuousClock.now + .milliseconds(200)
        let tickets = self.tickets, marks = self.marks, markRate = self.markRate, otherRate = self.otherRate
        let now = Int(Date().timeIntervalSince1970)
        let other: @Sendable (Int) -> WebTraffic.Message = { index in
            if mode == "visible" {
                let customer = index * 7919 % tickets
                return WebTraffic.Message(customer: Self.ticketCustomer(customer), name: "Customer \(customer)", wamid: "wamid.webother.\(offset).\(index)",
                                          timestamp: now + index / 100, text: "One more thing about my order, message \(index)")
            }
            let customer = 3_000 + index % 1_000
            return WebTraffic.Message(customer: String(format: "4420%09d", customer), name: "Sales \(customer)", wamid: "wamid.webother.\(offset).\(index)",
                                      timestamp: now + index / 100, text: "\(WebStage.otherQueueKeyword) question \(index)")
        }
        let threadCustomer = seeded.threadCustomer
        async let otherA = otherRate > 0
            ? WebTraffic.paced(port: stage.port, count: otherCount / 2, rate: otherRate / 2, start: start) { other($0 * 2) } : WebTraffic.Paced()
        async let otherB = otherRate > 0
            ? WebTraffic.paced(port: stage.port, count: otherCount - otherCount / 2, rate: otherRate / 2, start: start + .milliseconds(5)) { other($0 * 2 + 1) }
            : WebTraffic.Paced()
        let marked = try await WebTraffic.paced(port: stage.port, count: marks, rate: markRate, start: start + .seconds(warmup)) { index in
            WebTraffic.Message(customer: threadCustomer, name: "Thread Bench", wamid: "wamid.webmark.\(offset + index)", timestamp: now + index / 10,
                               text: "webmark-\(offset + index) is this rendered yet")
        }
        let others = try await [otherA, otherB]
        try await Task.sleep(for: .seconds(2))
        let collected = try await driver.call("collect")
        let metricsAfter = try await driver.call("metrics")
        let cpu = processCPUSeconds(stage.process.processIdentifier) - cpuBefore
        let machineAfter = Self.machineCPU()
        let read = stream.take()
        stream.stop()

        let rendered = Self.marks(collected["marks"]), framed = Self.marks(collected["frames"])
        var run = LiveRun(mode: mode)
        var early = LatencySamples(), late = LatencySamples()
        for index in 0..<marks {
            if let acknowledged = marked.acknowledged[index], let at = rendered[offset + index] {
                if index < 100 { early.append(contentsOf: [Int64((at - acknowledged * 1000) * 1e6)]) }
                if index >= marks - 100 { late.append(contentsOf: [Int64((at - acknowledged * 1000) * 1e6)]) }
            }
            guard let acknowledged = marked.acknowledged[index] else { continue }
            let ack = acknowledged * 1000
            if let at = rendered[offset + index] { run.page.append(contentsOf: [Int64((at - ack) * 1e6)]) } else { run.notRendered += 1 }
            if let at = framed[offset + index] { run.frame.append(contentsOf: [Int64((at - ack) * 1e6)]) }
            if let at = read[offset + index] { run.stream.append(contentsOf: [Int64((at * 1000 - ack) * 1e6)]) } else { run.notRead += 1 }
        }
        run.non200 = marked.non200 + others.reduce(0) { $0 + $1.non200 }
        run.otherSent = others.reduce(0) { $0 + $1.ackMilliseconds.count }
        run.behind = others.reduce(marked.behind) { $0 + $1.behind }
        var acks = LatencySamples()
        acks.append(contentsOf: (marked.ackMilliseconds + others.flatMap(\.ackMilliseconds)).map { Int64($0 * 1e6) })
        run.ack = acks
        run.daemonCPU = cpu
        run.seconds = seconds
        run.streamEvents = stream.events
        run.clockSkew = collected["clock_skew_ms"] as? Double ?? 0
        run.browser = Self.metricDelta(metricsBefore, metricsAfter)
        run.pageRequests = (collected["requests"] as? NSNumber)?.intValue ?? 0
        run.visibility = collected["visibility"] as? String ?? "?"
        run.notes = collected["notes"] as? String ?? ""
        run.firstHundred = early.percentile(50)
        run.lastHundred = late.percentile(50)
        run.machineBusy = (machineAfter.busy - machineBefore.busy) / max(1, machineAfter.total - machineBefore.total)
        run.loadAverage = Self.loadAverage()
        return run
    }

    /// Busy and total jiffies of all cores, from /proc/stat: how much of the machine was in use
    /// (a build or a test run beside the benchmark shows here).
    static func machineCPU() -> (busy: Double, total: Double) {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8), let line = text.split(separator: "\n").first else { return (0, 0) }
        let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard fields.count >= 5 else { return (0, 0) }
        let total = fields.reduce(0, +), idle = fields[3] + fields[4]
        return (total - idle, total)
    }

    static func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "").split(separator: " ").prefix(3).joined(separator: " ")
    }

    static func marks(_ value: Any?) -> [Int: Double] {
        guard let object = value as? [String: Any] else { return [:] }
        var found: [Int: Double] = [:]
        for (key, value) in object { if let number = Int(key), let at = (value as? NSNumber)?.doubleValue { found[number] = at } }
        return found
    }

    static func metricDelta(_ before: [String: Any], _ after: [String: Any]) -> [String: Double] {
        guard let b = before["metrics"] as? [String: Any], let a = after["metrics"] as? [String: Any] else { return [:] }
        var delta: [String: Double] = [:]
        for (key, value) in a {
            guard let end = (value as? NSNumber)?.doubleValue, let begin = (b[key] as? NSNumber)?.doubleValue else { continue }
            delta[key] = end - begin
        }
        return delta
    }
}

struct LiveRun {
    let mode: String
    var page = LatencySamples()
    var frame = LatencySamples()
    var stream = LatencySamples()
    var ack = LatencySamples()
    var notRendered = 0
    var notRead = 0
    var non200 = 0
    var otherSent = 0
    var behind = 0
    var daemonCPU = 0.0
    var seconds = 0.0
    var streamEvents = 0
    var clockSkew = 0.0
    var browser: [String: Double] = [:]
    var pageRequests = 0
    var visibility = ""
    var notes = ""
    var firstHundred = 0.0
    var lastHundred = 0.0
    var machineBusy = 0.0
    var loadAverage = ""
}
