import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import SwitchboardCore
import SwitchboardStore
import WhatsApp

/// What the customer sees of an agent at work, besides their replies: blue ticks once the ticket's
/// agent opens it, and "typing…" while they write. Both are status updates, not messages: they
/// skip the outbox (its per-customer pacing would hold the agent's real reply back behind them),
/// go out in the background so that no API call waits on Meta, and are best effort (a failure is
/// logged; the next open or keystroke tries again).
public final class CustomerSignals: Service, Sendable {
    public struct Settings: Sendable, Equatable {
        public var markReadOnOpen: Bool
        public var typingIndicator: Bool

        public init(markReadOnOpen: Bool, typingIndicator: Bool) {
            self.markReadOnOpen = markReadOnOpen
            self.typingIndicator = typingIndicator
        }
    }

    /// What became of a typing report.
    public enum Typing: Sendable, Equatable {
        /// "typing…" goes out now.
        case sent(nextAt: Date)
        /// One went out less than the throttle's interval ago: it is still showing.
        case throttled(nextAt: Date)
        case disabled
        /// Nothing from the customer to mark read, or their service window is closed.
        case nothingToAnswer
    }

    private enum Job: Sendable {
        case read(ticketID: Int64)
        case typing(ticketID: Int64, last: ReadReceiptStore.LastInbound)
    }

    let settings: Settings
    private let store: ReadReceiptStore
    private let client: GraphAPIClient
    private let logger: Logger
    /// The clock the customer service window is read on (routing's, in tests a virtual one).
    private let now: @Sendable () -> Date
    private let throttle = Mutex(TypingThrottle())
    /// Tickets with a read receipt waiting to be looked at: an agent's client reading the ticket
    /// again and again queues one, not one per read.
    private let pendingReads = Mutex(Set<Int64>())
    private let stopped = Mutex(false)
    /// Signals in flight at once (each a query and a Graph API call).
    static let concurrency = 4
    private let jobs: AsyncStream<Job>
    private let jobsContinuation: AsyncStream<Job>.Continuation

    public init(settings: Settings, store: ReadReceiptStore, client: GraphAPIClient, now: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.now = now
        self.settings = settings
        self.store = store
        self.client = client
        self.logger = logger
        (jobs, jobsContinuation) = AsyncStream.makeStream(of: Job.self, bufferingPolicy: .bufferingNewest(10_000))
    }

    /// The ticket's agent opened it: their customer's last message is marked read, once.
    public func opened(_ ticketID: Int64) {
        guard settings.markReadOnOpen, pendingReads.withLock({ $0.insert(ticketID).inserted }) else { return }
        jobsContinuation.yield(.read(ticketID: ticketID))
    }

    /// The ticket's agent is writing.
    public func typing(_ ticketID: Int64) async throws -> Typing {
        guard settings.typingIndicator, !stopped.withLock({ $0 }) else { return .disabled }
        let now = now()
        guard let last = try await store.lastInbound(ofTicket: ticketID), let closes = last.customerWindowExpiresAt, closes > now else {
            return .nothingToAnswer
        }
        let decision = throttle.withLock { $0.admit(ticketID, now: now) }
        guard decision.admitted else { return .throttled(nextAt: decision.nextAt) }
        jobsContinuation.yield(.typing(ticketID: ticketID, last: last))
        return .sent(nextAt: decision.nextAt)
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                var running = 0
                for await job in jobs {
                    if running == Self.concurrency {
                        await group.next()
                        running -= 1
                    }
                    group.addTask { await self.perform(job) }
                    running += 1
                }
            }
        } onGracefulShutdown: {
            self.stopped.withLock { $0 = true }
            self.jobsContinuation.finish()
        }
    }

    private func perform(_ job: Job) async {
        do {
            switch job {
            case .read(let ticketID):
                pendingReads.withLock { _ = $0.remove(ticketID) }
                guard let last = try await store.lastInbound(ofTicket: ticketID), last.readReceiptSentAt == nil,
                      let closes = last.customerWindowExpiresAt, closes > now() else { return }
                try await send(last, ticketID: ticketID, typing: false)
            case .typing(let ticketID, let last):
                do {
                    try await send(last, ticketID: ticketID, typing: true)
                } catch {
                    throttle.withLock { $0.forget(ticketID) }
                    throw error
                }
            }
        } catch {
            logger.warning("a read receipt or typing indicator was not sent", metadata: ["error": "\(error)"])
        }
    }

    private func send(_ last: ReadReceiptStore.LastInbound, ticketID: Int64, typing: Bool) async throws {
        _ = try await client.send(from: last.businessNumber, body: SendRequest.readReceipt(messageID: last.wamid, typing: typing))
        try await store.markReadReceiptSent(last.messageID, ticketID: ticketID, at: now())
    }
}
