import AsyncHTTPClient
import Foundation
import JSON
import Logging
import NIOCore
import NIOHTTP1

/// Sends messages through the Cloud API: `POST {baseURL}/{version}/{phone-number-id}/messages` with a
/// bearer token. One request per call; rates, pacing and retries are the caller's.
public struct GraphAPIClient: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// `https://graph.facebook.com` in production; a local stand-in in tests.
        public var baseURL: String
        public var version: String
        public var accessToken: String
        public var timeout: Duration

        public init(baseURL: String, version: String, accessToken: String, timeout: Duration) {
            self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            self.version = version
            self.accessToken = accessToken
            self.timeout = timeout
        }
    }

    /// What Meta answered to an accepted send.
    public struct Accepted: Sendable, Equatable {
        /// The new message's `wamid`; nil for a read receipt (answered `{"success": true}`), and when a
        /// 2xx answer could not be read (the status webhook, which echoes the send's id, brings it).
        public var wamid: String?
    }

    public let configuration: Configuration
    let httpClient: HTTPClient

    public init(configuration: Configuration, httpClient: HTTPClient) {
        self.configuration = configuration
        self.httpClient = httpClient
    }

    /// Sends one request body (from `SendRequest.body`) through business number `phoneNumberID`.
    public func send(from phoneNumberID: String, body: JSONValue) async throws(GraphAPIError) -> Accepted {
        try await send(from: phoneNumberID, requestJSON: body.jsonText)
    }

    /// Sends a request body already encoded as JSON text (as the outbox stores it).
    public func send(from phoneNumberID: String, requestJSON: String) async throws(GraphAPIError) -> Accepted {
        let url = "\(configuration.baseURL)/\(configuration.version)/\(phoneNumberID)/messages"
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.accessToken)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: requestJSON))

        let response: HTTPClientResponse
        do {
            let timeout = configuration.timeout.components
            response = try await httpClient.execute(request, timeout: .nanoseconds(timeout.seconds * 1_000_000_000 + timeout.attoseconds / 1_000_000_000))
        } catch {
            throw GraphAPIError(httpStatus: nil, code: nil, message: "no answer from the Graph API: \(error)")
        }
        let status = Int(response.status.code)
        let responseBody: [UInt8]? = try? await {
            var buffer = try await response.body.collect(upTo: 1 << 20)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        }()
        guard (200..<300).contains(status) else {
            throw GraphAPIError(httpStatus: status, body: responseBody ?? [])
        }
        // A 2xx means Meta took the message: never an error (a retry would send it twice), even when
        // the body cannot be read or names no message.
        let json = responseBody.flatMap { try? JSONParser.parse($0) }
        return Accepted(wamid: json?["messages"]?.array.first?["id"]?.string)
    }
}
