import Foundation
import Glibc
import Postgres

/// `dev/graph-api-standin.py` on a free port, its output in a file: every send it accepted is a line
/// `send <wamid> to <recipient>: <json body>`.
final class GraphStandIn {
    let port: Int
    let outputPath: String
    private let pid: pid_t
    private let exits = ExitStatuses()

    /// With `statusWebhooks` (and the file holding the app secret) it posts Meta's signed `sent`
    /// status for every send it accepted, to the first of those URLs that takes it, as Meta does.
    init(directory: String, label: String, port chosen: Int? = nil, statusWebhooks: [String] = [], appSecretFile: String? = nil) async throws {
        let script = FileManager.default.currentDirectoryPath + "/dev/graph-api-standin.py"
        guard FileManager.default.isReadableFile(atPath: script) else { throw FailoverFailure("no \(script) (run from the repository's root)") }
        guard let python = Self.find("python3") else { throw FailoverFailure("python3 is not on PATH (the Graph API stand-in needs it)") }
        port = try chosen ?? freeLoopbackPort()
        outputPath = directory + "/graph-standin-\(label).log"
        let statuses = statusWebhooks.flatMap { ["--status-webhook", $0] } + (appSecretFile.map { ["--app-secret", $0] } ?? [])
        pid = try ChildProcess.spawn(python, [script, String(port)] + statuses, environment: ProcessInfo.processInfo.environment, logFile: outputPath, newSession: true)
        exits.watch(pid)
        let started = ContinuousClock.now
        let port = self.port
        while true {
            if (try? await onThread { close(try LoopbackSocket.connect(port: port)) }) != nil { break }
            if exits.status(of: pid) != nil { throw FailoverFailure("the Graph API stand-in exited; see \(outputPath)") }
            if ContinuousClock.now - started > .seconds(30) { throw FailoverFailure("the Graph API stand-in did not listen within 30 s; see \(outputPath)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// What was sent, one entry per accepted send: "<recipient>: <json body>" (the stand-in's wamid
    /// left out: it differs per send; the body holds `biz_opaque_callback_data`, the outbox entry's id).
    ///
    /// Not read line by line: the stand-in answers on several threads, and Python's `print` writes
    /// the text and its newline separately, so two sends can share a line ("…}send wamid.dev7 to …").
    /// Each body is found as a whole JSON object after its "send <wamid> to <recipient>: ".
    func sends() -> [String] {
        guard let data = FileManager.default.contents(atPath: outputPath) else { return [] }
        return Self.sends(in: Array(data))
    }

    static func sends(in bytes: [UInt8]) -> [String] {
        let marker = Array("send wamid.".utf8)
        var found: [String] = []
        var index = 0
        while let start = find(marker, in: bytes, from: index) {
            index = start + marker.count
            // "send <wamid> to <recipient>: {…}"
            guard let to = find(Array(" to ".utf8), in: bytes, from: index), let colon = find(Array(": ".utf8), in: bytes, from: to + 4),
                  colon + 2 < bytes.count, bytes[colon + 2] == UInt8(ascii: "{"), let end = objectEnd(bytes, from: colon + 2) else { continue }
            found.append(String(decoding: bytes[(to + 4)...end], as: UTF8.self))
            index = end + 1
        }
        return found
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, bytes.count >= needle.count, from <= bytes.count - needle.count else { return nil }
        var position = from
        while position <= bytes.count - needle.count {
            if bytes[position] == needle[0] && bytes[position..<(position + needle.count)].elementsEqual(needle) { return position }
            position += 1
        }
        return nil
    }

    /// The index of the `}` closing the JSON object that opens at `start` (strings and escapes
    /// skipped), or nil if it does not close.
    private static func objectEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var depth = 0
        var inString = false
        var escaped = false
        var position = start
        while position < bytes.count {
            let byte = bytes[position]
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "{") {
                depth += 1
            } else if byte == UInt8(ascii: "}") {
                depth -= 1
                if depth == 0 { return position }
            } else if byte == UInt8(ascii: "\n") {
                return nil
            }
            position += 1
        }
        return nil
    }

    func stop() async {
        if exits.status(of: pid) == nil { kill(pid, SIGTERM) }
        let deadline = ContinuousClock.now + .seconds(10)
        while exits.status(of: pid) == nil && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if exits.status(of: pid) == nil { kill(pid, SIGKILL) }
    }

    private static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }
}

/// What the stand-in's sends say once the daemons are done: how many, and how many were the same
/// request sent again (same recipient and body, so the same outbox entry).
struct SendTally {
    var sends = 0
    /// Sends beyond the first of an identical line.
    var repeated = 0
    var examples: [String] = []
    var recipients: Set<String> = []

    init(_ lines: [String]) {
        sends = lines.count
        var seen: [String: Int] = [:]
        for line in lines {
            seen[line, default: 0] += 1
            if let colon = line.range(of: ":") { recipients.insert(String(line[..<colon.lowerBound])) }
        }
        for (line, count) in seen where count > 1 {
            repeated += count - 1
            if examples.count < 3 { examples.append("\(count)× \(line.prefix(300))") }
        }
    }
}
