import Foundation

/// The sample payloads in `../shared/fixtures/whatsapp` (beside the repository), read as bytes, and a
/// plain reading of each file with JSONSerialization that the tests compare the decoder against.
enum Fixtures {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/fixtures/whatsapp")

    /// Every webhook body (the top-level files; `send-api-*` and `fragments` are not webhooks).
    static func webhookFiles() throws -> [URL] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        return names.filter { $0.hasSuffix(".json") }.sorted().map { directory.appendingPathComponent($0) }
    }

    static func bytes(_ url: URL) throws -> [UInt8] {
        Array(try Data(contentsOf: url))
    }

    /// The `value` objects of every change in the file, with their `field`.
    static func changes(_ url: URL) throws -> [(field: String, value: [String: Any])] {
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
        var found: [(String, [String: Any])] = []
        for entry in root["entry"] as? [[String: Any]] ?? [] {
            for change in entry["changes"] as? [[String: Any]] ?? [] {
                found.append((change["field"] as? String ?? "", change["value"] as? [String: Any] ?? [:]))
            }
        }
        return found
    }

    /// The `messages[]` elements of the file's `messages` changes, and the `message_echoes[]` of its
    /// `smb_message_echoes` changes (what the business app sent), in order.
    static func messages(_ url: URL) throws -> [[String: Any]] {
        try changes(url).flatMap { change -> [[String: Any]] in
            switch change.field {
            case "messages": return change.value["messages"] as? [[String: Any]] ?? []
            case "smb_message_echoes": return change.value["message_echoes"] as? [[String: Any]] ?? []
            default: return []
            }
        }
    }

    /// Fields whose changes the decoder reads; any other is kept whole.
    static let readFields: Set<String> = ["messages", "smb_message_echoes"]

    /// The `statuses[]` elements of the file's `messages` changes, in order.
    static func statuses(_ url: URL) throws -> [[String: Any]] {
        try changes(url).filter { $0.field == "messages" }.flatMap { $0.value["statuses"] as? [[String: Any]] ?? [] }
    }
}
