import Foundation

/// `config.example.json` as shipped, pointed at one test's places, and the real daemon started on
/// it: what every end-to-end test begins with.
public enum ExampleDaemon {
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public struct SetupError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Writes `directory/config.json`: the example with its state in `directory/state`, HTTP on a
    /// free port, the development WhatsApp secrets from `dev/` (by absolute path) and the control
    /// socket in `directory`; `adjust` changes the rest. Returns the file's path.
    public static func writeConfiguration(in directory: String, adjust: (inout [String: Any]) throws -> Void = { _ in }) throws -> String {
        let example = try Data(contentsOf: repository.appendingPathComponent("config.example.json"))
        guard var config = try JSONSerialization.jsonObject(with: example) as? [String: Any],
              var whatsapp = config["whatsapp"] as? [String: Any] else {
            throw SetupError(description: "config.example.json is not an object with a whatsapp section")
        }
        config["stateDirectory"] = directory + "/state"
        config["http"] = ["host": "127.0.0.1", "port": 0]
        let dev = repository.appendingPathComponent("dev").path
        whatsapp["appSecret"] = ["file": dev + "/whatsapp-app-secret"]
        whatsapp["verifyToken"] = ["file": dev + "/whatsapp-verify-token"]
        config["whatsapp"] = whatsapp
        if var control = config["control"] as? [String: Any] {
            control["socket"] = directory + "/control.sock"
            config["control"] = control
        }
        try adjust(&config)
        let path = directory + "/config.json"
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The development app secret (`dev/whatsapp-app-secret`), for signing webhooks.
    public static func appSecret() throws -> String {
        try String(contentsOfFile: repository.appendingPathComponent("dev/whatsapp-app-secret").path, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A daemon that said READY=1, and the HTTP port its STATUS= line names.
    public struct Started: Sendable {
        public let process: DaemonProcess
        public let notifications: NotifyListener
        public let port: Int
        /// `switchboardctl`, built beside the daemon.
        public var switchboardctl: String {
            URL(fileURLWithPath: DaemonProcess.executablePath).deletingLastPathComponent().appendingPathComponent("switchboardctl").path
        }
    }

    /// Runs `switchboardd run --config configPath` with a notify socket in `directory` and waits for READY=1.
    public static func start(configPath: String, directory: String) async throws -> Started {
        let listener = try NotifyListener(abstract: false, directory: directory)
        let daemon = try DaemonProcess(arguments: ["run", "--config", configPath], environment: ["NOTIFY_SOCKET": listener.address],
                                       logFile: directory + "/daemon.log")
        guard await listener.waitFor("READY=1").count == 1, let status = listener.lastStatus else {
            throw SetupError(description: "no READY=1; log:\n\(daemon.log)")
        }
        guard let range = status.range(of: #"http 127\.0\.0\.1:[0-9]+"#, options: .regularExpression),
              let port = Int(status[range].split(separator: ":").last ?? "") else {
            throw SetupError(description: "no HTTP address in STATUS=\(status)")
        }
        return Started(process: daemon, notifications: listener, port: port)
    }
}
