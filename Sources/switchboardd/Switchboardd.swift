import ArgumentParser
import Foundation
import Logging
import SwitchboardCore
import SwitchboardDaemon

@main
struct Switchboardd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboardd",
        abstract: "Switchboard: the WhatsApp shared-inbox routing daemon.",
        version: SwitchboardVersion.current,
        subcommands: [Run.self, Migrate.self, CheckConfig.self],
        defaultSubcommand: Run.self
    )
}

struct ConfigOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "The configuration file (JSON).")
    var config: String = "/etc/switchboard/config.json"

    /// Loads the file or prints every problem (one per line, with its key path) and exits 1.
    func load(whatsappSecrets: Bool = true) throws -> SwitchboardConfiguration {
        do {
            return try SwitchboardConfiguration.load(path: config, whatsappSecrets: whatsappSecrets)
        } catch {
            for issue in error.issues {
                FileHandle.standardError.write(Data("\(config): \(issue)\n".utf8))
            }
            throw ExitCode(1)
        }
    }
}

extension Switchboardd {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the daemon (the default).")
        @OptionGroup var options: ConfigOption

        func run() async throws {
            let configuration = try options.load()
            let levelControl = Daemon.bootstrapLogging(level: configuration.logging.level)
            do {
                try await Daemon.run(configurationPath: options.config, configuration: configuration, levelControl: levelControl)
            } catch {
                Logger(label: "switchboard").critical("switchboardd stopped on an error", metadata: ["error": "\(error)"])
                throw ExitCode(1)
            }
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply pending database migrations and exit.")
        @OptionGroup var options: ConfigOption
        @Flag(help: "List the pending migrations without applying them.")
        var dryRun = false

        func run() async throws {
            // Migrations need the database only: the WhatsApp secrets may not be in place yet.
            let configuration = try options.load(whatsappSecrets: false)
            _ = Daemon.bootstrapLogging(level: min(configuration.logging.level, .warning))
            let database = try DatabaseService(configuration, logger: Logger(label: "database"))
            do {
                try await database.start()
                if dryRun {
                    let status = try await database.migrationStatus()
                    print("applied: \(status.applied.count), pending: \(status.pending.count)")
                    for migration in status.pending { print("pending \(migration.fileName)") }
                } else {
                    let applied = try await database.migrate()
                    for migration in applied { print("applied \(migration.fileName)") }
                    print(applied.isEmpty ? "nothing to apply; the schema is at head" : "\(applied.count) migration(s) applied; the schema is at head")
                }
            } catch {
                await database.stop()
                FileHandle.standardError.write(Data("switchboardd migrate: \(error)\n".utf8))
                throw ExitCode(1)
            }
            await database.stop()
        }
    }

    struct CheckConfig: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-config",
            abstract: "Validate a configuration file and exit 0 (valid) or 1 (invalid), like nginx -t."
        )
        @OptionGroup var options: ConfigOption

        func run() async throws {
            _ = try options.load()
            print("\(options.config): configuration is valid")
        }
    }
}
