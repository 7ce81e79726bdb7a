import AsyncHTTPClient
import Foundation
import JSON
import NIOCore

/// Uploads through the Graph API: `POST /{version}/{phone-number-id}/media`, a multipart form with
/// `messaging_product`, `type` and the file, answered with the media id a message then carries
/// (Meta keeps it 30 days).
extension GraphAPIClient {
    /// Uploads `size` bytes that `pieces` yields in order (streamed, never held whole) as a file of
    /// `mimeType` for business number `phoneNumberID`; returns Meta's media id.
    public func uploadMedia<Pieces: AsyncSequence & Sendable>(from phoneNumberID: String, mimeType: String, fileName: String, size: Int,
                                                            pieces: Pieces) async throws(GraphAPIError) -> String where Pieces.Element == ByteBuffer {
        let form = MultipartForm(mimeType: mimeType, fileName: fileName)
        var request = HTTPClientRequest(url: "\(configuration.baseURL)/\(configuration.version)/\(phoneNumberID)/media")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.accessToken)")
        request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(form.boundary)")
        request.body = .stream(MultipartBody(head: form.head, pieces: pieces, tail: form.tail), length: .known(Int64(form.head.readableBytes + size + form.tail.readableBytes)))

        let response: HTTPClientResponse
        do {
            let timeout = configuration.timeout.components
            // The timeout covers the transfer too: a large file is given a second per megabyte more.
            let seconds = timeout.seconds + Int64(size / 1_000_000)
            response = try await httpClient.execute(request, timeout: .nanoseconds(seconds * 1_000_000_000 + timeout.attoseconds / 1_000_000_000))
        } catch {
            throw GraphAPIError(httpStatus: nil, code: nil, message: "the upload did not reach the Graph API: \(error)")
        }
        let status = Int(response.status.code)
        var buffer = (try? await response.body.collect(upTo: 1 << 16)) ?? ByteBuffer()
        let body = buffer.readBytes(length: buffer.readableBytes) ?? []
        guard (200..<300).contains(status) else { throw GraphAPIError(httpStatus: status, body: body) }
        guard let id = (try? JSONParser.parse(body))?["id"]?.string, !id.isEmpty else {
            throw GraphAPIError(httpStatus: status, code: nil, message: "the upload was answered without a media id")
        }
        return id
    }
}

/// The parts of Meta's upload form around the file's bytes.
struct MultipartForm {
    let boundary = "switchboard-" + UUID().uuidString.lowercased()
    let head: ByteBuffer
    let tail: ByteBuffer

    init(mimeType: String, fileName: String) {
        // The name goes in a quoted string: quotes, backslashes and line breaks cannot be in it.
        let safeName = String(fileName.unicodeScalars.map { $0 == "\"" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F ? "_" : Character($0) })
        let text = "--\(boundary)\r\nContent-Disposition: form-data; name=\"messaging_product\"\r\n\r\nwhatsapp\r\n"
            + "--\(boundary)\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\n\(mimeType)\r\n"
            + "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(safeName)\"\r\nContent-Type: \(mimeType)\r\n\r\n"
        head = ByteBuffer(string: text)
        tail = ByteBuffer(string: "\r\n--\(boundary)--\r\n")
    }
}

/// The form's head, the file's pieces, the form's tail: one stream.
struct MultipartBody<Pieces: AsyncSequence & Sendable>: AsyncSequence, Sendable where Pieces.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let head: ByteBuffer
    let pieces: Pieces
    let tail: ByteBuffer

    struct AsyncIterator: AsyncIteratorProtocol {
        enum Part { case head, file, tail, done }
        var part = Part.head
        let head: ByteBuffer
        var pieces: Pieces.AsyncIterator
        let tail: ByteBuffer

        mutating func next() async throws -> ByteBuffer? {
            switch part {
            case .head:
                part = .file
                return head
            case .file:
                if let piece = try await pieces.next() { return piece }
                part = .tail
                return tail
            case .tail, .done:
                part = .done
                return nil
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(head: head, pieces: pieces.makeAsyncIterator(), tail: tail)
    }
}
