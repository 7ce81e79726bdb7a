import Logging
import ServiceLifecycle

/// Runs routing and SLAs for the daemon's life: rebuilds the SLA timers (firing at once, marked late,
/// what fell due while stopped) and every routing actor from the database, the two at the same time
/// (readiness waits for both; a failure is retried), acts on the SLA alerts the last daemon stored
/// and did not act on, then keeps the timers until a graceful shutdown cancels them.
public struct RoutingService: Service {
    let router: TicketRouter
    let sla: SLAEngine?
    let automation: AutomationEngine?
    let timers: any RoutingTimers
    let readiness: Readiness
    let logger: Logger
    /// Rebuild the SLA timers and routing at the same time: each holds a database connection while
    /// it streams, so only with a pool that has room for both and for the writes meanwhile.
    let rebuildConcurrently: Bool

    public init(router: TicketRouter, sla: SLAEngine? = nil, automation: AutomationEngine? = nil, timers: any RoutingTimers, readiness: Readiness, logger: Logger,
                rebuildConcurrently: Bool = false) {
        self.rebuildConcurrently = rebuildConcurrently
        self.router = router
        self.sla = sla
        self.automation = automation
        self.timers = timers
        self.readiness = readiness
        self.logger = logger
    }

    /// Rebuilds what is not rebuilt yet (a retry after a failure leaves alone what succeeded): the
    /// SLA timers, then routing; or, with `rebuildConcurrently`, both at once. Neither waits for the
    /// other (what the SLA engine's steps need of routing waits for routing's rebuild; what routing
    /// tells the SLA engine waits for that one's) and each mostly waits for its own reads, so on two
    /// cores the database and the daemon work side by side. Both run to their end before a failure
    /// is thrown, so a retry never starts beside a rebuild still running.
    private func rebuild(_ done: inout (sla: Bool, routing: Bool)) async throws {
        guard rebuildConcurrently else {
            if !done.sla { try await sla?.rebuild() }
            done.sla = true
            if !done.routing { try await router.rebuild() }
            done.routing = true
            return
        }
        let (slaDone, routingDone) = done
        async let slaFailure = failure { if !slaDone { try await sla?.rebuild() } }
        async let routingFailure = failure { if !routingDone { try await router.rebuild() } }
        let failures = await (slaFailure, routingFailure)
        done = (failures.0 == nil, failures.1 == nil)
        if let error = failures.0 ?? failures.1 { throw error }
    }

    private func failure(_ body: () async throws -> Void) async -> (any Error)? {
        do {
            try await body()
            return nil
        } catch {
            return error
        }
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
            var rebuilt = (sla: false, routing: false)
            while !Task.isCancelled {
                do {
                    async let unstarted = sla?.readUnstarted() ?? []
                    try await rebuild(&rebuilt)
                    await sla?.startUnstarted(try await unstarted)
                    // Warnings and breaches stored before the last stop whose actions never ran.
                    await sla?.actOnAlertsLeftByTheLastStop()
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
