import ArgumentParser
import Glibc
import JSON

/// How replies look in a terminal, and how failures become messages and exit codes.
enum Output {
    static func json(_ value: JSONValue) -> String {
        JSONWriter.pretty(value)
    }

    /// To standard error (file descriptor 2: libc's `stderr` is a global Swift cannot prove safe).
    static func error(_ text: String) {
        let bytes = Array("switchboardctl: \(text)\n".utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }

    /// Prints the daemon's error and picks the exit code.
    static func failure(_ error: VarlinkConnection.RemoteError) -> ExitCode {
        let short = error.name.split(separator: ".").last.map(String.init) ?? error.name
        let detail: String
        let code: Int32
        switch short {
        case "PermissionDenied":
            detail = "permission denied: \(error.parameters["reason"] ?? "")"
            code = 77
        case "NotFound":
            detail = "not found: \(error.parameters["what"] ?? "") \(error.parameters["name"] ?? "")"
            code = 2
        case "InvalidArgument", "InvalidParameter", "MethodNotFound":
            detail = "\(short): \(error.parameters.map { "\($0.key) \($0.value)" }.sorted().joined(separator: ", "))"
            code = 64
        case "Conflict":
            detail = "conflict (\(error.parameters["code"] ?? "?")): \(error.parameters["reason"] ?? "")"
            code = 1
        case "ConfigurationRefused":
            detail = "configuration refused:\n  " + error.problems.joined(separator: "\n  ")
            code = 1
        default:
            detail = "\(error.name) \(error.parameters.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " "))"
            code = 1
        }
        self.error(detail)
        return ExitCode(code)
    }

    static func table(_ rows: [[String]]) -> String {
        guard let width = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: width)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count) }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds)
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m\(whole % 60)s" }
        if whole < 86400 { return "\(whole / 3600)h\(whole % 3600 / 60)m" }
        return "\(whole / 86400)d\(whole % 86400 / 3600)h"
    }

    static func skills(_ value: JSONValue?) -> String {
        guard case .object(let skills)? = value else { return "" }
        return skills.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.text ?? "?")" }.joined(separator: ",")
    }

    static func queueTable(_ queues: [JSONValue]) -> String {
        table([["QUEUE", "STRATEGY", "WAITING", "LONGEST", "ONLINE", "FREE", "AT RISK"]] + queues.map { queue in
            [queue.text("name") + (queue.flag("paused") ? " (paused)" : ""), queue.text("strategy"), queue.text("waiting", "0"),
             duration(queue["longest_wait_seconds"]?.number ?? 0), queue.text("agents_online", "0"), queue.text("agents_free", "0"), queue.text("at_risk", "0")]
        })
    }

    static func clockTable(_ clocks: [JSONValue]) -> String {
        table([["TICKET", "POLICY", "CLOCK", "DEADLINE", "STATE", "QUEUE", "ASSIGNEE"]] + clocks.map { clock in
            let state = clock["breached_at"]?.string != nil ? "breached" : clock["warned_at"]?.string != nil ? "warned" : clock.flag("paused") ? "paused" : "running"
            return [clock.text("ticket"), clock.text("policy"), clock.text("clock"), clock.text("deadline", "-"), state, clock.text("queue", "-"), clock.text("assignee", "-")]
        })
    }

    static func agent(_ agent: JSONValue) -> String {
        table([
            ["agent", agent.text("id")], ["name", agent.text("name")], ["role", agent.text("role")],
            ["presence", "\(agent.text("presence")) since \(agent.text("presence_since"))" + (agent.flag("draining") ? ", draining (no new assignments)" : "")],
            ["load", "\(agent.text("open_tickets", "0")) of \(agent.text("capacity", "0"))"],
            ["queues", agent.strings("queues").joined(separator: ", ")], ["teams", agent.strings("teams").joined(separator: ", ")],
            ["skills", skills(agent["skills"])], ["unix user", agent.text("unix_user", "-")],
            ["declared in", agent.flag("from_config") ? "the configuration file" : "the database"],
        ])
    }

    static func ticket(_ ticket: JSONValue) -> String {
        var lines = [table([
            ["ticket", ticket.text("reference")], ["status", ticket.text("status")], ["priority", ticket.text("priority")],
            ["queue", ticket.text("queue", "-")], ["assignee", ticket.text("assignee", "-")], ["customer", ticket.text("customer", "-")],
            ["tags", ticket.strings("tags").joined(separator: ", ")], ["window until", ticket.text("customer_window_expires_at", "-")],
        ])]
        lines.append("\nMESSAGES")
        for message in ticket.list("messages") {
            let arrow = message.text("direction") == "inbound" ? "<" : ">"
            // Who sent ours: an agent, automation, or the WhatsApp Business app on the same number.
            let sender = message["sent_by"]?.string.map { $0 == "business_app" ? " (from the WhatsApp Business app)" : " (by \($0))" } ?? ""
            lines.append("  \(message.text("at")) \(arrow) [\(message.text("type"))] \(message.text("body"))" + Self.file(message["media"]) + sender)
        }
        let notes = ticket.list("notes")
        if !notes.isEmpty {
            lines.append("\nNOTES")
            for note in notes { lines.append("  \(note.text("at")) \(note.text("author")) \(note.text("text"))") }
        }
        lines.append("\nEVENTS")
        for event in ticket.list("events") {
            lines.append((["  \(event.text("at")) \(event.text("kind")) \(event.text("actor", "-"))"] + KeyValue.pairs(event["data"] ?? [:])).joined(separator: " "))
        }
        let clocks = ticket.list("sla")
        if !clocks.isEmpty { lines.append("\nSLA\n" + clockTable(clocks)) }
        return lines.joined(separator: "\n")
    }

    /// Bytes as people read them.
    static func size(_ bytes: Double) -> String {
        let kilobyte: Double = 1024
        let megabyte: Double = kilobyte * kilobyte
        func tenths(_ value: Double) -> String { "\((value * 10).rounded() / 10)" }
        return bytes >= megabyte ? "\(tenths(bytes / megabyte)) MB" : "\(tenths(bytes / kilobyte)) KB"
    }

    /// A message's file in a line: what it is and whether it can be downloaded.
    static func file(_ media: JSONValue?) -> String {
        guard let media, media.isObject else { return "" }
        var parts = [media.text("mime_type", media.text("kind"))]
        if let size = media["size"]?.number { parts.append(Self.size(size)) }
        if let name = media["file_name"]?.string { parts.append("\"\(name)\"") }
        parts.append(media.text("state") == "failed" ? "failed: \(media.text("failure"))" : media.text("state"))
        return " (file \(media.text("id")): " + parts.joined(separator: ", ") + ")"
    }

    /// `AT KIND [TICKET] key=value…`: the agent the event is about and the ticket's queue among the
    /// details (a presence change names its agent), `to=` the audience told of it.
    static func event(_ event: JSONValue) -> String {
        var fields: [String: JSONValue] = [:]
        if case .object(let details)? = event["details"] { fields = details }
        for key in ["agent", "queue"] where fields[key] == nil {
            if let value = event[key]?.string { fields[key] = .string(value) }
        }
        let audience = event.strings("audience").joined(separator: ",")
        let head = [event.text("at"), event.text("kind"), event.text("ticket")].filter { !$0.isEmpty }
        let tail = audience.isEmpty ? [] : [KeyValue.pair("to", audience)]
        return (head + KeyValue.pairs(.object(fields)) + tail).joined(separator: " ")
    }
}

/// Reading replies without ceremony: absent or mistyped fields read as the fallback.
extension JSONValue {
    func text(_ key: String, _ fallback: String = "") -> String { self[key]?.text ?? fallback }
    func flag(_ key: String) -> Bool { self[key]?.bool ?? false }
    func list(_ key: String) -> [JSONValue] { self[key]?.array ?? [] }
    func strings(_ key: String) -> [String] { list(key).compactMap(\.string) }
}
