import Foundation
import Logging

/// One line per event on stderr. When stderr is the journal (`JOURNAL_STREAM` names it), lines start
/// with `<N>`, the syslog priority journald reads, and carry no timestamp (the journal adds one).
public struct StderrLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let levelControl: LogLevelControl
    private let journal: Bool

    public init(label: String, levelControl: LogLevelControl, journal: Bool) {
        self.label = label
        self.levelControl = levelControl
        self.journal = journal
    }

    /// The level is the daemon's, not the handler's: setting it here changes it everywhere.
    public var logLevel: Logger.Level {
        get { levelControl.current }
        set { levelControl.current = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var line = journal ? "<\(Self.syslogPriority(event.level))>" : "\(Self.timestamp()) \(event.level) "
        line += "\(label): \(Self.oneLine(event.message.description))"
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += " \(key)=\(Self.quoteIfNeeded(Self.oneLine("\(value)")))"
        }
        line += "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Whether stderr is the journal stream systemd told us about (`JOURNAL_STREAM=dev:inode`).
    public static func stderrIsJournal(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let stream = environment["JOURNAL_STREAM"] else { return false }
        let parts = stream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(2, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }

    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// A message never spans lines (one event, one line) and carries no control character: a NUL,
    /// an escape sequence or a carriage return from a customer's text or a payload would otherwise
    /// reach the terminal or the journal as it is. C0 controls and DEL become `\n`, `\r`, `\t` or
    /// `\u{XX}`; a backslash stays a backslash.
    static func oneLine(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard isControl(scalar) else {
                out.append(scalar)
                continue
            }
            let escaped: String
            switch scalar {
            case "\n": escaped = "\\n"
            case "\r": escaped = "\\r"
            case "\t": escaped = "\\t"
            default: escaped = "\\u{" + String(scalar.value, radix: 16) + "}"
            }
            out.append(contentsOf: escaped.unicodeScalars)
        }
        return String(out)
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value)
    }

    private static func quoteIfNeeded(_ text: String) -> String {
        text.isEmpty || text.contains(" ") || text.contains("\"") ? "\"\(text.replacingOccurrences(of: "\"", with: "\\\""))\"" : text
    }

    private static func timestamp() -> String {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        var tm = tm()
        var seconds = time.tv_sec
        gmtime_r(&seconds, &tm)
        let millis = time.tv_nsec / 1_000_000
        func pad(_ value: Int32, _ width: Int) -> String {
            let s = String(value)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2))T\(pad(tm.tm_hour, 2)):\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }
}
