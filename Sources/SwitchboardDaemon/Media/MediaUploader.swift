import Foundation
import Logging
import NIOCore
import Postgres
import SwitchboardCore
import SwitchboardStore
import WhatsApp

/// An agent's file, on its way to the customer: checked against WhatsApp's types and limits before
/// anything is sent, streamed into PostgreSQL (kept like a customer's file, so the ticket shows it
/// and every instance serves it), then streamed from there to the Graph API, which answers the
/// media id a reply carries. Whatever fails on the way leaves nothing behind.
public struct MediaUploader: Sendable {
    let store: MediaStore
    let client: GraphAPIClient
    let logger: Logger

    public init(store: MediaStore, client: GraphAPIClient, logger: Logger) {
        self.store = store
        self.client = client
        self.logger = logger
    }

    /// A file Meta took.
    public struct Uploaded: Sendable, Equatable {
        public var id: Int64
        public var kind: MediaKind
        public var mimeType: String
        public var fileName: String
        public var size: Int
        public var sha256Hex: String
    }

    public enum Failure: Error, Sendable, Equatable {
        /// Not a file WhatsApp takes (type, size): nothing was sent.
        case refused(MediaUpload.Refusal)
        /// The Graph API refused it or did not answer.
        case graph(GraphAPIError)
        /// The request's body broke off before its end.
        case bodyBroken(String)
    }

    /// Uploads the file `body` brings for ticket `ticketID`.
    ///
    /// - Parameters:
    ///   - declaredSize: the request's `Content-Length`, when it has one: a file over the limit is
    ///     refused before a byte is read.
    public func upload<Body: AsyncSequence>(ticketID: Int64, agent: String, contentType: String?, declaredSize: Int?, fileName: String?,
                                            body: Body) async throws -> Uploaded where Body.Element == ByteBuffer {
        let format: MediaUpload.Format
        switch MediaUpload.format(contentType: contentType, size: declaredSize) {
        case .success(let known): format = known
        case .failure(let refusal): throw Failure.refused(refusal)
        }
        let placed = try await store.beginUpload(ticketID: ticketID, kind: format.kind.rawValue, mimeType: format.type, fileName: fileName,
                                                 by: agent, now: Date())
        do {
            let store = self.store
            var writer = MediaChunkWriter(limit: format.limit) { seq, bytes in try await store.appendUploadChunk(placed.id, seq: seq, bytes: bytes) }
            do {
                for try await piece in body { try await writer.write(piece) }
            } catch is MediaTooLarge {
                throw Failure.refused(.tooLarge(format.kind, limit: format.limit))
            } catch let error where !(error is Failure) && !(error is PostgresError) {
                // The database's errors are the daemon's; anything else came from the request's body.
                throw Failure.bodyBroken("\(error)")
            }
            let written = try await writer.finish()
            guard written.size > 0 else { throw Failure.refused(.empty) }
            if let declaredSize, declaredSize != written.size {
                throw Failure.bodyBroken("\(written.size) bytes arrived of the \(declaredSize) Content-Length announced")
            }
            let name = fileName ?? "\(format.kind.rawValue)-\(placed.id).\(format.fileExtension)"
            let waMediaID: String
            do {
                waMediaID = try await client.uploadMedia(from: placed.businessNumber, mimeType: format.type, fileName: name, size: written.size,
                                                         pieces: MediaChunks(store: store, mediaID: placed.id, size: written.size))
            } catch {
                throw Failure.graph(error)
            }
            let digest = MediaDigest.hex(written.digest)
            try await store.recordUploaded(placed.id, waMediaID: waMediaID, size: written.size, sha256Hex: digest, fileName: name, now: Date())
            logger.info("file uploaded", metadata: ["media": "\(placed.id)", "kind": "\(format.kind.rawValue)", "bytes": "\(written.size)", "by": "\(agent)"])
            return Uploaded(id: placed.id, kind: format.kind, mimeType: format.type, fileName: name, size: written.size, sha256Hex: digest)
        } catch {
            do {
                try await store.discardUpload(placed.id)
            } catch let discard {
                // Retention deletes it within a day (`discardAbandonedUploads`).
                logger.warning("a failed upload was not deleted", metadata: ["media": "\(placed.id)", "error": "\(discard)"])
            }
            if case Failure.graph(let graph) = error, graph.kind == .sendingBlocked {
                logger.critical("the Graph API refuses the access token: files cannot be sent", metadata: ["error": "\(graph)"])
            }
            throw error
        }
    }
}
