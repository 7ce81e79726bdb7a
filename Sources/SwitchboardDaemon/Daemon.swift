import Foundation
import Logging
import ServiceLifecycle

/// Runs the daemon: its parts (`DaemonServices`) as one `ServiceGroup`. Every part is a `Service`
/// that starts when what it needs is ready (`StartsAfter`) and stops in reverse order of the
/// group; nothing is stopped by hand.
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
        let services = try DaemonServices(configurationPath: configurationPath, configuration: configuration, levelControl: levelControl, logger: logger)
        var group = ServiceGroupConfiguration(services: services.inOrder, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .milliseconds(Int64(configuration.shutdownGraceSeconds * 1000))
        group.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: group).run()
        logger.info("stopped")
    }
}
