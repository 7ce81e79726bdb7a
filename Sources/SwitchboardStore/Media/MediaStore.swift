import Foundation
import Postgres
import SwitchboardCore

/// The files of messages in PostgreSQL: the fetcher's work list and the bytes in chunks, written
/// as they stream in and read back by range.
public struct MediaStore: Sendable {
    /// The size of every chunk but a file's last.
    public static let chunkSize = 256 * 1024

    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// A file to fetch.
    public struct Job: Sendable, Equatable {
        public var id: Int64
        public var waMediaID: String
        public var kind: String
        public var mimeType: String?
        public var sha256: String?
        /// This attempt's number (1 for the first).
        public var attempt: Int
    }

    /// Claims up to `limit` files due now: each is leased for `lease` seconds (renewed with every
    /// chunk written, so a fetch cut short by a crash is tried again when its lease runs out), and
    /// counted as an attempt; the attempt's number fences what that fetch may write.
    public func claimDue(limit: Int, lease: TimeInterval, now: Date) async throws -> [Job] {
        let rows = try await pool.query("""
            UPDATE switchboard.media SET attempts = attempts + 1, next_attempt_at = $3::timestamptz + make_interval(secs => $2)
            WHERE id IN (SELECT id FROM switchboard.media WHERE state = 'pending' AND next_attempt_at <= $3
                         ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING id, wa_media_id, kind, mime_type, sha256, attempts
            """, [limit, lease, now])
        return try rows.map { row in
            Job(id: try row.decode(0), waMediaID: try row.decode(1), kind: try row.decode(2), mimeType: try row.decode(3), sha256: try row.decode(4),
                attempt: try row.decode(5))
        }
    }

    /// When the next file falls due (nil: none waits).
    public func nextDue() async throws -> Date? {
        try await pool.query("SELECT min(next_attempt_at) FROM switchboard.media WHERE state = 'pending'").first?.decode(0, as: Date?.self)
    }

    /// Forgets what an earlier, interrupted attempt wrote.
    public func clearChunks(_ mediaID: Int64) async throws {
        try await pool.query("DELETE FROM switchboard.media_chunks WHERE media_id = $1", [mediaID])
    }

    /// Stores one chunk of attempt `attempt` and renews its lease until `leaseUntil`, in one
    /// statement; false (nothing written) when the file is no longer this attempt's: its lease ran
    /// out and another fetch claimed it, or it was settled meanwhile.
    public func appendChunk(_ mediaID: Int64, attempt: Int, seq: Int, bytes: [UInt8], leaseUntil: Date) async throws -> Bool {
        let written = try await pool.query("""
            WITH mine AS (
                UPDATE switchboard.media SET next_attempt_at = $5 WHERE id = $1 AND state = 'pending' AND attempts = $2 RETURNING id
            )
            INSERT INTO switchboard.media_chunks (media_id, seq, bytes) SELECT id, $3, $4 FROM mine RETURNING seq
            """, [mediaID, attempt, seq, PostgresBytes(bytes), leaseUntil])
        return !written.isEmpty
    }

    /// The file is complete: servable from now on. False when it was no longer attempt `attempt`'s.
    @discardableResult
    public func markStored(_ mediaID: Int64, attempt: Int, size: Int, mimeType: String?, sha256Hex: String, now: Date) async throws -> Bool {
        let stored = try await pool.query("""
            UPDATE switchboard.media SET state = 'stored', size_bytes = $2, mime_type = coalesce(mime_type, $3), stored_sha256 = $4,
                stored_at = $5, failure = NULL
            WHERE id = $1 AND state = 'pending' AND attempts = $6
            RETURNING id
            """, [mediaID, size, mimeType, sha256Hex, now, attempt])
        return !stored.isEmpty
    }

    /// Tried again at `at`; the reason is kept for `status` and the API.
    public func retry(_ mediaID: Int64, at: Date, reason: String) async throws {
        try await pool.query("UPDATE switchboard.media SET next_attempt_at = $2, failure = $3 WHERE id = $1 AND state = 'pending'", [mediaID, at, reason])
    }

    /// Gives back attempt `attempt`'s lease without counting the attempt: the file is due again at
    /// `at` (a graceful stop cut the fetch short, or the access token was refused — neither says
    /// anything about the file). `reason`, when given, is kept for `status` and the API.
    public func release(_ mediaID: Int64, attempt: Int, at: Date, reason: String? = nil) async throws {
        try await pool.query("""
            UPDATE switchboard.media SET next_attempt_at = $3, attempts = attempts - 1, failure = coalesce($4, failure)
            WHERE id = $1 AND state = 'pending' AND attempts = $2
            """, [mediaID, attempt, at, reason])
    }

    /// Failed for good: the bytes written are deleted, the reason kept.
    public func markFailed(_ mediaID: Int64, reason: String) async throws {
        try await pool.withTransaction { transaction in
            try await transaction.query("DELETE FROM switchboard.media_chunks WHERE media_id = $1", [mediaID])
            try await transaction.query("UPDATE switchboard.media SET state = 'failed', failure = $2 WHERE id = $1 AND state = 'pending'", [mediaID, reason])
        }
    }

    /// Files waiting to be fetched (for `status`).
    public func pendingCount() async throws -> Int {
        try await pool.query("SELECT count(*)::int FROM switchboard.media WHERE state = 'pending'").first?.decode(0, as: Int.self) ?? 0
    }

    /// The operator's alert that fetching is paused because the Graph API refuses the access token
    /// (`alerts`, kind `media_fetch_paused`, beside sending's `sending_paused`): raised once, kept
    /// open until `clearFetchPausedAlert`.
    public func raiseFetchPausedAlert(reason: String, now: Date) async throws {
        try await pool.query("""
            INSERT INTO switchboard.alerts (raised_at, kind, subject, message) VALUES ($1, 'media_fetch_paused', 'whatsapp.accessToken', $2)
            ON CONFLICT (kind, subject) WHERE cleared_at IS NULL DO NOTHING
            """, [now, "fetching customers' files is paused: \(reason)"])
    }

    /// Clears the alert (a file was fetched again, or the daemon started: a restart is how a new
    /// access token is put in); true when one was open.
    @discardableResult
    public func clearFetchPausedAlert(now: Date) async throws -> Bool {
        let cleared = try await pool.query(
            "UPDATE switchboard.alerts SET cleared_at = $1 WHERE kind = 'media_fetch_paused' AND cleared_at IS NULL RETURNING id", [now])
        return !cleared.isEmpty
    }

    /// A file as the API serves it, with where its ticket is (for the visibility rule).
    public struct File: Sendable, Equatable {
        public var id: Int64
        public var kind: String
        public var state: String
        public var mimeType: String?
        public var fileName: String?
        public var size: Int?
        public var sha256Hex: String?
        public var failure: String?
        public var place: Permissions.TicketPlace
        /// `inbound` (a customer's) or `outbound` (an agent's upload).
        public var direction: String
        public var ticketID: Int64
        /// The message that carries it; nil for an upload no reply has sent yet.
        public var messageID: Int64?
        /// Meta's id of the file (for an upload: known once Meta took it).
        public var waMediaID: String?
        public var uploadedAt: Date?
    }

    public func file(_ mediaID: Int64) async throws -> File? {
        let rows = try await pool.query("""
            SELECT f.id, f.kind, f.state, f.mime_type, f.file_name, f.size_bytes, f.stored_sha256, f.failure, t.assignee, t.queue,
                   f.direction, f.ticket_id, f.message_id, f.wa_media_id, f.uploaded_at
            FROM switchboard.media f JOIN switchboard.tickets t ON t.id = f.ticket_id
            WHERE f.id = $1
            """, [mediaID])
        guard let row = rows.first else { return nil }
        return File(id: try row.decode(0), kind: try row.decode(1), state: try row.decode(2), mimeType: try row.decode(3), fileName: try row.decode(4),
                    size: try row.decode(5, as: Int64?.self).map(Int.init), sha256Hex: try row.decode(6), failure: try row.decode(7),
                    place: .init(assignee: try row.decode(8), queue: try row.decode(9)), direction: try row.decode(10), ticketID: try row.decode(11),
                    messageID: try row.decode(12), waMediaID: try row.decode(13), uploadedAt: try row.decode(14))
    }

    /// Chunks `first...last` of a file, in order.
    public func chunks(_ mediaID: Int64, _ seqs: ClosedRange<Int>) async throws -> [[UInt8]] {
        try await pool.query("SELECT bytes FROM switchboard.media_chunks WHERE media_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq",
                             [mediaID, seqs.lowerBound, seqs.upperBound]).map { try $0.decode(0, as: PostgresBytes.self).bytes }
    }

    /// Deletes the bytes of files stored before `cutoff`, a thousand files a statement; each keeps
    /// its record, marked purged. Returns how many.
    public func purge(storedBefore cutoff: Date, now: Date) async throws -> Int {
        var total = 0
        while true {
            let purged = try await pool.query("""
                WITH p AS (
                    UPDATE switchboard.media SET state = 'purged', purged_at = $2
                    WHERE id IN (SELECT id FROM switchboard.media WHERE state = 'stored' AND stored_at < $1 ORDER BY id LIMIT 1000)
                    RETURNING id
                ),
                d AS (DELETE FROM switchboard.media_chunks c USING p WHERE c.media_id = p.id)
                SELECT count(*)::int FROM p
                """, [cutoff, now]).first?.decode(0, as: Int.self) ?? 0
            total += purged
            if purged < 1000 { return total }
        }
    }

    // MARK: Uploads

    /// Records an agent's upload for a ticket, `uploading` until Meta took it; returns its id and
    /// the business number it goes out through (the ticket's).
    public func beginUpload(ticketID: Int64, kind: String, mimeType: String, fileName: String?, by agent: String, now: Date) async throws -> (id: Int64, businessNumber: String) {
        guard let row = try await pool.query("""
            INSERT INTO switchboard.media (ticket_id, direction, kind, mime_type, file_name, state, uploaded_by, created_at)
            VALUES ($1, 'outbound', $2, $3, $4, 'uploading', $5, $6)
            RETURNING id, (SELECT business_number FROM switchboard.tickets WHERE id = $1)
            """, [ticketID, kind, mimeType, fileName, agent, now]).first else {
            preconditionFailure("INSERT … RETURNING answers a row")
        }
        return (try row.decode(0), try row.decode(1))
    }

    /// Stores one chunk of an upload still `uploading`.
    public func appendUploadChunk(_ mediaID: Int64, seq: Int, bytes: [UInt8]) async throws {
        try await pool.query("""
            INSERT INTO switchboard.media_chunks (media_id, seq, bytes) SELECT id, $2, $3 FROM switchboard.media WHERE id = $1 AND state = 'uploading'
            """, [mediaID, seq, PostgresBytes(bytes)])
    }

    /// Meta took the upload: the file is servable and a reply may carry it by `waMediaID`.
    /// `fileName` is the name it went to Meta under (one made up for a file sent without a name).
    public func recordUploaded(_ mediaID: Int64, waMediaID: String, size: Int, sha256Hex: String, fileName: String, now: Date) async throws {
        try await pool.query("""
            UPDATE switchboard.media SET state = 'stored', wa_media_id = $2, size_bytes = $3, stored_sha256 = $4, stored_at = $5, uploaded_at = $5,
                file_name = $6
            WHERE id = $1 AND state = 'uploading'
            """, [mediaID, waMediaID, size, sha256Hex, now, fileName])
    }

    /// Forgets an upload that did not reach Meta (refused, too large, broken off): bytes and row.
    public func discardUpload(_ mediaID: Int64) async throws {
        try await pool.withTransaction { transaction in
            try await transaction.query("DELETE FROM switchboard.media_chunks WHERE media_id = $1", [mediaID])
            try await transaction.query("DELETE FROM switchboard.media WHERE id = $1 AND state = 'uploading'", [mediaID])
        }
    }

    /// Deletes uploads a crash left `uploading` since before `cutoff`; returns how many.
    public func discardAbandonedUploads(before cutoff: Date) async throws -> Int {
        try await pool.query("""
            WITH a AS (SELECT id FROM switchboard.media WHERE state = 'uploading' AND created_at < $1 LIMIT 1000),
                 c AS (DELETE FROM switchboard.media_chunks WHERE media_id IN (SELECT id FROM a)),
                 d AS (DELETE FROM switchboard.media WHERE id IN (SELECT id FROM a) RETURNING id)
            SELECT count(*)::int FROM d
            """, [cutoff]).first?.decode(0, as: Int.self) ?? 0
    }
}
