import Logging
import ServiceLifecycle
import SwitchboardStore

/// Moves the daemon's events into the numbered `EventLog`, filling in a ticket's reference, queue
/// and agent when the publisher did not have them at hand — once per event, however many follow.
public struct EventEnricher: Service {
    let events: EventStream
    let log: EventLog
    let store: ControlStore
    let logger: Logger

    public init(events: EventStream, log: EventLog, store: ControlStore, logger: Logger) {
        self.events = events
        self.log = log
        self.store = store
        self.logger = logger
    }

    public func run() async throws {
        let subscription = events.subscribe()
        await cancelWhenGracefulShutdown {
            for await event in subscription {
                log.append(await enrich(event))
            }
        }
        // Followers (the agents' event streams) end, so the HTTP server can finish its requests.
        log.close()
    }

    func enrich(_ event: DaemonEvent) async -> DaemonEvent {
        guard let ticketID = event.ticketID, event.reference == nil || event.queue == nil || event.agent == nil else { return event }
        var event = event
        do {
            if let found = try await store.summary(ofTicket: ticketID) {
                event.reference = event.reference ?? found.reference
                event.queue = event.queue ?? found.queue
                event.agent = event.agent ?? found.assignee
            }
        } catch {
            logger.warning("event passed on without its ticket's details", metadata: ["ticket": "\(ticketID)", "error": "\(error)"])
        }
        return event
    }
}
