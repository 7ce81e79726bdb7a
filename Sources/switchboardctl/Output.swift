import ArgumentParser
import Foundation

/// How replies look in a terminal, and how failures become messages and exit codes.
enum Output {
    static func json(_ object: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
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
        case "ConfigurationRefused":
            detail = "configuration refused:\n  " + error.problems.joined(separator: "\n  ")
            code = 1
        default:
            detail = "\(error.name) \(json(error.parameters))"
            code = 1
        }
        FileHandle.standardError.write(Data("switchboardctl: \(detail)\n".utf8))
        return ExitCode(code)
    }

    static func table(_ rows: [[String]]) -> String {
        guard let width = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: width)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds)
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m\(whole % 60)s" }
        if whole < 86400 { return "\(whole / 3600)h\(whole % 3600 / 60)m" }
        return "\(whole / 86400)d\(whole % 86400 / 3600)h"
    }

    static func skills(_ value: Any?) -> String {
        ((value as? [String: Any]) ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    static func queueTable(_ queues: [[String: Any]]) -> String {
        table([["QUEUE", "STRATEGY", "WAITING", "LONGEST", "ONLINE", "FREE", "AT RISK"]] + queues.map { queue in
            [(queue["name"] as? String ?? "") + ((queue["paused"] as? Bool ?? false) ? " (paused)" : ""), queue["strategy"] as? String ?? "", "\(queue["waiting"] as? Int ?? 0)",
             duration(queue["longest_wait_seconds"] as? Double ?? 0), "\(queue["agents_online"] as? Int ?? 0)",
             "\(queue["agents_free"] as? Int ?? 0)", "\(queue["at_risk"] as? Int ?? 0)"]
        })
    }

    static func clockTable(_ clocks: [[String: Any]]) -> String {
        table([["TICKET", "POLICY", "CLOCK", "DEADLINE", "STATE", "QUEUE", "ASSIGNEE"]] + clocks.map { clock in
            let state = clock["breached_at"] is String ? "breached" : clock["warned_at"] is String ? "warned" : (clock["paused"] as? Bool ?? false) ? "paused" : "running"
            return [clock["ticket"] as? String ?? "", clock["policy"] as? String ?? "", clock["clock"] as? String ?? "",
                    clock["deadline"] as? String ?? "-", state, clock["queue"] as? String ?? "-", clock["assignee"] as? String ?? "-"]
        })
    }

    static func agent(_ agent: [String: Any]) -> String {
        table([
            ["agent", agent["id"] as? String ?? ""], ["name", agent["name"] as? String ?? ""], ["role", agent["role"] as? String ?? ""],
            ["presence", "\(agent["presence"] as? String ?? "") since \(agent["presence_since"] as? String ?? "")"
                + ((agent["draining"] as? Bool ?? false) ? ", draining (no new assignments)" : "")],
            ["load", "\(agent["open_tickets"] as? Int ?? 0) of \(agent["capacity"] as? Int ?? 0)"],
            ["queues", (agent["queues"] as? [String] ?? []).joined(separator: ", ")], ["teams", (agent["teams"] as? [String] ?? []).joined(separator: ", ")],
            ["skills", skills(agent["skills"])], ["unix user", agent["unix_user"] as? String ?? "-"],
            ["declared in", (agent["from_config"] as? Bool ?? false) ? "the configuration file" : "the database"],
        ])
    }

    static func ticket(_ ticket: [String: Any]) -> String {
        var lines = [table([
            ["ticket", ticket["reference"] as? String ?? ""], ["status", ticket["status"] as? String ?? ""],
            ["priority", ticket["priority"] as? String ?? ""], ["queue", ticket["queue"] as? String ?? "-"],
            ["assignee", ticket["assignee"] as? String ?? "-"], ["customer", ticket["customer"] as? String ?? "-"],
            ["tags", (ticket["tags"] as? [String] ?? []).joined(separator: ", ")],
            ["window until", ticket["customer_window_expires_at"] as? String ?? "-"],
        ])]
        lines.append("\nMESSAGES")
        for message in ticket["messages"] as? [[String: Any]] ?? [] {
            let arrow = message["direction"] as? String == "inbound" ? "<" : ">"
            lines.append("  \(message["at"] as? String ?? "") \(arrow) [\(message["type"] as? String ?? "")] \(message["body"] as? String ?? "")")
        }
        let notes = ticket["notes"] as? [[String: Any]] ?? []
        if !notes.isEmpty {
            lines.append("\nNOTES")
            for note in notes { lines.append("  \(note["at"] as? String ?? "") \(note["author"] as? String ?? "") \(note["text"] as? String ?? "")") }
        }
        lines.append("\nEVENTS")
        for event in ticket["events"] as? [[String: Any]] ?? [] {
            let data = (try? JSONSerialization.data(withJSONObject: event["data"] ?? [:], options: [.sortedKeys, .withoutEscapingSlashes])).map { String(decoding: $0, as: UTF8.self) } ?? ""
            lines.append("  \(event["at"] as? String ?? "") \(event["kind"] as? String ?? "") \(event["actor"] as? String ?? "-") \(data)")
        }
        let clocks = ticket["sla"] as? [[String: Any]] ?? []
        if !clocks.isEmpty { lines.append("\nSLA\n" + clockTable(clocks)) }
        return lines.joined(separator: "\n")
    }

    static func event(_ event: [String: Any]) -> String {
        let details = (event["details"] as? [String: Any] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let audience = (event["audience"] as? [String] ?? []).joined(separator: ",")
        return "\(event["at"] as? String ?? "") \(event["kind"] as? String ?? "") \(event["ticket"] as? String ?? "") \(details)" + (audience.isEmpty ? "" : " to=\(audience)")
    }
}
