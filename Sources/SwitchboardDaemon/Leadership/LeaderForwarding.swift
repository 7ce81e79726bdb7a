import AsyncHTTPClient
import Foundation
import Hummingbird
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1

/// On a standby, the agents' API is the leader's: every request under `/api/` is passed to the
/// leader's `cluster.advertiseURL` as it came (method, path, headers, body, streamed both ways —
/// the event stream too) and its answer returned as it is. Tokens and sessions are in the
/// database, so the leader knows the caller. Pages, webhooks, health and metrics stay local.
public struct LeaderForwarding: RouterMiddleware {
    public typealias Context = BasicRequestContext

    static var forwardedHeader: HTTPField.Name { HTTPField.Name("X-Switchboard-Forwarded-By")! }

    let leadership: LeadershipStatus
    let client: HTTPClient
    let logger: Logger

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/api/"), !leadership.isLeading else {
            return try await next(request, context)
        }
        let snapshot = leadership.snapshot
        if request.headers[Self.forwardedHeader] != nil {
            // Passed on by another instance that took this one for the leader: not twice.
            return Self.unavailable("this instance (\(snapshot.node)) no longer leads; try again in a moment")
        }
        guard let leader = snapshot.leader else {
            return Self.unavailable("no instance leads right now (a takeover is under way); try again in a few seconds")
        }
        guard let address = snapshot.leaderAddress else {
            return Self.unavailable("this instance (\(snapshot.node)) stands by and the leader (\(leader)) has no cluster.advertiseURL to pass the call to; "
                                    + "use the leader, or set cluster.advertiseURL on it")
        }
        var forwarded = HTTPClientRequest(url: address + request.uri.description)
        forwarded.method = NIOHTTP1.HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers where !Self.hopByHop.contains(field.name.canonicalName) {
            forwarded.headers.add(name: field.name.rawName, value: field.value)
        }
        // `Host` stays as the agent's browser sent it: the leader's same-origin check compares it
        // with `Origin` (a signed-in agent's changes), and links it builds point where the agent is.
        if let authority = request.head.authority { forwarded.headers.replaceOrAdd(name: "Host", value: authority) }
        forwarded.headers.add(name: Self.forwardedHeader.rawName, value: snapshot.node)
        if let length = request.headers[.contentLength].flatMap(Int64.init) {
            forwarded.body = .stream(request.body, length: .known(length))
        } else if request.method != .get && request.method != .head {
            forwarded.body = .stream(request.body, length: .unknown)
        }
        // An event stream lasts as long as the agent keeps it open.
        let streams = request.headers[.accept]?.contains("text/event-stream") == true || request.uri.path.hasSuffix("/events")
        let answer: HTTPClientResponse
        do {
            answer = try await client.execute(forwarded, timeout: streams ? .hours(24) : .seconds(30), logger: logger)
        } catch {
            logger.warning("API call not passed to the leader", metadata: ["leader": "\(leader)", "address": "\(address)", "error": "\(error)"])
            return Self.unavailable("the leader (\(leader) at \(address)) did not answer: \(error); try again in a moment")
        }
        var headers = HTTPFields()
        for (name, value) in answer.headers where !Self.hopByHop.contains(name.lowercased()) {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        return Response(status: .init(code: Int(answer.status.code), reasonPhrase: answer.status.reasonPhrase), headers: headers,
                        body: ResponseBody(asyncSequence: answer.body))
    }

    /// Headers that describe one connection, not the message (RFC 9110 §7.6.1), and the ones the
    /// client sets itself.
    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host",
                                        "content-length"]

    static func unavailable(_ message: String) -> Response {
        var response = APIFailure(status: .serviceUnavailable, code: "no_leader", message: message).response
        response.headers[.retryAfter] = "1"
        return response
    }
}
