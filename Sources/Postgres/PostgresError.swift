import Foundation

/// An error from the Postgres module.
///
/// Never carries parameter values: they may hold customer data.
public enum PostgresError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server answered with an error.
    case server(ServerError)
    /// A connection could not be established.
    case connectionFailed(String)
    /// The connection broke while in use; the statement may or may not have run.
    case connectionLost(String)
    /// The server is known to be unreachable; no attempt was made until the back-off ends.
    case serverUnreachable(lastError: String, retryInMilliseconds: Int)
    /// No connection of the pool became free within the wait bound.
    case poolTimeout(waitedMilliseconds: Int, poolSize: Int)
    /// The pool has been shut down.
    case poolClosed
    /// The caller's task was cancelled; a running statement was cancelled on the server.
    case cancelled
    /// A column could not be decoded into the requested Swift type.
    case decoding(column: String, expected: String, reason: String)
    /// libpq reported something this layer does not expect (a bug or an unsupported feature).
    case unexpected(String)

    /// The fields of an `ErrorResponse` the server sent.
    public struct ServerError: Sendable, Equatable {
        public var sqlState: SQLState
        public var severity: String
        public var message: String
        public var detail: String?
        public var hint: String?
        public var constraint: String?

        public init(sqlState: SQLState, severity: String, message: String, detail: String? = nil, hint: String? = nil, constraint: String? = nil) {
            self.sqlState = sqlState
            self.severity = severity
            self.message = message
            self.detail = detail
            self.hint = hint
            self.constraint = constraint
        }
    }

    /// The SQLSTATE of a server error, if this is one.
    public var sqlState: SQLState? {
        if case .server(let error) = self { return error.sqlState }
        return nil
    }

    /// Errors after which the server may be gone: the caller can retry later.
    public var isConnectionProblem: Bool {
        switch self {
        case .connectionFailed, .connectionLost, .serverUnreachable: return true
        case .server(let error): return error.sqlState.isConnectionClass
        default: return false
        }
    }

    /// The connection broke (or the server ended the session) while in use.
    public var isLostConnection: Bool {
        switch self {
        case .connectionLost: return true
        case .server(let error): return error.sqlState.isConnectionClass
        default: return false
        }
    }

    /// The server refused a write because it is read-only: a standby, or a former primary after a
    /// failover. The session is no use for writing any more; a new one (libpq's
    /// `target_session_attrs=read-write` over several hosts) finds the writable server.
    public var isReadOnlyServer: Bool {
        guard case .server(let error) = self else { return false }
        return error.sqlState.code == "25006"
    }

    /// The database refused a leader's write because another instance has taken the lease since
    /// (Switchboard's fence, SQLSTATE SB001): this instance no longer leads.
    public var isStaleLeader: Bool {
        guard case .server(let error) = self else { return false }
        return error.sqlState == .staleLeaderEpoch
    }

    /// The database could not do the work now, whatever the work was: the server is gone or
    /// shutting down, out of resources, read-only after a failover, the pool is exhausted or
    /// closed, or the caller was cancelled. Trying the same work later may succeed; another
    /// error (bad data, a constraint) would fail the same way again.
    public var isUnavailability: Bool {
        switch self {
        case .connectionFailed, .connectionLost, .serverUnreachable, .poolTimeout, .poolClosed, .cancelled: return true
        case .server(let error):
            let code = error.sqlState.code
            return error.sqlState.isConnectionClass || error.sqlState.isTransient || code.hasPrefix("53") || code.hasPrefix("57")
                || code == "25006" || code == "58000" || code == "58030" || error.sqlState == .staleLeaderEpoch
        case .decoding, .unexpected: return false
        }
    }

    /// Replaces every parameter value of three or more characters that the server quoted back in its
    /// message, detail or hint (`Key (phone)=(+4915…) already exists`) with `…`, so that errors can be
    /// logged without customer data.
    func redacting(_ parameters: [PostgresParameter?]) -> PostgresError {
        guard case .server(var error) = self else { return self }
        let values = parameters.compactMap { $0?.text }.filter { $0.count >= 3 }.sorted { $0.count > $1.count }
        guard !values.isEmpty else { return self }
        func scrub(_ text: String) -> String {
            values.reduce(text) { $0.replacingOccurrences(of: $1, with: "…") }
        }
        error.message = scrub(error.message)
        error.detail = error.detail.map(scrub)
        error.hint = error.hint.map(scrub)
        return .server(error)
    }

    public var description: String {
        switch self {
        case .server(let e):
            var text = "\(e.severity) \(e.sqlState.code): \(e.message)"
            if let detail = e.detail { text += " (detail: \(detail))" }
            return text
        case .connectionFailed(let m): return "could not connect to PostgreSQL: \(m)"
        case .connectionLost(let m): return "connection to PostgreSQL lost: \(m)"
        case .serverUnreachable(let last, let ms): return "PostgreSQL is unreachable (\(last)); next attempt in \(ms) ms"
        case .poolTimeout(let ms, let size): return "no database connection free after \(ms) ms (pool size \(size))"
        case .poolClosed: return "the database pool is closed"
        case .cancelled: return "the statement was cancelled"
        case .decoding(let column, let expected, let reason): return "column \(column): cannot decode as \(expected): \(reason)"
        case .unexpected(let m): return "unexpected libpq behaviour: \(m)"
        }
    }
}

/// A five-character SQLSTATE code.
public struct SQLState: Sendable, Hashable, CustomStringConvertible {
    public let code: String
    public init(_ code: String) { self.code = code }

    public static let serializationFailure = SQLState("40001")
    public static let deadlockDetected = SQLState("40P01")
    public static let uniqueViolation = SQLState("23505")
    public static let queryCanceled = SQLState("57014")
    public static let adminShutdown = SQLState("57P01")
    public static let undefinedTable = SQLState("42P01")
    public static let insufficientPrivilege = SQLState("42501")
    /// Raised by Switchboard's own fence (migration 0014) on a former leader's write.
    public static let staleLeaderEpoch = SQLState("SB001")

    /// Class 08 (connection exception) and the shutdown codes of class 57P.
    var isConnectionClass: Bool {
        code.hasPrefix("08") || code == "57P01" || code == "57P02" || code == "57P03"
    }

    /// Failures that succeed when the whole transaction is tried again.
    public var isTransient: Bool { self == .serializationFailure || self == .deadlockDetected }

    public var description: String { code }
}
