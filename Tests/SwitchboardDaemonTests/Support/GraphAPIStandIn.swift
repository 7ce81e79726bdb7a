import Foundation
import HTTPTypes
import Hummingbird
import JSON
import Logging
import NIOCore
import Synchronization
import WhatsApp

/// A local stand-in for Meta's Graph API send endpoint, `POST /{version}/{phone-number-id}/messages`, on
/// loopback. It behaves as Meta documents: a bearer token that is checked (190, HTTP 401), required
/// parameters (100, HTTP 400), a throughput limit per business number (130429) and a pair rate limit
/// per recipient (131056), error bodies shaped `{"error": {message, type, code, error_subcode,
/// fbtrace_id}}`, and `{"messages": [{"id": "wamid…"}]}` on success. Tests can also script failures
/// for a recipient and expire the token.
final class GraphAPIStandIn: Sendable {
    struct Received: Sendable {
        var at: ContinuousClock.Instant
        var phoneNumberID: String
        /// `to`, `recipient`, or the `message_id` of a read receipt.
        var recipient: String
        var body: JSONValue
        /// Meta's error code answered, nil for success.
        var answeredCode: Int?
    }

    /// A failure answered instead of success.
    struct Failure: Sendable {
        var httpStatus: Int
        var code: Int?
        var subcode: Int?
        var message: String
        var details: String?

        static let serverError = Failure(httpStatus: 500, code: 131000, message: "Something went wrong", details: "Something went wrong. Please try again later.")
        static let undeliverable = Failure(httpStatus: 400, code: 131026, message: "Message undeliverable", details: "Message Undeliverable.")
        static let outsideWindow = Failure(httpStatus: 400, code: 131047, message: "Re-engagement message",
                                           details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.")
        static let pairRateLimit = Failure(httpStatus: 400, code: 131056, message: "(Business Account, Consumer Account) pair rate limit hit",
                                           details: "Too many messages sent from the sender phone number to the same recipient phone number in a short period of time.")
        static let throughput = Failure(httpStatus: 400, code: 130429, message: "Rate limit hit", details: "Cloud API message throughput has been reached.")
        static let tokenExpired = Failure(httpStatus: 401, code: 190, subcode: 463,
                                          message: "Error validating access token: Session has expired on Tuesday, 24-Nov-26 10:00:00 PST.")
        /// No Graph error body at all: a proxy in front of Meta answering 502.
        static let badGateway = Failure(httpStatus: 502, code: nil, message: "Bad Gateway")
    }

    private struct State {
        var received: [Received] = []
        var scripted: [String: [Failure]] = [:]
        var tokenExpired = false
        var lastAcceptedPerRecipient: [String: ContinuousClock.Instant] = [:]
        var acceptedTimes: [ContinuousClock.Instant] = []
        var nextID = 1
        /// Files by media id: the bytes, their type, and the SHA-256 the lookup gives (hex).
        var media: [String: (bytes: [UInt8], mimeType: String, sha256: String)] = [:]
        var mediaDownloads = 0
        var uploads: [Upload] = []
    }

    /// A file a business uploaded (`POST /{version}/{phone-number-id}/media`).
    struct Upload: Sendable, Equatable {
        var id: String
        var phoneNumberID: String
        var type: String
        var fileName: String?
        var bytes: [UInt8]
    }

    let accessToken: String
    /// Enforced like Meta: more than this many accepted sends in a window answer 130429. The window is
    /// 900 ms, not a full second: 100 ms of allowance for requests that spent longer on the way in
    /// on a loaded machine (the sender spaces its starts by a full second).
    let messagesPerSecond: Int
    /// Enforced like Meta: a send to a recipient sooner than this after the last accepted one answers 131056.
    let pairInterval: Duration
    private let state = Mutex(State())
    let port: Int
    private let serverTask: Task<Void, any Error>

    static let rateWindow = Duration.milliseconds(900)

    var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(accessToken: String, messagesPerSecond: Int, pairInterval: Duration, port: Int, serverTask: Task<Void, any Error>) {
        self.accessToken = accessToken
        self.messagesPerSecond = messagesPerSecond
        self.pairInterval = pairInterval
        self.port = port
        self.serverTask = serverTask
    }

    /// Starts a stand-in on a free loopback port.
    static func start(accessToken: String = "test-access-token", messagesPerSecond: Int = 80, pairInterval: Duration = .zero) async throws -> GraphAPIStandIn {
        let box = Box()
        let router = Router()
        router.post(":version/:phone/messages") { request, context in
            guard let standIn = box.standIn else { return Response(status: .serviceUnavailable) }
            let body = try await request.body.collect(upTo: 1 << 20)
            return standIn.handle(phoneNumberID: context.parameters.get("phone") ?? "", authorization: request.headers[.authorization],
                                  body: Array(buffer: body))
        }
        router.post(":version/:phone/media") { request, context in
            guard let standIn = box.standIn else { return Response(status: .serviceUnavailable) }
            let body = try await request.body.collect(upTo: 120 << 20)
            return standIn.upload(phoneNumberID: context.parameters.get("phone") ?? "", authorization: request.headers[.authorization],
                                  contentType: request.headers[.contentType], body: Array(buffer: body))
        }
        router.get("media-download/:media") { request, context in
            guard let standIn = box.standIn else { return Response(status: .serviceUnavailable) }
            return standIn.download(context.parameters.get("media") ?? "", authorization: request.headers[.authorization])
        }
        // The media lookup shares its place in the path with the phone number id of the send route
        // (Hummingbird wants one name per place): here it is the media id.
        router.get(":version/:phone") { request, context in
            guard let standIn = box.standIn else { return Response(status: .serviceUnavailable) }
            return standIn.lookUp(context.parameters.get("phone") ?? "", authorization: request.headers[.authorization])
        }
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "graph-stand-in"),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "graph-stand-in", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let serverTask = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw CancellationError() }
        let standIn = GraphAPIStandIn(accessToken: accessToken, messagesPerSecond: messagesPerSecond, pairInterval: pairInterval, port: port, serverTask: serverTask)
        box.standIn = standIn
        return standIn
    }

    func stop() {
        serverTask.cancel()
    }

    /// Answers the next `count` sends to `recipient` with `failure`.
    func fail(_ recipient: String, with failure: Failure, times count: Int = 1) {
        state.withLock { $0.scripted[recipient, default: []] += Array(repeating: failure, count: count) }
    }

    func expireToken() {
        state.withLock { $0.tokenExpired = true }
    }

    /// An operator put in a new token.
    func renewToken() {
        state.withLock { $0.tokenExpired = false }
    }

    var received: [Received] { state.withLock { $0.received } }

    // MARK: Media, as Meta serves it: a lookup (`GET /{version}/{media-id}`) answers where the file is
    // and its hex SHA-256; the file is then fetched with the same bearer token.

    /// A file a customer sent; `sha256` overrides the true digest (a file that is not what Meta says).
    func addMedia(_ id: String, bytes: [UInt8], mimeType: String, sha256: String? = nil) {
        let digest = sha256 ?? SHA256Hasher.hex(bytes)
        state.withLock { $0.media[id] = (bytes, mimeType, digest) }
    }

    var mediaDownloads: Int { state.withLock { $0.mediaDownloads } }
    var uploads: [Upload] { state.withLock { $0.uploads } }

    /// Meta's upload: a multipart form with `messaging_product=whatsapp`, `type` and `file`; the
    /// answer is the new media id, which the lookup and download then know too.
    private func upload(phoneNumberID: String, authorization: String?, contentType: String?, body: [UInt8]) -> Response {
        if let failure = authorizationFailure(authorization) { return Self.errorResponse(failure) }
        func missing(_ parameter: String) -> Response {
            Self.errorResponse(Failure(httpStatus: 400, code: 100, message: "(#100) The parameter \(parameter) is required."))
        }
        guard let boundary = contentType?.split(separator: ";").compactMap({ part -> String? in
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("boundary=") ? String(trimmed.dropFirst("boundary=".count)) : nil
        }).first else { return missing("file") }
        let parts = Self.formParts(body, boundary: boundary)
        guard parts["messaging_product"].map({ String(decoding: $0.bytes, as: UTF8.self) }) == "whatsapp" else { return missing("messaging_product") }
        guard let type = parts["type"].map({ String(decoding: $0.bytes, as: UTF8.self) }) else { return missing("type") }
        guard let file = parts["file"], !file.bytes.isEmpty else { return missing("file") }
        let id = state.withLock { state -> String in
            let id = "\(7_000_000_000 + state.nextID)"
            state.nextID += 1
            state.uploads.append(Upload(id: id, phoneNumberID: phoneNumberID, type: type, fileName: file.fileName, bytes: file.bytes))
            state.media[id] = (file.bytes, type, SHA256Hasher.hex(file.bytes))
            return id
        }
        return Self.json(200, #"{"id":"\#(id)"}"#)
    }

    /// The parts of a `multipart/form-data` body by name, with a file part's name.
    static func formParts(_ body: [UInt8], boundary: String) -> [String: (fileName: String?, bytes: [UInt8])] {
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [String: (fileName: String?, bytes: [UInt8])] = [:]
        var starts: [Int] = []
        var index = 0
        while index + delimiter.count <= body.count {
            if body[index..<index + delimiter.count].elementsEqual(delimiter) { starts.append(index); index += delimiter.count } else { index += 1 }
        }
        for (start, end) in zip(starts, starts.dropFirst()) {
            let part = Array(body[(start + delimiter.count)..<end])
            guard let split = (0..<max(0, part.count - 3)).first(where: { part[$0] == 13 && part[$0 + 1] == 10 && part[$0 + 2] == 13 && part[$0 + 3] == 10 }) else { continue }
            let head = String(decoding: part[..<split], as: UTF8.self)
            var content = Array(part[(split + 4)...])
            if content.suffix(2) == [13, 10] { content.removeLast(2) }
            guard let disposition = head.components(separatedBy: "\r\n").first(where: { $0.lowercased().hasPrefix("content-disposition:") }) else { continue }
            func value(_ key: String) -> String? {
                guard let range = disposition.range(of: "\(key)=\"") else { return nil }
                return String(disposition[range.upperBound...].prefix { $0 != "\"" })
            }
            if let name = value("name") { parts[name] = (value("filename"), content) }
        }
        return parts
    }

    private func authorizationFailure(_ authorization: String?) -> Failure? {
        if authorization != "Bearer \(accessToken)" { return Failure(httpStatus: 401, code: 190, message: "Invalid OAuth access token - Cannot parse access token") }
        return state.withLock { $0.tokenExpired } ? .tokenExpired : nil
    }

    private func lookUp(_ id: String, authorization: String?) -> Response {
        if let failure = authorizationFailure(authorization) { return Self.errorResponse(failure) }
        guard let file = state.withLock({ $0.media[id] }) else {
            return Self.errorResponse(Failure(httpStatus: 400, code: 100, message: "Unsupported get request. Object with ID '\(id)' does not exist, cannot be loaded due to missing permissions, or does not support this operation."))
        }
        // Meta's v23 example gives file_size as a string.
        return Self.json(200, JSONValue.object(["messaging_product": "whatsapp", "url": .string("\(baseURL)/media-download/\(id)"),
                                                "mime_type": .string(file.mimeType), "sha256": .string(file.sha256),
                                                "file_size": .string("\(file.bytes.count)"), "id": .string(id)]).jsonText)
    }

    /// The bytes, in pieces of 64 KiB, as a streamed body.
    private func download(_ id: String, authorization: String?) -> Response {
        if let failure = authorizationFailure(authorization) { return Self.errorResponse(failure) }
        guard let file = state.withLock({ state -> (bytes: [UInt8], mimeType: String, sha256: String)? in
            state.mediaDownloads += 1
            return state.media[id]
        }) else { return Response(status: .notFound) }
        let bytes = file.bytes
        return Response(status: .ok, headers: [.contentType: file.mimeType], body: ResponseBody(contentLength: bytes.count) { writer in
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + 65_536, bytes.count)
                try await writer.write(ByteBuffer(bytes: bytes[offset..<end]))
                offset = end
            }
            try await writer.finish(nil)
        })
    }

    private func handle(phoneNumberID: String, authorization: String?, body bytes: [UInt8]) -> Response {
        let now = ContinuousClock.now
        let body = (try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))) ?? .null
        let recipient = body["to"]?.string ?? body["recipient"]?.string ?? body["message_id"]?.string ?? ""
        return state.withLock { state in
            func answer(_ failure: Failure) -> Response {
                state.received.append(Received(at: now, phoneNumberID: phoneNumberID, recipient: recipient, body: body, answeredCode: failure.code ?? 0))
                return Self.errorResponse(failure)
            }
            if authorization != "Bearer \(accessToken)" {
                return answer(Failure(httpStatus: 401, code: 190, message: "Invalid OAuth access token - Cannot parse access token"))
            }
            if state.tokenExpired { return answer(.tokenExpired) }
            guard body["messaging_product"]?.string == "whatsapp" else {
                return answer(Failure(httpStatus: 400, code: 100, message: "(#100) The parameter messaging_product is required."))
            }
            let isReadReceipt = body["status"]?.string == "read"
            if let typing = body["typing_indicator"], !isReadReceipt || typing["type"]?.string != "text" {
                return answer(Failure(httpStatus: 400, code: 100, message: "(#100) Param typing_indicator[type] must be one of {text} and comes with status read"))
            }
            if !isReadReceipt && recipient.isEmpty {
                return answer(Failure(httpStatus: 400, code: 100, message: "(#100) The parameter to is required."))
            }
            if var queue = state.scripted[recipient], !queue.isEmpty {
                let failure = queue.removeFirst()
                state.scripted[recipient] = queue
                return answer(failure)
            }
            state.acceptedTimes.removeAll { $0 <= now - Self.rateWindow }
            if state.acceptedTimes.count >= messagesPerSecond { return answer(.throughput) }
            if !isReadReceipt, let last = state.lastAcceptedPerRecipient[recipient], now - last < pairInterval { return answer(.pairRateLimit) }
            state.acceptedTimes.append(now)
            state.received.append(Received(at: now, phoneNumberID: phoneNumberID, recipient: recipient, body: body, answeredCode: nil))
            if isReadReceipt { return Self.json(200, #"{"success":true}"#) }
            state.lastAcceptedPerRecipient[recipient] = now
            let wamid = "wamid.standin\(state.nextID)"
            state.nextID += 1
            return Self.json(200, #"{"messaging_product":"whatsapp","contacts":[{"input":"\#(recipient)","wa_id":"\#(recipient)"}],"messages":[{"id":"\#(wamid)"}]}"#)
        }
    }

    private static func errorResponse(_ failure: Failure) -> Response {
        guard let code = failure.code else { return json(failure.httpStatus, "<html><body>\(failure.message)</body></html>", contentType: "text/html") }
        var error: [String: JSONValue] = [
            "message": .string(failure.message),
            "type": .string("OAuthException"),
            "code": .number(Double(code)),
            "fbtrace_id": .string("AbCdEfStandIn"),
        ]
        if let subcode = failure.subcode { error["error_subcode"] = .number(Double(subcode)) }
        if let details = failure.details { error["error_data"] = .object(["messaging_product": .string("whatsapp"), "details": .string(details)]) }
        return json(failure.httpStatus, JSONValue.object(["error": .object(error)]).jsonText)
    }

    private static func json(_ status: Int, _ text: String, contentType: String = "application/json") -> Response {
        Response(status: .init(code: status), headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Lets the route reach the stand-in, which is created once the server runs.
    private final class Box: Sendable {
        private let value = Mutex<GraphAPIStandIn?>(nil)
        var standIn: GraphAPIStandIn? {
            get { value.withLock { $0 } }
            set { value.withLock { $0 = newValue } }
        }
    }
}
