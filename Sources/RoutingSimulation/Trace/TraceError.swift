/// A problem with a trace file, said the way an editor finds it: `arrivals.csv:14: column
/// "handle_seconds": "12x" is not a number of seconds`.
public struct TraceError: Error, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based, the header being line 1; nil for the file as a whole (it cannot be read).
    public var line: Int?
    public var column: String?
    public var reason: String

    public init(file: String, line: Int? = nil, column: String? = nil, reason: String) {
        self.file = file
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return column.map { "\(place): column \"\($0)\": \(reason)" } ?? "\(place): \(reason)"
    }
}
