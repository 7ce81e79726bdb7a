import Foundation
import Postgres
import SwitchboardCore

/// Canned responses in `switchboard.canned_responses`: added, edited and removed through the
/// control socket, listed and searched for the agents' picker. Who may do what is decided before
/// these are called (`Permissions`); the listing takes the caller's `CannedResponseScope`.
public struct CannedResponseStore: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// The shortcut is already used by another response of the same scope.
    public struct ShortcutTaken: Error, Sendable, Equatable {
        public var shortcut: String
        public var scope: CannedScope
    }

    static let columns = "id, shortcut, title, body, scope, scope_name, created_by, created_at, updated_by, updated_at"

    /// Adds a response. Throws `ShortcutTaken`.
    public func add(shortcut: String, title: String, body: String, scope: CannedScope, by actor: String, now: Date) async throws -> CannedResponse {
        do {
            let rows = try await pool.query("""
                INSERT INTO switchboard.canned_responses (shortcut, title, body, scope, scope_name, created_by, created_at, updated_by, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $6, $7) RETURNING \(Self.columns)
                """, [shortcut, title, body, scope.kind, scope.name, actor, now])
            guard let row = rows.first else { throw PostgresError.unexpected("INSERT … RETURNING returned no row") }
            return try Self.response(row)
        } catch let error as PostgresError where error.sqlState == .uniqueViolation {
            throw ShortcutTaken(shortcut: shortcut, scope: scope)
        }
    }

    public func response(_ id: Int64) async throws -> CannedResponse? {
        try await pool.query("SELECT \(Self.columns) FROM switchboard.canned_responses WHERE id = $1", [id]).first.map(Self.response)
    }

    /// What an edit changes; nil fields stay.
    public struct Change: Sendable, Equatable {
        public var shortcut: String?
        public var title: String?
        public var body: String?
        public var scope: CannedScope?

        public init(shortcut: String? = nil, title: String? = nil, body: String? = nil, scope: CannedScope? = nil) {
            self.shortcut = shortcut
            self.title = title
            self.body = body
            self.scope = scope
        }
    }

    /// Changes a response that is still of scope `expected` (what the caller's permission was
    /// decided on). Nil: no such response (or its scope changed meanwhile). Throws `ShortcutTaken`.
    public func edit(_ id: Int64, expecting expected: CannedScope, _ change: Change, by actor: String, now: Date) async throws -> CannedResponse? {
        do {
            let rows = try await pool.query("""
                UPDATE switchboard.canned_responses
                SET shortcut = coalesce($4, shortcut), title = coalesce($5, title), body = coalesce($6, body),
                    scope = coalesce($7, scope), scope_name = coalesce($8, scope_name), updated_by = $9, updated_at = $10
                WHERE id = $1 AND scope = $2 AND scope_name = $3
                RETURNING \(Self.columns)
                """, [id, expected.kind, expected.name, change.shortcut, change.title, change.body, change.scope?.kind, change.scope?.name, actor, now])
            return try rows.first.map(Self.response)
        } catch let error as PostgresError where error.sqlState == .uniqueViolation {
            throw ShortcutTaken(shortcut: change.shortcut ?? "", scope: change.scope ?? expected)
        }
    }

    /// Removes a response still of scope `expected`; nil: no such response.
    public func remove(_ id: Int64, expecting expected: CannedResponse) async throws -> CannedResponse? {
        try await pool.query("""
            DELETE FROM switchboard.canned_responses WHERE id = $1 AND scope = $2 AND scope_name = $3 RETURNING \(Self.columns)
            """, [id, expected.scope.kind, expected.scope.name]).first.map(Self.response)
    }

    /// The responses within `scope` (`Permissions.cannedScope`, the rule sending checks),
    /// matching `search` when given — a shortcut starting with it (those first), or a title or
    /// body containing it, case-insensitively — by shortcut, at most `limit`.
    public func list(within scope: Permissions.CannedResponseScope, matching search: String? = nil, limit: Int = 200) async throws -> [CannedResponse] {
        let words = search.map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 }.flatMap { $0.isEmpty ? nil : Self.escapedForLike($0) }
        return try await pool.query("""
            SELECT \(Self.columns) FROM switchboard.canned_responses
            WHERE ($1::boolean OR scope = 'everyone'
                   OR (scope = 'team' AND ($2::text[] IS NULL OR scope_name = ANY($2::text[])))
                   OR (scope = 'queue' AND ($3::text[] IS NULL OR scope_name = ANY($3::text[]))))
              AND ($4::text IS NULL OR shortcut LIKE lower($4) || '%' OR title ILIKE '%' || $4 || '%' OR body ILIKE '%' || $4 || '%')
            ORDER BY CASE WHEN $4::text IS NOT NULL AND shortcut LIKE lower($4) || '%' THEN 0 ELSE 1 END, shortcut, scope, scope_name, id
            LIMIT $5
            """, [scope.everything, scope.teams?.sorted(), scope.queues?.sorted(), words, limit]).map(Self.response)
    }

    /// LIKE's wildcards and its escape character as the text they are.
    static func escapedForLike(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "\\" || character == "%" || character == "_" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    static func response(_ row: PostgresRow) throws -> CannedResponse {
        let kind: String = try row.decode(4), name: String = try row.decode(5)
        guard let scope = CannedScope(kind: kind, name: name) else { throw PostgresError.unexpected("canned response scope \(kind) \(name)") }
        return CannedResponse(id: try row.decode(0), shortcut: try row.decode(1), title: try row.decode(2), body: try row.decode(3), scope: scope,
                              createdBy: try row.decode(6), createdAt: try row.decode(7), updatedBy: try row.decode(8), updatedAt: try row.decode(9))
    }
}
