import AsyncHTTPClient
import Foundation
import JSON
import NIOCore

/// Media through the Graph API: `GET /{version}/{media-id}` says where a file is (a URL valid for a
/// few minutes) and what it is; `GET` that URL with the same bearer token streams the bytes.
extension GraphAPIClient {
    public struct MediaInfo: Sendable, Equatable {
        public var url: String
        public var mimeType: String?
        /// Meta's SHA-256 of the file, as it gave it (hex or base64).
        public var sha256: String?
        public var fileSize: Int?
    }

    /// Where the file of `mediaID` is, and what Meta says of it.
    public func mediaInfo(_ mediaID: String) async throws(GraphAPIError) -> MediaInfo {
        // Meta's ids are digits; anything else is kept to one path segment (RFC 3986's unreserved
        // characters as they are, the rest percent-encoded).
        let encoded = mediaID.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? mediaID
        let response = try await get("\(configuration.baseURL)/\(configuration.version)/\(encoded)")
        let status = Int(response.status.code)
        let body = await Self.collect(response)
        guard (200..<300).contains(status) else { throw GraphAPIError(httpStatus: status, body: body) }
        guard let json = try? JSONParser.parse(body), let url = json["url"]?.string, !url.isEmpty else {
            throw GraphAPIError(httpStatus: status, code: nil, message: "the media lookup answered without a url")
        }
        return MediaInfo(url: url, mimeType: json["mime_type"]?.string, sha256: json["sha256"]?.string,
                         fileSize: json["file_size"]?.number.flatMap { Int(exactly: $0) })
    }

    /// Streams the file at `url` to `receive`, piece by piece as it arrives, and returns its
    /// `Content-Type`. More than `maxBytes` (Meta's limit for the kind) stops the transfer with an
    /// error. Errors of `receive` (storing a piece) come out as they are.
    public func download(_ url: String, maxBytes: Int, receive: (ByteBuffer) async throws -> Void) async throws -> String? {
        let response = try await get(url)
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else { throw GraphAPIError(httpStatus: status, body: await Self.collect(response)) }
        let length = response.headers.first(name: "Content-Length").flatMap(Int.init)
        if let length, length > maxBytes {
            throw MediaTooLarge(limit: maxBytes)
        }
        var received = 0
        do {
            for try await piece in response.body {
                received += piece.readableBytes
                guard received <= maxBytes else { throw MediaTooLarge(limit: maxBytes) }
                try await receive(piece)
            }
        } catch where error is HTTPClientError {
            // No answer to the whole request: as transient as a reset connection (no status).
            throw GraphAPIError(httpStatus: nil, code: nil, message: "the download broke off after \(received) bytes: \(error)")
        }
        // A cancelled task ends the body early without an error: that is not the whole file.
        try Task.checkCancellation()
        // (Content-Length counts the bytes as sent: compressed ones, when they were.)
        if let length, received != length, response.headers.first(name: "Content-Encoding") == nil {
            throw GraphAPIError(httpStatus: nil, code: nil, message: "the download broke off after \(received) of \(length) bytes")
        }
        return response.headers.first(name: "Content-Type")
    }

    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// A GET with the bearer token; no answer at all is a `GraphAPIError` without a status.
    private func get(_ url: String) async throws(GraphAPIError) -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.accessToken)")
        do {
            let timeout = configuration.timeout.components
            return try await httpClient.execute(request, timeout: .nanoseconds(timeout.seconds * 1_000_000_000 + timeout.attoseconds / 1_000_000_000))
        } catch {
            throw GraphAPIError(httpStatus: nil, code: nil, message: "no answer from the Graph API: \(error)")
        }
    }

    /// An error answer's body (at most 64 KiB; what cannot be read is empty).
    private static func collect(_ response: HTTPClientResponse) async -> [UInt8] {
        guard var buffer = try? await response.body.collect(upTo: 1 << 16) else { return [] }
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }
}

/// A file larger than the caller accepts: the transfer was stopped.
public struct MediaTooLarge: Error, Sendable, Equatable {
    public var limit: Int

    public init(limit: Int) {
        self.limit = limit
    }
}
