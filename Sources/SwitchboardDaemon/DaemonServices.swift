import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import Postgres
import ServiceLifecycle
import SwitchboardCore
import SwitchboardStore
import WhatsApp

/// The daemon's parts, wired from the configuration, and the order the service group runs them in.
/// Building them starts nothing: the database starts when the group runs.
struct DaemonServices {
    let notifier: SystemdNotifier
    let readiness = Readiness()
    let metrics = SwitchboardMetrics()
    let timers = TaskTimers()
    let events = EventStream()
    /// This instance's part in the lease, and the epoch its sessions carry while it leads.
    let leadership: LeadershipStatus
    let fence = SessionSetup()
    let database: DatabaseService
    let router: TicketRouter
    let sla: SLAEngine
    let outbox: OutboxService
    let automation: AutomationEngine
    let mediaFetcher: MediaFetchService
    /// Ingest's news as the leader's router takes it (its own ingest, and what standbys relay).
    let leaderSink: MediaWakingSink
    /// Read receipts and typing indicators; nil when sending is not configured.
    let signals: CustomerSignals?
    let eventLog: EventLog
    let controlStore: ControlStore
    let reloader: ConfigurationReloader
    let http: any Service
    let control: VarlinkServer<ControlService>
    let logger: Logger
    let configuration: SwitchboardConfiguration

    init(configurationPath: String, configuration: SwitchboardConfiguration, levelControl: LogLevelControl, logger: Logger) throws {
        self.logger = logger
        self.configuration = configuration
        let notifier = SystemdNotifier(logger: logger)
        notifier.status("starting: database")
        self.notifier = notifier
        leadership = LeadershipStatus(node: configuration.cluster.node)
        database = try DatabaseService(configuration, readiness: readiness, sessionSetup: fence, logger: Logger(label: "database")) { notifier.status($0) }
        router = TicketRouter(configuration: configuration.routing, pool: database.pool, timers: timers, logger: Logger(label: "routing"),
                              observer: metrics, events: events)
        let slaStore = SLAStore(pool: database.pool)
        sla = SLAEngine(policies: configuration.slaPolicies, store: slaStore, ledger: slaStore, clock: timers, events: events, metrics: metrics,
                        logger: Logger(label: "sla"))
        let mediaState = MediaFetchState()
        leaderSink = MediaWakingSink(next: router, media: mediaState)
        let sink = LeaderRoutedSink(leadership: leadership, leader: leaderSink, relay: ActivityRelayStore(pool: database.pool), logger: Logger(label: "ingest"))
        let whatsapp = try Self.whatsapp(configuration, pool: database.pool, sink: sink, metrics: metrics, logger: logger)
        outbox = Self.outbox(configuration.outbound, pool: database.pool, client: whatsapp.client, replies: sla, metrics: metrics,
                             mayHandOver: { [leadership] in leadership.mayAct }, statuses: { [router] in await router.statusesChanged($0) })
        automation = AutomationEngine(configuration: configuration.automation, store: AutomationStore(pool: database.pool),
                                      outbox: whatsapp.client == nil ? nil : outbox, timers: timers, logger: Logger(label: "automation"))
        mediaFetcher = MediaFetchService(store: MediaStore(pool: database.pool), client: whatsapp.client,
                                         settings: .init(concurrency: configuration.media.fetchConcurrency,
                                                         lease: TimeInterval(configuration.media.fetchLeaseSeconds)),
                                         state: mediaState, metrics: metrics, logger: Logger(label: "media"))
        let clock = timers, pool = database.pool
        signals = whatsapp.client.map {
            CustomerSignals(settings: .init(markReadOnOpen: configuration.outbound.markReadOnOpen, typingIndicator: configuration.outbound.typingIndicator),
                            store: ReadReceiptStore(pool: pool), client: $0, now: { clock.now }, logger: Logger(label: "outbound"))
        }
        eventLog = EventLog(capacity: configuration.api.eventRetentionCount, maxAge: configuration.api.eventRetentionSeconds)
        controlStore = ControlStore(pool: database.pool)
        reloader = Self.reloader(configurationPath, configuration, levelControl, notifier, router: router, sla: sla, automation: automation, logger: logger)
        let passed = SystemdListenFDs.take()
        if !passed.isEmpty { logger.info("sockets passed by systemd", metadata: ["names": "\(passed.keys.sorted().joined(separator: ","))"]) }
        let api = AgentAPI(router: router, store: controlStore, outbox: whatsapp.client == nil ? nil : outbox, events: events, log: eventLog,
                           timers: timers, settings: configuration.api,
                           uploads: whatsapp.client.map { MediaUploader(store: MediaStore(pool: pool), client: $0, logger: Logger(label: "media")) },
                           signals: signals, templates: configuration.whatsapp?.templates ?? [],
                           automation: { [reloader = self.reloader] in reloader.configuration.automation }, logger: Logger(label: "api"))
        let database = self.database, router = self.router, readiness = self.readiness
        let reloader = self.reloader
        let mediaFetcher = self.mediaFetcher
        let forwardingLogger = Logger(label: "cluster")
        var handler = ControlService(router: router, store: controlStore, events: events, access: { reloader.configuration.control.access },
                                     reload: { await reloader.reload() }, database: { database.status }, media: { await mediaFetcher.status() },
                                     sessionIdle: configuration.api.sessionIdleSeconds, logger: Logger(label: "control"))
        let controlForwarding = ControlForwarding(leadership: leadership, client: HTTPClient.shared, logger: forwardingLogger)
        handler.leadership = leadership
        handler.forwarding = controlForwarding
        let signIn = WebSignIn(store: controlStore, settings: configuration.api, logger: Logger(label: "api"))
        let routes = HTTPServer.makeRouter(readiness: readiness, pool: database.pool, webhook: whatsapp.webhook, api: api, signIn: signIn, pages: try WebPages(),
                                           metrics: MetricsEndpoint(metrics: metrics, router: router, pool: database.pool, eventLog: eventLog,
                                                                    database: { database.status }),
                                           leaderForwarding: LeaderForwarding(leadership: leadership, client: HTTPClient.shared, logger: forwardingLogger))
        controlForwarding.register(on: routes, handler: handler)
        if let descriptor = SystemdListenFDs.httpSocket(in: passed) {
            http = HTTPServer.makePassedSocketServer(router: routes, descriptor: descriptor, readiness: readiness, logger: Logger(label: "http"))
        } else {
            http = HTTPServer.makeApplication(router: routes, host: configuration.http.host, port: configuration.http.port, readiness: readiness,
                                              logger: Logger(label: "http"))
        }
        let listener: VarlinkServer<ControlService>.Listener = SystemdListenFDs.controlSocket(in: passed).map { .descriptor($0) }
            ?? .path(configuration.control.socketPath)
        control = VarlinkServer(listener: listener, maxMessageBytes: configuration.control.maxMessageBytes, handler: handler,
                                onListening: { _ in readiness.mark(.control) }, logger: Logger(label: "control"))
    }

    /// The services in the order they start and (reversed) stop. What uses the database starts
    /// once migrations are at head; the database stops last.
    var inOrder: [ServiceGroupConfiguration.ServiceConfiguration] {
        let afterMigrations: Set<Readiness.Condition> = [.migrations]
        let migrations = MigrationService(database: database, readiness: readiness, onStatus: { [notifier] in notifier.status($0) },
                                          logger: Logger(label: "migrations"))
        let retention = RetentionService([.rawWebhooks(RawWebhookStore(pool: database.pool), days: configuration.ingest.rawRetentionDays),
                                          .media(MediaStore(pool: database.pool), days: configuration.media.retentionDays),
                                          .abandonedUploads(MediaStore(pool: database.pool))],
                                         logger: Logger(label: "retention"))
        let routing = RoutingService(router: router, sla: sla, automation: automation, timers: timers, readiness: readiness, logger: Logger(label: "routing"),
                                     rebuildConcurrently: configuration.database.poolSize >= 4)
        // The leader's work starts once this instance holds the lease (at once for a lone daemon).
        let leading: Set<Readiness.Condition> = [.migrations, .leading]
        let signals: [ServiceGroupConfiguration.ServiceConfiguration] = self.signals.map {
            [.init(service: StartsAfter(leading, readiness, $0), serviceName: "signals")]
        } ?? []
        let lease = LeadershipService(store: LeadershipStore(pool: database.pool), status: leadership, fence: fence, readiness: readiness,
                                      settings: configuration.cluster, metrics: metrics, logger: Logger(label: "cluster"))
        let router = self.router
        let relay = ActivityRelayService(relay: ActivityRelayStore(pool: database.pool), sink: leaderSink, interval: .milliseconds(200),
                                         sweepEvery: .seconds(5), sweep: { await router.needRecovery(.init(routeUnrouted: true)) },
                                         logger: Logger(label: "cluster"))
        return [
            .init(service: database, serviceName: "database"),
            .init(service: migrations, successTerminationBehavior: .ignore, serviceName: "migrations"),
            // Before the leader's work, so it stops after it: the lease is given up last.
            .init(service: StartsAfter(afterMigrations, readiness, lease), serviceName: "leadership"),
            .init(service: StartsAfter(leading, readiness, retention), serviceName: "retention"),
            .init(service: StartsAfter(leading, readiness, outbox), serviceName: "outbound"),
            .init(service: StartsAfter(leading, readiness, mediaFetcher), successTerminationBehavior: .ignore, serviceName: "media"),
        ] + signals + [
            .init(service: StartsAfter(leading, readiness, routing), serviceName: "routing"),
            .init(service: StartsAfter(leading, readiness, relay), serviceName: "relay"),
            .init(service: StartsAfter(afterMigrations, readiness, AnyService(http)), serviceName: "http"),
            // After the HTTP server: stopped before it, it ends the agents' event streams first.
            .init(service: EventEnricher(events: events, log: eventLog, store: controlStore, logger: Logger(label: "events")), serviceName: "events"),
            .init(service: StartsAfter(afterMigrations, readiness, control), serviceName: "control"),
            .init(service: reloader, serviceName: "reloader"),
            .init(service: systemd, serviceName: "systemd"),
        ]
    }

    /// READY=1 once everything is ready, the watchdog while the database answers, STOPPING=1.
    private var systemd: SystemdService {
        let pool = database.pool, readiness = self.readiness, summary = database.summary
        return SystemdService(
            notifier: notifier, readiness: readiness, watchdogInterval: SystemdNotifier.watchdogInterval(),
            probe: {
                do {
                    try await pool.query("SELECT 1")
                    return .success(())
                } catch {
                    return .failure(error)
                }
            },
            readyStatus: { "ready; http \(readiness.httpAddress ?? "?"); \(summary); migrations at head" },
            logger: logger
        )
    }

    /// The webhook (with its secrets) and the Graph API client, when the configuration has a
    /// `whatsapp` section; without an access token replies are refused.
    private static func whatsapp(_ configuration: SwitchboardConfiguration, pool: PostgresPool, sink: any TicketActivitySink, metrics: SwitchboardMetrics,
                                 logger: Logger) throws -> (webhook: WebhookEndpoint?, client: GraphAPIClient?) {
        guard let whatsapp = configuration.whatsapp else {
            logger.warning("no whatsapp section in the configuration: the webhook answers 404 and nothing is received")
            return (nil, nil)
        }
        let reader = SecretReader()
        let ingestor = WebhookIngestor(
            store: WebhookIngestStore(pool: pool, reopenWithin: configuration.tickets.reopenWithinHours * 3600),
            maxBatch: configuration.ingest.maxBatchDeliveries,
            maxInFlight: min(configuration.ingest.maxConcurrentTransactions, max(1, configuration.database.poolSize - 2)),
            linger: .milliseconds(configuration.ingest.lingerMilliseconds), sink: sink, metrics: metrics)
        let webhook = WebhookEndpoint(appSecret: try reader.read(whatsapp.appSecret), verifyToken: try reader.read(whatsapp.verifyToken), ingestor: ingestor,
                                      logger: Logger(label: "webhook"), metrics: metrics)
        guard let accessToken = whatsapp.accessToken else {
            logger.warning("no whatsapp.accessToken in the configuration: replies are refused")
            return (webhook, nil)
        }
        let client = GraphAPIClient(
            configuration: .init(baseURL: whatsapp.graphAPI.baseURL, version: whatsapp.graphAPI.version, accessToken: try reader.read(accessToken),
                                 timeout: .milliseconds(Int64(whatsapp.graphAPI.timeoutSeconds * 1000))),
            httpClient: HTTPClient.shared)
        return (webhook, client)
    }

    private static func outbox(_ outbound: SwitchboardConfiguration.Outbound, pool: PostgresPool, client: GraphAPIClient?, replies: SLAEngine,
                               metrics: SwitchboardMetrics, mayHandOver: @escaping @Sendable () -> Bool, statuses: @escaping @Sendable ([IngestResult.StatusChange]) async -> Void) -> OutboxService {
        OutboxService(
            store: OutboxStore(pool: pool), client: client,
            settings: .init(
                messagesPerSecond: outbound.messagesPerSecond,
                limits: .init(customerInterval: outbound.perCustomerIntervalSeconds, maxInFlight: outbound.maxConcurrentSends),
                retryPolicy: RetryPolicy(baseDelay: outbound.retryBaseSeconds, maxDelay: outbound.retryMaxSeconds, maxAttempts: outbound.maxAttempts),
                mayHandOver: mayHandOver),
            replies: replies, metrics: metrics, statuses: statuses, logger: Logger(label: "outbound"))
    }

    /// SIGHUP (or the control command) reads the file again: routing, SLA policies and automation apply at once.
    private static func reloader(_ path: String, _ configuration: SwitchboardConfiguration, _ levelControl: LogLevelControl, _ notifier: SystemdNotifier,
                                 router: TicketRouter, sla: SLAEngine, automation: AutomationEngine, logger: Logger) -> ConfigurationReloader {
        ConfigurationReloader(path: path, initial: configuration, levelControl: levelControl, notifier: notifier, logger: logger) { fresh in
            do {
                try await router.reconfigure(fresh.routing)
            } catch {
                logger.error("routing configuration not applied", metadata: ["error": "\(error)"])
            }
            do {
                try await sla.reconfigure(fresh.slaPolicies)
            } catch {
                logger.error("SLA policies not applied; the previous ones stay in force", metadata: ["error": "\(error)"])
            }
            await automation.reconfigure(fresh.automation)
        }
    }
}

/// Any service as a concrete type (the HTTP server is one of two kinds).
struct AnyService: Service {
    let wrapped: any Service

    init(_ wrapped: any Service) { self.wrapped = wrapped }

    func run() async throws { try await wrapped.run() }
}
