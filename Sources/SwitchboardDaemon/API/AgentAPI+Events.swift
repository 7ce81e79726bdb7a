import Foundation
import HTTPTypes
import Hummingbird
import JSON
import NIOCore
import SwitchboardCore

/// `GET /api/v1/events`: Server-Sent Events of what the caller may see, resumable with
/// `Last-Event-ID` within the log's retention; a `reset` event says events were missed (the client
/// reloads its lists), e.g. after a daemon restart.
extension AgentAPI {
    static let keepAliveInterval: Duration = .seconds(15)
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
    static let accelBuffering = HTTPField.Name("X-Accel-Buffering")!

    func follow(_ caller: APICaller, _ request: Request) async throws -> Response {
        let query: String? = request.uri.queryParameters.get("last_event_id").map { String($0) }
        let lastID = request.headers[Self.lastEventID] ?? query
        var after: UInt64?
        var missed = false
        if let lastID, !lastID.isEmpty {
            let parts = lastID.split(separator: ".")
            if parts.count == 2, parts[0] == log.runID, let sequence = UInt64(parts[1]) { after = sequence } else { missed = true }
        }
        let permissions = caller.permissions
        // Agents are indexed by their queues too (for the unassigned tickets there); admins see every queue.
        let scope = EventLog.Scope(agentID: caller.agentID, queues: permissions.role == .admin ? nil : permissions.visibleQueues,
                                   everyonesPresence: permissions.role >= .supervisor, admits: { Self.visible($0, to: caller) })
        let (resume, live) = log.follow(after: after, scope: scope)
        if resume == .gap { missed = true }
        let (frames, continuation) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .bufferingNewest(2000))
        let log = self.log, presence = self.presence
        let task = Task {
            continuation.yield(ByteBuffer(string: "retry: 3000\n\n"))
            if missed {
                continuation.yield(ByteBuffer(string: "event: reset\ndata: {\"reason\":\"events since Last-Event-ID are no longer kept; reload your lists\"}\n\n"))
            }
            if case .replay(let entries) = resume {
                for entry in entries { continuation.yield(Self.frame(entry, run: log.runID)) }
            }
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await entry in live { continuation.yield(Self.frame(entry, run: log.runID)) }
                }
                group.addTask {
                    // Comments keep proxies from closing an idle stream and show the client is still there.
                    while (try? await Task.sleep(for: Self.keepAliveInterval)) != nil {
                        continuation.yield(ByteBuffer(string: ": keep-alive\n\n"))
                        await presence.touch(caller.agentID)
                    }
                }
                await group.next()
                group.cancelAll()
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", Self.accelBuffering: "no"],
                         body: ResponseBody(asyncSequence: frames))
    }

    /// What `Permissions.canSee(_:event:)` decides, the same as the control socket's `Watch`.
    static func visible(_ event: DaemonEvent, to caller: APICaller) -> Bool {
        Permissions.canSee(caller.permissions, event: event.place)
    }

    static func frame(_ entry: EventLog.Entry, run: String) -> ByteBuffer {
        ByteBuffer(string: "id: \(run).\(entry.sequence)\nevent: \(entry.event.kind.rawValue)\ndata: \(JSONWriter.write(APIRepresentation.event(entry.event)))\n\n")
    }
}
