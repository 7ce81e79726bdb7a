import Foundation

/// The daemon's configuration for the restart benchmark: `queues` queues with a rule each (the
/// first message names its queue), `agents` agents spread over them (each serves its own queue and
/// the next), one 24×7 SLA policy for every ticket. Written as the file the daemon reads, so the seed
/// and the daemon agree on names, skills and the policy's version.
struct RestartConfig {
    let agents: Int
    let queues: Int
    let capacity: Int
    let port: Int
    let directory: String
    let databaseURL: String

    /// The SLA policy's targets, in seconds (the seed writes clocks with them).
    static let firstResponse: Double = 8 * 3600
    static let resolution: Double = 72 * 3600
    static let warnFraction = 0.8

    var queueNames: [String] { (0..<queues).map { String(format: "q%02d", $0) } }
    var agentIDs: [String] { (0..<agents).map { String(format: "agent%04d", $0) } }
    var path: String { directory + "/config.json" }
    var logPath: String { directory + "/daemon.log" }
    var controlSocket: String { directory + "/control.sock" }

    /// The queues agent `index` serves: its own and the next one.
    func queues(ofAgent index: Int) -> [String] {
        let names = queueNames
        let own = index % queues
        return queues == 1 ? [names[own]] : [names[own], names[(own + 1) % queues]]
    }

    func write() throws {
        for (name, value) in [("app-secret", "restart-app-secret"), ("verify-token", "restart-verify")] {
            try value.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        let queueObjects: [[String: Any]] = queueNames.map { name in
            ["name": name, "strategy": "least-loaded", "windowBoostMinutes": 30,
             "steps": [["ruleSkillLevel": 4, "timeoutSeconds": 300], ["ruleSkillLevel": 0]]]
        }
        // Even queues serve Spanish speakers; a rule per queue, found by the queue's name in the text.
        let rules: [[String: Any]] = queueNames.enumerated().map { index, name in
            ["name": name, "when": ["keywords": [name]], "queue": name, "skills": [index % 2 == 0 ? "lang:es" : "lang:en": 3]]
        } + [["name": "default", "queue": queueNames[0], "skills": ["lang:es": 3]]]
        let agentObjects: [[String: Any]] = agentIDs.enumerated().map { index, id in
            ["id": id, "name": "Agent \(index)", "role": "agent", "teams": ["support"], "capacity": capacity,
             "skills": ["lang:en": 4, "lang:es": 4], "queues": queues(ofAgent: index), "presence": "online"]
        }
        let config: [String: Any] = [
            "stateDirectory": directory + "/daemon-state",
            "database": ["url": databaseURL, "poolSize": 16],
            "http": ["host": "127.0.0.1", "port": port],
            "logging": ["level": "info"],
            "whatsapp": ["appSecret": ["file": directory + "/app-secret"], "verifyToken": ["file": directory + "/verify-token"]],
            "control": ["socket": controlSocket],
            "routing": ["pendingCountsAgainstCapacity": false, "stickyMinutes": 1440, "presenceGraceSeconds": 120,
                        "queues": queueObjects, "rules": rules, "agents": agentObjects],
            "sla": ["policies": [[
                "name": "standard", "calendar": "24x7", "firstResponseMinutes": Self.firstResponse / 60, "resolutionHours": Self.resolution / 3600,
                "warnAtPercent": Self.warnFraction * 100, "onWarning": [["notify": "supervisors"]],
                "onBreach": [["notify": "supervisors"], ["raisePriority": true]],
            ]]],
        ]
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: path))
    }
}
