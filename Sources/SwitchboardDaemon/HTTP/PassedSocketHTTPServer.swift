import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The HTTP server on a listening socket systemd passed (`FileDescriptorName=http`), so that
/// connections arriving while the daemon restarts wait in the socket's backlog instead of being
/// refused. Hummingbird's `Application` binds only addresses it opens itself; this serves the same
/// router through Hummingbird's HTTP/1 channel on NIO's `bind(_ socket:)`, with the same graceful
/// shutdown (stop accepting, let requests in progress finish).
struct PassedSocketHTTPServer: Service {
    struct ParseErrorWhileWriting: Error {}

    let descriptor: CInt
    let responder: RouterResponder<BasicRequestContext>
    let serverName: String
    let onServerRunning: @Sendable (any Channel) async -> Void
    let logger: Logger

    func run() async throws {
        let responder = self.responder
        let logger = self.logger
        let serverName = self.serverName
        let date = HTTPDate()
        let channel = HTTP1Channel(responder: { request, writer, channel in
            let context = BasicRequestContext(source: ApplicationRequestContextSource(channel: channel, logger: logger))
            var response: Response
            do {
                response = try await responder.respond(to: request, context: context)
            } catch let error as HTTPParserError {
                throw error
            } catch {
                logger.debug("unhandled error answering a request", metadata: ["error": "\(error)"])
                response = Response(status: .internalServerError)
            }
            response.headers[.server] = serverName
            response.headers[.date] = date.now()
            do {
                try await writer.write(response: response.head, body: response.body)
            } catch is HTTPParserError {
                // As Application does: not a parser error, which would make the channel answer again.
                throw ParseErrorWhileWriting()
            }
        })
        let group = MultiThreadedEventLoopGroup.singleton
        let quiescing = ServerQuiescingHelper(group: group)
        let server = try await ServerBootstrap(group: group)
            .serverChannelInitializer { server in
                server.eventLoop.makeCompletedFuture {
                    try server.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: server))
                }
            }
            // NIO listens again on the adopted socket with this backlog (its default is 128, below
            // what the socket unit asks for); the kernel caps it at net.core.somaxconn.
            .serverChannelOption(ChannelOptions.backlog, value: 4096)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .bind(NIOBSDSocket.Handle(descriptor), childChannelInitializer: { child -> EventLoopFuture<HTTP1Channel.Value> in
                channel.setup(channel: child, logger: logger)
            })

        await withGracefulShutdownHandler {
            await onServerRunning(server.channel)
            await withDiscardingTaskGroup { connections in
                do {
                    try await server.executeThenClose { inbound in
                        for try await connection in inbound {
                            connections.addTask { await channel.handle(value: connection, logger: logger) }
                        }
                    }
                } catch {
                    logger.error("HTTP listener failed", metadata: ["error": "\(error)"])
                }
            }
        } onGracefulShutdown: {
            // Closes the listener and asks each connection to close after its request in progress.
            quiescing.initiateShutdown(promise: nil)
        }
    }
}
