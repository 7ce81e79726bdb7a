import Foundation
import Glibc
import Postgres

/// The daemon under test: its configuration, its process, killed and started again.
final class SoakDaemon {
    let directory: String
    let executable: String
    let switchboardctl: String
    let port: Int
    let configPath: String
    let process: DaemonProcess

    var dataDirectory: String { directory + "/state/postgres/data" }
    var controlSocket: String { directory + "/control.sock" }
    var connectionString: String { "host=\(dataDirectory) port=5432 user=switchboard dbname=switchboard connect_timeout=2" }
    static let appSecret = "soak-app-secret"
    var appSecret: String { Self.appSecret }

    /// Writes the configuration: the repository's example with `agents` agents of `capacity` in one
    /// least-loaded queue, every ticket routed there, and the API's presence silence long enough
    /// that agents resolving through the API stay online.
    init(directory: String, executable: String, agents: [String], capacity: Int) throws {
        self.directory = directory
        self.executable = executable
        self.switchboardctl = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("switchboardctl").path
        self.port = try freeLoopbackPort()
        let example = try Data(contentsOf: URL(fileURLWithPath: "config.example.json"))
        guard var config = try JSONSerialization.jsonObject(with: example) as? [String: Any],
              var whatsapp = config["whatsapp"] as? [String: Any], var routing = config["routing"] as? [String: Any],
              var control = config["control"] as? [String: Any], var api = config["api"] as? [String: Any] else {
            throw SoakFailure("config.example.json (run from the repository's root) lacks a section")
        }
        for (name, value) in [("app-secret", Self.appSecret), ("verify-token", "soak-verify")] {
            try value.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        config["stateDirectory"] = directory + "/state"
        config["http"] = ["host": "127.0.0.1", "port": port]
        whatsapp["appSecret"] = ["file": directory + "/app-secret"]
        whatsapp["verifyToken"] = ["file": directory + "/verify-token"]
        config["whatsapp"] = whatsapp
        routing["queues"] = [["name": "support", "strategy": "least-loaded", "steps": [["skills": [String: Int]()]]],
                             ["name": "supervisors", "strategy": "least-loaded", "steps": [["skills": [String: Int]()]]]]
        routing["rules"] = [["name": "everyone", "queue": "support"]]
        routing["agents"] = agents.map { ["id": $0, "name": $0, "role": "agent", "teams": ["support"], "capacity": capacity, "skills": ["lang:en": 5],
                                         "queues": ["support"], "presence": "online"] as [String: Any] }
        config["routing"] = routing
        control["socket"] = directory + "/control.sock"
        config["control"] = control
        api["presenceSilenceSeconds"] = 86_400
        config["api"] = api
        configPath = directory + "/config.json"
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: configPath))
        process = DaemonProcess(name: "soak", executable: executable, configPath: configPath, logPath: directory + "/daemon.log", port: port)
    }

    /// Starts the daemon and returns how long it took until `/readyz` answered 200.
    func start() async throws -> Duration {
        let (spawned, ready) = try await process.start()
        return ready - spawned
    }

    func kill9() async { await process.kill9() }

    /// Stops the daemon as systemd would; returns its exit status (128 + signal if one ended it).
    func stop() async -> Int32 { await process.stop() }

    /// The embedded server's postmaster, from its pid file.
    var postmasterPID: pid_t? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first.flatMap { pid_t($0) }
    }

    func get(_ path: String, headers: [(String, String)] = []) async throws -> (status: Int, body: [UInt8]) {
        try await process.get(path, headers: headers)
    }

    /// Runs `switchboardctl ARGUMENTS --json --socket …` and returns its parsed output.
    func control(_ arguments: [String]) async throws -> Any {
        let output = try await ChildCommand.run(switchboardctl, arguments + ["--json", "--socket", controlSocket])
        guard output.status == 0 else { throw SoakFailure("switchboardctl \(arguments.joined(separator: " ")): \(output.stderr)\(output.stdout)") }
        return try JSONSerialization.jsonObject(with: Data(output.stdout.utf8))
    }
}

struct SoakFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
