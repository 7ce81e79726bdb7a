import Postgres

/// What a transaction of the hot path (ingest's batch, routing's record) sets for itself, as its
/// first statement (`set_config(…, true)`: until the transaction ends, on whichever pooled
/// connection it runs). One owner, so both paths keep the same plans for the same reason.
enum HotPathSettings {
    /// The hot path's statements take their rows as arrays. Told the arrays' lengths, the planner
    /// prices each custom plan below the generic one and plans every execution again (0.4–1.1 ms a
    /// statement, measured); the statements are written to be cheap whatever the batch's size (index
    /// lookups per row), so the transaction keeps the cached generic plans. Not per session: the
    /// inbox's optional-filter queries rely on custom plans.
    ///
    /// - Parameter durableCommit: false for a write that can be derived again (routing's record):
    ///   its commit does not wait for the flush to disk; any later durable commit flushes it first.
    static func statement(durableCommit: Bool = true) -> PostgresStatement {
        durableCommit ? genericPlans : genericPlansNotFlushed
    }

    private static let genericPlans = LocalSettings.statement(["plan_cache_mode": "force_generic_plan"])
    private static let genericPlansNotFlushed = LocalSettings.statement(["plan_cache_mode": "force_generic_plan", "synchronous_commit": "off"])

    /// A read that runs for every ingest batch outside a transaction of its own (the event log's
    /// messages, the SLA's start facts), with the cached generic plan (`LocalSettings.query`). Left
    /// to the default, these joins were planned again on every call (0.25–0.4 ms each,
    /// `pg_stat_statements`).
    static func query(_ pool: PostgresPool, _ sql: String, _ parameters: [(any PostgresEncodable)?]) async throws -> PostgresRows {
        try await LocalSettings.query(pool, genericPlans, sql, parameters)
    }
}
