import CLibPQ
import DequeModule
import Foundation
import Logging

/// One libpq connection, driven in non-blocking mode on a `PostgresEventLoop`.
///
/// The actor's executor is its event loop, so every libpq call happens on that loop's thread and never
/// on the cooperative pool. A statement is sent, then the actor suspends until the socket is ready;
/// meanwhile the loop serves other connections. Statements on one connection never overlap: the actor
/// is reentrant across those waits, so operations queue on `busy`. The connection is opened lazily (on
/// a thread of its own: connecting blocks) and reopened after it breaks, subject to a shared back-off
/// (`ReconnectGate`).
public actor PostgresConnection {
    private let loop: PostgresEventLoop
    public nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }

    private let configuration: PostgresConnectionConfiguration
    private let gate: ReconnectGate
    private let cancelHandle = CancelHandle()
    private let logger: Logger

    private var handle: OpaquePointer?  // PGconn*
    private var preparedStatements: [StatementKey: String] = [:]
    private var nextStatementID: UInt64 = 0
    private var closed = false
    private var busy = false
    /// The session was inside a transaction block after the last operation.
    private var inTransaction = false
    /// A statement was refused because the server is read-only: drop the session after this use.
    private var servesReadOnly = false
    /// The session broke inside a transaction: until the caller ends it (`rollbackIfInTransaction`),
    /// statements fail rather than run on a new session outside the transaction.
    private var transactionLost = false
    private var operationWaiters: Deque<CheckedContinuation<Void, Never>> = []
    /// The `SessionSetup` generation this session has run (0: none since it connected).
    private var setupGeneration: UInt64 = 0

    private struct StatementKey: Hashable {
        var sql: String
        var types: [UInt32]
    }

    /// Most prepared statements kept per connection; the cache is cleared when it would grow past this.
    private static let preparedStatementLimit = 512

    init(configuration: PostgresConnectionConfiguration, gate: ReconnectGate, logger: Logger, loop: PostgresEventLoop = .next()) {
        self.configuration = configuration
        self.gate = gate
        self.logger = logger
        self.loop = loop
    }

    /// Opens a standalone connection (outside any pool) and connects at once.
    public static func connect(
        _ configuration: PostgresConnectionConfiguration,
        logger: Logger = Logger(label: "postgres")
    ) async throws -> PostgresConnection {
        let connection = PostgresConnection(configuration: configuration, gate: ReconnectGate(), logger: logger)
        do {
            try await connection.connectNow()
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    private func connectNow() async throws {
        try await exclusively { _ = try await self.ensureConnected() }
    }

    // MARK: Public operations

    /// Runs one statement with `$1…$n` parameters and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> PostgresRows {
        try await exclusively { try await self.cancellable { try await self.runQuery(sql, parameters) } }
    }

    /// Runs one statement and turns each row into a `T` with `decode`, reading its cells in place
    /// (`PostgresCells`): for reads of millions of cells (the rebuild at start), where `query` would
    /// first make a `String` of each. The rows are decoded by the caller's task, not on the
    /// connection's loop, which meanwhile serves its other connections (and this one's next read).
    public nonisolated func query<T>(_ sql: String, _ parameters: [(any PostgresEncodable)?] = [],
                                     decoding decode: (PostgresCells) throws -> T) async throws -> [T] {
        let result = try await exclusively {
            try await self.cancellable { try await self.runQuery(sql, parameters) { PostgresResult(owning: $0) } }
        }
        return try result.decodeAll(decode)
    }

    /// Runs SQL text that may hold several statements, without parameters (migrations, session set-up).
    /// Never use it with values from outside: it has no parameters on purpose.
    public func simpleQuery(_ sql: String) async throws {
        try await exclusively { try await self.cancellable { try await self.runSimple(sql) } }
    }

    /// Runs one statement once per parameter row in a single round trip (libpq pipeline mode).
    ///
    /// Outside a transaction the rows form one implicit transaction: all are written or none.
    /// Returns the total number of affected rows.
    @discardableResult
    public func executeBatch(_ sql: String, _ rows: [[(any PostgresEncodable)?]]) async throws -> Int {
        if rows.isEmpty { return 0 }
        return try await exclusively { try await self.cancellable { try await self.runPipeline(sql, rows) } }
    }

    /// Runs several statements in one round trip (libpq pipeline mode), in order, each seeing what the
    /// ones before it did; returns each statement's rows. After a failing statement the rest are
    /// skipped and the first error is thrown. Inside a transaction, that transaction is then failed.
    public func pipeline(_ statements: [PostgresStatement]) async throws -> [PostgresRows] {
        if statements.isEmpty { return [] }
        return try await exclusively { try await self.cancellable { try await self.runStatementPipeline(statements) } }
    }

    /// Rolls back a transaction left open (after an error or a cancellation). Not cancellable itself, so
    /// a connection never goes back to the pool inside a transaction.
    public func rollbackIfInTransaction() async {
        await exclusively {
            self.transactionLost = false
            guard let handle = self.handle else { return }
            switch PQtransactionStatus(handle) {
            case PQTRANS_IDLE:
                return
            case PQTRANS_INTRANS, PQTRANS_INERROR:
                if PQsendQuery(handle, "ROLLBACK") == 1 {
                    _ = try? await self.drainResults(handle)
                }
                if PQtransactionStatus(handle) != PQTRANS_IDLE { self.disconnect() }
            default:
                // A statement still active or an unknown state: the session cannot be trusted.
                self.disconnect()
            }
        }
    }

    /// Closes the connection. Later calls fail with `poolClosed`.
    public func close() {
        closed = true
        if !busy { disconnect() }
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

    // MARK: One operation at a time

    /// Runs `body` alone on this connection: later callers wait their turn, first come, first served.
    private func exclusively<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        if busy {
            await withCheckedContinuation { operationWaiters.append($0) }
        }
        precondition(!busy, "two operations on one connection")
        busy = true
        defer {
            if let handle, PQstatus(handle) == CONNECTION_OK {
                let status = PQtransactionStatus(handle)
                inTransaction = status == PQTRANS_INTRANS || status == PQTRANS_INERROR
            }
            // A server that turned read-only (a failover) keeps no session of ours: the next use
            // connects again, to whichever host is writable now (once any transaction has ended).
            if servesReadOnly && !inTransaction {
                servesReadOnly = false
                disconnect()
                logger.notice("the database server is read-only; connecting again to find the writable one")
            }
            busy = false
            if let next = operationWaiters.popFirst() {
                next.resume()
            } else if closed {
                disconnect()
            }
        }
        do {
            return try await body()
        } catch let error as PostgresError where error.isReadOnlyServer {
            servesReadOnly = true
            throw error
        }
    }

    // MARK: Cancellation

    /// Runs `body` with a cancellation handler that asks the server to cancel the running statement.
    ///
    /// The operation closure calls back through `self`, so it stays isolated to this actor (a closure
    /// that captured nothing isolated would run on the cooperative pool); `ensureConnected` checks the
    /// thread before any libpq call.
    private func cancellable<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        nextStatementID &+= 1
        let id = nextStatementID
        let handle = cancelHandle
        return try await withTaskCancellationHandler {
            try await self.runCancellable(id, body)
        } onCancel: {
            handle.cancel(id)
        }
    }

    private func runCancellable<T>(_ id: UInt64, _ body: () async throws -> T) async throws -> T {
        cancelHandle.begin(id)
        defer { cancelHandle.end() }
        if Task.isCancelled { throw PostgresError.cancelled }
        return try await body()
    }

    // MARK: Connection management

    /// A `PGconn*` handed from the thread that opened it to this actor. `@unchecked Sendable`: the
    /// opening thread stops using the pointer before it returns it, so only one side ever holds it.
    private struct OpenedConnection: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private func ensureConnected() async throws -> OpaquePointer {
        let handle = try await openOrReuse()
        guard let setup = configuration.sessionSetup else { return handle }
        let (generation, sql) = setup.current
        // Only between transactions: a transaction that began under the old setup ends under it.
        guard generation != setupGeneration, PQtransactionStatus(handle) == PQTRANS_IDLE else { return handle }
        if let sql {
            if PQsendQuery(handle, sql) != 1 { throw ioFailure(handle) }
            if let last = try await drainResults(handle) { PQclear(last) }
        }
        setupGeneration = generation
        return handle
    }

    private func openOrReuse() async throws -> OpaquePointer {
        precondition(loop.isCurrentThread, "libpq called off the connection's event loop")
        if closed { throw PostgresError.poolClosed }
        if let handle {
            if PQstatus(handle) == CONNECTION_OK && !Self.hasPendingInputOrEOF(handle) {
                return handle
            }
            let inTransaction = self.inTransaction
            // An idle connection that became readable was most likely closed by the server
            // (shutdown, restart, idle timeout): read what it said, then decide.
            if PQstatus(handle) == CONNECTION_OK && PQconsumeInput(handle) == 1 {
                while let notify = PQnotifies(handle) { PQfreemem(notify) }
                // Still open (a notice or a notification arrived): carry on, in its transaction too.
                let now = PQtransactionStatus(handle)
                if PQstatus(handle) == CONNECTION_OK && (now == PQTRANS_IDLE || inTransaction && (now == PQTRANS_INTRANS || now == PQTRANS_INERROR)) {
                    return handle
                }
            }
            disconnect()
            if !inTransaction { logger.info("database connection lost; reconnecting") }
        }
        // Inside a transaction, a new session would run the rest of it on its own, committed
        // statement by statement: the transaction is lost and its caller must hear so.
        if transactionLost {
            throw PostgresError.connectionLost("the connection broke inside a transaction; it was rolled back")
        }
        try gate.checkAttemptAllowed()
        let pairs = configuration.keywordsAndValues()
        let opened: OpenedConnection
        do {
            // Connecting blocks (DNS, TCP, TLS, authentication): a thread of its own, not the loop.
            opened = try await runOnNewThread(name: "pg-connect") { try Self.open(pairs) }
        } catch let error as PostgresError {
            if case .connectionFailed(let message) = error { gate.recordFailure(message) }
            throw error
        }
        if closed {
            PQfinish(opened.pointer)
            throw PostgresError.poolClosed
        }
        handle = opened.pointer
        setupGeneration = 0
        preparedStatements.removeAll()
        cancelHandle.install(from: opened.pointer)
        gate.recordSuccess()
        return opened.pointer
    }

    /// Opens a connection and sets the session up, blocking; runs on a thread of its own.
    private static func open(_ pairs: [(String, String)]) throws -> OpenedConnection {
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
            throw PostgresError.connectionFailed(message)
        }
        // libpq prints server notices to stderr by default; they are not worth a log line here, and
        // errors that matter come back as results.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        // One round trip so that every value this layer decodes has one text format.
        let setup = PQexec(connection, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET bytea_output = 'hex'; SET extra_float_digits = 3")
        defer { PQclear(setup) }
        guard PQresultStatus(setup) == PGRES_COMMAND_OK, PQsetnonblocking(connection, 1) == 0 else {
            let message = String(cString: PQerrorMessage(connection)).trimmingTrailingWhitespace()
            PQfinish(connection)
            throw PostgresError.connectionFailed(message)
        }
        return OpenedConnection(pointer: connection)
    }

    private func disconnect() {
        if inTransaction && !closed { transactionLost = true }
        inTransaction = false
        cancelHandle.install(from: nil)
        if let handle {
            loop.deregister(PQsocket(handle))
            PQfinish(handle)
        }
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
    /// A connection that breaks in use says nothing of whether a new one can be opened (a restarted
    /// server accepts at once), so it does not start the reconnect back-off; a failed connect does.
    private func connectionFailure(_ handle: OpaquePointer) -> PostgresError? {
        guard PQstatus(handle) != CONNECTION_OK else { return nil }
        let message = String(cString: PQerrorMessage(handle)).trimmingTrailingWhitespace()
        disconnect()
        return .connectionLost(message.isEmpty ? "server closed the connection" : message)
    }

    /// The error for a send, flush or read that failed: the connection is gone, or libpq says why.
    private func ioFailure(_ handle: OpaquePointer) -> PostgresError {
        if let lost = connectionFailure(handle) { return lost }
        let message = String(cString: PQerrorMessage(handle)).trimmingTrailingWhitespace()
        disconnect()
        return .connectionLost(message.isEmpty ? "the connection failed" : message)
    }

    // MARK: Non-blocking I/O

    /// Sends what libpq has buffered, waiting for the socket as needed (reading meanwhile, as libpq
    /// asks, so that neither side's buffer can fill and stall).
    private func flush(_ handle: OpaquePointer) async throws {
        while true {
            switch PQflush(handle) {
            case 0:
                return
            case 1:
                await loop.wait(for: PQsocket(handle), .readableOrWritable)
                if PQconsumeInput(handle) != 1 { throw ioFailure(handle) }
            default:
                throw ioFailure(handle)
            }
        }
    }

    /// Waits until a whole result can be taken without blocking, then takes it; nil at the end.
    private func nextResult(_ handle: OpaquePointer) async throws -> OpaquePointer? {
        while PQisBusy(handle) == 1 {
            await loop.wait(for: PQsocket(handle), .readable)
            if PQconsumeInput(handle) != 1 { throw ioFailure(handle) }
        }
        return PQgetResult(handle)
    }

    /// Flushes, then reads every result of the statement(s) sent. Returns the last result (the
    /// caller clears it) or throws the first error, after reading the rest so the session stays usable.
    private func drainResults(_ handle: OpaquePointer) async throws -> OpaquePointer? {
        try await flush(handle)
        var last: OpaquePointer?
        var failure: PostgresError?
        while let result = try await nextResult(handle) {
            switch PQresultStatus(result) {
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                if let previous = last { PQclear(previous) }
                last = result
            default:
                if failure == nil {
                    failure = Self.serverError(result) ?? .unexpected(String(cString: PQresultErrorMessage(result)).trimmingTrailingWhitespace())
                }
                PQclear(result)
            }
        }
        if let lost = connectionFailure(handle) {
            if let last { PQclear(last) }
            throw lost
        }
        if let failure {
            if let last { PQclear(last) }
            if failure.sqlState == .queryCanceled { throw PostgresError.cancelled }
            throw failure
        }
        return last
    }

    // MARK: Statements

    private func runQuery(_ sql: String, _ parameters: [(any PostgresEncodable)?]) async throws -> PostgresRows {
        try await runQuery(sql, parameters) { result in
            defer { PQclear(result) }
            return Self.rows(of: result)
        }
    }

    /// Sends the statement and hands its result to `take`, which owns it from then on.
    private func runQuery<R>(_ sql: String, _ parameters: [(any PostgresEncodable)?], _ take: (OpaquePointer) -> R) async throws -> R {
        let handle = try await ensureConnected()
        let bound = parameters.map { $0?.postgresParameter }
        do {
            let types = bound.map { $0?.oid ?? PostgresOID.unspecified }
            let name = try await preparedStatementName(sql: sql, types: types, handle: handle)
            let sent = withParameterPointers(bound) { values in
                PQsendQueryPrepared(handle, name, Int32(bound.count), values, nil, nil, 0)
            }
            if sent != 1 { throw ioFailure(handle) }
            guard let result = try await drainResults(handle) else {
                throw PostgresError.unexpected("the server sent no result")
            }
            return take(result)
        } catch let error as PostgresError {
            throw error.redacting(bound)
        }
    }

    private func runSimple(_ sql: String) async throws {
        let handle = try await ensureConnected()
        if PQsendQuery(handle, sql) != 1 { throw ioFailure(handle) }
        // Several statements give several results; the first error stops execution and is thrown.
        if let last = try await drainResults(handle) { PQclear(last) }
    }

    private func preparedStatementName(sql: String, types: [UInt32], handle: OpaquePointer) async throws -> String {
        let key = StatementKey(sql: sql, types: types)
        if let name = preparedStatements[key] { return name }
        if preparedStatements.count >= Self.preparedStatementLimit {
            if PQsendQuery(handle, "DEALLOCATE ALL") != 1 { throw ioFailure(handle) }
            if let last = try await drainResults(handle) { PQclear(last) }
            preparedStatements.removeAll()
        }
        let name = "sb_\(preparedStatements.count)_\(UInt32.random(in: 0...UInt32.max))"
        let sent = types.withUnsafeBufferPointer { typePointer in
            PQsendPrepare(handle, name, sql, Int32(types.count), typePointer.baseAddress)
        }
        if sent != 1 { throw ioFailure(handle) }
        if let last = try await drainResults(handle) { PQclear(last) }
        preparedStatements[key] = name
        return name
    }

    private func runPipeline(_ sql: String, _ rows: [[(any PostgresEncodable)?]]) async throws -> Int {
        let handle = try await ensureConnected()
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
        guard PQenterPipelineMode(handle) == 1 else {
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
            throw ioFailure(handle)
        }
        // Flush and read at once until the sync point, so neither side's buffer can fill and stall.
        var sawSync = false
        while !sawSync {
            let flush = PQflush(handle)
            if flush < 0 { throw ioFailure(handle) }
            // A NULL result ends one statement's results; two in a row mean nothing more is buffered.
            var nullsInARow = 0
            while PQisBusy(handle) == 0 && nullsInARow < 2 {
                guard let result = PQgetResult(handle) else {
                    nullsInARow += 1
                    continue
                }
                nullsInARow = 0
                if handleResult(result, &failure, &affected) {
                    sawSync = true
                    break
                }
            }
            if sawSync { break }
            await loop.wait(for: PQsocket(handle), flush == 1 ? .readableOrWritable : .readable)
            if PQconsumeInput(handle) != 1 { throw ioFailure(handle) }
        }
        guard PQexitPipelineMode(handle) == 1 else {
            throw ioFailure(handle)
        }
        if let failure { throw failure.redacting(boundRows.flatMap { $0 }) }
        return affected
    }

    private func runStatementPipeline(_ statements: [PostgresStatement]) async throws -> [PostgresRows] {
        let handle = try await ensureConnected()
        let bound = statements.map { $0.parameters.map { $0?.postgresParameter } }
        guard PQenterPipelineMode(handle) == 1 else {
            throw connectionFailure(handle) ?? .unexpected("cannot enter pipeline mode")
        }
        // Statements use the connection's prepared-statement cache like `query` does; a statement new
        // to this connection is prepared inside the same pipeline. Each sent item yields results and a
        // NULL; `owners` maps an item to its statement (nil for a PREPARE, whose result is dropped).
        var owners: [Int?] = []
        var prepared: [(StatementKey, String)] = []
        if preparedStatements.count >= Self.preparedStatementLimit {
            if PQsendQueryParams(handle, "DEALLOCATE ALL", 0, nil, nil, nil, nil, 0) != 1 { throw ioFailure(handle) }
            owners.append(nil)
            preparedStatements.removeAll()
        }
        for (index, (statement, parameters)) in zip(statements, bound).enumerated() {
            let types = parameters.map { $0?.oid ?? PostgresOID.unspecified }
            let key = StatementKey(sql: statement.sql, types: types)
            var name = preparedStatements[key] ?? prepared.first(where: { $0.0 == key })?.1
            if name == nil {
                let fresh = "sb_p\(preparedStatements.count + prepared.count)_\(UInt32.random(in: 0...UInt32.max))"
                let sent = types.withUnsafeBufferPointer { typePointer in
                    PQsendPrepare(handle, fresh, statement.sql, Int32(types.count), typePointer.baseAddress)
                }
                if sent != 1 { throw ioFailure(handle) }
                owners.append(nil)
                prepared.append((key, fresh))
                name = fresh
            }
            let sent = withParameterPointers(parameters) { values in
                PQsendQueryPrepared(handle, name, Int32(parameters.count), values, nil, nil, 0)
            }
            if sent != 1 { throw ioFailure(handle) }
            owners.append(index)
        }
        if PQpipelineSync(handle) != 1 { throw ioFailure(handle) }
        var results = [PostgresRows?](repeating: nil, count: statements.count)
        var failure: PostgresError?
        var item = 0
        var currentHasResult = false
        var sawSync = false
        while !sawSync {
            let flush = PQflush(handle)
            if flush < 0 { throw ioFailure(handle) }
            while PQisBusy(handle) == 0 {
                // A NULL ends one item's results; a NULL right after another means nothing more is
                // buffered yet.
                guard let result = PQgetResult(handle) else {
                    if !currentHasResult { break }
                    item += 1
                    currentHasResult = false
                    continue
                }
                defer { PQclear(result) }
                currentHasResult = true
                switch PQresultStatus(result) {
                case PGRES_PIPELINE_SYNC:
                    sawSync = true
                case PGRES_TUPLES_OK, PGRES_COMMAND_OK:
                    if item < owners.count, let owner = owners[item] { results[owner] = Self.rows(of: result) }
                case PGRES_PIPELINE_ABORTED:
                    break
                default:
                    if failure == nil { failure = Self.serverError(result) ?? .unexpected("pipeline result \(PQresultStatus(result))") }
                }
                if sawSync { break }
            }
            if sawSync { break }
            await loop.wait(for: PQsocket(handle), flush == 1 ? .readableOrWritable : .readable)
            if PQconsumeInput(handle) != 1 { throw ioFailure(handle) }
        }
        guard PQexitPipelineMode(handle) == 1 else { throw ioFailure(handle) }
        if let failure {
            // Which PREPAREs ran before the failure is not tracked: forget them all; their random names
            // never collide with later ones.
            if failure.sqlState == .queryCanceled { throw PostgresError.cancelled }
            throw failure.redacting(bound.flatMap { $0 })
        }
        for (key, name) in prepared { preparedStatements[key] = name }
        return try results.map { rows in
            guard let rows else { throw PostgresError.unexpected("a pipelined statement returned no result") }
            return rows
        }
    }

    /// Handles one pipeline result; returns true at the sync point.
    private func handleResult(_ result: OpaquePointer, _ failure: inout PostgresError?, _ affected: inout Int) -> Bool {
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

    /// Runs on the connection's event loop, like every other libpq call.
    isolated deinit {
        cancelHandle.install(from: nil)
        if let handle {
            loop.deregister(PQsocket(handle))
            PQfinish(handle)
        }
    }
}

/// Calls `body` with C strings for the parameter values; NULL for `nil`.
private func withParameterPointers<R>(_ values: [PostgresParameter?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    let copies: [UnsafeMutablePointer<CChar>?] = values.map { $0.map { strdup($0.text) } ?? nil }
    defer { copies.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}
