import Postgres

/// The statements that took the most server time in one database (pg_stat_statements, from
/// postgresql-contrib; the server needs `shared_preload_libraries = pg_stat_statements`).
enum StatementStats {
    static let serverSettings = ["shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.track_planning": "on"]

    static func enable(connectionString: String) async throws {
        let admin = try await PostgresConnection.connect(.init(connectionString: connectionString))
        try await admin.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await admin.close()
    }

    static func print(connectionString: String, database: String, scope: String = "whole run") async throws {
        let stats = try await PostgresConnection.connect(.init(connectionString: connectionString))
        // The most server time, then the most planning: a statement planned again on every call
        // (a custom plan each time) costs CPU its execution time does not show.
        let most = try await top(stats, database: database, by: "total_exec_time + total_plan_time", limit: 12)
        let planned = try await top(stats, database: database, by: "total_plan_time", limit: 6)
        await stats.close()
        Swift.print("")
        Swift.print("server time by statement (pg_stat_statements, \(scope)):")
        Swift.print(table(most))
        Swift.print("")
        Swift.print("planning time by statement (\(scope)):")
        Swift.print(table(planned))
    }

    private static func top(_ stats: PostgresConnection, database: String, by order: String, limit: Int) async throws -> [[String]] {
        let rows = try await stats.query(
            """
            SELECT calls, round(total_exec_time::numeric, 1)::float8, round((total_exec_time / greatest(calls, 1))::numeric, 3)::float8,
                   round((total_plan_time / greatest(calls, 1))::numeric, 3)::float8, round(total_plan_time::numeric, 1)::float8,
                   left(regexp_replace(query, '\\s+', ' ', 'g'), 80)
            FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)
            ORDER BY \(order) DESC LIMIT \(limit)
            """, [database]
        )
        var statements: [[String]] = [["calls", "exec total ms", "exec mean ms", "plan mean ms", "plan total ms", "statement"]]
        for row in rows {
            statements.append([String(try row.decode(0, as: Int.self)), format(try row.decode(1, as: Double.self), 1), format(try row.decode(2, as: Double.self), 3),
                               format(try row.decode(3, as: Double.self), 3), format(try row.decode(4, as: Double.self), 1), try row.decode(5, as: String.self)])
        }
        return statements
    }
}
