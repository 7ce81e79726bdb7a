import Foundation
import Synchronization

/// The browser side of `switchboard-bench web`: `Tests/Browser/bench_web.py` (Selenium driving
/// Debian's headless Chromium), a child process spoken to in JSON lines — one command on its
/// standard input, one answer on its standard output; its log (and Chromium's) goes to a file.
final class BrowserDriver: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let process: Process
    private let input: FileHandle
    private let output: FileHandle
    private let pending = Mutex<[UInt8]>([])
    let logPath: String

    /// The Python to run: `$SWITCHBOARD_PYTHON`, the test environment `dev/test` prepares
    /// (`.build/test-python`), or `python3` on the PATH — the first that imports Selenium.
    static func python(explicit: String?) -> String? {
        var candidates: [String] = []
        if let explicit { candidates.append(explicit) }
        if let fromEnvironment = ProcessInfo.processInfo.environment["SWITCHBOARD_PYTHON"] { candidates.append(fromEnvironment) }
        candidates.append(FileManager.default.currentDirectoryPath + "/.build/test-python/bin/python3")
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            candidates.append("\(directory)/python3")
        }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: candidate)
            probe.arguments = ["-c", "import selenium"]
            probe.standardOutput = FileHandle.nullDevice
            probe.standardError = FileHandle.nullDevice
            guard (try? probe.run()) != nil else { continue }
            probe.waitUntilExit()
            if probe.terminationStatus == 0 { return candidate }
        }
        return nil
    }

    init(python: String, script: String, arguments: [String], logPath: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-u", script] + arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try process.run()
        self.process = process
        self.input = stdin.fileHandleForWriting
        self.output = stdout.fileHandleForReading
        self.logPath = logPath
    }

    /// Sends one command and waits for its answer (a JSON object); an answer with `"ok": false`
    /// throws its `"error"`.
    func call(_ command: String, _ parameters: [String: Any] = [:]) async throws -> [String: Any] {
        var object = parameters
        object["cmd"] = command
        let line = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self) + "\n"
        let answer: String = try await WebTraffic.onThread {
            try self.input.write(contentsOf: Array(line.utf8))
            return try self.readLine()
        }
        guard let reply = try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any] else {
            throw Failure(description: "the browser driver answered \(answer.prefix(200))")
        }
        guard reply["ok"] as? Bool == true else {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw Failure(description: "browser driver, \(command): \(reply["error"] as? String ?? answer)\nits log:\n\(log.suffix(3000))")
        }
        return reply
    }

    private func readLine() throws -> String {
        while true {
            if let line = pending.withLock({ buffer -> String? in
                guard let end = buffer.firstIndex(of: 10) else { return nil }
                defer { buffer.removeSubrange(...end) }
                return String(decoding: buffer[..<end], as: UTF8.self)
            }) {
                return line
            }
            let data = output.availableData
            guard !data.isEmpty else {
                let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                throw Failure(description: "the browser driver ended without answering; its log:\n\(log.suffix(4000))")
            }
            pending.withLock { $0.append(contentsOf: data) }
        }
    }

    /// Asks the driver to close Chromium and end; stops it if it does not within 20 s.
    func quit() async {
        _ = try? await call("quit")
        try? input.close()
        for _ in 0..<200 where process.isRunning { try? await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning { process.terminate() }
    }
}
