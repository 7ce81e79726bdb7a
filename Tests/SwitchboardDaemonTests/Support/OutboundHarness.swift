import AsyncHTTPClient
import Foundation
import Logging
import Postgres
import ServiceLifecycle
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import TestSupport
import WhatsApp

/// A migrated database with tickets to answer, a Graph API stand-in, and outbox services to run
/// against them (several in turn, to play a restart).
struct OutboundHarness {
    static let businessNumber = "106540352242922"
    /// The sender logs a 190 at `critical`; the tests check its effects instead.
    static let silent = Logger(label: "outbound-test", factory: { _ in SwiftLogNoOpLogHandler() })
    let pool: PostgresPool
    let standIn: GraphAPIStandIn

    static func start(_ label: String, messagesPerSecond: Int = 80, pairInterval: Duration = .zero) async throws -> OutboundHarness {
        let pool = try await TestDatabase.freshPool(label, size: 8)
        try await MigrationRunner(pool: pool, migrations: MigrationCatalog.bundled(), logger: TestDatabase.quietLogger).migrate()
        try await pool.query("INSERT INTO switchboard.business_numbers (phone_number_id, display_phone_number) VALUES ($1, '15550001111')", [businessNumber])
        let standIn = try await GraphAPIStandIn.start(messagesPerSecond: messagesPerSecond, pairInterval: pairInterval)
        return OutboundHarness(pool: pool, standIn: standIn)
    }

    func finish() async {
        standIn.stop()
        await pool.close()
    }

    /// A ticket for a new customer; its window closes `windowOpenFor` from now (nil: never opened).
    func ticket(waID: String?, userID: String? = nil, windowOpenFor: TimeInterval? = 3600) async throws -> String {
        let rows = try await pool.query(
            """
            WITH c AS (INSERT INTO switchboard.customers (wa_id, user_id) VALUES ($1, $2) RETURNING id)
            INSERT INTO switchboard.tickets (customer_id, business_number, last_inbound_at, customer_window_expires_at)
            SELECT id, $3, now(), now() + make_interval(secs => $4) FROM c
            RETURNING reference
            """,
            [waID, userID, Self.businessNumber, windowOpenFor]
        )
        return try rows.first?.decode(0, as: String.self) ?? ""
    }

    func service(
        messagesPerSecond: Double = 80, customerInterval: TimeInterval = 0, maxInFlight: Int = 16, maxAttempts: Int = 5,
        accessToken: String? = "test-access-token", replies: (any SLAActivitySink)? = nil,
        statuses: (@Sendable ([IngestResult.StatusChange]) async -> Void)? = nil, mayHandOver: @escaping @Sendable () -> Bool = { true }
    ) -> OutboxService {
        let client = accessToken.map {
            GraphAPIClient(configuration: .init(baseURL: standIn.baseURL, version: "v24.0", accessToken: $0, timeout: .seconds(10)), httpClient: .shared)
        }
        return OutboxService(
            store: OutboxStore(pool: pool),
            client: client,
            settings: .init(
                messagesPerSecond: messagesPerSecond,
                limits: .init(customerInterval: customerInterval, maxInFlight: maxInFlight),
                retryPolicy: RetryPolicy(baseDelay: 0.02, maxDelay: 0.1, maxAttempts: maxAttempts),
                mayHandOver: mayHandOver
            ),
            replies: replies, statuses: statuses,
            logger: Self.silent
        )
    }

    /// Runs `service` in a service group until `body` returns, then shuts it down gracefully.
    func running<T>(_ service: OutboxService, _ body: () async throws -> T) async throws -> T {
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [], cancellationSignals: [], logger: TestDatabase.quietLogger)
        let task = Task { try await group.run() }
        do {
            let result = try await body()
            await group.triggerGracefulShutdown()
            try await task.value
            return result
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            throw error
        }
    }

    /// Polls until `condition` holds. The bound only keeps a broken build from hanging the run.
    func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw HarnessError.timedOut(what)
    }

    func outboxStates() async throws -> [String: Int] {
        var states: [String: Int] = [:]
        for row in try await pool.query("SELECT state, count(*) FROM switchboard.outbox GROUP BY state") {
            states[try row.decode(0, as: String.self)] = try row.decode(1, as: Int.self)
        }
        return states
    }

    func count(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> Int {
        try await pool.query(sql, parameters).first?.decode(0, as: Int.self) ?? -1
    }

    enum HarnessError: Error { case timedOut(String) }
}
