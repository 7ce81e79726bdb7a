import Foundation
import Glibc
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import SwitchboardCore
import Varlink

/// What a Varlink service answers: one reply, or a stream of them (a call made with `"more": true`).
public enum VarlinkResponse: Sendable {
    case single(VarlinkReply, closeAfter: Bool = false)
    case stream(AsyncStream<VarlinkReply>)
}

/// The methods behind a Varlink socket.
public protocol VarlinkHandler: Sendable {
    associatedtype Peer: Sendable
    /// Decides who a new connection is, once, from its credentials.
    func admit(_ credentials: PeerCredentials?) async -> Peer
    func respond(to call: VarlinkCall, from peer: Peer) async -> VarlinkResponse
}

/// A Varlink server on a Unix socket: NUL-framed JSON calls, several per connection, answered in
/// order; a message over the size limit or that is not a call gets an error reply and the connection
/// is closed; a streaming call runs until the client goes away. Each connection is its own task, so a
/// slow or vanished client holds only that task.
public struct VarlinkServer<Handler: VarlinkHandler>: Service {
    public enum Listener: Sendable {
        /// Created here (an existing file at the path is replaced).
        case path(String)
        /// An already-bound socket from systemd (`LISTEN_FDS`).
        case descriptor(CInt)
    }

    let listener: Listener
    let maxMessageBytes: Int
    let handler: Handler
    let onListening: @Sendable (String) -> Void
    let logger: Logger

    public init(listener: Listener, maxMessageBytes: Int, handler: Handler, onListening: @escaping @Sendable (String) -> Void = { _ in }, logger: Logger) {
        self.listener = listener
        self.maxMessageBytes = maxMessageBytes
        self.handler = handler
        self.onListening = onListening
        self.logger = logger
    }

    public func run() async throws {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).serverChannelOption(.backlog, value: 128)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<ByteBuffer, ByteBuffer>> = { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        let server: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
        let description: String
        switch listener {
        case .path(let path):
            // File system calls block: NIO's thread pool, not the cooperative pool.
            try await NIOThreadPool.singleton.runIfActive {
                try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
            }
            server = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: initializer)
            // Anyone may connect; who may do what is decided from the peer's credentials.
            _ = try await NIOThreadPool.singleton.runIfActive { chmod(path, 0o666) }
            description = path
        case .descriptor(let fd):
            server = try await bootstrap.bind(fd, childChannelInitializer: initializer)
            description = "fd \(fd) from systemd"
        }
        logger.info("control socket listening", metadata: ["socket": "\(description)"])
        onListening(description)
        let open = OpenConnections()
        // A graceful shutdown closes the listener and every connection (a Watch stream included);
        // the loops below then end on their own, and `run` returns without an error.
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask { await self.serve(connection, open: open) }
                    }
                }
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
            open.closeAll()
        }
        if case .path(let path) = listener { _ = try? await NIOThreadPool.singleton.runIfActive { unlink(path) } }
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, open: OpenConnections) async {
        let id = open.add(connection.channel)
        defer { open.remove(id) }
        let credentials = try? await PeerCredentials.of(connection.channel)
        let peer = await handler.admit(credentials)
        do {
            try await connection.executeThenClose { inbound, outbound in
                var decoder = VarlinkFrameDecoder(maxMessageBytes: maxMessageBytes)
                var streaming: Task<Void, Never>?
                defer { streaming?.cancel() }
                reading: for try await buffer in inbound {
                    let frames: [[UInt8]]
                    do throws(VarlinkFrameDecoder.Failure) {
                        frames = try decoder.append(buffer.readableBytesView)
                    } catch {
                        try await outbound.write(ByteBuffer(bytes: Self.invalid("message", error.description).frame()))
                        break reading
                    }
                    for frame in frames {
                        let call: VarlinkCall
                        do throws(VarlinkCall.Problem) {
                            call = try VarlinkCall(bytes: frame)
                        } catch {
                            try await outbound.write(ByteBuffer(bytes: Self.invalid("message", error.description).frame()))
                            break reading
                        }
                        if streaming != nil {
                            try await outbound.write(ByteBuffer(bytes: Self.invalid("method", "a streaming call is in progress on this connection").frame()))
                            break reading
                        }
                        switch await handler.respond(to: call, from: peer) {
                        case .single(let reply, let closeAfter):
                            // A oneway call gets no reply, not even an error (Varlink's rule).
                            if !call.oneway { try await outbound.write(ByteBuffer(bytes: reply.frame())) }
                            if closeAfter { break reading }
                        case .stream(let replies):
                            streaming = Task {
                                for await reply in replies {
                                    do { try await outbound.write(ByteBuffer(bytes: reply.frame())) } catch { return }
                                }
                            }
                        }
                    }
                }
                if let streaming {
                    streaming.cancel()
                    await streaming.value
                }
            }
        } catch {
            logger.debug("control connection ended", metadata: ["error": "\(error)"])
        }
    }

    static func invalid(_ argument: String, _ reason: String) -> VarlinkReply {
        .failure("io.switchboard.Control.InvalidArgument", ["argument": .string(argument), "reason": .string(reason)])
    }
}

/// The connections being served, so a shutdown can close them.
final class OpenConnections: Sendable {
    private struct State {
        var channels: [Int: any Channel] = [:]
        var next = 0
        var closing = false
    }

    private let state = Mutex(State())

    func add(_ channel: any Channel) -> Int {
        let (id, closing) = state.withLock { state -> (Int, Bool) in
            state.next += 1
            state.channels[state.next] = channel
            return (state.next, state.closing)
        }
        if closing { channel.close(promise: nil) }
        return id
    }

    func remove(_ id: Int) {
        _ = state.withLock { $0.channels.removeValue(forKey: id) }
    }

    func closeAll() {
        let channels = state.withLock { state -> [any Channel] in
            state.closing = true
            return Array(state.channels.values)
        }
        channels.forEach { $0.close(promise: nil) }
    }
}
