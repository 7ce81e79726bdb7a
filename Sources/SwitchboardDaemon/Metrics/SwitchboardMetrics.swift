import Foundation
import Prometheus
import Synchronization

/// The daemon's Prometheus metrics, served at `GET /metrics` (docs/operations.md lists them).
///
/// One registry per daemon rather than swift-metrics' process-wide bootstrap, so each daemon (and
/// each test) has its own figures. Every label has a small fixed set of values (results, clocks,
/// presences) or one value per configured queue: nothing per ticket, customer or agent.
public final class SwitchboardMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    /// What became of a webhook delivery (`POST /webhooks/whatsapp`).
    public enum WebhookResult: String, CaseIterable, Sendable {
        /// Signed, decoded and committed.
        case stored
        /// Signed but not decodable: committed raw for a later fix, and acknowledged.
        case storedRaw = "stored_raw"
        case badSignature = "bad_signature"
        case tooLarge = "too_large"
        /// Not committed (database unreachable or another failure): Meta retries.
        case failed
    }

    /// What became of one attempt to send a reply through the Graph API.
    public enum SendResult: String, CaseIterable, Sendable {
        case sent
        /// Failed for good (Meta's permanent errors, attempts used up).
        case failed
        /// The customer service window had closed: not sent.
        case windowClosed = "window_closed"
        case retried
        /// Meta's per-customer or per-number throughput limit: sent again later.
        case throttled
        /// The access token stopped working: sending through the number paused.
        case suspended
    }

    public enum SLAAlert: String, Sendable { case warning, breach }

    /// What became of one attempt to fetch a customer's file from the Graph API.
    public enum MediaFetchResult: String, CaseIterable, Sendable {
        case stored
        /// Failed for now (Meta's transient errors, a broken download): tried again later.
        case retried
        /// Failed for good (gone, too large, not the bytes Meta described).
        case failed
        /// The access token was refused: fetching paused.
        case paused
        /// Cut short by a graceful stop: due again at once.
        case interrupted
    }

    private let webhookDeliveries: [WebhookResult: Counter]
    private let sends: [SendResult: Counter]
    private let slaAlerts: [String: Counter]
    private let mediaFetches: [MediaFetchResult: Counter]
    private let mediaFetchPaused: Gauge
    private let ingestBatchDeliveries: ValueHistogram
    private let ingestBatchSeconds: DurationHistogram
    private let ingestMessages: Counter
    private let ingestDuplicates: Counter
    private let ingestStatuses: Counter
    private let assignmentSeconds: DurationHistogram
    private let poolConnections: [String: Gauge]
    private let poolWaiting: Gauge
    private let embeddedUp: Gauge
    private let embeddedRestarts: Gauge
    private let leader: Gauge
    private let leaderEpoch: Gauge
    private let leaderSince: Gauge
    private let agentsByPresence: [String: Gauge]
    private let eventStreamClients: Gauge
    /// Per-queue gauges of the queues seen at the last scrape (a reload may remove queues).
    private let queueGauges = Mutex<[String: (waiting: Gauge, longestWait: Gauge)]>([:])
    /// When each ticket reached routing, until it is assigned (bounded: see `ticketsArrived`).
    private let arrivals = Mutex<[Int64: ContinuousClock.Instant]>([:])
    static let maxTrackedArrivals = 100_000

    public init() {
        let registry = self.registry
        let deliveries = Self.named("switchboard_webhook_deliveries_total", "Webhook deliveries received on POST /webhooks/whatsapp, by what became of them.")
        webhookDeliveries = Dictionary(uniqueKeysWithValues: WebhookResult.allCases.map { result in
            (result, registry.makeCounter(descriptor: deliveries, labels: [("result", result.rawValue)]))
        })
        let sent = Self.named("switchboard_outbound_sends_total", "Attempts to send a reply through the Graph API, by result.")
        sends = Dictionary(uniqueKeysWithValues: SendResult.allCases.map { result in
            (result, registry.makeCounter(descriptor: sent, labels: [("result", result.rawValue)]))
        })
        let fetches = Self.named("switchboard_media_fetches_total", "Attempts to fetch a customer's file from the Graph API, by result.")
        mediaFetches = Dictionary(uniqueKeysWithValues: MediaFetchResult.allCases.map { result in
            (result, registry.makeCounter(descriptor: fetches, labels: [("result", result.rawValue)]))
        })
        mediaFetchPaused = registry.makeGauge(descriptor: Self.named(
            "switchboard_media_fetch_paused", "1 while fetching customers' files is paused because the Graph API refuses the access token, else 0."))
        let warnings = Self.named("switchboard_sla_warnings_total", "SLA warnings acted on, by clock.")
        let breaches = Self.named("switchboard_sla_breaches_total", "SLA breaches acted on, by clock.")
        var alerts: [String: Counter] = [:]
        for clock in ["first_response", "next_response", "resolution"] {
            alerts["warning/\(clock)"] = registry.makeCounter(descriptor: warnings, labels: [("clock", clock)])
            alerts["breach/\(clock)"] = registry.makeCounter(descriptor: breaches, labels: [("clock", clock)])
        }
        slaAlerts = alerts
        ingestBatchDeliveries = registry.makeValueHistogram(
            descriptor: Self.named("switchboard_ingest_batch_deliveries", "Webhook deliveries committed together in one ingest transaction (group commit)."),
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000])
        ingestBatchSeconds = registry.makeDurationHistogram(
            descriptor: Self.named("switchboard_ingest_batch_seconds", "Time to commit one ingest transaction (threading, messages, statuses)."),
            buckets: [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                      .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5)])
        ingestMessages = registry.makeCounter(descriptor: Self.named("switchboard_ingest_messages_total", "Customer messages stored."))
        ingestDuplicates = registry.makeCounter(descriptor: Self.named("switchboard_ingest_duplicate_messages_total", "Messages Meta delivered again, recognised and skipped."))
        ingestStatuses = registry.makeCounter(descriptor: Self.named("switchboard_ingest_statuses_total", "Delivery statuses (sent, delivered, read, failed) recorded."))
        assignmentSeconds = registry.makeDurationHistogram(
            descriptor: Self.named("switchboard_routing_assignment_seconds",
                                   "From a ticket reaching routing to its assignment being committed; includes any wait for a free agent."),
            buckets: [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                      .milliseconds(500), .seconds(1), .seconds(5), .seconds(30), .seconds(60), .seconds(300), .seconds(900), .seconds(3600)])
        let connections = Self.named("switchboard_db_pool_connections", "Database pool connections: in use, and the pool's size.")
        poolConnections = Dictionary(uniqueKeysWithValues: ["in_use", "size"].map { state in
            (state, registry.makeGauge(descriptor: connections, labels: [("state", state)]))
        })
        poolWaiting = registry.makeGauge(descriptor: Self.named("switchboard_db_pool_waiting", "Callers waiting for a free database connection."))
        embeddedUp = registry.makeGauge(descriptor: Self.named("switchboard_embedded_postgres_up",
                                                               "1 while the embedded PostgreSQL runs; 0 from its death until it accepts connections again."))
        // A gauge holding a count: the supervisor owns the count; a scrape copies it.
        embeddedRestarts = registry.makeGauge(descriptor: Self.named("switchboard_embedded_postgres_restarts",
                                                                     "How many times the daemon started the embedded PostgreSQL again after it died."))
        leader = registry.makeGauge(descriptor: Self.named("switchboard_leader", "1 while this instance holds the lease and does the leader's work; 0 on a standby."))
        leaderEpoch = registry.makeGauge(descriptor: Self.named("switchboard_leader_epoch",
                                                                "The lease's epoch this instance leads under, or the last one it saw another lead under."))
        leaderSince = registry.makeGauge(descriptor: Self.named("switchboard_leader_since_seconds",
                                                                "When this instance began to lead (Unix time); 0 on a standby."))
        let agents = Self.named("switchboard_agents", "Active agents by presence.")
        agentsByPresence = Dictionary(uniqueKeysWithValues: ["online", "away", "offline"].map { presence in
            (presence, registry.makeGauge(descriptor: agents, labels: [("presence", presence)]))
        })
        eventStreamClients = registry.makeGauge(descriptor: Self.named("switchboard_api_event_streams", "Open agents' event streams (GET /api/v1/events)."))
    }

    /// A full metric name with its help text (the names carry their unit already).
    static func named(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    static var queueWaiting: MetricNameDescriptor { named("switchboard_queue_waiting_tickets", "Tickets waiting for an agent, per queue.") }
    static var queueLongestWait: MetricNameDescriptor { named("switchboard_queue_longest_wait_seconds", "How long the oldest waiting ticket of the queue has waited.") }

    // MARK: Events as they happen

    public func webhookDelivery(_ result: WebhookResult) { webhookDeliveries[result]?.increment() }

    public func ingestBatch(deliveries: Int, duration: Duration, messages: Int, duplicates: Int, statuses: Int) {
        ingestBatchDeliveries.record(Double(deliveries))
        ingestBatchSeconds.record(duration)
        ingestMessages.increment(by: Int64(messages))
        ingestDuplicates.increment(by: Int64(duplicates))
        ingestStatuses.increment(by: Int64(statuses))
    }

    public func send(_ result: SendResult) { sends[result]?.increment() }

    public func slaAlert(_ alert: SLAAlert, clock: String) { slaAlerts["\(alert.rawValue)/\(clock)"]?.increment() }

    public func mediaFetch(_ result: MediaFetchResult) { mediaFetches[result]?.increment() }

    public func setMediaFetchPaused(_ paused: Bool) { mediaFetchPaused.set(Double(paused ? 1 : 0)) }

    // MARK: Figures read at scrape time

    /// The embedded server's state (only with an embedded database).
    public func setEmbeddedServer(up: Bool, restarts: Int) {
        embeddedUp.set(Double(up ? 1 : 0))
        embeddedRestarts.set(Double(restarts))
    }

    /// This instance's part in the lease (issue #21).
    public func setLeadership(leading: Bool, epoch: Int64, since: Date?) {
        leader.set(Double(leading ? 1 : 0))
        leaderEpoch.set(Double(epoch))
        leaderSince.set(since?.timeIntervalSince1970 ?? 0)
    }

    public func setPool(inUse: Int, waiting: Int, size: Int) {
        poolConnections["in_use"]?.set(Double(inUse))
        poolConnections["size"]?.set(Double(size))
        poolWaiting.set(Double(waiting))
    }

    public func setAgents(byPresence counts: [String: Int]) {
        for (presence, gauge) in agentsByPresence { gauge.set(Double(counts[presence] ?? 0)) }
    }

    public func setEventStreams(_ count: Int) { eventStreamClients.set(Double(count)) }

    /// Sets each queue's depth and longest wait; queues no longer configured disappear.
    public func setQueues(_ figures: [(name: String, waiting: Int, longestWaitSeconds: Double)]) {
        let registry = self.registry
        queueGauges.withLock { gauges in
            let current = Set(figures.map(\.name))
            for (name, old) in gauges where !current.contains(name) {
                registry.unregisterGauge(old.waiting)
                registry.unregisterGauge(old.longestWait)
                gauges[name] = nil
            }
            for figure in figures {
                let pair = gauges[figure.name] ?? (
                    registry.makeGauge(descriptor: Self.queueWaiting, labels: [("queue", figure.name)]),
                    registry.makeGauge(descriptor: Self.queueLongestWait, labels: [("queue", figure.name)])
                )
                gauges[figure.name] = pair
                pair.waiting.set(Double(figure.waiting))
                pair.longestWait.set(figure.longestWaitSeconds)
            }
        }
    }

    /// The text exposition format (version 0.0.4).
    public func exposition() -> String { registry.emitToString() }
}

extension SwitchboardMetrics: RoutingObserver {
    public func ticketsArrived(_ ticketIDs: [Int64], at instant: ContinuousClock.Instant) {
        arrivals.withLock { arrivals in
            // Tickets resolved while waiting, or assigned by hand, are never assigned by routing:
            // forget those older than a day, and all of them if that is not enough, rather than
            // grow without bound (a few latencies then go unmeasured).
            if arrivals.count + ticketIDs.count > Self.maxTrackedArrivals {
                let dayAgo = instant - .seconds(86_400)
                arrivals = arrivals.filter { $0.value > dayAgo }
                if arrivals.count + ticketIDs.count > Self.maxTrackedArrivals { arrivals.removeAll(keepingCapacity: true) }
            }
            for id in ticketIDs where arrivals[id] == nil { arrivals[id] = instant }
        }
    }

    public func ticketsAssigned(_ ticketIDs: [Int64], at instant: ContinuousClock.Instant) {
        let started = arrivals.withLock { arrivals in ticketIDs.compactMap { arrivals.removeValue(forKey: $0) } }
        for start in started { assignmentSeconds.record(instant - start) }
    }
}
