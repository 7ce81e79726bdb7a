import AsyncHTTPClient
import Foundation
import Hummingbird
import HTTPTypes
import JSON
import Logging
import NIOCore
import SwitchboardCore
import WhatsApp

/// Control commands given on a standby run on the leader: the standby passes the call and the
/// peer's credentials (as the kernel told it) to the leader's `POST /cluster/v1/control`, signed
/// with the key in the lease row (HMAC-SHA256, as Meta signs webhooks); the leader admits the peer
/// under its own access rules, runs the call, audits it, and answers with the reply. `Status` and
/// `Reload` are about the instance asked, so they stay local; `Watch` streams and is refused with
/// where to watch instead.
struct ControlForwarding: Sendable {
    static let path = "/cluster/v1/control"
    static let signatureHeader = "X-Switchboard-Signature"
    /// How old a signed call may be when it arrives (a replay of a captured one is refused after).
    static let maxAge: TimeInterval = 30
    static let local: Set<String> = ["Status", "Reload"]

    let leadership: LeadershipStatus
    let client: HTTPClient
    let logger: Logger

    /// Whether `method` (the name after the interface) runs on the leader while this instance stands by.
    func passes(_ method: String) -> Bool {
        !leadership.isLeading && !Self.local.contains(method)
    }

    func forward(_ call: VarlinkCall, credentials: PeerCredentials) async -> VarlinkReply {
        let snapshot = leadership.snapshot
        guard let leader = snapshot.leader else {
            return .failure("io.switchboard.Control.Unavailable", ["reason": "no instance leads right now (a takeover is under way); try again in a few seconds"])
        }
        guard let address = snapshot.leaderAddress, let key = snapshot.relayKey else {
            return .failure("io.switchboard.Control.Unavailable", [
                "reason": .string("this instance (\(snapshot.node)) stands by; the leader (\(leader)) has no cluster.advertiseURL to pass the call to: run it there")])
        }
        if call.method.hasSuffix(".Watch") {
            return .failure("io.switchboard.Control.Unavailable", [
                "reason": .string("this instance (\(snapshot.node)) stands by: watch on the leader, \(leader)")])
        }
        let body = Array(JSONWriter.write([
            "call": ["method": .string(call.method), "parameters": .object(call.parameters.mapValues(JSONValue.init))],
            "peer": ["pid": .int(Int(credentials.pid)), "uid": .int(Int(credentials.uid)), "gid": .int(Int(credentials.gid)),
                     "user": .string(credentials.user), "groups": .strings(credentials.groups)],
            "at": .double(Date().timeIntervalSince1970),
            "via": .string(snapshot.node),
        ]).utf8)
        var request = HTTPClientRequest(url: address + Self.path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: Self.signatureHeader, value: WebhookSignature(appSecret: key).headerValue(for: body))
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .seconds(30), logger: logger)
            let bytes = try await response.body.collect(upTo: 16 << 20)
            let answer = try JSONParser.parse(Array(bytes.readableBytesView))
            guard response.status == .ok, case .object(let parameters)? = answer["parameters"] else {
                let reason = answer["reason"]?.string ?? "the leader answered \(response.status.code)"
                return .failure("io.switchboard.Control.Unavailable", ["reason": .string("the call could not be passed to the leader (\(leader)): \(reason)")])
            }
            return VarlinkReply(error: answer["error"]?.string, parameters: parameters, continues: false)
        } catch {
            logger.warning("control call not passed to the leader", metadata: ["leader": "\(leader)", "address": "\(address)", "error": "\(error)"])
            return .failure("io.switchboard.Control.Unavailable", ["reason": .string("the leader (\(leader) at \(address)) did not answer: \(error)")])
        }
    }

    /// The leader's end: checks the signature and age, admits the peer as the control socket would,
    /// runs the call.
    func register(on router: Router<BasicRequestContext>, handler: ControlService) {
        let leadership = self.leadership, logger = self.logger
        router.post(RouterPath(stringLiteral: Self.path)) { request, _ -> Response in
            let body = Array((try await request.body.collect(upTo: 1 << 20)).readableBytesView)
            func refuse(_ status: HTTPResponse.Status, _ reason: String) -> Response {
                Response(status: status, headers: [.contentType: "application/json"],
                         body: .init(byteBuffer: ByteBuffer(string: JSONWriter.write(["reason": .string(reason)]))))
            }
            let snapshot = leadership.snapshot
            guard snapshot.role == .leader, let key = snapshot.relayKey else {
                return refuse(.serviceUnavailable, "this instance (\(snapshot.node)) does not lead now")
            }
            do throws(WebhookSignature.Failure) {
                try WebhookSignature(appSecret: key).verify(header: request.headers[HTTPField.Name(Self.signatureHeader)!],
                                                            body: body)
            } catch {
                logger.warning("a passed control call was refused", metadata: ["reason": "\(error)"])
                return refuse(.forbidden, "the call's signature is not the lease's key: \(error)")
            }
            guard let value = try? JSONParser.parse(body), let at = value["at"]?.number, abs(Date().timeIntervalSince1970 - at) <= Self.maxAge,
                  case .object(let callFields)? = value["call"], let peer = value["peer"], let user = peer["user"]?.string,
                  let uid = peer["uid"]?.int, let gid = peer["gid"]?.int, let pid = peer["pid"]?.int,
                  let call = try? VarlinkCall(bytes: Array(JSONWriter.write(.object(callFields)).utf8)) else {
                return refuse(.badRequest, "not a passed control call, or older than \(Int(Self.maxAge)) s")
            }
            let credentials = PeerCredentials(pid: Int32(truncatingIfNeeded: pid), uid: UInt32(truncatingIfNeeded: uid), gid: UInt32(truncatingIfNeeded: gid),
                                              user: user, groups: peer["groups"]?.array.compactMap(\.string) ?? [])
            let admitted = await handler.admit(credentials)
            guard case .single(let reply, _) = await handler.respond(to: call, from: admitted) else {
                return refuse(.badRequest, "a streaming call cannot be passed on")
            }
            var answer: [String: JSONValue] = ["parameters": .object(reply.parameters)]
            if let error = reply.error { answer["error"] = .string(error) }
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: JSONWriter.write(.object(answer)))))
        }
    }
}
