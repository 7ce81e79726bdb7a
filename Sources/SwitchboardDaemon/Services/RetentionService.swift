import Foundation
import Logging
import ServiceLifecycle
import SwitchboardStore

/// Deletes what is past its retention, once an hour, until shutdown: raw webhook bodies
/// (`ingest.rawRetentionDays`), the bytes of files customers and agents sent (`media.retentionDays`,
/// their records stay, marked purged), and uploads a crash left half-way.
public struct RetentionService: Service {
    /// One kind of data and how to delete what of it is too old; returns how much went.
    public struct Purge: Sendable {
        public var what: String
        public var run: @Sendable (Date) async throws -> Int

        public init(_ what: String, _ run: @escaping @Sendable (Date) async throws -> Int) {
            self.what = what
            self.run = run
        }

        public static func rawWebhooks(_ store: RawWebhookStore, days: Double) -> Purge {
            Purge("raw webhook bodies") { _ in try await store.purge(olderThanDays: days) }
        }

        public static func media(_ store: MediaStore, days: Double) -> Purge {
            Purge("files of messages") { now in try await store.purge(storedBefore: now.addingTimeInterval(-days * 86_400), now: now) }
        }

        /// Uploads a crash interrupted before Meta took them: nothing refers to them.
        public static func abandonedUploads(_ store: MediaStore) -> Purge {
            Purge("interrupted uploads") { now in try await store.discardAbandonedUploads(before: now.addingTimeInterval(-86_400)) }
        }
    }

    let purges: [Purge]
    let logger: Logger

    public init(_ purges: [Purge], logger: Logger) {
        self.purges = purges
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                await purge()
                try await Task.sleep(for: .seconds(3600))
            }
        }
    }

    /// Deletes what is past retention now; failures are logged and retried on the next round.
    public func purge(now: Date = Date()) async {
        for purge in purges {
            do {
                let deleted = try await purge.run(now)
                if deleted > 0 { logger.info("past retention, deleted", metadata: ["what": "\(purge.what)", "count": "\(deleted)"]) }
            } catch {
                logger.warning("could not delete what is past retention; will try again", metadata: ["what": "\(purge.what)", "error": "\(error)"])
            }
        }
    }
}
