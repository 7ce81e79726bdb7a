import CLibPQ
import Foundation
import Logging

/// One libpq connection, confined to a thread of its own.
///
/// The actor runs on a `DedicatedThreadExecutor`, so every blocking libpq call happens on that thread
/// and never on the cooperative pool, and no two callers ever touch the `PGconn` at once. The connection
/// is opened lazily and reopened after it breaks, subject to a shared back-off (`ReconnectGate`).
public actor PostgresConnection {
    private let executor: DedicatedThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private let configuration: PostgresConnectionConfiguration
    private let gate: ReconnectGate
    private let cancelHandle = CancelHandle()
    private let logger: Logger

    private var handle: OpaquePointer?  // PGconn*
    private var preparedStatements: [StatementKey: String] = [:]
    private var nextStatementID: UInt64 = 0
    private var closed = false

    private struct StatementKey: Hashable {
        var sql: String
        var types: [UInt32]
    }

    /// Most prepared statements kept per connection; the cache is cleared when it would grow past this.
    private static let preparedStatementLimit = 512

    init(configuration: PostgresConnectionConfiguration, gate: ReconnectGate, logger: Logger, name: String) {
        self.configuration = configuration
        self.gate = gate
        self.logger = logger
        self.executor = DedicatedThreadExecutor(name: name)
    }

    /// Opens a standalone connection (outside any pool) and connects at once.
    public static func connect(
        _ configuration: PostgresConnectionConfiguration,
        logger: Logger = Logger(label: "postgres")
    ) async throws -> PostgresConnection {
        let connection = PostgresConnection(configuration: configuration, gate: ReconnectGate(), logger: logger, name: "pg-connection")
        do {
            try await connection.connectNow()
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    private func connectNow() throws {
        try ensureConnected()
    }

    // MARK: Public operations

    /// Runs one statement with `$1…$n` parameters and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> PostgresRows {
        try await cancellable { id in try self.runQuery(sql, parameters, statement: id) }
    }

    /// Runs SQL text that may hold several statements, without parameters (migrations, session set-up).
    /// Never use it with values from outside: it has no parameters on purpose.
    public func simpleQuery(_ sql: String) async throws {
        try await cancellable { id in try self.runSimple(sql, statement: id) }
    }

    /// Runs one statement once per parameter row in a single round trip (libpq pipeline mode).
    ///
    /// Outside a transaction the rows form one implicit transaction: all are written or none.
    /// Returns the total number of affected rows.
    @discardableResult
    public func executeBatch(_ sql: String, _ rows: [[(any PostgresEncodable)?]]) async throws -> Int {
        if rows.isEmpty { return 0 }
        return try await cancellable { id in try self.runPipeline(sql, rows, statement: id) }
    }

    /// Rolls back a transaction left open (after an error or a cancellation). Not cancellable itself, so
    /// a connection never goes back to the pool inside a transaction.
    public func rollbackIfInTransaction() {
        guard let handle else { return }
        switch PQtransactionStatus(handle) {
        case PQTRANS_IDLE:
            return
        case PQTRANS_INTRANS, PQTRANS_INERROR:
            let result = PQexec(handle, "ROLLBACK")
            PQclear(result)
            if PQtransactionStatus(handle) != PQTRANS_IDLE { disconnect() }
        default:
            // A statement still active or an unknown state: the session cannot be trusted.
            disconnect()
        }
    }

    /// Closes the connection and ends its thread. Later calls fail with `poolClosed`.
    public func close() {
        closed = true
        disconnect()
        executor.shutdown()
    }

    /// Whether the connection is open and not known to be broken.
    public var isConnected: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// The server process id of this session (for diagnostics and tests).
    public var backendPID: Int32? {
        handle.map { PQbackendPID($0) }
    }

    // MARK: Cancellation

    /// Runs `body` on the connection's thread with a cancellation handler that cancels the statement.
    ///
    /// The operation closure must stay isolated to this actor: a closure that does not capture `self`
    /// is nonisolated and would run `body` — blocking libpq calls — on the cooperative pool. Calling
    /// an isolated method through `self` keeps it here; `ensureConnected` checks the thread.
    private func cancellable<T: Sendable>(_ body: (UInt64) throws -> T) async throws -> T {
        nextStatementID &+= 1
        let id = nextStatementID
        let handle = cancelHandle
        return try await withTaskCancellationHandler {
            try self.runCancellable(id, body)
        } onCancel: {
            handle.cancel(id)
        }
    }

    private func runCancellable<T>(_ id: UInt64, _ body: (UInt64) throws -> T) throws -> T {
        cancelHandle.begin(id)
        defer { cancelHandle.end() }
        if Task.isCancelled { throw PostgresError.cancelled }
        return try body(id)
    }

    // MARK: Connection management

    private func ensureConnected() throws {
        precondition(executor.isCurrentThread, "libpq called off the connection's own thread")
        if closed { throw PostgresError.poolClosed }
        if let handle {
            if PQstatus(handle) == CONNECTION_OK && !Self.hasPendingInputOrEOF(handle) {
                return
            }
            // An idle connection that became readable was most likely closed by the server
            // (shutdown, restart, idle timeout): read what it said, then decide.
            if PQstatus(handle) == CONNECTION_OK && PQconsumeInput(handle) == 1 {
                while let notify = PQnotifies(handle) { PQfreemem(notify) }
                if PQstatus(handle) == CONNECTION_OK && PQtransactionStatus(handle) == PQTRANS_IDLE {
                    return
                }
            }
            logger.info("database connection lost; reconnecting")
            disconnect()
        }
        try gate.checkAttemptAllowed()
        let pairs = configuration.keywordsAndValues()
        let keywords = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        var keywordPointers: [UnsafePointer<CChar>?] = keywords.map { UnsafePointer($0) } + [nil]
        var valuePointers: [UnsafePointer<CChar>?] = values.map { UnsafePointer($0) } + [nil]
        let connection = PQconnectdbParams(&keywordPointers, &valuePointers, 1)
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let message = connection.map { String(cString: PQerrorMessage($0)).trimmingTrailingWhitespace() } ?? "out of memory"
            if let connection { PQfinish(connection) }
            gate.recordFailure(message)
            throw PostgresError.connectionFailed(message)
        }
        handle = connection
        preparedStatements.removeAll()
        // libpq prints server notices to stderr by default; they are not worth a log line here, and
        // errors that matter come back as results.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        // One round trip so that every value this layer decodes has one text format.
        let setup = PQexec(connection, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET bytea_output = 'hex'; SET extra_float_digits = 3")
        defer { PQclear(setup) }
        guard PQresultStatus(setup) == PGRES_COMMAND_OK else {
            let message = String(cString: PQerrorMessage(connection)).trimmingTrailingWhitespace()
            disconnect()
            gate.recordFailure(message)
            throw PostgresError.connectionFailed(message)
        }
        cancelHandle.install(from: connection)
        gate.recordSuccess()
    }

    private func disconnect() {
        cancelHandle.install(from: nil)
        if let handle { PQfinish(handle) }
        handle = nil
        preparedStatements.removeAll()
    }

    /// True when the socket of an idle connection has something to read (a notice, an error, EOF).
    private static func hasPendingInputOrEOF(_ handle: OpaquePointer) -> Bool {
        let fd = PQsocket(handle)
        guard fd >= 0 else { return true }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, 0)
        return ready != 0
    }

    /// Turns a failure after which the connection is unusable into `connectionLost`.
    private func connectionFailure(_ handle: OpaquePointer) -> PostgresError? {
        guard PQstatus(handle) != CONNECTION_OK else { return nil }
        let message = String(cString: PQerrorMessage(handle)).trimmingTrailingWhitespace()
        disconnect()
        gate.recordFailure(message)
        return .connectionLost(message.isEmpty ? "server closed the connection" : message)
    }

    // MARK: Statements

    private func runQuery(_ sql: String, _ parameters: [(any PostgresEncodable)?], statement: UInt64) throws -> PostgresRows {
        try ensureConnected()
        guard let handle else { throw PostgresError.unexpected("no connection after connect") }
        let bound = parameters.map { $0?.postgresParameter }
        let types = bound.map { $0?.oid ?? PostgresOID.unspecified }
        let name = try preparedStatementName(sql: sql, types: types, handle: handle)
        let result = withParameterPointers(bound) { values in
            PQexecPrepared(handle, name, Int32(bound.count), values, nil, nil, 0)
        }
        do {
            return try consume(result, handle: handle)
        } catch let error as PostgresError {
            throw error.redacting(bound)
        }
    }

    private func runSimple(_ sql: String, statement: UInt64) throws {
        try ensureConnected()
        guard let handle else { throw PostgresError.unexpected("no connection after connect") }
        // PQexec returns the last result; earlier failures stop execution and are what it returns.
        _ = try consume(PQexec(handle, sql), handle: handle)
    }

    private func preparedStatementName(sql: String, types: [UInt32], handle: OpaquePointer) throws -> String {
        let key = StatementKey(sql: sql, types: types)
        if let name = preparedStatements[key] { return name }
        if preparedStatements.count >= Self.preparedStatementLimit {
            _ = try consume(PQexec(handle, "DEALLOCATE ALL"), handle: handle)
            preparedStatements.removeAll()
        }
        let name = "sb_\(preparedStatements.count)_\(UInt32.random(in: 0...UInt32.max))"
        let result = types.withUnsafeBufferPointer { typePointer in
            PQprepare(handle, name, sql, Int32(types.count), typePointer.baseAddress)
        }
        _ = try consume(result, handle: handle)
        preparedStatements[key] = name
        return name
    }

    private func runPipeline(_ sql: String, _ rows: [[(any PostgresEncodable)?]], statement: UInt64) throws -> Int {
        try ensureConnected()
        guard let handle else { throw PostgresError.unexpected("no connection after connect") }
        let width = rows[0].count
        let boundRows = rows.map { $0.map { $0?.postgresParameter } }
        guard boundRows.allSatisfy({ $0.count == width }) else {
            throw PostgresError.unexpected("batch rows have different numbers of parameters")
        }
        // A column's type is the first non-NULL value's type in that column.
        var types = [UInt32](repeating: PostgresOID.unspecified, count: width)
        for column in 0..<width {
            types[column] = boundRows.lazy.compactMap { $0[column]?.oid }.first ?? PostgresOID.unspecified
        }
        guard PQsetnonblocking(handle, 1) == 0, PQenterPipelineMode(handle) == 1 else {
            throw connectionFailure(handle) ?? .unexpected("cannot enter pipeline mode")
        }
        var failure: PostgresError?
        var affected = 0
        var sendFailed = types.withUnsafeBufferPointer { typePointer in
            PQsendPrepare(handle, "", sql, Int32(width), typePointer.baseAddress) != 1
        }
        if !sendFailed {
            for row in boundRows {
                let sent = withParameterPointers(row) { values in
                    PQsendQueryPrepared(handle, "", Int32(width), values, nil, nil, 0)
                }
                if sent != 1 { sendFailed = true; break }
            }
        }
        if sendFailed || PQpipelineSync(handle) != 1 {
            let error = connectionFailure(handle) ?? .unexpected(String(cString: PQerrorMessage(handle)))
            disconnect()
            throw error
        }
        // Flush and read at once until the sync point, so neither side's buffer can fill and stall.
        var sawSync = false
        let fd = PQsocket(handle)
        while !sawSync {
            let flush = PQflush(handle)
            if flush < 0 { break }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN) | (flush == 1 ? Int16(POLLOUT) : 0), revents: 0)
            if poll(&descriptor, 1, -1) < 0 && errno != EINTR { break }
            if descriptor.revents & Int16(POLLIN | POLLERR | POLLHUP) != 0 {
                if PQconsumeInput(handle) != 1 { break }
            }
            // A NULL result ends one statement's results; two in a row mean nothing more is buffered.
            var nullsInARow = 0
            while PQisBusy(handle) == 0 && nullsInARow < 2 {
                guard let result = PQgetResult(handle) else {
                    nullsInARow += 1
                    continue
                }
                nullsInARow = 0
                if handleResult(result, &failure, &affected, handle) {
                    sawSync = true
                    break
                }
            }
        }
        guard sawSync, PQexitPipelineMode(handle) == 1, PQsetnonblocking(handle, 0) == 0 else {
            let error = connectionFailure(handle) ?? .connectionLost(String(cString: PQerrorMessage(handle)).trimmingTrailingWhitespace())
            disconnect()
            throw error
        }
        if let failure { throw failure.redacting(boundRows.flatMap { $0 }) }
        return affected
    }

    /// Handles one pipeline result; returns true at the sync point.
    private func handleResult(_ result: OpaquePointer, _ failure: inout PostgresError?, _ affected: inout Int, _ handle: OpaquePointer) -> Bool {
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_PIPELINE_SYNC:
            return true
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
            affected += Int(String(cString: PQcmdTuples(result))) ?? 0
        case PGRES_PIPELINE_ABORTED:
            break
        default:
            if failure == nil { failure = Self.serverError(result) ?? .unexpected("pipeline result \(PQresultStatus(result))") }
        }
        return false
    }

    /// Converts a result to rows or throws the error it carries. Frees the result.
    private func consume(_ result: OpaquePointer?, handle: OpaquePointer) throws -> PostgresRows {
        guard let result else {
            throw connectionFailure(handle) ?? .unexpected(String(cString: PQerrorMessage(handle)).trimmingTrailingWhitespace())
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return Self.rows(of: result)
        default:
            if let lost = connectionFailure(handle) { throw lost }
            if let error = Self.serverError(result) {
                if error.sqlState == .queryCanceled { throw PostgresError.cancelled }
                throw error
            }
            throw PostgresError.unexpected(String(cString: PQresultErrorMessage(result)).trimmingTrailingWhitespace())
        }
    }

    private static func rows(of result: OpaquePointer) -> PostgresRows {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var columns: [PostgresRows.Column] = []
        columns.reserveCapacity(columnCount)
        for column in 0..<columnCount {
            columns.append(.init(name: String(cString: PQfname(result, Int32(column))), oid: PQftype(result, Int32(column))))
        }
        var cells: [String?] = []
        cells.reserveCapacity(rowCount * columnCount)
        for row in 0..<rowCount {
            for column in 0..<columnCount {
                if PQgetisnull(result, Int32(row), Int32(column)) == 1 {
                    cells.append(nil)
                } else {
                    cells.append(String(cString: PQgetvalue(result, Int32(row), Int32(column))))
                }
            }
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? rowCount
        return PostgresRows(columns: columns, cells: cells, affectedRows: affected)
    }

    private static func serverError(_ result: OpaquePointer) -> PostgresError? {
        func field(_ code: Character) -> String? {
            guard let ascii = code.asciiValue, let value = PQresultErrorField(result, Int32(ascii)) else { return nil }
            return String(cString: value)
        }
        guard let sqlState = field("C") else { return nil }
        return .server(.init(
            sqlState: SQLState(sqlState),
            severity: field("V") ?? field("S") ?? "ERROR",
            message: field("M") ?? "",
            detail: field("D"),
            hint: field("H"),
            constraint: field("n")
        ))
    }

    /// Runs on the connection's own thread, like every other libpq call.
    isolated deinit {
        if let handle { PQfinish(handle) }
        executor.shutdown()
    }
}

/// Calls `body` with C strings for the parameter values; NULL for `nil`.
private func withParameterPointers<R>(_ values: [PostgresParameter?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    let copies: [UnsafeMutablePointer<CChar>?] = values.map { $0.map { strdup($0.text) } ?? nil }
    defer { copies.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}
