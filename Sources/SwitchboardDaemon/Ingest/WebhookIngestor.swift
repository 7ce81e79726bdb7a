import Logging
import SwitchboardCore
import SwitchboardStore

/// Where new tickets and new customer messages go once they are committed: routing (#4) takes them
/// from here. Called after commit, never before.
public protocol TicketActivitySink: Sendable {
    func committed(_ messages: [IngestResult.StoredMessage]) async
}

/// Group commit for webhook deliveries: while transactions are in flight, deliveries that arrive wait
/// and then share the next one, so a burst costs few commits instead of one each, and a lone delivery
/// is committed at once. At most `maxInFlight` transactions run together; a batch never grows past
/// `maxBatch`; with `linger` above zero an idle ingestor waits that long for company. Each caller is
/// answered when its batch has committed (or failed).
public actor WebhookIngestor {
    private typealias Waiter = (delivery: IncomingDelivery, continuation: CheckedContinuation<IngestResult, any Error>)

    private let store: WebhookIngestStore
    private let maxBatch: Int
    private let maxInFlight: Int
    private let linger: Duration
    private let sink: any TicketActivitySink
    private let metrics: SwitchboardMetrics?
    private var pending: [Waiter] = []
    private var inFlight = 0
    private var lingerTimer: Task<Void, Never>?

    public init(store: WebhookIngestStore, maxBatch: Int, maxInFlight: Int, linger: Duration, sink: any TicketActivitySink, metrics: SwitchboardMetrics? = nil) {
        self.metrics = metrics
        precondition(maxBatch >= 1 && maxInFlight >= 1, "a batch holds at least one delivery; at least one transaction runs")
        self.store = store
        self.maxBatch = maxBatch
        self.maxInFlight = maxInFlight
        self.linger = linger
        self.sink = sink
    }

    /// Stores a delivery; returns once it is committed.
    public func submit(_ delivery: IncomingDelivery) async throws -> IngestResult {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((delivery, continuation))
            if inFlight >= maxInFlight { return }  // the next completion takes it along
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

    private func completed() {
        inFlight -= 1
        flush()
    }

    /// Starts transactions for what is pending, up to `maxInFlight` at once, `maxBatch` deliveries each.
    private func flush() {
        lingerTimer?.cancel()
        lingerTimer = nil
        while !pending.isEmpty && inFlight < maxInFlight {
            let batch = Array(pending.prefix(maxBatch))
            pending.removeFirst(batch.count)
            inFlight += 1
            let store = self.store
            let sink = self.sink
            let metrics = self.metrics
            Task {
                do {
                    let started = ContinuousClock.now
                    let results = try await store.store(batch.map(\.delivery))
                    metrics?.ingestBatch(deliveries: batch.count, duration: .now - started, messages: results.reduce(0) { $0 + $1.stored.count },
                                         duplicates: results.reduce(0) { $0 + $1.duplicates.count }, statuses: results.reduce(0) { $0 + $1.statusesRecorded })
                    for (waiter, result) in zip(batch, results) { waiter.continuation.resume(returning: result) }
                    self.completed()
                    await sink.committed(results.flatMap(\.stored))
                } catch {
                    for waiter in batch { waiter.continuation.resume(throwing: error) }
                    self.completed()
                }
            }
        }
    }
}
