import Foundation
import Logging
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import TestSupport

/// Routing on a fresh database with the control socket served in-process on a temporary path.
struct ControlHarness {
    let routing: RoutingHarness
    let service: ControlService
    /// What the daemon publishes to followers (Watch): a test may publish too.
    let events: EventStream
    let socket: String
    let directory: String
    let server: Task<Void, any Error>

    static func start(_ label: String, configuration: RoutingConfiguration, access: ControlAccess = ControlAccess(), maxMessageBytes: Int = 4096,
                      reload: @escaping @Sendable () async -> ConfigurationReloader.Outcome = { .applied(needingRestart: []) }) async throws -> ControlHarness {
        let events = EventStream()
        let routing = try await RoutingHarness.make(label, configuration, events: events)
        let service = ControlService(router: routing.router, store: ControlStore(pool: routing.pool), events: events, access: { access }, reload: reload,
                                     logger: TestDatabase.quietLogger)
        let directory = try makeTemporaryDirectory(label)
        let socket = directory + "/control.sock"
        let (listening, signal) = AsyncStream.makeStream(of: String.self)
        let server = VarlinkServer(listener: .path(socket), maxMessageBytes: maxMessageBytes, handler: service,
                                   onListening: { signal.yield($0) }, logger: TestDatabase.quietLogger)
        let task = Task { try await server.run() }
        for await _ in listening { break }
        return ControlHarness(routing: routing, service: service, events: events, socket: socket, directory: directory, server: task)
    }

    func stop() {
        server.cancel()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `switchboardctl`, built beside the daemon.
    static var switchboardctl: String {
        URL(fileURLWithPath: DaemonProcess.executablePath).deletingLastPathComponent().appendingPathComponent("switchboardctl").path
    }

    /// The test's own Unix user as an admin (root is one anyway), so `switchboardctl` run by the test is admitted.
    static var selfAdmin: ControlAccess {
        ControlAccess(admins: .init(users: [getuid() == 0 ? "root" : ProcessInfo.processInfo.userName]))
    }

    func connect() async throws -> VarlinkTestClient {
        try await VarlinkTestClient.connect(socket)
    }

    /// A peer as the service would admit it, for calls made without a socket.
    static func peer(_ role: Role, agent: String?, queues: Set<String>?, teams: Set<String>? = nil) -> ControlService.Peer {
        ControlService.Peer(credentials: PeerCredentials(pid: 1, uid: 1000, gid: 1000, user: agent ?? "operator", groups: []),
                            caller: .init(role: role, agentID: agent, visibleQueues: queues, teams: teams), refusal: nil)
    }
}
