/// The result of a statement: its rows (all in memory, in text format) and the affected row count.
public struct PostgresRows: Sendable, Sequence {
    public let columns: [Column]
    let cells: [String?]
    /// Rows affected by INSERT, UPDATE, DELETE, COPY or returned by SELECT, as the server reports.
    public let affectedRows: Int

    public struct Column: Sendable, Hashable {
        public let name: String
        public let oid: UInt32
    }

    init(columns: [Column], cells: [String?], affectedRows: Int) {
        self.columns = columns
        self.cells = cells
        self.affectedRows = affectedRows
    }

    public var count: Int { columns.isEmpty ? 0 : cells.count / columns.count }
    public var isEmpty: Bool { count == 0 }
    public var first: PostgresRow? { isEmpty ? nil : PostgresRow(rows: self, index: 0) }

    public subscript(index: Int) -> PostgresRow {
        precondition(index >= 0 && index < count, "row index \(index) out of range 0..<\(count)")
        return PostgresRow(rows: self, index: index)
    }

    public func makeIterator() -> AnyIterator<PostgresRow> {
        var index = 0
        return AnyIterator {
            guard index < count else { return nil }
            defer { index += 1 }
            return PostgresRow(rows: self, index: index)
        }
    }

    func columnIndex(named name: String) -> Int? {
        columns.firstIndex { $0.name == name }
    }
}

/// One row of a `PostgresRows`.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let index: Int

    /// The raw text of a column, `nil` for SQL NULL.
    public func text(_ column: Int) -> String? {
        rows.cells[index * rows.columns.count + column]
    }

    /// Decodes column `column` (0-based); use an optional type to accept NULL.
    public func decode<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws -> T {
        guard column >= 0 && column < rows.columns.count else {
            throw PostgresError.decoding(column: "#\(column)", expected: "\(T.self)", reason: "the result has \(rows.columns.count) columns")
        }
        let meta = rows.columns[column]
        do {
            guard let text = text(column) else { return try T.postgresNull() }
            return try T(postgresText: text, oid: meta.oid)
        } catch let failure as PostgresText.Failure {
            throw PostgresError.decoding(column: meta.name, expected: "\(T.self)", reason: failure.reason)
        }
    }

    /// Decodes the column with this name.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let index = rows.columnIndex(named: column) else {
            throw PostgresError.decoding(column: column, expected: "\(T.self)", reason: "no such column in the result")
        }
        return try decode(index, as: type)
    }
}
