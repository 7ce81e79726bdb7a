import NIOCore
import SwitchboardStore

/// A stored file's bytes, chunk by chunk in order, read from the database a few chunks at a time
/// as they are consumed (an upload to Meta streams it; nothing holds the whole file).
struct MediaChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let store: MediaStore
    let mediaID: Int64
    let size: Int
    /// Chunks read per query (2 MiB).
    static let chunksPerRead = 8

    struct AsyncIterator: AsyncIteratorProtocol {
        let store: MediaStore
        let mediaID: Int64
        let lastSeq: Int
        var nextSeq = 0
        var buffered: [[UInt8]] = []

        mutating func next() async throws -> ByteBuffer? {
            if buffered.isEmpty {
                guard nextSeq <= lastSeq else { return nil }
                let upTo = Swift.min(nextSeq + MediaChunks.chunksPerRead - 1, lastSeq)
                buffered = try await store.chunks(mediaID, nextSeq...upTo).reversed()
                // A chunk missing from the middle is a damaged file, never a shorter one.
                guard buffered.count == upTo - nextSeq + 1 else { throw MissingChunks(mediaID: mediaID) }
                nextSeq = upTo + 1
            }
            return buffered.popLast().map { ByteBuffer(bytes: $0) }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(store: store, mediaID: mediaID, lastSeq: size == 0 ? -1 : (size - 1) / MediaStore.chunkSize)
    }

    struct MissingChunks: Error, CustomStringConvertible {
        let mediaID: Int64
        var description: String { "file \(mediaID) is missing chunks in the database" }
    }
}
