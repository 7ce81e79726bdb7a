import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Values survive a round trip through PostgreSQL")
struct TypeRoundTripTests {
    let pool: PostgresPool

    init() async throws {
        pool = try await TestDatabase.freshPool("types")
    }

    @Test func integersBooleansAndFloats() async throws {
        let row = try #require(try await pool.query(
            "SELECT $1::int8, $2::int4, $3::int2, $4::bool, $5::bool, $6::float8, $7::float8, $8::numeric",
            [Int.max, Int32.min, Int16(-7), true, false, 0.1, -Double.infinity, Decimal(string: "12345678901234567890.0123")]
        ).first)
        #expect(try row.decode(0, as: Int.self) == Int.max)
        #expect(try row.decode(1, as: Int32.self) == Int32.min)
        #expect(try row.decode(2, as: Int16.self) == -7)
        #expect(try row.decode(3, as: Bool.self) == true)
        #expect(try row.decode(4, as: Bool.self) == false)
        #expect(try row.decode(5, as: Double.self) == 0.1)
        #expect(try row.decode(6, as: Double.self) == -Double.infinity)
        #expect(try row.decode(7, as: Decimal.self) == Decimal(string: "12345678901234567890.0123"))
    }

    @Test(arguments: ["", "plain", "Grüße, Ζεύς 🦊 日本語", "line\nbreak\ttab", "quote ' and \" and \\ backslash", "'; DROP TABLE messages; --"])
    func textIsData(_ text: String) async throws {
        try await pool.query("CREATE TABLE IF NOT EXISTS texts (id serial PRIMARY KEY, body text NOT NULL)")
        let id = try #require(try await pool.query("INSERT INTO texts (body) VALUES ($1) RETURNING id", [text]).first).decode(0, as: Int.self)
        let back = try #require(try await pool.query("SELECT body, length(body) FROM texts WHERE id = $1", [id]).first)
        #expect(try back.decode(0, as: String.self) == text)
        #expect(try back.decode(1, as: Int.self) == text.count)
        // The table is still there after the injection attempt.
        #expect(try await pool.query("SELECT count(*) FROM texts").first?.decode(0, as: Int.self) ?? 0 >= 1)
    }

    @Test func nullIsExplicit() async throws {
        let row = try #require(try await pool.query("SELECT $1::text, NULL::int8, 5::int8", [String?.none]).first)
        #expect(try row.decode(0, as: String?.self) == nil)
        #expect(try row.decode(1, as: Int?.self) == nil)
        #expect(try row.decode(2, as: Int?.self) == 5)
        #expect(throws: PostgresError.self) { try row.decode(1, as: Int.self) }
    }

    @Test func timestampsKeepTheirInstantAcrossZones() async throws {
        let instant = Date(timeIntervalSince1970: 1_793_600_000.123456)
        let row = try #require(try await pool.query(
            "SELECT $1::timestamptz, '2026-03-29 02:30:00+02'::timestamptz, '1969-07-20 20:17:40.5-05:30'::timestamptz, '2026-11-25'::date",
            [instant]
        ).first)
        let back = try row.decode(0, as: Date.self)
        #expect(abs(back.timeIntervalSince1970 - instant.timeIntervalSince1970) < 0.000001)
        #expect(try row.decode(1, as: Date.self) == Date(timeIntervalSince1970: 1_774_744_200))
        #expect(try row.decode(2, as: Date.self) == Date(timeIntervalSince1970: -14_182_940 + 19_800 + 0.5))
        #expect(try row.decode(3, as: Date.self) == Date(timeIntervalSince1970: 1_795_564_800))
        // The server sees the same instant whatever the session's zone would have been.
        let epoch = try #require(try await pool.query("SELECT extract(epoch FROM $1::timestamptz)::float8", [instant]).first)
        #expect(abs(try epoch.decode(0, as: Double.self) - instant.timeIntervalSince1970) < 0.000001)
    }

    @Test func uuidByteaAndJSON() async throws {
        let id = UUID()
        let bytes = PostgresBytes((0...255).map { UInt8($0) })
        let json = PostgresJSON(#"{"name": "Zoë", "tags": ["a", "b"], "n": 1}"#)
        let row = try #require(try await pool.query(
            "SELECT $1::uuid, $2::bytea, length($2::bytea), $3::jsonb ->> 'name', ''::bytea",
            [id, bytes, json]
        ).first)
        #expect(try row.decode(0, as: UUID.self) == id)
        #expect(try row.decode(1, as: PostgresBytes.self) == bytes)
        #expect(try row.decode(2, as: Int.self) == 256)
        #expect(try row.decode(3, as: String.self) == "Zoë")
        #expect(try row.decode(4, as: PostgresBytes.self).bytes.isEmpty)
    }

    @Test func arraysOfSimpleTypes() async throws {
        // Multi-byte text beside the escaped bytes: the literal is built byte by byte.
        let texts = ["a", "with space", "comma,inside", "quote\"inside", "back\\slash", "", "NULL", "{braces}", "Zoë \"ü\" \\ 👋🏽", "日本語"]
        let row = try #require(try await pool.query(
            "SELECT $1::text[], $2::int8[], cardinality($1::text[]), ARRAY['x', NULL]::text[], '{}'::int8[]",
            [texts, [1, -2, 3]]
        ).first)
        #expect(try row.decode(0, as: [String].self) == texts)
        #expect(try row.decode(1, as: [Int].self) == [1, -2, 3])
        #expect(try row.decode(2, as: Int.self) == texts.count)
        #expect(throws: PostgresError.self) { try row.decode(3, as: [String].self) }
        #expect(try row.decode(4, as: [Int].self) == [])
    }

    /// A batch's column sent as an array keeps its NULLs apart from the text "NULL" and from "".
    @Test func arraysWithNullElements() async throws {
        let texts: [String?] = ["a", nil, "NULL", "", nil]
        let numbers: [Double?] = [1.5, nil, -2]
        let rows = try await pool.query(
            "SELECT t, t IS NULL, n FROM unnest($1::text[], $2::float8[]) WITH ORDINALITY AS k(t, n, i) ORDER BY i",
            [texts, numbers]
        )
        #expect(try rows.map { try $0.decode(0, as: String?.self) } == texts)
        #expect(try rows.map { try $0.decode(1, as: Bool.self) } == [false, true, false, false, true])
        #expect(try rows.map { try $0.decode(2, as: Double?.self) } == [1.5, nil, -2, nil, nil])
        let back = try #require(try await pool.query("SELECT $1::text[]", [texts]).first)
        #expect(try back.decode(0, as: [String?].self) == texts)
    }

    @Test func decodingErrorsNameTheColumn() async throws {
        let row = try #require(try await pool.query("SELECT 'abc'::text AS label").first)
        #expect(throws: PostgresError.decoding(column: "label", expected: "Int", reason: "not an integer")) {
            try row.decode("label", as: Int.self)
        }
    }
}
