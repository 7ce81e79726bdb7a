import Foundation
import SwitchboardCore
import SwitchboardStore

/// The waiting tickets at start: streamed from the store into their queues' actors chunk by chunk,
/// no round running meanwhile, then one matching round per queue over all of them — as if they had
/// been queued at once, without a million of them held as rows first.
extension TicketRouter {
    func loadStoredWaiting() async throws {
        let queues = self.queues
        try await store.streamWaiting(stickySeconds: configuration.stickySeconds, chunkSize: rebuildChunkSize) { [self] chunk in
            await loadChunk(chunk, into: queues)
        }
        await withTaskGroup(of: Void.self) { group in
            for queue in queues.values { group.addTask { await queue.match() } }
        }
    }

    private nonisolated func loadChunk(_ chunk: [StoredWaitingTicket], into queues: [String: QueueActor]) async {
        for (name, tickets) in Dictionary(grouping: chunk, by: \.queue) {
            guard let queue = queues[name] else {
                logger.warning("tickets wait in a queue the configuration no longer has", metadata: ["queue": "\(name)", "tickets": "\(tickets.count)"])
                continue
            }
            await queue.load(tickets.map(\.waiting))
        }
    }
}
