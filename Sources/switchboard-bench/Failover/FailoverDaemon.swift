import Foundation
import Glibc
import Postgres

/// One `switchboardd` of the failover benchmark: the repository's example configuration pointed at
/// a database outside it (so a killed daemon takes no database with it), the Graph API stand-in,
/// its own HTTP port, control socket and state, and a `cluster` section naming it. Its process
/// (`DaemonProcess`) is started, killed with SIGKILL and started again; any number run side by side.
final class FailoverDaemon {
    struct Settings {
        var databaseURL: String
        var graphPort: Int
        var leaseSeconds: Double
        var renewSeconds: Double
        /// Agents added to the example's (all online, in the support queue, English and Spanish).
        var extraAgents: [String]
        var extraAgentCapacity: Int
    }

    static let appSecret = "failover-app-secret"

    let node: String
    let directory: String
    let executable: String
    let switchboardctl: String
    let port: Int
    let configPath: String
    let process: DaemonProcess
    /// Every start appends to the same log, so what a killed instance said stays readable.
    var logPath: String { process.logPath }
    var controlSocket: String { directory + "/control.sock" }

    init(node: String, directory: String, executable: String, settings: Settings) throws {
        self.node = node
        self.directory = directory
        self.executable = executable
        self.switchboardctl = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("switchboardctl").path
        self.port = try freeLoopbackPort()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let example = try Data(contentsOf: URL(fileURLWithPath: "config.example.json"))
        guard var config = try JSONSerialization.jsonObject(with: example) as? [String: Any],
              var whatsapp = config["whatsapp"] as? [String: Any], var database = config["database"] as? [String: Any],
              var routing = config["routing"] as? [String: Any], var control = config["control"] as? [String: Any],
              var api = config["api"] as? [String: Any], let agents = routing["agents"] as? [[String: Any]] else {
            throw FailoverFailure("config.example.json (run from the repository's root) lacks a section")
        }
        let accessToken = FileManager.default.currentDirectoryPath + "/dev/graph-access-token"
        guard FileManager.default.isReadableFile(atPath: accessToken) else { throw FailoverFailure("no \(accessToken) (run from the repository's root)") }
        for (name, value) in [("app-secret", Self.appSecret), ("verify-token", "failover-verify")] {
            try value.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        config["stateDirectory"] = directory + "/state"
        config["http"] = ["host": "127.0.0.1", "port": port]
        database["url"] = settings.databaseURL
        database["acquireTimeoutSeconds"] = 2
        database["connectTimeoutSeconds"] = 2
        config["database"] = database
        whatsapp["appSecret"] = ["file": directory + "/app-secret"]
        whatsapp["verifyToken"] = ["file": directory + "/verify-token"]
        whatsapp["accessToken"] = ["file": accessToken]
        whatsapp["graphAPI"] = ["baseURL": "http://127.0.0.1:\(settings.graphPort)", "version": "v24.0", "timeoutSeconds": 10]
        config["whatsapp"] = whatsapp
        // The example's queues, rules and automation as they are; more agents, so that tickets keep
        // being assigned while agents resolve theirs.
        routing["agents"] = agents + settings.extraAgents.map {
            ["id": $0, "name": $0, "role": "agent", "teams": ["support"], "capacity": settings.extraAgentCapacity,
             "skills": ["lang:en": 5, "lang:es": 5], "queues": ["support"], "presence": "online"] as [String: Any]
        }
        config["routing"] = routing
        control["socket"] = directory + "/control.sock"
        config["control"] = control
        // Agents resolving through the API stay online for the whole run.
        api["presenceSilenceSeconds"] = 86_400
        config["api"] = api
        config["cluster"] = ["node": node, "advertiseURL": "http://127.0.0.1:\(port)", "leaseSeconds": settings.leaseSeconds,
                             "renewSeconds": settings.renewSeconds]
        configPath = directory + "/config.json"
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: configPath))
        process = DaemonProcess(name: node, executable: executable, configPath: configPath, logPath: directory + "/daemon.log", port: port)
    }

    /// Starts the daemon and returns how long it took until `/readyz` answered 200.
    @discardableResult
    func start() async throws -> Duration {
        let (spawned, ready) = try await process.start()
        return ready - spawned
    }

    var hasExited: Bool { process.hasExited }
    var exitDescription: String? { process.exitDescription }
    func kill9() async { await process.kill9() }

    /// Stops the daemon as systemd would; returns its exit status (128 + signal if one ended it).
    func stop() async -> Int32 { await process.stop(grace: .seconds(60)) }

    /// Whether `/metrics` says this instance leads (`switchboard_leader 1`); nil when it does not answer.
    func leads() async -> Bool? {
        guard let answer = try? await get("/metrics"), answer.status == 200 else { return nil }
        let text = String(decoding: answer.body, as: UTF8.self)
        if text.contains("\nswitchboard_leader 1") { return true }
        if text.contains("\nswitchboard_leader 0") { return false }
        return nil
    }

    func get(_ path: String) async throws -> (status: Int, body: [UInt8]) {
        try await process.get(path)
    }

    /// Runs `switchboardctl ARGUMENTS --json --socket …` and returns its parsed output.
    func control(_ arguments: [String]) async throws -> Any {
        let output = try await ChildCommand.run(switchboardctl, arguments + ["--json", "--socket", controlSocket])
        guard output.status == 0 else { throw FailoverFailure("switchboardctl \(arguments.joined(separator: " ")) on \(node): \(output.stderr)\(output.stdout)") }
        return try JSONSerialization.jsonObject(with: Data(output.stdout.utf8))
    }

    func logLines(containing words: [String], limit: Int = 20) -> [String] {
        process.logLines(containing: words, limit: limit)
    }
}

struct FailoverFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
