import Logging
import ServiceLifecycle
import Synchronization
import SwitchboardCore
import UnixSignals

/// Holds the configuration in force and swaps it on SIGHUP (or a control command): a valid new file
/// is applied atomically; an invalid one is refused, the old one stays, and the log says why.
public final class ConfigurationReloader: Service, Sendable {
    public enum Outcome: Sendable, Equatable {
        case applied(needingRestart: [String])
        case refused(ConfigIssues)
    }

    private let path: String
    private let current: Mutex<SwitchboardConfiguration>
    private let levelControl: LogLevelControl
    private let notifier: SystemdNotifier
    private let logger: Logger
    /// Applies what a running daemon takes without a restart (routing), after the swap.
    private let apply: @Sendable (SwitchboardConfiguration) async -> Void

    public init(path: String, initial: SwitchboardConfiguration, levelControl: LogLevelControl, notifier: SystemdNotifier, logger: Logger,
                apply: @escaping @Sendable (SwitchboardConfiguration) async -> Void = { _ in }) {
        self.path = path
        self.current = Mutex(initial)
        self.levelControl = levelControl
        self.notifier = notifier
        self.logger = logger
        self.apply = apply
    }

    public var configuration: SwitchboardConfiguration { current.withLock { $0 } }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                _ = await self.reload()
            }
        }
    }

    /// Reads the file again and applies what can change in a running daemon.
    public func reload() async -> Outcome {
        let fresh: SwitchboardConfiguration
        do {
            fresh = try SwitchboardConfiguration.load(path: path)
        } catch {
            logger.error("configuration reload refused; keeping the running configuration", metadata: ["file": "\(path)", "problems": "\(error.issues.map(\.description).joined(separator: "; "))"])
            notifier.status("reload refused: \(error.issues.first?.description ?? "invalid configuration")")
            return .refused(error)
        }
        let needingRestart = current.withLock { old -> [String] in
            let keys = old.changesNeedingRestart(comparedTo: fresh)
            old = fresh
            return keys
        }
        levelControl.current = fresh.logging.level
        await apply(fresh)
        if needingRestart.isEmpty {
            logger.notice("configuration reloaded", metadata: ["file": "\(path)"])
        } else {
            logger.warning("configuration reloaded; some changes take effect only after a restart", metadata: ["keys": "\(needingRestart.joined(separator: ","))"])
        }
        notifier.status("configuration reloaded")
        return .applied(needingRestart: needingRestart)
    }
}
