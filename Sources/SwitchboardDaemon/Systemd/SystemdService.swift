import Logging
import Postgres
import ServiceLifecycle

/// Talks to systemd for the daemon: READY=1 once the readiness barrier is passed, WATCHDOG=1 at half
/// the watchdog interval while a database round trip succeeds, STOPPING=1 when shutdown begins.
///
/// Placed last in the service group, so it is the first to hear of a graceful shutdown.
public struct SystemdService: Service {
    let notifier: SystemdNotifier
    let readiness: Readiness
    let watchdogInterval: Duration?
    let probe: @Sendable () async -> Result<Void, any Error>
    let readyStatus: @Sendable () -> String
    let logger: Logger

    public init(
        notifier: SystemdNotifier,
        readiness: Readiness,
        watchdogInterval: Duration?,
        probe: @escaping @Sendable () async -> Result<Void, any Error>,
        readyStatus: @escaping @Sendable () -> String,
        logger: Logger
    ) {
        self.notifier = notifier
        self.readiness = readiness
        self.watchdogInterval = watchdogInterval
        self.probe = probe
        self.readyStatus = readyStatus
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await readiness.waitUntilReady()
                let status = readyStatus()
                notifier.ready(status: status)
                logger.info("ready", metadata: ["status": "\(status)"])
                try await watchdogLoop()
            }
        } catch is CancellationError {
            // Graceful shutdown began (or the group is being cancelled).
        }
        notifier.stopping(status: "stopping")
    }

    /// Pings at half the interval, only after a successful probe: a daemon whose database is gone
    /// stops pinging, and systemd restarts it when the interval runs out.
    private func watchdogLoop() async throws {
        guard let interval = watchdogInterval else {
            try await gracefulShutdown()
            return
        }
        let period = interval / 2
        var healthy = true
        while true {
            switch await probe() {
            case .success:
                notifier.watchdog()
                if !healthy {
                    healthy = true
                    notifier.status(readyStatus())
                    logger.notice("health probe succeeds again; watchdog pings resumed")
                }
            case .failure(let error):
                if healthy {
                    healthy = false
                    notifier.status("unhealthy: \(error)")
                }
                logger.error("health probe failed; withholding the watchdog ping", metadata: ["error": "\(error)"])
            }
            try await Task.sleep(for: period)
        }
    }
}
