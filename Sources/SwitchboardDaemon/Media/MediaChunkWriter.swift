import NIOCore
import SwitchboardStore
import WhatsApp

/// Cuts a file arriving in pieces of any size into `MediaStore.chunkSize` chunks, written in order
/// as each fills, and hashes every byte on the way: never more than one chunk in memory.
struct MediaChunkWriter {
    let store: MediaStore
    let mediaID: Int64
    /// Most bytes taken; one more is `MediaTooLarge`, and nothing further is written.
    let limit: Int
    private let hasher = SHA256Hasher()
    private var pending: [UInt8] = []
    private var seq = 0
    private(set) var size = 0

    init(store: MediaStore, mediaID: Int64, limit: Int) {
        self.store = store
        self.mediaID = mediaID
        self.limit = limit
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
            if pending.count == MediaStore.chunkSize {
                try await store.appendChunk(mediaID, seq: seq, bytes: pending)
                seq += 1
                pending.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Writes the last, partial chunk (an empty file has one empty chunk) and returns the size and
    /// SHA-256 of everything written. The writer is spent afterwards.
    mutating func finish() async throws -> (size: Int, digest: [UInt8]) {
        if !pending.isEmpty || seq == 0 { try await store.appendChunk(mediaID, seq: seq, bytes: pending) }
        pending = []
        return (size, hasher.finish())
    }
}
