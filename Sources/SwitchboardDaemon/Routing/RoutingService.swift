import Logging
import ServiceLifecycle

/// Runs routing for the daemon's life: rebuilds every actor from the database (readiness waits for
/// it; a failure is retried), then keeps the timers until a graceful shutdown cancels them.
public struct RoutingService: Service {
    let router: TicketRouter
    let timers: any RoutingTimers
    let readiness: Readiness
    let logger: Logger

    public init(router: TicketRouter, timers: any RoutingTimers, readiness: Readiness, logger: Logger) {
        self.router = router
        self.timers = timers
        self.readiness = readiness
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var delay = Duration.milliseconds(500)
            while !Task.isCancelled {
                do {
                    try await router.rebuild()
                    readiness.mark(.routing)
                    return
                } catch {
                    logger.error("routing rebuild failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                    try? await Task.sleep(for: delay)
                    delay = min(delay * 2, .seconds(30))
                }
            }
        }
        try? await gracefulShutdown()
        timers.cancelAll()
        await router.settle()
    }
}
