import CLibPQ

/// How to reach a PostgreSQL server.
public struct PostgresConnectionConfiguration: Sendable, CustomStringConvertible {
    /// A libpq connection string (`host=/run/pg dbname=x`) or URI (`postgresql://…`).
    public var connectionString: String
    /// The password, read from a secret; passed to libpq separately and never printed.
    public var password: String?
    /// Seconds libpq waits for a connection to be established; nil: the connection string's
    /// `connect_timeout`, else 5 (a value here overrides the string's).
    public var connectTimeoutSeconds: Int?
    public var applicationName: String
    /// What each session runs before use after it changes (see `SessionSetup`); nil: nothing.
    public var sessionSetup: SessionSetup?

    public init(connectionString: String, password: String? = nil, connectTimeoutSeconds: Int? = nil, applicationName: String = "switchboard",
                sessionSetup: SessionSetup? = nil) {
        self.sessionSetup = sessionSetup
        self.connectionString = connectionString
        self.password = password
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.applicationName = applicationName
    }

    /// The connection string with any password masked, for logs.
    public var description: String {
        guard let parsed = try? Self.parse(connectionString) else { return "<unparsable connection string>" }
        return parsed.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.key == "password" ? "***" : $0.value)" }
            .joined(separator: " ")
    }

    /// The keywords libpq reads from a connection string or URI; throws libpq's complaint if malformed.
    public static func parse(_ connectionString: String) throws -> [String: String] {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &errorMessage) else {
            let message = errorMessage.map { String(cString: $0) } ?? "out of memory"
            if let errorMessage { PQfreemem(errorMessage) }
            throw PostgresError.connectionFailed(message.trimmingTrailingWhitespace())
        }
        defer { PQconninfoFree(options) }
        var result: [String: String] = [:]
        var cursor = options
        while let keyword = cursor.pointee.keyword {
            if let value = cursor.pointee.val {
                result[String(cString: keyword)] = String(cString: value)
            }
            cursor += 1
        }
        return result
    }

    /// The seconds libpq is told to wait for a connection: this configuration's, else the
    /// connection string's `connect_timeout`, else 5.
    public var effectiveConnectTimeoutSeconds: Int {
        connectTimeoutSeconds ?? (try? Self.parse(connectionString))?["connect_timeout"].flatMap { Int($0) } ?? 5
    }

    /// Keyword/value pairs for `PQconnectdbParams`; the connection string comes first and is expanded.
    func keywordsAndValues() -> [(String, String)] {
        var pairs: [(String, String)] = [
            ("dbname", connectionString),
            ("application_name", applicationName),
            ("connect_timeout", String(effectiveConnectTimeoutSeconds)),
            ("client_encoding", "UTF8"),
            ("keepalives", "1"),
            ("keepalives_idle", "30"),
            ("keepalives_interval", "10"),
            ("keepalives_count", "3"),
        ]
        if let password { pairs.append(("password", password)) }
        return pairs
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var s = Substring(self)
        while let last = s.last, last.isWhitespace { s.removeLast() }
        return String(s)
    }
}
