import NIOCore
import SwitchboardStore
import WhatsApp

/// Cuts a file arriving in pieces of any size into `MediaStore.chunkSize` chunks, handed to
/// `append` in order as each fills, and hashes every byte on the way: never more than one chunk in
/// memory. The fetcher (a customer's file) and the uploader (an agent's) both write through it.
struct MediaChunkWriter {
    /// Stores chunk number `seq`.
    typealias Append = (_ seq: Int, _ bytes: [UInt8]) async throws -> Void

    /// Most bytes taken; one more is `MediaTooLarge`, and nothing further is written.
    let limit: Int
    private let append: Append
    private let hasher = SHA256Hasher()
    private var pending: [UInt8] = []
    private var seq = 0
    private(set) var size = 0

    init(limit: Int, append: @escaping Append) {
        self.limit = limit
        self.append = append
        pending.reserveCapacity(MediaStore.chunkSize)
    }

    mutating func write(_ piece: ByteBuffer) async throws {
        size += piece.readableBytes
        guard size <= limit else { throw MediaTooLarge(limit: limit) }
        piece.withUnsafeReadableBytes { hasher.update($0) }
        var rest = piece
        while rest.readableBytes > 0 {
            let take = min(rest.readableBytes, MediaStore.chunkSize - pending.count)
            pending += rest.readBytes(length: take) ?? []
            if pending.count == MediaStore.chunkSize { try await flush() }
        }
    }

    /// Writes the last, partial chunk (an empty file has one empty chunk) and returns the size and
    /// SHA-256 of everything written. The writer is spent afterwards.
    mutating func finish() async throws -> (size: Int, digest: [UInt8]) {
        if !pending.isEmpty || seq == 0 { try await flush() }
        return (size, hasher.finish())
    }

    private mutating func flush() async throws {
        try await append(seq, pending)
        seq += 1
        pending.removeAll(keepingCapacity: true)
    }
}
