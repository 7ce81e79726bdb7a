import Foundation
import Synchronization

/// The real `switchboardd` binary run by a test, as systemd or an operator would run it.
public final class DaemonProcess: Sendable {
    public let process: Process
    /// Everything the daemon wrote to stderr (its log).
    public let logFile: String

    /// The built executable next to the test bundle (`.build/<triple>/debug/switchboardd`).
    public static var executablePath: String {
        if let override = ProcessInfo.processInfo.environment["SWITCHBOARDD"] { return override }
        let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: testBinary).deletingLastPathComponent().appendingPathComponent("switchboardd").path
    }

    public init(arguments: [String], environment: [String: String] = [:], logFile: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executablePath)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "CREDENTIALS_DIRECTORY", "JOURNAL_STREAM"] {
            env.removeValue(forKey: key)
        }
        env.merge(environment) { $1 }
        process.environment = env
        _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        process.standardError = log
        process.standardOutput = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        self.logFile = logFile
    }

    public var pid: Int32 { process.processIdentifier }

    public func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    public var log: String {
        (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
    }

    /// Waits for the process to exit (polling; bounded) and returns its exit status.
    public func waitForExit(attempts: Int = 600) async -> Int32? {
        for _ in 0..<attempts {
            if !process.isRunning { return process.terminationStatus }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// Polls the log until it contains `text` (bounded).
    public func waitForLog(_ text: String, attempts: Int = 600) async -> Bool {
        for _ in 0..<attempts {
            if log.contains(text) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// Runs the binary to completion and returns its exit status and output. Waits on a thread of its own,
/// never on the cooperative pool.
public func runSwitchboardd(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, stdout: String, stderr: String) {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(with: Result { try runSwitchboarddBlocking(arguments, environment: environment) })
        }.start()
    }
}

private func runSwitchboarddBlocking(_ arguments: [String], environment: [String: String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: DaemonProcess.executablePath)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

/// Process ids whose command line mentions `text` (for "no server survives" checks).
public func processes(mentioning text: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
        guard pid != getpid(),
              let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              !status.contains("State:\tZ")
        else { return false }
        let cmdline = String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
        return cmdline.contains(text)
    }
}

/// A temporary directory for one test; short, because Unix socket paths must stay under 108 bytes.
public func makeTemporaryDirectory(_ label: String) throws -> String {
    let path = "/tmp/sb-\(label.prefix(12))-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
