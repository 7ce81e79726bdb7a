import Logging
import ServiceLifecycle

/// Runs routing and SLAs for the daemon's life: rebuilds the SLA timers (firing at once, marked late,
/// what fell due while stopped), then every routing actor, from the database (readiness waits for
/// both; a failure is retried), then keeps the timers until a graceful shutdown cancels them.
public struct RoutingService: Service {
    let router: TicketRouter
    let sla: SLAEngine?
    let automation: AutomationEngine?
    let timers: any RoutingTimers
    let readiness: Readiness
    let logger: Logger

    public init(router: TicketRouter, sla: SLAEngine? = nil, automation: AutomationEngine? = nil, timers: any RoutingTimers, readiness: Readiness, logger: Logger) {
        self.router = router
        self.sla = sla
        self.automation = automation
        self.timers = timers
        self.readiness = readiness
        self.logger = logger
    }

    public func run() async throws {
        if let sla {
            // Each tells the other: routing of starts, customer messages and status changes; the
            // SLA engine of escalations.
            sla.attach(escalator: router)
            await router.attach(sla: sla)
        }
        if let automation {
            await automation.attach(router: router)
            await router.attach(automation: automation)
        }
        await cancelWhenGracefulShutdown {
            var delay = Duration.milliseconds(500)
            while !Task.isCancelled {
                do {
                    try await sla?.rebuild()
                    try await router.rebuild()
                    try await sla?.startUnstarted()
                    // Menus whose time ran out and quiet tickets, while nobody looked, are acted on now.
                    await automation?.start()
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
        await router.stopRecovery()
        await router.settle()
        if let sla {
            // Store what was decided; if the database is gone and the shutdown is cancelled, stop
            // retrying: the next start recomputes what was not stored.
            await withTaskCancellationHandler {
                await sla.settle()
            } onCancel: {
                sla.stop()
            }
            sla.stop()
        }
    }
}
