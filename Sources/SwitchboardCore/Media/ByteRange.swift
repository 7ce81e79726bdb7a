/// The part of a file an HTTP `Range` header asks for (RFC 9110 §14: one range of `bytes`; several
/// ranges are answered whole, as the RFC allows).
public struct ByteRange: Sendable, Equatable {
    /// First and last byte, inclusive.
    public var first: Int
    public var last: Int

    public init(first: Int, last: Int) {
        self.first = first
        self.last = last
    }

    public var count: Int { last - first + 1 }

    public enum Request: Sendable, Equatable {
        /// No range, or one this server answers with the whole file.
        case whole
        case part(ByteRange)
        /// Nothing of the file is in the range: 416 with `Content-Range: bytes */size`.
        case unsatisfiable
    }

    /// `bytes=0-499`, `bytes=500-`, `bytes=-500` against a file of `size` bytes.
    public static func request(_ header: String?, size: Int) -> Request {
        guard let header else { return .whole }
        let value = header.trimmingCharacters(in: .whitespaces)
        guard value.lowercased().hasPrefix("bytes=") else { return .whole }
        let spec = value.dropFirst("bytes=".count)
        guard !spec.contains(",") else { return .whole }
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2 else { return .whole }
        switch (Int(parts[0]), Int(parts[1]), parts[0].isEmpty, parts[1].isEmpty) {
        case (let first?, nil, false, true):
            guard first >= 0 else { return .whole }
            return first < size ? .part(ByteRange(first: first, last: size - 1)) : .unsatisfiable
        case (let first?, let last?, false, false):
            guard first >= 0, last >= first else { return .whole }
            return first < size ? .part(ByteRange(first: first, last: min(last, size - 1))) : .unsatisfiable
        case (nil, let suffix?, true, false):
            guard suffix > 0 else { return suffix == 0 ? .unsatisfiable : .whole }
            return size == 0 ? .unsatisfiable : .part(ByteRange(first: max(0, size - suffix), last: size - 1))
        default:
            return .whole
        }
    }
}
