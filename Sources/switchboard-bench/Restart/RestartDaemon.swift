import Foundation

/// Starts of the release daemon (`DaemonProcess`): how long until `/readyz`, its memory and CPU
/// then, and where the start went, from its log.
final class RestartDaemon {
    struct Start {
        /// From just before the process was spawned to the first `/readyz` 200.
        var readySeconds: Double
        /// When the process was spawned (wall clock), to place the daemon's log lines.
        var spawnedAt: Date
        /// VmHWM (peak resident set) and VmRSS when ready, MiB.
        var peakAtReadyMiB: Double
        var residentAtReadyMiB: Double
        /// CPU (user + system) the daemon used until ready, seconds.
        var cpuSeconds: Double
    }

    let config: RestartConfig
    let process: DaemonProcess

    init(executable: String, config: RestartConfig) {
        self.config = config
        process = DaemonProcess(name: "restart", executable: executable, configPath: config.path, logPath: config.logPath, port: config.port)
    }

    func start(timeout: Duration) async throws -> Start {
        let spawnedAt = Date()
        let (spawned, ready) = try await process.start(timeout: timeout)
        return Start(readySeconds: (ready - spawned).seconds, spawnedAt: spawnedAt, peakAtReadyMiB: process.memoryMiB("VmHWM"),
                     residentAtReadyMiB: process.memoryMiB("VmRSS"), cpuSeconds: process.cpuSeconds)
    }

    func memoryMiB(_ field: String) -> Double { process.memoryMiB(field) }

    func get(_ path: String) async throws -> (status: Int, body: [UInt8]) { try await process.get(path) }

    /// SIGTERM, then waits for the exit; returns its status (128 + signal if one ended it).
    func stop() async -> Int32 { await process.stop() }

    /// The daemon's log lines up to `until`, each with its offset from the spawn (seconds): where the
    /// start went, phase by phase.
    func timeline(spawnedAt: Date, until: Double) -> [(offset: Double, line: String)] {
        guard let text = try? String(contentsOfFile: config.logPath, encoding: .utf8) else { return [] }
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return text.split(separator: "\n").compactMap { line -> (Double, String)? in
            guard let space = line.firstIndex(of: " "), let at = parser.date(from: String(line[..<space])) else { return nil }
            let offset = at.timeIntervalSince(spawnedAt)
            return (0...until).contains(offset) ? (offset, String(line[space...].dropFirst())) : nil
        }
    }
}
