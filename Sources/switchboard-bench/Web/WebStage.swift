import Foundation
import Logging
import Postgres
import SwitchboardStore

/// The release daemon on a database of its own in the benchmark's embedded cluster, with one agent
/// who may sign in (the password hash written straight into the database the benchmark owns) and
/// an API token for the same agent's event-stream baseline.
struct WebStage {
    let process: Process
    let port: Int
    let pool: PostgresPool
    let logPath: String

    static let agent = "ana"
    static let agentName = "Ana Bench"
    /// A queue Ana does not serve, where the "elsewhere" traffic goes (a keyword rule).
    static let otherQueueKeyword = "salesdesk"

    static func start(cluster: EmbeddedPostgres, daemon: String, directory: String, database: String) async throws -> WebStage {
        try await cluster.createDatabaseIfMissing(database)
        let connectionString = cluster.connectionString(database: database)
        let port = try freeLoopbackPort()
        try "\(WebTraffic.appSecret)\n".write(toFile: directory + "/app-secret", atomically: true, encoding: .utf8)
        try "bench-verify\n".write(toFile: directory + "/verify-token", atomically: true, encoding: .utf8)
        let user = String(cString: getpwuid(getuid()).pointee.pw_name)
        let configuration: [String: Any] = [
            "stateDirectory": directory + "/\(database)-state",
            "database": ["url": connectionString, "poolSize": 16],
            "http": ["host": "127.0.0.1", "port": port],
            "logging": ["level": "warning"],
            "whatsapp": ["appSecret": ["file": directory + "/app-secret"], "verifyToken": ["file": directory + "/verify-token"]],
            "routing": [
                "queues": [
                    ["name": "support", "strategy": "least-loaded", "steps": [["skills": [String: Int]()]]],
                    ["name": "sales", "strategy": "least-loaded", "steps": [["skills": [String: Int]()]]],
                ],
                "rules": [
                    ["name": "sales", "when": ["keywords": [otherQueueKeyword]], "queue": "sales"],
                    ["name": "default", "queue": "support"],
                ],
                "agents": [
                    ["id": agent, "name": agentName, "role": "agent", "teams": ["support"], "capacity": 5, "skills": ["lang:en": 5],
                     "queues": ["support"], "presence": "online"],
                    ["id": "olu", "name": "Olu Bench", "role": "agent", "teams": ["sales"], "capacity": 5, "skills": ["lang:en": 5],
                     "queues": ["sales"], "presence": "online"],
                ],
            ],
            "sla": ["policies": [["name": "standard", "calendar": "24x7", "firstResponseMinutes": 1440, "nextResponseMinutes": 1440, "resolutionHours": 168]]],
            "control": ["socket": directory + "/\(database)-control.sock", "admins": ["users": [user], "groups": [String]()]],
        ]
        let path = directory + "/\(database).json"
        try JSONSerialization.data(withJSONObject: configuration, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: path))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: daemon)
        process.arguments = ["run", "--config", path]
        let logPath = directory + "/\(database).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        do {
            try await MediaPhase.waitUntilReady(port: port)
        } catch {
            process.interrupt()
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw PgBench.Failure(description: "\(error)\ndaemon log:\n\(log.suffix(4000))")
        }
        let pool = PostgresPool(configuration: .init(connection: .init(connectionString: connectionString), size: 4), logger: Logger(label: "bench"))
        return WebStage(process: process, port: port, pool: pool, logPath: logPath)
    }

    /// Sets the agent's password (hashed as `switchboardctl set-password` does) and issues an API
    /// token for the event-stream baseline.
    func prepareAgent(password: String) async throws -> String {
        let hash = try await WebTraffic.onThread { PasswordHash.make(password) }
        guard try await SignInStore(pool: pool).setPassword(agentID: Self.agent, hash: hash, by: "bench", now: Date()) != nil else {
            throw PgBench.Failure(description: "no active agent \(Self.agent) in the daemon's database")
        }
        guard let issued = try await ControlStore(pool: pool).tokens.issue(agentID: Self.agent, label: "bench", by: "bench", now: Date()) else {
            throw PgBench.Failure(description: "no token for \(Self.agent)")
        }
        return issued.token.text
    }

    func count(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> Int {
        Int(try await pool.query(sql, parameters).first?.decode(0, as: Int64.self) ?? 0)
    }

    func stop() async {
        await pool.close()
        if process.isRunning {
            process.interrupt()
            process.waitUntilExit()
        }
    }
}
