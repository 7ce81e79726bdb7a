import AsyncHTTPClient
import Foundation
import JSON
import Logging
import ServiceLifecycle
import Synchronization
import SwitchboardCore
import SwitchboardStore
import WhatsApp

/// Replies out: records them in the outbox (`send`) and runs one `OutboundSender` per business number.
///
/// At start it lifts sending pauses (a restart is how an operator puts in a new access token) and
/// recovers sends a crash interrupted. On graceful shutdown no new send starts and the ones in
/// flight are recorded before `run` returns.
public final class OutboxService: Service, Sendable {
    public struct Settings: Sendable {
        /// Most requests started per second per business number.
        public var messagesPerSecond: Double
        public var limits: OutboundSchedule.Limits
        public var retryPolicy: RetryPolicy
        /// Asked just before each message is handed to Meta: false (a leader whose lease may have
        /// run out, `LeadershipStatus.mayAct`) leaves it unsent, for the next leader.
        public var mayHandOver: @Sendable () -> Bool
        /// How long a send a stop cut short (left `sending`) waits for Meta's `sent` status webhook
        /// before it is sent again: the status comes within seconds of a send Meta accepted.
        public var interruptedSendGrace: TimeInterval

        public init(messagesPerSecond: Double, limits: OutboundSchedule.Limits, retryPolicy: RetryPolicy,
                    mayHandOver: @escaping @Sendable () -> Bool = { true }, interruptedSendGrace: TimeInterval = 15) {
            self.mayHandOver = mayHandOver
            self.interruptedSendGrace = interruptedSendGrace
            self.messagesPerSecond = messagesPerSecond
            self.limits = limits
            self.retryPolicy = retryPolicy
        }
    }

    private let store: OutboxStore
    private let client: GraphAPIClient?
    private let settings: Settings
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let metrics: SwitchboardMetrics?
    /// Told of each agent's reply once recorded (the SLA engine stops its response clocks).
    private let replies: (any SLAActivitySink)?
    /// Told when a reply's message is sent or failed (followers' delivery ticks).
    private let statuses: (@Sendable ([IngestResult.StatusChange]) async -> Void)?
    private let senders = Mutex<[String: OutboundSender]>([:])
    /// Senders created by `send` for numbers that had none, for `run` to start.
    private let started: AsyncStream<OutboundSender>
    private let startContinuation: AsyncStream<OutboundSender>.Continuation

    /// - Parameter client: nil when no access token is configured: replies are refused.
    public init(store: OutboxStore, client: GraphAPIClient?, settings: Settings, now: @escaping @Sendable () -> Date = { Date() },
                replies: (any SLAActivitySink)? = nil, metrics: SwitchboardMetrics? = nil,
                statuses: (@Sendable ([IngestResult.StatusChange]) async -> Void)? = nil, logger: Logger) {
        self.metrics = metrics
        self.statuses = statuses
        self.store = store
        self.replies = replies
        self.client = client
        self.settings = settings
        self.now = now
        self.logger = logger
        (started, startContinuation) = AsyncStream.makeStream(of: OutboundSender.self)
    }

    /// Records a reply on its ticket and queues it; it is sent as soon as rate and pacing allow.
    ///
    /// - Throws: `ReplyRefusal` when the reply is refused (nothing is written), or a database error.
    /// - Parameter file: the uploaded file (`POST /api/v1/media`) the content carries, which becomes
    ///   the message's file on the ticket.
    /// - Parameter automation: for an automatic message, its cause's key: a second send with the same
    ///   key throws `AutomaticMessageAlreadyRecorded` and records nothing.
    public func send(_ content: OutboundContent, ticket reference: String, author: String?, file: Int64? = nil,
                     automation: ReplyDraft.Automation? = nil) async throws -> QueuedReply {
        guard client != nil else { throw ReplyRefusal.sendingNotConfigured }
        if let problem = content.problem { throw ReplyRefusal.invalidReply(problem) }
        var draft = ReplyDraft(ticketReference: reference, kind: content.typeName, isFreeForm: content.isFreeForm, isMessage: content.isMessage,
                               readableText: content.readableText, detailsJSON: content.detailsJSON, author: author, file: file)
        draft.automation = automation
        let queued = try await store.enqueue(draft, now: now()) { id, recipient in
            let to: SendRequest.Recipient
            if let waID = recipient.waID {
                to = .phone(waID)
            } else if let userID = recipient.userID {
                to = .userID(userID)
            } else {
                preconditionFailure("a customer has a wa_id or a user_id (table check)")
            }
            return SendRequest.body(content, to: to, callbackData: id.uuidString.lowercased()).jsonText
        }
        sender(for: queued.businessNumber)?.queueChanged()
        if draft.isAgentReply { await replies?.agentReplied(queued.ticketID) }
        return queued
    }

    public func run() async throws {
        guard client != nil else {
            logger.notice("sending is disabled: no whatsapp.accessToken in the configuration")
            try? await gracefulShutdown()
            return
        }
        // A stop while the database is still unreachable ends the wait for it.
        let prepared = await cancelWhenGracefulShutdown { await self.prepare() }
        guard let waiting = prepared, !Task.isShuttingDownGracefully else { return }
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                if waiting > 0 {
                    group.addTask { await cancelWhenGracefulShutdown { await self.recoverWhenUnconfirmed() } }
                }
                for await sender in started {
                    group.addTask { await sender.run() }
                }
            }
        } onGracefulShutdown: {
            self.startContinuation.finish()
            for sender in self.senders.withLock({ Array($0.values) }) { sender.stop() }
        }
        logger.info("outbound senders stopped")
    }

    /// Lifts pauses, recovers interrupted sends and starts a sender for every number with a queue;
    /// retried until the database answers. Returns how many interrupted sends wait for their status
    /// webhook; nil when cancelled first.
    private func prepare() async -> Int? {
        var pause = 0.5
        while !Task.isCancelled {
            do {
                let resumed = try await store.resumeAllSending(at: now())
                if !resumed.isEmpty {
                    logger.notice("sending resumed after restart", metadata: ["business_numbers": "\(resumed.joined(separator: ","))"])
                }
                let waiting = try await recoverInterrupted()
                for number in try await store.numbersWithQueuedSends() {
                    _ = sender(for: number)
                }
                return waiting
            } catch {
                logger.warning("outbox not ready; will try again", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(Int64(pause * 1000)))
                pause = min(pause * 2, 10)
            }
        }
        return nil
    }

    /// Confirms interrupted sends a status webhook vouches for, queues again those older than the
    /// grace; returns how many still wait.
    private func recoverInterrupted() async throws -> Int {
        let now = now()
        let recovered = try await store.recoverInterrupted(at: now, unconfirmedBefore: now.addingTimeInterval(-settings.interruptedSendGrace))
        if recovered.confirmed + recovered.requeued + recovered.waiting > 0 {
            logger.notice("sends interrupted by a stop recovered", metadata: [
                "confirmed_by_status": "\(recovered.confirmed)", "queued_again": "\(recovered.requeued)",
                "waiting_for_status": "\(recovered.waiting)",
            ])
        }
        return recovered.waiting
    }

    /// Looks again at interrupted sends once their grace has passed, until none waits; what was
    /// queued again goes to its number's sender.
    private func recoverWhenUnconfirmed() async {
        var waiting = 1
        while waiting > 0 && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(Int64(settings.interruptedSendGrace * 1000 / 2)))
            do {
                waiting = try await recoverInterrupted()
                for number in try await store.numbersWithQueuedSends() {
                    sender(for: number)?.queueChanged()
                }
            } catch {
                logger.warning("interrupted sends not looked at again yet", metadata: ["error": "\(error)"])
            }
        }
    }

    private func sender(for number: String) -> OutboundSender? {
        guard let client else { return nil }
        let (sender, isNew) = senders.withLock { senders -> (OutboundSender, Bool) in
            if let existing = senders[number] { return (existing, false) }
            let sender = OutboundSender(businessNumber: number, store: store, client: client, messagesPerSecond: settings.messagesPerSecond, limits: settings.limits,
                                        retryPolicy: settings.retryPolicy, mayHandOver: settings.mayHandOver, now: now, metrics: metrics, statuses: statuses, logger: logger)
            senders[number] = sender
            return (sender, true)
        }
        if isNew { startContinuation.yield(sender) }
        return sender
    }
}
