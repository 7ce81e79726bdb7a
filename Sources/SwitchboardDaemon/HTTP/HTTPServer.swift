import Hummingbird
import Logging
import NIOCore
import Postgres

/// The HTTP face of the daemon. This issue serves the health endpoints; later ones add the webhook,
/// the agents' API and metrics to the same router.
public enum HTTPServer {
    public static func makeRouter(readiness: Readiness, pool: PostgresPool) -> Router<BasicRequestContext> {
        let router = Router()
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

    private static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
