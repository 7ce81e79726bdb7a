/// Varlink messages on a stream socket are JSON objects each ended by a NUL byte. This splits what
/// arrives (in any pieces) into whole messages, and refuses a message longer than the limit before
/// buffering it all: a client cannot make the daemon hold more than `maxMessageBytes` for it.
public struct VarlinkFrameDecoder: Sendable {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case messageTooLong(limit: Int)

        public var description: String {
            switch self {
            case .messageTooLong(let limit): return "message longer than \(limit) bytes"
            }
        }
    }

    public let maxMessageBytes: Int
    private var buffer: [UInt8] = []

    public init(maxMessageBytes: Int) {
        precondition(maxMessageBytes > 0, "a message may have at least one byte")
        self.maxMessageBytes = maxMessageBytes
    }

    /// Bytes buffered towards the next message.
    public var pendingBytes: Int { buffer.count }

    /// Adds bytes; returns the messages they complete (without their NUL), in order.
    public mutating func append<Bytes: Sequence>(_ bytes: Bytes) throws(Failure) -> [[UInt8]] where Bytes.Element == UInt8 {
        var messages: [[UInt8]] = []
        for byte in bytes {
            if byte == 0 {
                messages.append(buffer)
                buffer.removeAll(keepingCapacity: true)
            } else {
                guard buffer.count < maxMessageBytes else { throw .messageTooLong(limit: maxMessageBytes) }
                buffer.append(byte)
            }
        }
        return messages
    }
}
