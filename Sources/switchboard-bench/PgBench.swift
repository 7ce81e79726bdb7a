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
    func run(script: String, clients: Int, seconds: Int, connection: [String]) throws -> Result {
        let scriptFile = FileManager.default.temporaryDirectory.appendingPathComponent("sb-pgbench-\(getpid()).sql")
        try script.write(to: scriptFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: scriptFile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        // As many pgbench threads as cores it may use, never more than clients.
        let threads = min(clients, ProcessInfo.processInfo.activeProcessorCount)
        process.arguments = ["-n", "-M", "prepared", "-c", String(clients), "-j", String(threads), "-T", String(seconds), "-f", scriptFile.path] + connection
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "pgbench exited with status \(process.terminationStatus): \(errors.suffix(500))")
        }
        guard let tps = Self.number(after: "tps = ", in: output) else {
            throw Failure(description: "cannot read tps from pgbench output:\n\(output)")
        }
        return Result(transactionsPerSecond: tps, averageLatencyMilliseconds: Self.number(after: "latency average = ", in: output))
    }

    private static func number(after prefix: String, in text: String) -> Double? {
        guard let range = text.range(of: prefix) else { return nil }
        let digits = text[range.upperBound...].prefix { $0.isNumber || $0 == "." }
        return Double(digits)
    }
}
