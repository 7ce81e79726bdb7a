import ArgumentParser
import Foundation
import Logging
import Postgres
import SwitchboardCore
import WhatsApp

/// Customers' files through the real daemon: signed webhooks for images at a fixed rate, each
/// fetched from an in-process Graph API (a lookup, then the bytes, both with the bearer token) into
/// PostgreSQL. Measures the time from the webhook to the file being servable, the daemon's peak
/// memory (again with a few much larger files, to show it does not follow the file size) and what
/// the database grows by per MB stored; beside the same bytes written by `psql` (`COPY`, binary
/// and hex, and `\lo_import`) and by this repository's client without HTTP, in the same run.
struct MediaBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "media",
        abstract: "Inbound files through the daemon (1,000 × 500 KB at 50/s, then 20 × 16 MiB): webhook → servable latency, peak RSS, database growth per MB, beside psql COPY / \\lo_import."
    )

    @Option(help: "Images sent in the main run.") var count = 1000
    @Option(help: "Size of each image, in bytes.") var size = 500_000
    @Option(help: "Webhooks per second in the main run.") var rate = 50.0
    @Option(help: "Larger files sent afterwards (another daemon process, for its own peak memory); 0 skips.") var largeCount = 20
    @Option(help: "Size of each larger file, in bytes.") var largeSize = 16 * 1024 * 1024
    @Option(help: "Webhooks per second for the larger files.") var largeRate = 1.0
    @Option(help: "The daemon's media.fetchConcurrency.") var concurrency = 4
    @Option(help: "The switchboardd executable (build it with: swift build -c release --product switchboardd).")
    var daemon: String = ".build/release/switchboardd"
    @Flag(help: "Skip the psql and client baselines.") var noBaseline = false
    @Option(help: "The server's synchronous_commit (on: every commit waits for its WAL flush, as the daemon runs; off shows what the flushes cost).")
    var synchronousCommit = "on"

    func validate() throws {
        guard count >= 1, size >= 8, rate > 0, largeCount >= 0, largeSize >= 8, largeRate > 0, (1...64).contains(concurrency) else {
            throw ValidationError("--count ≥ 1, sizes ≥ 8, rates > 0, --concurrency 1–64")
        }
        guard ["on", "off"].contains(synchronousCommit) else { throw ValidationError("--synchronous-commit is on or off") }
        guard FileManager.default.isExecutableFile(atPath: daemon) else {
            throw ValidationError("no executable at \(daemon); build it first: swift build -c release --product switchboardd")
        }
    }

    func run() async throws {
        bootstrapBenchLogging()
        let db = try await BenchDatabase.open(url: nil, settings: ["synchronous_commit": synchronousCommit, "max_connections": "100"])
        do {
            try await measure(db)
        } catch {
            await db.close()
            throw error
        }
        await db.close()
    }

    private func measure(_ db: BenchDatabase) async throws {
        guard let cluster = db.embedded else { throw ValidationError("needs the embedded cluster") }
        let directory = db.directory ?? "/tmp"
        let small = (0..<count).map { BenchMediaFile(number: $0, size: size) }
        let large = (0..<largeCount).map { BenchMediaFile(number: $0, size: largeSize) }
        let digests = Dictionary(uniqueKeysWithValues: (small + large).map { ($0, $0.digest()) })
        let graph = try await BenchGraphAPI.start(files: digests.mapValues { MediaDigest.hex($0) })
        defer { graph.stop() }
        print("switchboard-bench media: \(ProcessInfo.processInfo.activeProcessorCount) cores; embedded PostgreSQL (synchronous_commit \(synchronousCommit)), "
            + "daemon \(daemon) with media.fetchConcurrency \(concurrency); Graph API stand-in in this process on 127.0.0.1:\(graph.port)")
        print("")

        var phases: [MediaPhase.Outcome] = []
        let main = MediaPhase(label: "\(count) × \(Self.bytes(size)) at \(format(rate, 1))/s", database: "daemon_main", files: small, digests: digests, rate: rate,
                              concurrency: concurrency, daemon: daemon, directory: directory, graphPort: graph.port)
        phases.append(try await main.run(cluster))
        if largeCount > 0 {
            let bigger = MediaPhase(label: "\(largeCount) × \(Self.bytes(largeSize)) at \(format(largeRate, 1))/s", database: "daemon_large", files: large,
                                    digests: digests, rate: largeRate, concurrency: concurrency, daemon: daemon, directory: directory, graphPort: graph.port)
            phases.append(try await bigger.run(cluster))
        }
        Self.printPhases(phases)

        guard !noBaseline else { return }
        print("")
        print("Baselines: the main run's files (\(count) × \(Self.bytes(size)), \(format(Double(count * size) / 1e6, 1)) MB) written to PostgreSQL "
            + "in 256 KiB chunks, as media_chunks holds them, into a table of the same shape, same server, same run:")
        let baseline = try await MediaStorageBaseline.run(cluster: cluster, files: small, directory: directory, connections: concurrency)
        print(table([["how", "transactions", "seconds", "MB/s", "ms per file", "growth per MB stored", "WAL per MB"]] + baseline.map { row in
            [row.how, row.transactions, format(row.seconds, 2), format(row.megabytesPerSecond, 1), format(row.seconds * 1000 / Double(count), 2),
             format(row.growthPerByte, 3) + " MB", format(row.walPerByte, 3) + " MB"]
        }))
        if let daemonRow = phases.first {
            print("")
            print("The daemon's main run for comparison: \(format(daemonRow.growthPerByte, 3)) MB of table per MB stored, "
                + "\(format(daemonRow.walPerByte, 3)) MB of WAL per MB; fetch p50 \(format(daemonRow.fetch.percentile(50), 1)) ms per file.")
        }
        let encoding = MediaStorageBaseline.hexEncodingCost(files: small)
        print("Hex encoding of the bytea parameters alone (our client sends bytea as text): \(format(encoding.secondsPerMB * 1000, 2)) ms per MB "
            + "(\(format(encoding.seconds, 2)) s for the main run's bytes), and each value goes over the wire at twice its size.")
    }

    static func bytes(_ count: Int) -> String {
        if count >= 1 << 20 && count % (1 << 20) == 0 { return "\(count >> 20) MiB" }
        if count >= 1000 && count % 1000 == 0 { return count >= 1_000_000 && count % 1_000_000 == 0 ? "\(count / 1_000_000) MB" : "\(count / 1000) KB" }
        return "\(count) B"
    }

    static func printPhases(_ phases: [MediaPhase.Outcome]) {
        print(table([["run", "stored", "failed", "webhook non-200", "webhook → servable p50 / p99 / max", "→ row (ingest) p50", "row → stored (fetch) p50 / p99",
                      "daemon RSS ready → peak", "daemon CPU per MB", "table growth per MB", "WAL per MB"]] + phases.map { phase in
            [phase.label, "\(phase.stored)", "\(phase.failed)", "\(phase.non200)",
             "\(format(phase.servable.percentile(50), 1)) / \(format(phase.servable.percentile(99), 1)) / \(format(phase.servable.percentile(100), 1)) ms",
             "\(format(phase.ingest.percentile(50), 1)) ms",
             "\(format(phase.fetch.percentile(50), 1)) / \(format(phase.fetch.percentile(99), 1)) ms",
             "\(format(Double(phase.rssReadyKiB) / 1024, 1)) → \(format(Double(phase.peakKiB) / 1024, 1)) MiB",
             "\(format(phase.cpuSeconds * 1000 / (Double(phase.bytesStored) / 1e6), 1)) ms",
             format(phase.growthPerByte, 3) + " MB", format(phase.walPerByte, 3) + " MB"]
        }))
        for phase in phases {
            print("\(phase.label): \(format(Double(phase.bytesStored) / 1e6, 1)) MB stored in \(format(phase.seconds, 1)) s from the first webhook to the last file "
                + "stored; \(format(Double(phase.tableGrowth) / 1e6, 1)) MB table growth (media and media_chunks with TOAST and indexes), "
                + "\(format(Double(phase.wal) / 1e6, 1)) MB WAL; daemon CPU \(format(phase.cpuSeconds, 1)) s")
        }
    }
}

/// One run of the daemon: its own database and process (so its peak memory is its own), the
/// files' webhooks at a fixed rate, and what it took until every file was stored.
struct MediaPhase {
    let label: String
    let database: String
    let files: [BenchMediaFile]
    let digests: [BenchMediaFile: [UInt8]]
    let rate: Double
    let concurrency: Int
    let daemon: String
    let directory: String
    let graphPort: Int

    struct Outcome {
        let label: String
        let stored: Int
        let failed: Int
        let non200: Int
        let servable: LatencySamples
        let ingest: LatencySamples
        let fetch: LatencySamples
        let rssReadyKiB: Int
        let peakKiB: Int
        let cpuSeconds: Double
        let bytesStored: Int
        let tableGrowth: Int
        let wal: Int
        let seconds: Double

        var growthPerByte: Double { Double(tableGrowth) / Double(max(bytesStored, 1)) }
        var walPerByte: Double { Double(wal) / Double(max(bytesStored, 1)) }
    }

    static let appSecret = "bench-app-secret"

    func run(_ cluster: EmbeddedPostgres) async throws -> Outcome {
        try await cluster.createDatabaseIfMissing(database)
        let connectionString = cluster.connectionString(database: database)
        let port = try freeLoopbackPort()
        let config = directory + "/\(database).json"
        try "\(Self.appSecret)\n".write(toFile: directory + "/app-secret", atomically: true, encoding: .utf8)
        try "bench-verify\n".write(toFile: directory + "/verify-token", atomically: true, encoding: .utf8)
        try "\(BenchGraphAPI.token)\n".write(toFile: directory + "/graph-token", atomically: true, encoding: .utf8)
        let url = connectionString.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        try """
        {"stateDirectory": "\(directory)/\(database)-state", "database": {"url": "\(url)", "poolSize": 16},
         "http": {"host": "127.0.0.1", "port": \(port)}, "logging": {"level": "warning"},
         "whatsapp": {"appSecret": {"file": "app-secret"}, "verifyToken": {"file": "verify-token"}, "accessToken": {"file": "graph-token"},
                      "graphAPI": {"baseURL": "http://127.0.0.1:\(graphPort)", "version": "v24.0", "timeoutSeconds": 30}},
         "media": {"fetchConcurrency": \(concurrency)}}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: daemon)
        process.arguments = ["run", "--config", config]
        _ = FileManager.default.createFile(atPath: directory + "/\(database).log", contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/\(database).log"))
        try process.run()
        defer {
            if process.isRunning {
                process.interrupt()
                process.waitUntilExit()
            }
        }
        try await Self.waitUntilReady(port: port)
        let pid = process.processIdentifier
        let rssReady = Self.status(pid, "VmRSS") ?? 0
        let connection = try await PostgresConnection.connect(.init(connectionString: connectionString))
        let before = try await Self.storage(connection)
        let cpuBefore = processCPUSeconds(pid)

        let sent = try await send(port: port)
        let deadline = ContinuousClock.now + .seconds(Double(files.count) / rate + 600)
        var stored = 0, failed = 0
        while ContinuousClock.now < deadline {
            let row = try await connection.query("SELECT count(*) FILTER (WHERE state = 'stored')::int, count(*) FILTER (WHERE state = 'failed')::int FROM switchboard.media")
            stored = try row.first?.decode(0, as: Int.self) ?? 0
            failed = try row.first?.decode(1, as: Int.self) ?? 0
            if stored + failed >= files.count - sent.non200 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let peak = Self.status(pid, "VmHWM") ?? 0
        let cpu = processCPUSeconds(pid) - cpuBefore
        let after = try await Self.storage(connection, since: before.lsn)
        var servable = LatencySamples(), ingest = LatencySamples(), fetch = LatencySamples()
        var last = Date.distantPast
        for row in try await connection.query("""
            SELECT m.wamid, f.created_at, f.stored_at FROM switchboard.media f JOIN switchboard.messages m ON m.id = f.message_id WHERE f.state = 'stored'
            """) {
            let wamid = try row.decode(0, as: String.self)
            guard let index = Int(wamid.split(separator: ".").last ?? ""), let sentAt = sent.times[index] else { continue }
            let created = try row.decode(1, as: Date.self), storedAt = try row.decode(2, as: Date.self)
            servable.append(contentsOf: [Int64(storedAt.timeIntervalSince(sentAt) * 1e9)])
            ingest.append(contentsOf: [Int64(created.timeIntervalSince(sentAt) * 1e9)])
            fetch.append(contentsOf: [Int64(storedAt.timeIntervalSince(created) * 1e9)])
            last = max(last, storedAt)
        }
        let bytesStored = try await connection.query("SELECT coalesce(sum(size_bytes), 0)::bigint FROM switchboard.media WHERE state = 'stored'").first?
            .decode(0, as: Int64.self) ?? 0
        await connection.close()
        process.interrupt()
        process.waitUntilExit()
        let first = sent.times.values.min() ?? last
        return Outcome(label: label, stored: stored, failed: failed, non200: sent.non200, servable: servable, ingest: ingest, fetch: fetch, rssReadyKiB: rssReady,
                      peakKiB: peak, cpuSeconds: cpu, bytesStored: Int(bytesStored), tableGrowth: after.size - before.size, wal: after.wal,
                      seconds: last.timeIntervalSince(first))
    }

    /// One keep-alive connection posting each file's webhook at its moment (open loop); the
    /// moment each was sent.
    private func send(port: Int) async throws -> (times: [Int: Date], non200: Int) {
        let files = self.files, rate = self.rate, digests = self.digests
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    let client = try HTTPLoadClient(port: port)
                    let signer = WebhookSignature(appSecret: Self.appSecret)
                    let start = ContinuousClock.now
                    var times: [Int: Date] = [:], non200 = 0
                    for (index, file) in files.enumerated() {
                        let due = start + .seconds(Double(index) / rate)
                        let wait = due - ContinuousClock.now
                        if wait > .zero { Thread.sleep(forTimeInterval: wait.seconds) }
                        let body = Self.webhook(file, index: index, sha256: Data(digests[file] ?? []).base64EncodedString())
                        times[index] = Date()
                        let status = try client.post(path: "/webhooks/whatsapp", headers: [("X-Hub-Signature-256", signer.headerValue(for: body))], body: body)
                        if status != 200 { non200 += 1 }
                    }
                    return (times, non200)
                })
            }.start()
        }
    }

    /// A customer's image (or video) message as Meta delivers it, with the file's base64 SHA-256.
    static func webhook(_ file: BenchMediaFile, index: Int, sha256: String) -> [UInt8] {
        let customer = 4_915_100_000_000 + index % 200
        let json = #"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"4930123456","phone_number_id":"1122334455"},"contacts":[{"profile":{"name":"Bench \#(customer)"},"wa_id":"\#(customer)"}],"messages":[{"from":"\#(customer)","id":"wamid.media.\#(file.size).\#(index)","timestamp":"1790000000","type":"\#(file.kind)","\#(file.kind)":{"id":"\#(file.mediaID)","mime_type":"\#(file.mimeType)","sha256":"\#(sha256)"}}]}}]}]}"#
        return Array(json.utf8)
    }

    static func waitUntilReady(port: Int) async throws {
        for _ in 0..<600 {
            if let client = try? HTTPLoadClient(port: port), let answer = try? client.request("GET", path: "/readyz", headers: []), answer.status == 200 {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw PgBench.Failure(description: "switchboardd was not ready on port \(port) within 60 s")
    }

    /// The size of media and media_chunks (with TOAST and indexes), and the WAL position.
    static func storage(_ connection: PostgresConnection, since: String? = nil) async throws -> (size: Int, lsn: String, wal: Int) {
        let row = try await connection.query("""
            SELECT (pg_total_relation_size('switchboard.media') + pg_total_relation_size('switchboard.media_chunks'))::bigint, pg_current_wal_lsn()::text,
                   coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), $1::text::pg_lsn), 0)::bigint
            """, [since ?? "0/0"]).first
        return (Int(try row?.decode(0, as: Int64.self) ?? 0), try row?.decode(1, as: String.self) ?? "0/0", Int(try row?.decode(2, as: Int64.self) ?? 0))
    }

    /// A `/proc/<pid>/status` figure in KiB (VmRSS, VmHWM).
    static func status(_ pid: Int32, _ field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix(field + ":") }.flatMap { line in
            Int(line.split(whereSeparator: \.isWhitespace).dropFirst().first ?? "")
        }
    }
}
