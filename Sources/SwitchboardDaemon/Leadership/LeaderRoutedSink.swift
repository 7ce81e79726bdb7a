import Logging
import SwitchboardStore

/// Where ingest's news goes: to this instance's router while it leads, otherwise into the relay
/// for the leader (`ActivityRelayService`). The webhook was acknowledged already (its delivery is
/// committed); a relay that fails is retried, then logged — the leader's sweep of unrouted tickets
/// still routes any new ticket in it.
struct LeaderRoutedSink: TicketActivitySink {
    let leadership: LeadershipStatus
    let leader: any TicketActivitySink
    let relay: ActivityRelayStore
    let logger: Logger

    func committed(_ messages: [IngestResult.StoredMessage]) async {
        if leadership.isLeading { return await leader.committed(messages) }
        await pass(messages: messages, statuses: [])
    }

    func statusesChanged(_ changes: [IngestResult.StatusChange]) async {
        if leadership.isLeading { return await leader.statusesChanged(changes) }
        await pass(messages: [], statuses: changes)
    }

    private func pass(messages: [IngestResult.StoredMessage], statuses: [IngestResult.StatusChange]) async {
        var delay = Duration.milliseconds(50)
        for attempt in 1...8 {
            do {
                return try await relay.relay(from: leadership.snapshot.node, messages: messages, statuses: statuses)
            } catch {
                if attempt == 8 || Task.isCancelled {
                    logger.error("ingested activity not passed to the leader", metadata: [
                        "error": "\(error)", "messages": "\(messages.count)", "statuses": "\(statuses.count)"])
                    return
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            }
        }
    }
}
