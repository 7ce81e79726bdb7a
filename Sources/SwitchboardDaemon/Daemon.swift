import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import Postgres
import ServiceLifecycle
import SwitchboardCore
import SwitchboardStore
import WhatsApp

/// Wires the daemon: configuration, logging, database, services, and one `ServiceGroup`.
public enum Daemon {
    /// Sets up swift-log once per process: stderr, journal-aware, with a level a reload can change.
    public static func bootstrapLogging(level: Logger.Level) -> LogLevelControl {
        let control = LogLevelControl(level)
        let journal = StderrLogHandler.stderrIsJournal()
        LoggingSystem.bootstrap { label in
            StderrLogHandler(label: label, levelControl: control, journal: journal)
        }
        return control
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully within the configured bound.
    public static func run(configurationPath: String, configuration: SwitchboardConfiguration, levelControl: LogLevelControl) async throws {
        let logger = Logger(label: "switchboard")
        // SIGHUP's default action ends the process; ignore it until the reloader listens for it.
        signal(SIGHUP, SIG_IGN)
        let notifier = SystemdNotifier(logger: logger)
        notifier.status("starting: database")

        let database = try await DatabaseService.start(configuration, logger: Logger(label: "database")) { status in
            notifier.status(status)
        }
        let readiness = Readiness()
        readiness.mark(.database)
        do {
            notifier.status("starting: migrations")
            let applied = try await database.migrate()
            logger.info("migrations at head", metadata: ["applied_now": "\(applied.count)", "known": "\(database.migrations.count)"])
            readiness.mark(.migrations)
        } catch {
            await database.stop()
            throw error
        }

        let metrics = SwitchboardMetrics()
        let routingTimers = TaskTimers()
        let events = EventStream()
        let ticketRouter = TicketRouter(configuration: configuration.routing, pool: database.pool, timers: routingTimers, logger: Logger(label: "routing"),
                                        observer: metrics, events: events)
        let slaStore = SLAStore(pool: database.pool)
        let sla = SLAEngine(policies: configuration.slaPolicies, store: slaStore, ledger: slaStore, clock: routingTimers, events: events, metrics: metrics, logger: Logger(label: "sla"))
        sla.attach(escalator: ticketRouter)
        await ticketRouter.attach(sla: sla)
        var webhook: WebhookEndpoint?
        var graphClient: GraphAPIClient?
        if let whatsapp = configuration.whatsapp {
            let reader = SecretReader()
            let ingestor = WebhookIngestor(
                store: WebhookIngestStore(pool: database.pool, reopenWithin: configuration.tickets.reopenWithinHours * 3600),
                maxBatch: configuration.ingest.maxBatchDeliveries,
                maxInFlight: min(configuration.ingest.maxConcurrentTransactions, max(1, configuration.database.poolSize - 2)),
                linger: .milliseconds(configuration.ingest.lingerMilliseconds),
                sink: ticketRouter,
                metrics: metrics
            )
            do {
                webhook = WebhookEndpoint(
                    appSecret: try reader.read(whatsapp.appSecret),
                    verifyToken: try reader.read(whatsapp.verifyToken),
                    ingestor: ingestor,
                    logger: Logger(label: "webhook"),
                    metrics: metrics
                )
                if let accessToken = whatsapp.accessToken {
                    graphClient = GraphAPIClient(
                        configuration: .init(baseURL: whatsapp.graphAPI.baseURL, version: whatsapp.graphAPI.version,
                                             accessToken: try reader.read(accessToken),
                                             timeout: .milliseconds(Int64(whatsapp.graphAPI.timeoutSeconds * 1000))),
                        httpClient: HTTPClient.shared
                    )
                } else {
                    logger.warning("no whatsapp.accessToken in the configuration: replies are refused")
                }
            } catch {
                await database.stop()
                throw error
            }
        } else {
            logger.warning("no whatsapp section in the configuration: the webhook answers 404 and nothing is received")
        }
        let outbound = configuration.outbound
        let outbox = OutboxService(
            store: OutboxStore(pool: database.pool),
            client: graphClient,
            settings: .init(
                messagesPerSecond: outbound.messagesPerSecond,
                limits: .init(customerInterval: outbound.perCustomerIntervalSeconds, maxInFlight: outbound.maxConcurrentSends),
                retryPolicy: RetryPolicy(baseDelay: outbound.retryBaseSeconds, maxDelay: outbound.retryMaxSeconds, maxAttempts: outbound.maxAttempts)
            ),
            replies: sla,
            metrics: metrics,
            logger: Logger(label: "outbound")
        )
        let retention = RawWebhookRetentionService(pool: database.pool, retentionDays: configuration.ingest.rawRetentionDays, logger: Logger(label: "retention"))
        let eventLog = EventLog(capacity: configuration.api.eventRetentionCount, maxAge: configuration.api.eventRetentionSeconds)
        let controlStore = ControlStore(pool: database.pool)
        let enricher = EventEnricher(events: events, log: eventLog, store: controlStore, logger: Logger(label: "events"))
        let api = AgentAPI(router: ticketRouter, store: controlStore, outbox: graphClient == nil ? nil : outbox, events: events, log: eventLog,
                           timers: routingTimers, settings: configuration.api, logger: Logger(label: "api"))
        let router = HTTPServer.makeRouter(readiness: readiness, pool: database.pool, webhook: webhook, api: api,
                                           metrics: MetricsEndpoint(metrics: metrics, router: ticketRouter, pool: database.pool, eventLog: eventLog,
                                                                    database: { database.status }))
        let reloader = ConfigurationReloader(path: configurationPath, initial: configuration, levelControl: levelControl, notifier: notifier, logger: logger) { fresh in
            do {
                try await ticketRouter.reconfigure(fresh.routing)
            } catch {
                logger.error("routing configuration not applied", metadata: ["error": "\(error)"])
            }
            do {
                try await sla.reconfigure(fresh.slaPolicies)
            } catch {
                logger.error("SLA policies not applied; the previous ones stay in force", metadata: ["error": "\(error)"])
            }
        }
        let controlHandler = ControlService(router: ticketRouter, store: controlStore, events: events,
                                            access: { reloader.configuration.control.access }, reload: { await reloader.reload() },
                                            database: { database.status }, logger: Logger(label: "control"))
        let passed = SystemdListenFDs.take()
        if !passed.isEmpty { logger.info("sockets passed by systemd", metadata: ["names": "\(passed.keys.sorted().joined(separator: ","))"]) }
        let http: any Service
        if let descriptor = SystemdListenFDs.httpSocket(in: passed) {
            http = HTTPServer.makePassedSocketServer(router: router, descriptor: descriptor, readiness: readiness, logger: Logger(label: "http"))
        } else {
            http = HTTPServer.makeApplication(router: router, host: configuration.http.host, port: configuration.http.port,
                                              readiness: readiness, logger: Logger(label: "http"))
        }
        let listener: VarlinkServer<ControlService>.Listener = SystemdListenFDs.controlSocket(in: passed).map { .descriptor($0) }
            ?? .path(configuration.control.socketPath)
        let control = VarlinkServer(listener: listener, maxMessageBytes: configuration.control.maxMessageBytes, handler: controlHandler,
                                    onListening: { _ in readiness.mark(.control) }, logger: Logger(label: "control"))
        let routing = RoutingService(router: ticketRouter, sla: sla, timers: routingTimers, readiness: readiness, logger: Logger(label: "routing"))
        let pool = database.pool
        let databaseSummary = database.summary
        let systemd = SystemdService(
            notifier: notifier,
            readiness: readiness,
            watchdogInterval: SystemdNotifier.watchdogInterval(),
            probe: {
                do {
                    try await pool.query("SELECT 1")
                    return .success(())
                } catch {
                    return .failure(error)
                }
            },
            readyStatus: { "ready; http \(readiness.httpAddress ?? "?"); \(databaseSummary); migrations at head" },
            logger: logger
        )

        var groupConfiguration = ServiceGroupConfiguration(
            services: [
                .init(service: database, serviceName: "database"),
                .init(service: retention, serviceName: "retention"),
                .init(service: outbox, serviceName: "outbound"),
                .init(service: routing, serviceName: "routing"),
                .init(service: http, serviceName: "http"),
                // After the HTTP server: stopped before it, it ends the agents' event streams first.
                .init(service: enricher, serviceName: "events"),
                .init(service: control, serviceName: "control"),
                .init(service: reloader, serviceName: "reloader"),
                .init(service: systemd, serviceName: "systemd"),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = .milliseconds(Int64(configuration.shutdownGraceSeconds * 1000))
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: groupConfiguration)
        do {
            try await group.run()
        } catch {
            // A service failed: make sure the database goes down with us.
            await database.stop()
            throw error
        }
        logger.info("stopped")
    }
}
