import Foundation

/// A CSV file with a header row, read as spreadsheets and `csv.writer` write it (RFC 4180: commas,
/// fields in double quotes with `""` for a quote, CRLF or LF), whose values are looked up by column
/// name so that a converted log may keep extra columns in any order. Blank lines and lines starting
/// with `#` are skipped, so a hand-made trace can say what it tests.
public struct CSVTable: Sendable {
    public struct Row: Sendable {
        /// The line the record starts on (1-based; the header is line 1).
        public var line: Int
        var fields: [String]
    }

    public let file: String
    /// Lower-cased header names, trimmed, by their position.
    private let columns: [String: Int]
    public let rows: [Row]

    public init(text: String, file: String) throws(TraceError) {
        self.file = file
        var records = CSVTable.records(in: text)
        guard !records.isEmpty else { throw TraceError(file: file, line: 1, reason: "empty: a header row is needed") }
        let header = records.removeFirst()
        var columns: [String: Int] = [:]
        for (index, name) in header.fields.enumerated() {
            let key = name.trimmed.lowercased()
            guard !key.isEmpty else { continue }
            if columns[key] != nil { throw TraceError(file: file, line: header.line, column: key, reason: "named twice in the header") }
            columns[key] = index
        }
        self.columns = columns
        self.rows = records
    }

    /// Reads a file; `path` as given names it in errors.
    public init(contentsOf path: String) throws(TraceError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TraceError(file: path, reason: "cannot be read (no such file, or not readable)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw TraceError(file: path, reason: "is not UTF-8 text") }
        try self.init(text: text, file: path)
    }

    public func has(_ column: String) -> Bool { columns[column] != nil }

    /// Throws naming the first of `required` the header lacks, and what it has.
    public func require(_ required: [String]) throws(TraceError) {
        for column in required where !has(column) {
            let present = columns.sorted { $0.value < $1.value }.map(\.key).joined(separator: ", ")
            throw TraceError(file: file, line: 1, column: column, reason: "missing from the header (it has: \(present))")
        }
    }

    /// The trimmed value of `column` in `row`; "" when the column is absent or the row is short.
    public func value(_ column: String, in row: Row) -> String {
        guard let index = columns[column], index < row.fields.count else { return "" }
        return row.fields[index].trimmed
    }

    public func error(_ row: Row, _ column: String, _ reason: String) -> TraceError {
        TraceError(file: file, line: row.line, column: column, reason: reason)
    }

    /// Splits text into records, each with the line it starts on; a quoted field may span lines.
    private static func records(in text: String) -> [Row] {
        var rows: [Row] = []
        var fields: [String] = []
        var field = ""
        var quoted = false, comment = false
        var line = 1, start = 1
        // Spreadsheets put a byte order mark before the header.
        var characters = Array(text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text).makeIterator()
        var pending = characters.next()

        func endRecord() {
            fields.append(field)
            if !comment && !(fields.count == 1 && fields[0].trimmed.isEmpty) { rows.append(Row(line: start, fields: fields)) }
            fields = []
            field = ""
            comment = false
        }

        while let character = pending {
            pending = characters.next()
            if quoted {
                if character == "\"" && pending == "\"" {
                    field.append("\"")
                    pending = characters.next()
                } else if character == "\"" {
                    quoted = false
                } else {
                    if character == "\n" || character == "\r\n" { line += 1 }
                    field.append(character)
                }
                continue
            }
            switch character {
            case "#" where fields.isEmpty && field.trimmed.isEmpty:
                comment = true
            case "\"" where field.trimmed.isEmpty && !comment:
                quoted = true
                field = ""
            case "," where !comment:
                fields.append(field)
                field = ""
            case "\n", "\r\n", "\r":
                endRecord()
                line += 1
                start = line
            default:
                if !comment { field.append(character) }
            }
        }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return rows
    }
}

extension String {
    var trimmed: String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
