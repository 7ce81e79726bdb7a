import Foundation
import Logging
import Synchronization
import SwitchboardCore
import SwitchboardStore
import WhatsApp

/// Sends the outbox of one business number: asks `OutboundSchedule` what may go next (rate, pacing,
/// order), performs the send, records the outcome, and feeds it back to the schedule.
actor OutboundSender {
    let businessNumber: String
    private var schedule: OutboundSchedule
    private var rate: RateWindow
    private let store: OutboxStore
    private let client: GraphAPIClient
    private let retryPolicy: RetryPolicy
    private let mayHandOver: @Sendable () -> Bool
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let metrics: SwitchboardMetrics?
    /// Told when a reply's message becomes sent or failed (followers' ticks).
    private let statuses: (@Sendable ([IngestResult.StatusChange]) async -> Void)?
    private let wake = WakeSignal()
    private let reloadRequested = Atomic<Bool>(true)
    /// Sends whose `beginAttempt` answer was lost, with the time it asked for (see `beginAttempt`).
    private var unconfirmedClaims: [UUID: Date] = [:]
    /// While a reload's query runs: sends finished meanwhile, which its (older) answer must not bring back.
    private var finishedDuringReload: Set<UUID>?
    private let stopping = Atomic<Bool>(false)

    /// How often the queue is read again even without a signal (a safety net, not the normal path).
    private static let reloadInterval: TimeInterval = 30
    /// Most queued sends held in memory at once.
    private static let loadLimit = 1000

    init(businessNumber: String, store: OutboxStore, client: GraphAPIClient, messagesPerSecond: Double, limits: OutboundSchedule.Limits,
         retryPolicy: RetryPolicy, mayHandOver: @escaping @Sendable () -> Bool = { true }, now: @escaping @Sendable () -> Date, metrics: SwitchboardMetrics? = nil,
         statuses: (@Sendable ([IngestResult.StatusChange]) async -> Void)? = nil, logger: Logger) {
        self.metrics = metrics
        self.statuses = statuses
        self.businessNumber = businessNumber
        self.schedule = OutboundSchedule(limits: limits)
        self.rate = RateWindow(perSecond: messagesPerSecond)
        self.store = store
        self.client = client
        self.retryPolicy = retryPolicy
        self.mayHandOver = mayHandOver
        self.now = now
        var logger = logger
        logger[metadataKey: "business_number"] = "\(businessNumber)"
        self.logger = logger
    }

    /// New sends were queued: read the queue again.
    nonisolated func queueChanged() {
        reloadRequested.store(true, ordering: .relaxed)
        wake.signal()
    }

    /// Starts nothing new; `run` returns once the sends in flight are recorded.
    nonisolated func stop() {
        stopping.store(true, ordering: .relaxed)
        wake.signal()
    }

    func run() async {
        var waiter = wake.makeWaiter()
        var nextReload = now().addingTimeInterval(Self.reloadInterval)
        await withDiscardingTaskGroup { group in
            while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
                if reloadRequested.exchange(false, ordering: .relaxed) || now() >= nextReload {
                    await reload()
                    nextReload = now().addingTimeInterval(Self.reloadInterval)
                }
                var deadline = nextReload
                decide: while true {
                    switch schedule.next(now: now()) {
                    case .send(let item):
                        group.addTask { await self.perform(item) }
                    case .wait(let until):
                        deadline = min(deadline, until)
                        break decide
                    case .idle:
                        break decide
                    }
                }
                await waiter.wait(until: deadline)
            }
        }
    }

    private func reload() async {
        finishedDuringReload = []
        defer { finishedDuringReload = nil }
        do {
            let entries = try await store.queued(businessNumber: businessNumber, limit: Self.loadLimit)
            let finished = finishedDuringReload ?? []
            for entry in entries where !finished.contains(entry.id) {
                schedule.add(.init(id: entry.id, customer: entry.recipient, notBefore: entry.nextAttemptAt, sequence: entry.sequence))
            }
        } catch {
            logger.warning("could not read the outbox; will try again", metadata: ["error": "\(error)"])
            reloadRequested.store(true, ordering: .relaxed)
        }
    }

    private func perform(_ item: OutboundSchedule.Item) async {
        let completion = await attempt(item)
        schedule.finished(item.id, completion, now: now())
        if completion == .done { finishedDuringReload?.insert(item.id) }
        wake.signal()
    }

    /// One attempt: mark it leaving, check the window, send, record the outcome. Returns what the
    /// schedule must do with the item.
    private func attempt(_ item: OutboundSchedule.Item) async -> OutboundSchedule.Completion {
        let started = now()
        // Not while this instance may no longer lead (its lease not renewed lately): claiming it
        // would leave it `sending` for nobody. Looked at again shortly; a new leader takes it.
        guard mayHandOver() else { return .retry(at: started.addingTimeInterval(1)) }
        let attempt: OutboxAttempt?
        do {
            attempt = try await store.beginAttempt(item.id, now: started, unconfirmed: unconfirmedClaims.removeValue(forKey: item.id))
        } catch {
            // The update may have committed with its answer lost: the next try may take it over.
            unconfirmedClaims[item.id] = started
            logger.warning("could not mark a send as leaving; will try again", metadata: ["outbound_id": "\(item.id)", "error": "\(error)"])
            return .retry(at: started.addingTimeInterval(2))
        }
        guard let attempt else { return .done }  // sent, failed or cancelled meanwhile
        var metadata: Logger.Metadata = ["outbound_id": "\(item.id)", "attempt": "\(attempt.number)"]

        if let refusal = CustomerServiceWindow.refusal(freeForm: attempt.isFreeForm, expiresAt: attempt.customerWindowExpiresAt, now: started) {
            logger.warning("reply not sent: \(refusal)", metadata: metadata)
            metrics?.send(.windowClosed)
            await recordOutcome { try await $0.recordFailure(item.id, errorCode: nil, error: refusal.description, at: self.now()) }
            return .done
        }

        guard await admitted() else {
            // Cancelled (the shutdown grace ran out): left in `sending`; the next start sends it.
            return .retry(at: now())
        }
        guard mayHandOver() else {
            // The lease ran out while this send waited its turn (a pause, the database away): it
            // stays `sending`. If this instance still leads when it renews, its next attempt takes
            // the claim over (as a claim whose answer was lost); if another took over, that one
            // resolves it as any interrupted send.
            logger.warning("not sent: this instance may no longer lead", metadata: metadata)
            unconfirmedClaims[item.id] = started
            return .retry(at: now().addingTimeInterval(1))
        }
        let error: GraphAPIError
        do {
            let accepted = try await client.send(from: businessNumber, requestJSON: attempt.requestJSON)
            await recordOutcome { try await $0.recordSent(item.id, wamid: accepted.wamid, at: self.now()) }
            metrics?.send(.sent)
            metadata["wamid"] = "\(accepted.wamid ?? "-")"
            logger.debug("sent", metadata: metadata)
            return .done
        } catch let failure {
            error = failure
        }

        metadata["error"] = "\(error)"
        let failure = SendFailure(error.kind)
        let action = SendFailurePolicy.action(for: failure, attempt: attempt.number, policy: retryPolicy, jitter: Double.random(in: 0...1))
        let finished = now()
        switch action {
        case .fail:
            logger.warning("reply failed", metadata: metadata)
            metrics?.send(.failed)
            await recordOutcome { try await $0.recordFailure(item.id, errorCode: error.code, error: error.title ?? error.message, at: finished) }
            return .done
        case .retry(let delay):
            let at = finished.addingTimeInterval(delay)
            logger.info("send failed; retrying", metadata: metadata.merging(["retry_in_seconds": "\(Int(delay.rounded()))"]) { $1 })
            metrics?.send(.retried)
            await record { try await $0.recordRetry(item.id, nextAttempt: at, errorCode: error.code, error: error.description) }
            return .retry(at: at)
        case .throttleCustomer(let delay):
            let at = finished.addingTimeInterval(delay)
            logger.info("too many messages to this customer; waiting", metadata: metadata)
            metrics?.send(.throttled)
            await record { try await $0.recordRetry(item.id, nextAttempt: at, errorCode: error.code, error: error.description) }
            return .throttleCustomer(until: at)
        case .throttleNumber(let delay):
            let at = finished.addingTimeInterval(delay)
            logger.warning("business number throughput reached; waiting", metadata: metadata)
            metrics?.send(.throttled)
            await record { try await $0.recordRetry(item.id, nextAttempt: at, errorCode: error.code, error: error.description) }
            return .throttleNumber(until: at)
        case .suspendNumber:
            logger.critical("sending through this number is paused until the daemon restarts with a working access token", metadata: metadata)
            metrics?.send(.suspended)
            await record { try await $0.suspendSending(self.businessNumber, requeue: item.id, reason: error.description, at: finished) }
            return .suspend
        }
    }

    /// Waits for the per-number rate to admit one more request. Admission is decided (and recorded)
    /// after the wait, on the actor, right before the request leaves, so a late wake-up cannot
    /// cause a burst.
    /// Returns false when the task is cancelled first.
    private func admitted() async -> Bool {
        while let retryAt = rate.admit(now: now()) {
            let delay = max(0.001, retryAt.timeIntervalSince(now()))
            guard (try? await Task.sleep(for: .microseconds(Int64(delay * 1_000_000)))) != nil else { return false }
        }
        return true
    }

    /// Writes a final outcome (as `record`) and tells followers what became of the message.
    private func recordOutcome(_ write: @Sendable (OutboxStore) async throws -> IngestResult.StatusChange?) async {
        guard let written = await record(write), let change = written, let statuses else { return }
        await statuses([change])
    }

    /// Writes an outcome, retrying while the database is unreachable: an outcome that is not
    /// recorded would leave the send in `sending`, and a restart would send it again.
    /// Nil when cancelled before it could.
    @discardableResult
    private func record<Result: Sendable>(_ write: @Sendable (OutboxStore) async throws -> Result) async -> Result? {
        var pause = 0.2
        while true {
            do {
                return try await write(store)
            } catch {
                logger.warning("could not record a send's outcome; will try again", metadata: ["error": "\(error)"])
                guard (try? await Task.sleep(for: .milliseconds(Int64(pause * 1000)))) != nil else { return nil }
                pause = min(pause * 2, 5)
            }
        }
    }
}

extension SendFailure {
    init(_ kind: GraphAPIError.Kind) {
        switch kind {
        case .transient: self = .transient
        case .numberThrottled: self = .numberThrottled
        case .customerThrottled: self = .customerThrottled
        case .sendingBlocked: self = .sendingBlocked
        case .outsideCustomerWindow, .permanent: self = .permanent
        }
    }
}
