import SwitchboardCore

/// One contact of a recorded trace, as its row says.
public struct TraceContact: Sendable, Equatable {
    /// The row's line, which is also the ticket's id: equal arrival times keep the file's order.
    public var line: Int
    public var arrival: TraceTime
    /// Nil: not recorded (a call the customer abandoned); replayed with the type's mean.
    public var handleSeconds: Double?
    public var type: String
    public var priority: WaitingOrder.Priority
    /// Nil: waits for ever.
    public var patienceSeconds: Double?
}

/// The arrivals CSV: `arrival`, `handle_seconds`, `type`, optional `priority` (`low`, `normal`,
/// `high`, `urgent`; empty: normal) and `patience_seconds` (empty: waits for ever). Rows may come in
/// any order (logs merged from several lines often do); they are replayed in time order.
public struct TraceArrivals: Sendable {
    public let file: String
    /// In time order.
    public let contacts: [TraceContact]
    /// Whether the file has a `patience_seconds` column: only then is abandonment reported.
    public let hasPatience: Bool
    public let usesTimestamps: Bool

    public init(table: CSVTable) throws(TraceError) {
        try table.require(["arrival", "handle_seconds", "type"])
        file = table.file
        hasPatience = table.has("patience_seconds")
        var contacts: [TraceContact] = []
        var timestamps: Bool?
        for row in table.rows {
            let arrival = try TraceArrivals.time(table, row, "arrival", sameFormAs: &timestamps)
            let type = table.value("type", in: row)
            guard !type.isEmpty else { throw table.error(row, "type", "is empty") }
            let priorityText = table.value("priority", in: row)
            guard let priority = priorityText.isEmpty ? .normal : WaitingOrder.Priority(name: priorityText.lowercased()) else {
                let names = WaitingOrder.Priority.allCases.map(\.name).joined(separator: ", ")
                throw table.error(row, "priority", "unknown priority \"\(priorityText)\" (priorities: \(names))")
            }
            let handle = try TraceArrivals.seconds(table, row, "handle_seconds")
            let patience = try TraceArrivals.seconds(table, row, "patience_seconds")
            if handle == nil && patience == nil {
                throw table.error(row, "handle_seconds", "is empty on a contact that did not give up (no patience_seconds)")
            }
            contacts.append(TraceContact(line: row.line, arrival: arrival, handleSeconds: handle, type: type, priority: priority, patienceSeconds: patience))
        }
        guard !contacts.isEmpty else { throw TraceError(file: table.file, line: 1, reason: "has no contacts") }
        self.contacts = contacts.sorted { ($0.arrival.value, $0.line) < ($1.arrival.value, $1.line) }
        usesTimestamps = timestamps ?? false
    }

    /// Mean recorded handle time per type: what a contact without one is replayed with.
    public var meanHandleSeconds: [String: Double] {
        var sums: [String: (total: Double, count: Int)] = [:]
        for contact in contacts {
            guard let handle = contact.handleSeconds else { continue }
            sums[contact.type, default: (0, 0)].total += handle
            sums[contact.type, default: (0, 0)].count += 1
        }
        return sums.mapValues { $0.total / Double($0.count) }
    }

    /// A time in `column`; every row of a file uses the same form (the first row decides).
    static func time(_ table: CSVTable, _ row: CSVTable.Row, _ column: String, sameFormAs form: inout Bool?) throws(TraceError) -> TraceTime {
        let text = table.value(column, in: row)
        guard let time = TraceTime(text) else {
            throw table.error(row, column, text.isEmpty ? "is empty" : "\"\(text)\" is neither seconds from the start nor an ISO-8601 timestamp (2024-03-04T08:00:00)")
        }
        if let form, form != time.isTimestamp {
            throw table.error(row, column, "\"\(text)\" mixes forms: earlier rows give \(form ? "timestamps" : "seconds from the start")")
        }
        form = time.isTimestamp
        return time
    }

    /// A non-negative number of seconds; nil when empty.
    static func seconds(_ table: CSVTable, _ row: CSVTable.Row, _ column: String) throws(TraceError) -> Double? {
        let text = table.value(column, in: row)
        guard !text.isEmpty else { return nil }
        guard let value = Double(text), value.isFinite, value >= 0 else { throw table.error(row, column, "\"\(text)\" is not a number of seconds (0 or more)") }
        return value
    }
}
