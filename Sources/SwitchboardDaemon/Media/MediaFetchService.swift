import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import SwitchboardCore
import SwitchboardStore
import WhatsApp

/// Fetches the files customers send from the Graph API into PostgreSQL, in the background after
/// the webhook was acknowledged: ingest records each file `pending` with its message; this service
/// claims the due ones (leased, so any instance may fetch and a fetch cut short by a crash is tried
/// again), streams each in chunks while hashing it, checks Meta's SHA-256, and marks it stored —
/// or, by `MediaFetchPolicy`, tries again later, gives up with the reason, or pauses every fetch
/// while the access token is refused.
public struct MediaFetchService: Service {
    public struct Settings: Sendable, Equatable {
        public var concurrency: Int
        /// How long a claimed file is left to one fetch before another may take it.
        public var lease: TimeInterval
        /// How often the work list is read when nothing is due.
        public var idlePoll: Duration
        public var policy: MediaFetchPolicy

        public init(concurrency: Int = 4, lease: TimeInterval = 60, idlePoll: Duration = .seconds(1), policy: MediaFetchPolicy = MediaFetchPolicy()) {
            self.concurrency = concurrency
            self.lease = lease
            self.idlePoll = idlePoll
            self.policy = policy
        }
    }

    let store: MediaStore
    let client: GraphAPIClient?
    let settings: Settings
    let logger: Logger

    public init(store: MediaStore, client: GraphAPIClient?, settings: Settings = Settings(), logger: Logger) {
        self.store = store
        self.client = client
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        guard let client else {
            logger.warning("no whatsapp.accessToken: customers' files are recorded but not fetched")
            return
        }
        await cancelWhenGracefulShutdown { await self.loop(client) }
    }

    private func loop(_ client: GraphAPIClient) async {
        while !Task.isCancelled {
            let jobs: [MediaStore.Job]
            do {
                jobs = try await store.claimDue(limit: settings.concurrency, lease: settings.lease, now: Date())
            } catch {
                logger.warning("could not read the files to fetch; trying again", metadata: ["error": "\(error)"])
                jobs = []
            }
            if jobs.isEmpty {
                try? await Task.sleep(for: settings.idlePoll)
                continue
            }
            await fetch(jobs, client)
        }
    }

    /// Claims what is due now and fetches it; returns how many were tried (tests and tools).
    public func fetchDue(now: Date = Date()) async throws -> Int {
        guard let client else { return 0 }
        let jobs = try await store.claimDue(limit: settings.concurrency, lease: settings.lease, now: now)
        await fetch(jobs, client)
        return jobs.count
    }

    private func fetch(_ jobs: [MediaStore.Job], _ client: GraphAPIClient) async {
        await withTaskGroup(of: Void.self) { group in
            for job in jobs { group.addTask { await self.fetch(job, client) } }
        }
    }

    /// One attempt at one file; its outcome is stored.
    func fetch(_ job: MediaStore.Job, _ client: GraphAPIClient) async {
        let failure: MediaFetchPolicy.Failure
        do {
            let info = try await client.mediaInfo(job.waMediaID)
            try await store.clearChunks(job.id)
            let written = try await stream(job, from: info.url, client)
            var verdict = MediaDigest.check(written.digest, against: info.sha256)
            if verdict == .uncheckable { verdict = MediaDigest.check(written.digest, against: job.sha256) }
            if verdict == .differs {
                failure = .digestDiffers
            } else {
                if verdict == .uncheckable {
                    logger.notice("a file's SHA-256 from Meta could not be read; stored unchecked", metadata: ["media": "\(job.id)"])
                }
                try await store.markStored(job.id, size: written.size, mimeType: info.mimeType ?? written.contentType,
                                           sha256Hex: MediaDigest.hex(written.digest), now: Date())
                logger.info("file stored", metadata: ["media": "\(job.id)", "kind": "\(job.kind)", "bytes": "\(written.size)"])
                return
            }
        } catch let error as GraphAPIError {
            failure = .graph(httpStatus: error.httpStatus, code: error.code, message: error.message)
        } catch is MediaTooLarge {
            failure = .tooLarge
        } catch {
            failure = .graph(httpStatus: nil, code: nil, message: "\(error)")
        }
        await settle(job, failure)
    }

    /// Streams the file into chunks of `MediaStore.chunkSize`, hashing as it goes; never more than
    /// one chunk in memory.
    private func stream(_ job: MediaStore.Job, from url: String, _ client: GraphAPIClient) async throws -> (size: Int, digest: [UInt8], contentType: String?) {
        let hasher = SHA256Hasher()
        var pending: [UInt8] = []
        pending.reserveCapacity(MediaStore.chunkSize)
        var seq = 0, size = 0
        let contentType = try await client.download(url, maxBytes: settings.policy.maxBytes) { piece in
            piece.withUnsafeReadableBytes { hasher.update($0) }
            size += piece.readableBytes
            var rest = piece
            while rest.readableBytes > 0 {
                let take = min(rest.readableBytes, MediaStore.chunkSize - pending.count)
                pending += rest.readBytes(length: take) ?? []
                if pending.count == MediaStore.chunkSize {
                    try await store.appendChunk(job.id, seq: seq, bytes: pending)
                    seq += 1
                    pending.removeAll(keepingCapacity: true)
                }
            }
        }
        if !pending.isEmpty || seq == 0 { try await store.appendChunk(job.id, seq: seq, bytes: pending) }
        return (size, hasher.finish(), contentType)
    }

    /// What the policy decides after a failed attempt, stored.
    private func settle(_ job: MediaStore.Job, _ failure: MediaFetchPolicy.Failure) async {
        let now = Date()
        do {
            switch settings.policy.afterFailure(failure, attempts: job.attempt, now: now) {
            case .retry(let at):
                logger.warning("file not fetched; trying again", metadata: ["media": "\(job.id)", "failure": "\(failure)", "retry_at": "\(at)"])
                try await store.retry(job.id, at: at, reason: "\(failure)")
            case .giveUp(let reason):
                logger.error("file not fetched, for good", metadata: ["media": "\(job.id)", "reason": "\(reason)"])
                try await store.markFailed(job.id, reason: reason)
            case .pauseFetching(let until):
                logger.critical("the Graph API refuses the access token: fetching customers' files paused", metadata: ["until": "\(until)"])
                try await store.retry(job.id, at: until, reason: "\(failure)")
                try await store.postponeAll(until: until)
            }
        } catch {
            // The lease runs out and the file is tried again.
            logger.warning("a fetch's outcome was not stored", metadata: ["media": "\(job.id)", "error": "\(error)"])
        }
    }
}
