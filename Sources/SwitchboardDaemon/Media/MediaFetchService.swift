import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import SwitchboardCore
import SwitchboardStore
import WhatsApp

/// Fetches the files customers send from the Graph API into PostgreSQL, in the background after
/// the webhook was acknowledged: ingest records each file `pending` with its message; this service
/// claims the due ones (leased, so any instance may fetch and a fetch cut short by a crash is tried
/// again), streams each in chunks while hashing it, checks Meta's SHA-256, and marks it stored —
/// or, by `MediaFetchPolicy`, tries again later, gives up with the reason, or pauses every fetch
/// while the access token is refused (an alert like sending's: the log at critical, the
/// `switchboard_media_fetch_paused` metric, an `alerts` row, and `Status`).
///
/// Up to `concurrency` files are fetched at once; a slot that frees is filled at once. A graceful
/// stop cancels the fetches in flight and gives their leases back (due now, the attempt not
/// counted) before the service returns, so the next start fetches them at once.
public struct MediaFetchService: Service {
    public struct Settings: Sendable, Equatable {
        public var concurrency: Int
        /// How long a claimed file is left to one fetch, from its claim or its last chunk written,
        /// before another may take it.
        public var lease: TimeInterval
        /// How often the work list is read when nothing woke the fetcher (files another instance
        /// received, retries falling due).
        public var idlePoll: Duration
        /// The shortest time between a look at the work list that found nothing and the next.
        public var minimumPoll: Duration
        public var policy: MediaFetchPolicy

        public init(concurrency: Int = 4, lease: TimeInterval = 60, idlePoll: Duration = .seconds(1), minimumPoll: Duration = .milliseconds(10),
                    policy: MediaFetchPolicy = MediaFetchPolicy()) {
            self.concurrency = concurrency
            self.lease = lease
            self.idlePoll = idlePoll
            self.minimumPoll = minimumPoll
            self.policy = policy
        }
    }

    let store: MediaStore
    let client: GraphAPIClient?
    let settings: Settings
    let metrics: SwitchboardMetrics?
    /// Whether this daemon's fetching is paused, and why (read by `Status`); wakes the fetcher.
    public let state: MediaFetchState
    let logger: Logger

    public init(store: MediaStore, client: GraphAPIClient?, settings: Settings = Settings(), state: MediaFetchState = MediaFetchState(),
                metrics: SwitchboardMetrics? = nil, logger: Logger) {
        self.store = store
        self.client = client
        self.settings = settings
        self.state = state
        self.metrics = metrics
        self.logger = logger
        state.setEnabled(client != nil)
    }

    public func run() async throws {
        guard let client else {
            logger.warning("no whatsapp.accessToken: customers' files are recorded but not fetched")
            return
        }
        // A restart is how an operator puts in a new access token: a pause of the last run is over.
        do {
            if try await store.clearFetchPausedAlert(now: Date()) { logger.notice("fetching customers' files resumed after restart") }
        } catch {
            logger.warning("could not clear the media_fetch_paused alert", metadata: ["error": "\(error)"])
        }
        await cancelWhenGracefulShutdown { await self.loop(client) }
        logger.info("fetching customers' files stopped")
    }

    /// Keeps up to `concurrency` fetches running: claims what is due whenever a slot is free, and
    /// looks again when a fetch ends, when woken (this instance stored new messages) or after
    /// `idlePoll`. Cancelled (a graceful stop), it cancels the fetches in flight and waits for each
    /// to give its lease back.
    private func loop(_ client: GraphAPIClient) async {
        var waiter = state.wakeSignal.makeWaiter()
        var lastEmptyClaim: ContinuousClock.Instant?
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let free = settings.concurrency - state.inFlight
                if free > 0, state.mayClaim(now: Date()) {
                    // Every batch ingest commits wakes the fetcher, text or file: after a look that
                    // found nothing, the next waits `minimumPoll`, so a flood of text costs a few
                    // queries a second, not one per batch.
                    if let last = lastEmptyClaim {
                        let wait = settings.minimumPoll - (ContinuousClock.now - last)
                        if wait > .zero { try? await Task.sleep(for: wait) }
                    }
                    do {
                        let jobs = try await store.claimDue(limit: free, lease: settings.lease, now: Date())
                        lastEmptyClaim = jobs.isEmpty ? .now : nil
                        for job in jobs {
                            state.fetchStarted()
                            group.addTask {
                                await self.fetch(job, client)
                                self.state.fetchEnded()
                            }
                        }
                    } catch {
                        if Task.isCancelled { break }
                        lastEmptyClaim = .now
                        logger.warning("could not read the files to fetch; trying again", metadata: ["error": "\(error)"])
                    }
                }
                await waiter.wait(until: Date().addingTimeInterval(Self.seconds(settings.idlePoll)))
            }
            // Leaving the group waits for every fetch: each was cancelled with this task and gives
            // its lease back before it returns.
        }
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Claims what is due at `now` and fetches it; returns how many were tried (tests and tools).
    /// Nothing is claimed while fetching is paused.
    public func fetchDue(now: Date = Date()) async throws -> Int {
        guard let client, state.mayClaim(now: now) else { return 0 }
        let jobs = try await store.claimDue(limit: settings.concurrency, lease: settings.lease, now: now)
        await withTaskGroup(of: Void.self) { group in
            for job in jobs { group.addTask { await self.fetch(job, client) } }
        }
        return jobs.count
    }

    /// The file's lease went to another fetch (this one outlived it): what this one wrote is not kept.
    struct LeaseLost: Error {}

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
                guard try await store.markStored(job.id, attempt: job.attempt, size: written.size, mimeType: info.mimeType ?? written.contentType,
                                                 sha256Hex: MediaDigest.hex(written.digest), now: Date()) else { throw LeaseLost() }
                logger.info("file stored", metadata: ["media": "\(job.id)", "kind": "\(job.kind)", "bytes": "\(written.size)"])
                metrics?.mediaFetch(.stored)
                await fetchingWorks()
                return
            }
        } catch {
            if Task.isCancelled {
                await giveBack(job)
                return
            }
            switch error {
            case is LeaseLost:
                logger.warning("a fetch outlived its lease and another took the file over; this one stops", metadata: ["media": "\(job.id)"])
                return
            case let error as GraphAPIError:
                failure = .graph(httpStatus: error.httpStatus, code: error.code, message: error.message)
            case is MediaTooLarge:
                failure = .tooLarge
            default:
                failure = .graph(httpStatus: nil, code: nil, message: "\(error)")
            }
        }
        // Cancelled while the bytes were checked: they may be cut short; nothing is to blame.
        if Task.isCancelled {
            await giveBack(job)
            return
        }
        await settle(job, failure)
    }

    /// Streams the file into chunks of `MediaStore.chunkSize`, hashing as it goes; never more than
    /// one chunk in memory. Each chunk written renews the lease.
    private func stream(_ job: MediaStore.Job, from url: String, _ client: GraphAPIClient) async throws -> (size: Int, digest: [UInt8], contentType: String?) {
        let store = self.store, lease = settings.lease
        var writer = MediaChunkWriter(limit: settings.policy.maxBytes) { seq, bytes in
            guard try await store.appendChunk(job.id, attempt: job.attempt, seq: seq, bytes: bytes, leaseUntil: Date().addingTimeInterval(lease)) else {
                throw LeaseLost()
            }
        }
        let contentType = try await client.download(url, maxBytes: settings.policy.maxBytes) { piece in try await writer.write(piece) }
        let written = try await writer.finish()
        return (written.size, written.digest, contentType)
    }

    /// A graceful stop cut the fetch short: its lease is given back (due now, the attempt not
    /// counted), written even though this task is cancelled, before the service returns.
    private func giveBack(_ job: MediaStore.Job) async {
        let store = self.store
        let outcome = await Task { try await store.release(job.id, attempt: job.attempt, at: Date()) }.result
        metrics?.mediaFetch(.interrupted)
        switch outcome {
        case .success:
            logger.notice("fetch cut short by the shutdown; its file is due again at once", metadata: ["media": "\(job.id)"])
        case .failure(let error):
            logger.warning("fetch cut short by the shutdown; its lease could not be given back and runs out instead",
                           metadata: ["media": "\(job.id)", "error": "\(error)"])
        }
    }

    /// What the policy decides after a failed attempt, stored.
    private func settle(_ job: MediaStore.Job, _ failure: MediaFetchPolicy.Failure) async {
        let now = Date()
        do {
            switch settings.policy.afterFailure(failure, attempts: job.attempt, now: now) {
            case .retry(let at):
                logger.warning("file not fetched; trying again", metadata: ["media": "\(job.id)", "failure": "\(failure)", "retry_at": "\(at)"])
                metrics?.mediaFetch(.retried)
                try await store.retry(job.id, at: at, reason: "\(failure)")
            case .giveUp(let reason):
                logger.error("file not fetched, for good", metadata: ["media": "\(job.id)", "reason": "\(reason)"])
                metrics?.mediaFetch(.failed)
                try await store.markFailed(job.id, reason: reason)
            case .pauseFetching(let until):
                let reason = Self.describe(failure)
                metrics?.mediaFetch(.paused)
                metrics?.setMediaFetchPaused(true)
                if state.pause(until: until, reason: reason, now: now) {
                    logger.critical("the Graph API refuses the access token: fetching customers' files paused; put in a new whatsapp.accessToken and restart",
                                    metadata: ["until": "\(until)", "reason": "\(reason)"])
                } else {
                    logger.warning("the Graph API still refuses the access token: fetching stays paused", metadata: ["until": "\(until)"])
                }
                // The file is not to blame: due again at once (the pause holds this daemon's
                // claims; a restart with a new token fetches it at once), the attempt not counted.
                try await store.release(job.id, attempt: job.attempt, at: now, reason: "\(failure)")
                try await store.raiseFetchPausedAlert(reason: reason, now: now)
            }
        } catch {
            // The lease runs out and the file is tried again.
            logger.warning("a fetch's outcome was not stored", metadata: ["media": "\(job.id)", "error": "\(error)"])
        }
    }

    /// A file was fetched: a pause (the token was refused before) is over.
    private func fetchingWorks() async {
        guard state.resume() else { return }
        metrics?.setMediaFetchPaused(false)
        logger.notice("the Graph API accepts the access token again: fetching customers' files resumed")
        do {
            try await store.clearFetchPausedAlert(now: Date())
        } catch {
            logger.warning("could not clear the media_fetch_paused alert", metadata: ["error": "\(error)"])
        }
    }

    static func describe(_ failure: MediaFetchPolicy.Failure) -> String {
        guard case .graph(let status, let code, let message) = failure else { return "\(failure)" }
        let answer = [status.map { "HTTP \($0)" }, code.map { "code \($0)" }].compactMap { $0 }.joined(separator: ", ")
        return "the Graph API refused the access token (\(answer.isEmpty ? "no status" : answer)): \(message)"
    }

    /// What `Status` shows of fetching: this daemon's pause, and the files waiting (all instances';
    /// nil while the database does not answer).
    public func status() async -> MediaFetchStatus {
        let snapshot = state.snapshot
        return MediaFetchStatus(fetching: !snapshot.enabled ? .off : snapshot.pause == nil ? .running : .paused, pause: snapshot.pause,
                                pending: try? await store.pendingCount())
    }
}

/// Fetching as `Status` shows it.
public struct MediaFetchStatus: Sendable, Equatable {
    public enum Fetching: String, Sendable {
        case running
        /// The Graph API refused the access token at the last attempt.
        case paused
        /// No `whatsapp.accessToken`: files are recorded, never fetched.
        case off
    }

    public var fetching: Fetching
    public var pause: MediaFetchState.Pause?
    public var pending: Int?
}

/// Whether fetching is paused because the Graph API refuses the access token: from the first
/// refusal until a file is fetched again (or the daemon restarts). While `until` is ahead nothing is
/// claimed; after it, the next attempt either resumes fetching or pauses it again.
public final class MediaFetchState: Sendable {
    public struct Pause: Sendable, Equatable {
        /// The first refusal of this pause.
        public var since: Date
        /// When fetching is tried again.
        public var until: Date
        public var reason: String
    }

    public struct Snapshot: Sendable, Equatable {
        public var enabled: Bool
        public var pause: Pause?
    }

    private let current = Mutex(Snapshot(enabled: false, pause: nil))
    private let running = Atomic<Int>(0)
    /// Wakes the fetcher's loop: new messages stored, a fetch ended.
    let wakeSignal = WakeSignal()

    public init() {}

    /// New files may be due (this instance stored messages): the fetcher looks at once.
    public func wake() {
        wakeSignal.signal()
    }

    var inFlight: Int { running.load(ordering: .acquiring) }

    func fetchStarted() {
        running.add(1, ordering: .releasing)
    }

    /// A slot is free: the loop looks for more.
    func fetchEnded() {
        running.subtract(1, ordering: .releasing)
        wakeSignal.signal()
    }

    public var snapshot: Snapshot { current.withLock { $0 } }

    func setEnabled(_ enabled: Bool) { current.withLock { $0.enabled = enabled } }

    /// Whether files may be claimed at `now`.
    func mayClaim(now: Date) -> Bool {
        current.withLock { state in state.pause.map { $0.until <= now } ?? true }
    }

    /// Paused until `until`; true when fetching was not paused before.
    func pause(until: Date, reason: String, now: Date) -> Bool {
        current.withLock { state in
            let fresh = state.pause == nil
            state.pause = Pause(since: state.pause?.since ?? now, until: until, reason: reason)
            return fresh
        }
    }

    /// Not paused any more; true when it was.
    func resume() -> Bool {
        current.withLock { state in
            defer { state.pause = nil }
            return state.pause != nil
        }
    }
}

/// Routing's sink for committed messages, waking the fetcher on the way: a customer's file is
/// fetched as soon as its message is stored, not at the next look at the work list.
struct MediaWakingSink: TicketActivitySink {
    let next: any TicketActivitySink
    let media: MediaFetchState

    func committed(_ messages: [IngestResult.StoredMessage]) async {
        if !messages.isEmpty { media.wake() }
        await next.committed(messages)
    }

    func statusesChanged(_ changes: [IngestResult.StatusChange]) async {
        await next.statusesChanged(changes)
    }
}
