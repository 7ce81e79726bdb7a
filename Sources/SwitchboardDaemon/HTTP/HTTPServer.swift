import Hummingbird
import Logging
import NIOCore
import Postgres

/// The HTTP face of the daemon: health endpoints, metrics, the WhatsApp webhook and the agents' API.
public enum HTTPServer {
    public static func makeRouter(readiness: Readiness, pool: PostgresPool, webhook: WebhookEndpoint?, api: AgentAPI? = nil, signIn: WebSignIn? = nil,
                                  pages: WebPages? = nil, metrics: MetricsEndpoint? = nil,
                                  leaderForwarding: LeaderForwarding? = nil) -> Router<BasicRequestContext> {
        let router = Router()
        // First: on a standby, the API is the leader's (routes added after a middleware get it).
        if let leaderForwarding { router.add(middleware: leaderForwarding) }
        if let metrics {
            router.get("/metrics") { _, _ in await metrics.respond() }
        }
        api?.register(on: router)
        signIn?.register(on: router)
        pages?.register(on: router)
        if let webhook {
            router.get("/webhooks/whatsapp") { request, _ in webhook.handshake(request) }
            router.post("/webhooks/whatsapp") { request, context in try await webhook.receive(request, context: context) }
        } else {
            router.on("/webhooks/whatsapp", method: .get) { _, _ in plain(.notFound, "the WhatsApp webhook is not configured (no whatsapp section in the configuration)\n") }
            router.on("/webhooks/whatsapp", method: .post) { _, _ in plain(.notFound, "the WhatsApp webhook is not configured (no whatsapp section in the configuration)\n") }
        }
        router.get("/healthz") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
        }
        router.get("/readyz") { _, _ in
            let missing = readiness.missing
            if !missing.isEmpty {
                return plain(.serviceUnavailable, "not ready: waiting for \(missing.map(\.rawValue).joined(separator: ", "))\n")
            }
            do {
                try await pool.query("SELECT 1")
            } catch {
                return plain(.serviceUnavailable, "not ready: database unreachable: \(error)\n")
            }
            return plain(.ok, "ready\n")
        }
        return router
    }

    public static func makeApplication(
        router: Router<BasicRequestContext>,
        host: String,
        port: Int,
        readiness: Readiness,
        logger: Logger
    ) -> some ApplicationProtocol {
        Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "switchboard"),
            onServerRunning: { channel in
                let address = channel.localAddress.map { "\($0.ipAddress ?? host):\($0.port ?? port)" } ?? "\(host):\(port)"
                readiness.httpAddress = address
                logger.info("HTTP server listening", metadata: ["address": "\(address)"])
                readiness.mark(.httpListener)
            },
            logger: logger
        )
    }

    /// The same server on a listening socket systemd passed.
    static func makePassedSocketServer(router: Router<BasicRequestContext>, descriptor: CInt, readiness: Readiness, logger: Logger) -> PassedSocketHTTPServer {
        PassedSocketHTTPServer(descriptor: descriptor, responder: router.buildResponder(), serverName: "switchboard", onServerRunning: { channel in
            let address = channel.localAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "fd \(descriptor)"
            readiness.httpAddress = address
            logger.info("HTTP server listening on the socket systemd passed", metadata: ["address": "\(address)"])
            readiness.mark(.httpListener)
        }, logger: logger)
    }

    private static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
