import Logging
import Postgres
import SwitchboardCore
import SwitchboardStore

/// Where new tickets and new customer messages go once they are committed: routing (#4) takes them
/// from here. Called after commit, never before.
public protocol TicketActivitySink: Sendable {
    func committed(_ messages: [IngestResult.StoredMessage]) async
    /// Our messages' delivery statuses moved forward (for followers' ticks).
    func statusesChanged(_ changes: [IngestResult.StatusChange]) async
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
                let started = ContinuousClock.now
                let outcomes = await Self.store(batch.map(\.delivery), in: store)
                let results = outcomes.compactMap { try? $0.get() }
                metrics?.ingestBatch(deliveries: batch.count, duration: .now - started, messages: results.reduce(0) { $0 + $1.stored.count },
                                     duplicates: results.reduce(0) { $0 + $1.duplicates.count }, statuses: results.reduce(0) { $0 + $1.statusesRecorded })
                for (waiter, outcome) in zip(batch, outcomes) { waiter.continuation.resume(with: outcome) }
                self.completed()
                if !results.isEmpty { await sink.committed(results.flatMap(\.stored)) }
                let changes = results.flatMap(\.statusChanges)
                if !changes.isEmpty { await sink.statusesChanged(changes) }
            }
        }
    }

    /// Stores a batch in one transaction. If it fails for a reason other than the database being
    /// unavailable, no delivery may fail another: each is stored alone, and one that still cannot
    /// be stored is kept raw with the reason and acknowledged (Meta would resend the same bytes for
    /// days). While the database is unavailable every delivery fails, and is answered 503.
    static func store(_ deliveries: [IncomingDelivery], in store: WebhookIngestStore) async -> [Result<IngestResult, any Error>] {
        do {
            return try await store.store(deliveries).map { .success($0) }
        } catch let error as PostgresError where error.isUnavailability {
            return deliveries.map { _ in .failure(error) }
        } catch {
            if deliveries.count > 1 {
                var outcomes: [Result<IngestResult, any Error>] = []
                for delivery in deliveries { outcomes += await Self.store([delivery], in: store) }
                return outcomes
            }
            guard let delivery = deliveries.first else { return [] }
            let reason = "not stored: \(error)"
            let raw = IncomingDelivery(body: delivery.body, messages: [], statuses: [], decodeProblem: reason, receivedAt: delivery.receivedAt)
            do {
                return [.success(try await store.store(raw))]
            } catch {
                return [.failure(error)]
            }
        }
    }
}
