import Logging
import SwitchboardCore
import SwitchboardStore

/// Where new tickets and new customer messages go once they are committed: routing (#4) takes them
/// from here. Called after commit, never before.
public protocol TicketActivitySink: Sendable {
    func committed(_ messages: [IngestResult.StoredMessage]) async
}

/// Until routing exists: the activity is logged and otherwise left for routing to find in the tables.
struct LoggingTicketActivitySink: TicketActivitySink {
    let logger: Logger

    func committed(_ messages: [IngestResult.StoredMessage]) async {
        for message in messages {
            logger.debug("message committed", metadata: ["ticket": "\(message.ticketReference)", "threading": "\(message.threading)"])
        }
    }
}

/// Group commit for webhook deliveries: deliveries that arrive together share one transaction, so a
/// burst costs one commit instead of one each. A delivery waits at most `linger` for company, and a
/// batch never grows past `maxBatch`. Each caller is answered when its batch has committed (or failed).
public actor WebhookIngestor {
    private typealias Waiter = (delivery: IncomingDelivery, continuation: CheckedContinuation<IngestResult, any Error>)

    private let store: WebhookIngestStore
    private let maxBatch: Int
    private let linger: Duration
    private let sink: any TicketActivitySink
    private var pending: [Waiter] = []
    private var lingerTimer: Task<Void, Never>?

    public init(store: WebhookIngestStore, maxBatch: Int, linger: Duration, sink: any TicketActivitySink) {
        precondition(maxBatch >= 1, "a batch holds at least one delivery")
        self.store = store
        self.maxBatch = maxBatch
        self.linger = linger
        self.sink = sink
    }

    /// Stores a delivery; returns once it is committed.
    public func submit(_ delivery: IncomingDelivery) async throws -> IngestResult {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((delivery, continuation))
            if pending.count >= maxBatch || linger == .zero {
                flush()
            } else if lingerTimer == nil {
                let linger = self.linger
                lingerTimer = Task {
                    try? await Task.sleep(for: linger)
                    self.lingerEnded()
                }
            }
        }
    }

    private func lingerEnded() {
        lingerTimer = nil
        flush()
    }

    /// Hands the pending deliveries to a transaction of their own; the next ones start a new batch.
    private func flush() {
        lingerTimer?.cancel()
        lingerTimer = nil
        guard !pending.isEmpty else { return }
        let batch = pending
        pending = []
        let store = self.store
        let sink = self.sink
        Task {
            do {
                let results = try await store.store(batch.map(\.delivery))
                for (waiter, result) in zip(batch, results) { waiter.continuation.resume(returning: result) }
                await sink.committed(results.flatMap(\.stored))
            } catch {
                for waiter in batch { waiter.continuation.resume(throwing: error) }
            }
        }
    }
}
