import Logging
import Synchronization

/// A fixed number of connections shared by many tasks, with a bounded wait for a free one.
///
/// Connections open lazily and reopen by themselves after the server comes back; while it is
/// unreachable, callers fail fast with `serverUnreachable` rather than hang.
public final class PostgresPool: Sendable {
    public struct Configuration: Sendable {
        public var connection: PostgresConnectionConfiguration
        public var size: Int
        /// How long a caller waits for a free connection before `poolTimeout`.
        public var acquireTimeout: Duration

        public init(connection: PostgresConnectionConfiguration, size: Int = 10, acquireTimeout: Duration = .seconds(5)) {
            self.connection = connection
            self.size = size
            self.acquireTimeout = acquireTimeout
        }
    }

    private struct State: ~Copyable {
        var machine: PoolStateMachine
        var nextWaiterID: UInt64 = 0
        var continuations: [UInt64: CheckedContinuation<Int, any Error>] = [:]
    }

    private let connections: [PostgresConnection]
    private let state: Mutex<State>
    public let configuration: Configuration
    let logger: Logger

    public init(configuration: Configuration, logger: Logger = Logger(label: "postgres")) {
        precondition(configuration.size > 0, "pool size must be positive")
        self.configuration = configuration
        self.logger = logger
        let gate = ReconnectGate()
        self.connections = (0..<configuration.size).map { index in
            PostgresConnection(configuration: configuration.connection, gate: gate, logger: logger,
                               loop: Self.eventLoop(forSlot: index))
        }
        self.state = Mutex(State(machine: PoolStateMachine(size: configuration.size)))
    }

    /// The event loop a slot's connection runs on: slot `i` is on `PostgresEventLoop.shared[i % count]`.
    static func eventLoop(forSlot slot: Int) -> PostgresEventLoop {
        PostgresEventLoop.shared[slot % PostgresEventLoop.shared.count]
    }

    /// Connections in use and callers waiting, for metrics and status.
    public var usage: (leased: Int, waiting: Int, size: Int) {
        state.withLock { ($0.machine.leasedCount, $0.machine.waitingCount, $0.machine.size) }
    }

    /// Leases a connection for the duration of `body`.
    public func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let slot = try await lease()
        defer { release(slot) }
        let connection = connections[slot]
        do {
            let result = try await body(connection)
            await connection.rollbackIfInTransaction()
            return result
        } catch {
            await connection.rollbackIfInTransaction()
            throw error
        }
    }

    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> PostgresRows {
        // A single statement runs in autocommit and cannot leave a transaction open: no clean-up hop.
        let slot = try await lease()
        defer { release(slot) }
        return try await connections[slot].query(sql, parameters)
    }

    @discardableResult
    public func executeBatch(_ sql: String, _ rows: [[(any PostgresEncodable)?]]) async throws -> Int {
        let slot = try await lease()
        defer { release(slot) }
        return try await connections[slot].executeBatch(sql, rows)
    }

    /// Several statements in one round trip; outside a transaction they form one implicit transaction
    /// (all or nothing). See `PostgresConnection.pipeline`.
    public func pipeline(_ statements: [PostgresStatement]) async throws -> [PostgresRows] {
        let slot = try await lease()
        defer { release(slot) }
        return try await connections[slot].pipeline(statements)
    }

    /// Closes every connection and fails waiting callers with `poolClosed`.
    public func close() async {
        let failed = state.withLock { state -> [CheckedContinuation<Int, any Error>] in
            state.machine.close().compactMap { state.continuations.removeValue(forKey: $0) }
        }
        failed.forEach { $0.resume(throwing: PostgresError.poolClosed) }
        for connection in connections { await connection.close() }
    }

    // MARK: Leasing

    private func lease() async throws -> Int {
        try Task.checkCancellation()
        // Fast path: a free connection, no waiting, no timer.
        let immediate = state.withLock { state -> PoolStateMachine.LeaseAction? in
            guard !state.machine.idle.isEmpty || state.machine.closed else { return nil }
            state.nextWaiterID += 1
            return state.machine.leaseRequested(state.nextWaiterID)
        }
        switch immediate {
        case .lease(let slot): return slot
        case .fail(let error): throw error
        case .wait, .none: break
        }
        let waiterID = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        let timeout = configuration.acquireTimeout
        let size = configuration.size
        let timedOut = PostgresError.poolTimeout(waitedMilliseconds: Int(timeout.milliseconds), poolSize: size)
        // The timer can fire before the waiter is registered below (a preempted thread), when it
        // finds nobody to fail: registration checks the deadline itself, and the timer, sleeping
        // from after it, fires no earlier, so one of the two always sees the other.
        let deadline = ContinuousClock.now.advanced(by: timeout)
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled {
                self?.waiterLeft(waiterID, error: timedOut)
            }
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                // Registering the waiter and storing its continuation happen under one lock, so a
                // release can never find a waiter without a continuation.
                let action = state.withLock { state -> PoolStateMachine.LeaseAction in
                    if Task.isCancelled { return .fail(.cancelled) }
                    let action = state.machine.leaseRequested(waiterID)
                    if case .wait = action {
                        if ContinuousClock.now >= deadline {
                            _ = state.machine.waiterLeft(waiterID)
                            return .fail(timedOut)
                        }
                        state.continuations[waiterID] = continuation
                    }
                    return action
                }
                switch action {
                case .lease(let slot): continuation.resume(returning: slot)
                case .fail(let error): continuation.resume(throwing: error)
                case .wait: break
                }
            }
        } onCancel: {
            self.waiterLeft(waiterID, error: .cancelled)
        }
    }

    private func waiterLeft(_ waiterID: UInt64, error: PostgresError) {
        let continuation = state.withLock { state -> CheckedContinuation<Int, any Error>? in
            guard state.machine.waiterLeft(waiterID) else { return nil }
            return state.continuations.removeValue(forKey: waiterID)
        }
        continuation?.resume(throwing: error)
    }

    private func release(_ slot: Int) {
        let handOver = state.withLock { state -> (CheckedContinuation<Int, any Error>, Int)? in
            switch state.machine.released(slot) {
            case .none: return nil
            case .handOver(let slot, let waiter):
                guard let continuation = state.continuations.removeValue(forKey: waiter) else {
                    preconditionFailure("waiter \(waiter) has no continuation")
                }
                return (continuation, slot)
            }
        }
        if let (continuation, slot) = handOver { continuation.resume(returning: slot) }
    }
}
