import Foundation

/// Runs PostgreSQL's own `pgbench` with a custom script: the baseline every database benchmark here
/// is measured against.
struct PgBench {
    struct Result {
        let transactionsPerSecond: Double
        let averageLatencyMilliseconds: Double?
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let executable: String

    /// `pgbench` from PATH or the server's bin directory.
    static func locate(serverBinDirectory: String?) throws -> PgBench {
        var candidates = ["/usr/bin/pgbench", "/usr/local/bin/pgbench"]
        if let serverBinDirectory { candidates.insert(serverBinDirectory + "/pgbench", at: 0) }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Failure(description: "pgbench not found; install the Debian package postgresql-contrib (or postgresql)")
        }
        return PgBench(executable: found)
    }

    /// Runs `script` with `clients` connections for `seconds`, prepared statements, no vacuum.
    func run(script: String, clients: Int, seconds: Int, connection: [String]) async throws -> Result {
        let scriptFile = FileManager.default.temporaryDirectory.appendingPathComponent("sb-pgbench-\(getpid()).sql")
        try script.write(to: scriptFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: scriptFile) }
        // As many pgbench threads as cores it may use, never more than clients.
        let threads = min(clients, ProcessInfo.processInfo.activeProcessorCount)
        let arguments = ["-n", "-M", "prepared", "-c", String(clients), "-j", String(threads), "-T", String(seconds), "-f", scriptFile.path] + connection
        let output = try await ChildCommand.run(executable, arguments)
        guard output.status == 0 else {
            throw Failure(description: "pgbench exited with status \(output.status): \(output.stderr.suffix(500))")
        }
        guard let tps = Self.number(after: "tps = ", in: output.stdout) else {
            throw Failure(description: "cannot read tps from pgbench output:\n\(output.stdout)")
        }
        return Result(transactionsPerSecond: tps, averageLatencyMilliseconds: Self.number(after: "latency average = ", in: output.stdout))
    }

    /// Runs `script` at a fixed `rate` of transactions per second (open loop, `-R`) and returns each
    /// transaction's latency in nanoseconds, from pgbench's per-transaction log.
    func latencies(script: String, rate: Int, clients: Int, seconds: Int, connection: [String]) async throws -> [Int64] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sb-pgbench-log-\(getpid())")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let scriptFile = directory.appendingPathComponent("script.sql")
        try script.write(to: scriptFile, atomically: true, encoding: .utf8)
        let threads = min(clients, ProcessInfo.processInfo.activeProcessorCount)
        let arguments = ["-n", "-M", "prepared", "-c", String(clients), "-j", String(threads), "-T", String(seconds), "-R", String(rate),
                         "-l", "--log-prefix=" + directory.appendingPathComponent("tx").path, "-f", scriptFile.path] + connection
        let output = try await ChildCommand.run(executable, arguments)
        guard output.status == 0 else {
            throw Failure(description: "pgbench exited with status \(output.status): \(output.stderr.suffix(500))")
        }
        var values: [Int64] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file.hasPrefix("tx") {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            // client_id transaction_no time script_no time_epoch time_us [schedule_lag]; time is µs.
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ")
                if fields.count >= 3, let micros = Int64(fields[2]) { values.append(micros * 1000) }
            }
        }
        return values
    }

    private static func number(after prefix: String, in text: String) -> Double? {
        guard let range = text.range(of: prefix) else { return nil }
        let digits = text[range.upperBound...].prefix { $0.isNumber || $0 == "." }
        return Double(digits)
    }
}
