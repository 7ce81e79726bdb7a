import Foundation
import Postgres
import Testing
import TestSupport

/// Cells read in place (`query(_:_:decoding:)`) give the values `PostgresRow.decode` gives: the same
/// integers, booleans, numbers, text and, to the bit, the same `Date`s.
@Suite("Cells read in place decode as rows do")
struct CellDecodingTests {
    struct Decoded: Sendable, Equatable {
        var int: Int64?, bool: Bool?, double: Double?, text: String?, date: Date?
    }

    @Test func everyKindOfCellDecodesAsTheRowDecodesIt() async throws {
        let pool = try await TestDatabase.freshPool("cells")
        // Timestamps with 0–6 fraction digits, before 1970 and far ahead; integers at the edges;
        // numbers a decimal text cannot hold exactly; text beyond ASCII; NULL in every column.
        let sql = """
            SELECT i, b, d, t, ts FROM (VALUES
                (0::int8, true, 0.1::float8, 'plain'::text, timestamptz '2026-12-06 17:08:45+00'),
                (-9223372036854775808, false, -1e-7, 'Grüße 🦊 日本語', timestamptz '2026-12-06 17:08:45.5+00'),
                (9223372036854775807, true, 'NaN', '', timestamptz '2026-12-06 17:08:45.52301+00'),
                (123456789012345678, false, 'Infinity', 'q00', timestamptz '1969-07-20 20:17:40.123456+00'),
                (-42, true, '-Infinity', 'with ''quote''', timestamptz '2999-12-31 23:59:59.999999+00'),
                (7, false, 1.7976931348623157e308, 'x', timestamptz '2026-01-01 00:00:00.000001+00'),
                (NULL, NULL, NULL, NULL, NULL)
            ) AS v(i, b, d, t, ts)
            """
        let expected = try await pool.query(sql).map { row in
            Decoded(int: try row.decode(0), bool: try row.decode(1), double: try row.decode(2), text: try row.decode(3), date: try row.decode(4))
        }
        let cells = try await pool.withConnection { connection in
            try await connection.query(sql) { cells in
                Decoded(int: try cells.int64(0), bool: try cells.bool(1), double: try cells.double(2), text: cells.string(3), date: try cells.date(4))
            }
        }
        #expect(cells.count == 7)
        // NaN is not equal to itself: compared by its bits.
        let bits = { (rows: [Decoded]) in rows.map { row -> String in
            "\(row.int.map(String.init) ?? "nil") \(row.bool.map(String.init) ?? "nil") \(row.double?.bitPattern ?? 0) \(row.text ?? "nil") \(row.date?.timeIntervalSinceReferenceDate.bitPattern ?? 0)"
        } }
        #expect(bits(cells) == bits(expected))
        #expect(cells.last == Decoded(int: nil, bool: nil, double: nil, text: nil, date: nil))
    }

    @Test func aCellThatIsNotWhatItIsReadAsIsADecodingError() async throws {
        let pool = try await TestDatabase.freshPool("cells_bad")
        await #expect(throws: PostgresError.self) {
            _ = try await pool.withConnection { connection in try await connection.query("SELECT 'soon'::text AS due") { try $0.date(0) } }
        }
        await #expect(throws: PostgresError.self) {
            _ = try await pool.withConnection { connection in try await connection.query("SELECT 'many'::text AS count") { try $0.int64(0) } }
        }
    }
}
