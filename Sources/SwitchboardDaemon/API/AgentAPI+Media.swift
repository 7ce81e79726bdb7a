import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwitchboardCore
import SwitchboardStore

/// `GET /api/v1/media/{id}`: a customer's file, to whoever may see its ticket, as stored: its type,
/// `nosniff`, inline only for images, audio and video (anything else downloads), a strong `ETag`
/// (the SHA-256 of the bytes), and one `Range` (audio and video seek). Read from the database a few
/// chunks at a time, never whole.
extension AgentAPI {
    static let eTag = HTTPField.Name("ETag")!
    static let ifNoneMatch = HTTPField.Name("If-None-Match")!
    static let ifRange = HTTPField.Name("If-Range")!
    static let range = HTTPField.Name("Range")!
    static let contentRange = HTTPField.Name("Content-Range")!
    static let acceptRanges = HTTPField.Name("Accept-Ranges")!
    static let contentDisposition = HTTPField.Name("Content-Disposition")!
    static let nosniff = HTTPField.Name("X-Content-Type-Options")!
    /// Chunks read per query while a file is sent (2 MiB).
    static let chunksPerRead = 8

    func media(_ caller: APICaller, _ request: Request, _ idText: String) async throws -> Response {
        let media = store.media
        guard let id = Int64(idText), id > 0, let file = try await media.file(id), Permissions.canSee(caller.permissions, file.place) else {
            throw APIFailure.notFound("media", idText)
        }
        guard file.state == "stored", let size = file.size, let digest = file.sha256Hex else {
            let why = file.state == "pending" ? "not fetched yet" : file.state == "purged" ? "purged after its retention" : "not fetched: \(file.failure ?? "unknown")"
            throw APIFailure.conflict("media_\(file.state)", "media \(id) is \(why)")
        }
        let tag = "\"\(digest)\""
        var headers: HTTPFields = [.contentType: file.mimeType ?? "application/octet-stream", Self.nosniff: "nosniff", Self.eTag: tag,
                                   Self.acceptRanges: "bytes", .cacheControl: "private, max-age=86400",
                                   // Whatever a file holds, it runs nothing in the inbox's origin.
                                   .contentSecurityPolicy: "default-src 'none'; sandbox"]
        headers[Self.contentDisposition] = Self.disposition(file)
        if let match = request.headers[Self.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == tag || $0 == "*" }) {
            return Response(status: .notModified, headers: headers)
        }
        // A Range that names another version of the file (If-Range) gets the whole file.
        let rangeHeader = request.headers[Self.ifRange].map { $0 == tag } ?? true ? request.headers[Self.range] : nil
        let part: ByteRange
        var status = HTTPResponse.Status.ok
        switch ByteRange.request(rangeHeader, size: size) {
        case .whole:
            part = ByteRange(first: 0, last: size - 1)
        case .part(let range):
            part = range
            status = .partialContent
            headers[Self.contentRange] = "bytes \(range.first)-\(range.last)/\(size)"
        case .unsatisfiable:
            headers[Self.contentRange] = "bytes */\(size)"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        }
        guard size > 0 else { return Response(status: .ok, headers: headers, body: ResponseBody()) }
        return Response(status: status, headers: headers, body: ResponseBody(contentLength: part.count) { writer in
            try await Self.write(media, id, part, to: &writer)
            try await writer.finish(nil)
        })
    }

    /// The bytes `part` of the file, from the chunks that hold them.
    private static func write(_ media: MediaStore, _ id: Int64, _ part: ByteRange, to writer: inout any ResponseBodyWriter) async throws {
        let chunk = MediaStore.chunkSize
        var seq = part.first / chunk
        let lastSeq = part.last / chunk
        while seq <= lastSeq {
            let upTo = min(seq + chunksPerRead - 1, lastSeq)
            for (offset, bytes) in try await media.chunks(id, seq...upTo).enumerated() {
                let start = (seq + offset) * chunk
                let from = max(part.first - start, 0), to = min(part.last - start, bytes.count - 1)
                guard from <= to else { continue }
                try await writer.write(ByteBuffer(bytes: bytes[from...to]))
            }
            seq = upTo + 1
        }
    }

    /// Inline for what a browser shows (images, audio, video); anything else is downloaded, with
    /// its file name (RFC 6266; non-ASCII names in `filename*`).
    static func disposition(_ file: MediaStore.File) -> String {
        let type = (file.mimeType ?? "").lowercased()
        // SVG is an image that runs scripts: never shown inline (Meta does not carry it anyway).
        let inline = ["image/", "audio/", "video/"].contains { type.hasPrefix($0) } && file.kind != "document" && !type.contains("svg")
        let name = file.fileName ?? "media-\(file.id)"
        let ascii = String(name.unicodeScalars.map { $0.isASCII && $0 != "\"" && $0 != "\\" && $0.value >= 0x20 ? Character($0) : "_" })
        // RFC 8187: every byte of the UTF-8 name outside RFC 3986's unreserved ASCII, percent-encoded.
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        let encoded = name.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ascii
        return "\(inline ? "inline" : "attachment"); filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)"
    }
}
