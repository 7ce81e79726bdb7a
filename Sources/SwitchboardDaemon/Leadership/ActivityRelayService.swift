import Logging
import ServiceLifecycle
import SwitchboardStore

/// The leader's side of the relay: what standbys ingested reaches this instance's router as its own
/// ingest would, oldest first, then is deleted. It looks every `interval` (a standby's new ticket
/// waits at most that long to be routed); a row acted on but not yet deleted when this instance
/// dies is acted on again by the next leader, which routing and the SLA clocks take as the
/// repetition it is. Every `sweepEvery` it also routes any ticket left unrouted — one a standby
/// stored but could not relay (it died right after its commit) — so none waits for a restart.
struct ActivityRelayService: Service {
    let relay: ActivityRelayStore
    let sink: any TicketActivitySink
    let interval: Duration
    let sweepEvery: Duration
    let sweep: @Sendable () async -> Void
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var lastSweep = ContinuousClock.now
            while !Task.isCancelled {
                if lastSweep.duration(to: .now) >= sweepEvery {
                    lastSweep = .now
                    await sweep()
                }
                do {
                    while !Task.isCancelled {
                        let batch = try await relay.pending()
                        if batch.isEmpty { break }
                        // One batch for routing, as a group commit's: row by row it fell behind a
                        // standby taking a few hundred webhooks a second.
                        let messages = batch.flatMap(\.messages), statuses = batch.flatMap(\.statuses)
                        if !messages.isEmpty { await sink.committed(messages) }
                        if !statuses.isEmpty { await sink.statusesChanged(statuses) }
                        try await relay.forget(batch.map(\.id))
                        logger.debug("activity relayed by standbys taken", metadata: ["rows": "\(batch.count)"])
                    }
                } catch {
                    logger.warning("relayed activity not read; retrying", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
