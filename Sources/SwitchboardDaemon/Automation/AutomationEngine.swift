import Foundation
import JSON
import Logging
import Synchronization
import SwitchboardCore
import SwitchboardStore
import WhatsApp

/// Carries out what the core's automation decides: greetings and out-of-hours replies as customers
/// write, triage menus before routing, satisfaction surveys after a resolution, auto-close. It reads
/// the state each decision needs from the database, asks the pure decision (`ArrivalReplies`,
/// `TriageStateMachine`, `CSATSurvey`, `AutoClosePolicy`), and performs the actions in one `switch`.
///
/// Every message goes through the outbox keyed by its cause (`automation_sends`), so a decision
/// taken twice — a retried webhook, a restart — sends once; messages carry the author
/// `automation:<reason>`, which never stops an SLA clock.
public actor AutomationEngine {
    let store: AutomationStore
    let outbox: OutboxService?
    let timers: any RoutingTimers
    let logger: Logger
    var configuration: AutomationConfiguration
    /// Routes tickets whose triage ended and resolves auto-closed ones (set once at start).
    var router: TicketRouter?
    /// How often auto-close looks for quiet tickets (a triage deadline may wake it sooner).
    let sweepInterval: TimeInterval

    public init(configuration: AutomationConfiguration, store: AutomationStore, outbox: OutboxService?, timers: any RoutingTimers, logger: Logger,
                sweepInterval: TimeInterval = 60) {
        self.configuration = configuration
        self.store = store
        self.outbox = outbox
        self.timers = timers
        self.logger = logger
        self.sweepInterval = sweepInterval
    }

    public func attach(router: TicketRouter) {
        self.router = router
    }

    /// A reloaded configuration: later decisions follow it (a menu already sent keeps its rule
    /// by name; if the rule is gone, the ticket is routed by the rules as usual).
    public func reconfigure(_ configuration: AutomationConfiguration) {
        self.configuration = configuration
        scheduleSweep(at: timers.now)
    }

    /// Starts the sweep (triage deadlines and auto-close fall due while nobody looked, e.g. during a
    /// restart: they are acted on at once), after catching up on what a crash may have cut short.
    public func start() async {
        await catchUp()
        scheduleSweep(at: timers.now)
    }

    /// How far back a restart looks for decisions a crash may have cut short.
    static let catchUpWindow: TimeInterval = 900

    /// Decisions taken again for the last minutes' customer messages (greetings, out-of-hours
    /// replies) and resolutions (surveys): a crash between ingest's commit (or a resolution) and the
    /// automatic message's record would otherwise lose it. Their keys make a second decision a
    /// no-op; menus need no catch-up (routing sends them when it places unrouted tickets), and
    /// answers to menus and surveys are not replayed (an answer must move its machine once).
    func catchUp() async {
        let since = timers.now.addingTimeInterval(-Self.catchUpWindow)
        do {
            if !configuration.greetings.isEmpty || !configuration.outOfHours.isEmpty {
                let arrivals = try await store.arrivals(since: since)
                let tickets = try await store.tickets(Array(Set(arrivals.map(\.ticketID))))
                // A ticket that had a menu was greeted by it, whatever became of the menu.
                let triaged = try await store.triageSessions(Array(tickets.keys))
                for arrival in arrivals {
                    guard let ticket = tickets[arrival.ticketID] else { continue }
                    let decided = ArrivalReplies.decide(.init(ticket: ticket, receivedAt: arrival.receivedAt, startedTicket: arrival.startedTicket,
                                                              asksForAnswer: TicketThreading.asksForAnswer(type: arrival.type), inTriage: triaged[arrival.ticketID] != nil),
                                                        configuration: configuration, now: timers.now)
                    for message in decided { await send(message, to: ticket) }
                }
            }
            if configuration.csat != nil {
                for resolved in try await store.resolvedWithoutSurvey(since: since) { await self.resolved(resolved.ticketID, automatically: resolved.automatically) }
            }
        } catch {
            logger.error("automation could not catch up after the start", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Triage, before routing

    /// New tickets about to be routed: those a triage rule catches get its menu instead, and are
    /// returned (routing leaves them until the menu ends).
    func triage(_ tickets: [UnroutedTicket]) async -> Set<Int64> {
        let fresh = tickets.filter { $0.triage == nil && !$0.routedBefore }
        // Without sending, a menu could never reach the customer: route at once.
        guard !configuration.triage.isEmpty, !fresh.isEmpty, outbox != nil else { return [] }
        let known: [Int64: AutomationTicket]
        do {
            known = try await store.tickets(fresh.map(\.ticketID))
        } catch {
            logger.error("triage skipped: tickets could not be read; they are routed at once", metadata: ["error": "\(error)"])
            return []
        }
        var held: Set<Int64> = []
        for ticket in fresh {
            guard var context = known[ticket.ticketID], let rule = TriageStateMachine.rule(for: context, in: configuration) else { continue }
            // A new customer's language is not stored yet: the first message tells it (routing would guess the same later).
            context.guessLanguage(from: ticket.facts.firstMessageText)
            // Out of hours, "we are closed" comes before the menu (deciding it again later finds it taken).
            let arrival = ArrivalReplies.Arrival(ticket: context, receivedAt: ticket.createdAt, startedTicket: true, inTriage: true)
            for reply in ArrivalReplies.decide(arrival, configuration: configuration, now: timers.now) { await send(reply, to: context) }
            var machine = TriageStateMachine(rule: rule, ticket: context)
            let actions = machine.event(.start(now: timers.now))
            if await perform(actions, machine: machine, routeWhenDone: false) { held.insert(ticket.ticketID) }
        }
        if !held.isEmpty { scheduleSweep(at: nil) }
        return held
    }

    /// Performs a triage machine's actions; true when the ticket waits on its menu.
    @discardableResult
    private func perform(_ actions: [TriageStateMachine.Action], machine: TriageStateMachine, routeWhenDone: Bool) async -> Bool {
        var waiting = false, menuSent = true
        // The core's words for why a menu ended without a choice, for the event.
        let fallbackWhy = actions.lazy.compactMap { action -> String? in
            if case .route(.fallback(_, let why)) = action { return why }
            return nil
        }.first
        for action in actions {
            switch action {
            case .send(let message):
                menuSent = await send(message, to: machine.ticket)
            case .record(var state):
                // A menu that could not go out is not waited for: the ticket is routed now.
                if case .asking = state, !menuSent { state = .timedOut }
                let why: String? = switch state {
                case .unanswered, .timedOut: menuSent ? fallbackWhy : "the menu could not be sent"
                default: nil
                }
                do {
                    try await store.saveTriage(ticketID: machine.ticket.id, rule: machine.rule.name, state: state, why: why, now: timers.now)
                    if case .asking = state { waiting = true } else if !menuSent, routeWhenDone { await routeNow(machine.ticket.id) }
                } catch {
                    logger.error("triage state not saved; the ticket is routed at once", metadata: ["ticket": "\(machine.ticket.reference)", "error": "\(error)"])
                    waiting = false
                }
            case .route(let outcome):
                if case .chosen(let option) = outcome {
                    do {
                        for tag in option.tags { _ = try await router?.storeTag(machine.ticket.id, tag, actor: "automation:triage", reason: "triage choice") }
                        try await store.applyChoice(ticketID: machine.ticket.id, option: option, now: timers.now)
                    } catch {
                        logger.error("triage choice not applied to the ticket and customer", metadata: ["ticket": "\(machine.ticket.reference)", "error": "\(error)"])
                    }
                }
                if routeWhenDone { await routeNow(machine.ticket.id) }
            }
        }
        return waiting
    }

    private func routeNow(_ ticketID: Int64) async {
        guard let router else { return }
        do {
            try await router.route([ticketID])
        } catch {
            logger.error("routing after triage failed; recovery routes it", metadata: ["ticket": "\(ticketID)", "error": "\(error)"])
            await router.needRecovery(.init(routeUnrouted: true))
        }
    }

    /// How a ticket's ended menu classifies it: the option's id and language, or the fallback rule.
    func classificationHint(rule: String, outcome: String, choice: String?) -> RoutingCoordinator.TriageResult {
        let triageRule = configuration.triage.first { $0.name == rule }
        if outcome == "chosen", let choice {
            return .chosen(choice, language: triageRule?.options.first { $0.id == choice }?.language)
        }
        return .fallback(triageRule?.fallbackRule)
    }

    // MARK: Customers' messages

    /// Messages ingest committed (after routing placed new tickets): answers to menus and surveys,
    /// then greetings and out-of-hours replies.
    func customerMessages(_ messages: [IngestResult.StoredMessage]) async {
        let mine = messages.filter { !$0.isEcho }
        guard !mine.isEmpty, hasWork else { return }
        let now = timers.now
        do {
            let ticketIDs = Array(Set(mine.map(\.ticketID)))
            var tickets = try await store.tickets(ticketIDs)
            let inbound = Dictionary(try await store.inbound(mine.map(\.messageID)).map { ($0.messageID, $0) }, uniquingKeysWith: { first, _ in first })
            let sessions = try await store.triageSessions(ticketIDs)
            let surveys = configuration.csat == nil ? [:] : try await store.surveys(ticketIDs, now: now)
            var consumed: Set<Int64> = [], answeredMenus: Set<Int64> = []
            for message in mine {
                guard var context = tickets[message.ticketID], let body = inbound[message.messageID] else { continue }
                context.guessLanguage(from: body.text)
                if message.threading != .newTicket, let session = sessions[message.ticketID], case .asking(_, let deadline) = session.state,
                   let rule = configuration.triage.first(where: { $0.name == session.rule }), body.receivedAt > deadline.addingTimeInterval(-rule.timeout) {
                    var machine = TriageStateMachine(rule: rule, ticket: context, state: session.state)
                    let actions = machine.event(.customerWrote(choiceID: body.choiceID, text: body.text, asksForAnswer: message.asksForAnswer, now: body.receivedAt))
                    await perform(actions, machine: machine, routeWhenDone: true)
                    consumed.insert(message.messageID)
                    answeredMenus.insert(message.ticketID)
                    continue
                }
                if context.status == .resolved, let survey = surveys[message.ticketID], let csat = configuration.csat {
                    var machine = CSATSurvey(configuration: csat, ticket: context, state: survey.state)
                    let actions = machine.event(.customerWrote(choiceID: body.choiceID, text: body.text, asksForAnswer: message.asksForAnswer, now: body.receivedAt))
                    await perform(actions, survey: machine, credit: survey)
                    consumed.insert(message.messageID)
                    continue
                }
            }
            // Greetings and out-of-hours replies read a ticket a menu answer just routed again (its queue).
            if !answeredMenus.isEmpty { tickets.merge(try await store.tickets(Array(answeredMenus))) { $1 } }
            let inTriage = sessions.filter { id, session in
                guard !answeredMenus.contains(id), case .asking = session.state else { return false }
                return true
            }
            for message in mine where !consumed.contains(message.messageID) {
                guard var context = tickets[message.ticketID], let body = inbound[message.messageID] else { continue }
                context.guessLanguage(from: body.text)
                let arrival = ArrivalReplies.Arrival(ticket: context, receivedAt: body.receivedAt, startedTicket: message.threading == .newTicket,
                                                     asksForAnswer: message.asksForAnswer, inTriage: inTriage[message.ticketID] != nil)
                for reply in ArrivalReplies.decide(arrival, configuration: configuration, now: now) { await send(reply, to: context) }
            }
        } catch {
            logger.error("automation skipped these messages: the database did not answer", metadata: ["messages": "\(mine.count)", "error": "\(error)"])
        }
    }

    private var hasWork: Bool {
        !configuration.greetings.isEmpty || !configuration.outOfHours.isEmpty || !configuration.triage.isEmpty || configuration.csat != nil
    }

    // MARK: Resolutions

    /// A ticket was resolved: its survey, if one is due.
    func resolved(_ ticketID: Int64, automatically: Bool) async {
        guard let csat = configuration.csat else { return }
        do {
            guard let context = try await store.tickets([ticketID])[ticketID], let resolution = try await store.resolution(ofTicket: ticketID),
                  csat.scope.matches(businessNumber: context.businessNumber, queue: resolution.queue) else { return }
            let existing = try await store.surveys([ticketID], now: timers.now)[ticketID]
            var machine = CSATSurvey(configuration: csat, ticket: context, state: existing == nil ? .notSent : .finished)
            let actions = machine.event(.resolved(automatically: automatically, now: timers.now))
            await perform(actions, survey: machine, credit: .init(state: .notSent, agent: resolution.agent, queue: resolution.queue),
                          resolvedAt: resolution.resolvedAt, automatically: automatically)
        } catch {
            logger.error("no satisfaction survey: the database did not answer", metadata: ["ticket": "\(ticketID)", "error": "\(error)"])
        }
    }

    private func perform(_ actions: [CSATSurvey.Action], survey: CSATSurvey, credit: AutomationStore.Survey, resolvedAt: Date? = nil,
                         automatically: Bool = false) async {
        let ticket = survey.ticket
        for action in actions {
            do {
                switch action {
                case .send(let message):
                    await send(message, to: ticket)
                case .recordSent(let channel, let expiresAt):
                    try await store.recordSurveySent(ticketID: ticket.id, agent: credit.agent, queue: credit.queue, resolvedAt: resolvedAt ?? timers.now,
                                                     automatically: automatically, channel: channel, expiresAt: expiresAt, now: timers.now)
                case .recordRating(let rating, let at, let commentUntil):
                    try await store.recordRating(ticketID: ticket.id, rating: rating, at: at, commentUntil: commentUntil)
                case .recordComment(let text, let at):
                    try await store.recordComment(ticketID: ticket.id, text: text, at: at)
                case .skip(let why):
                    try await store.recordSkip(key: "csat:\(ticket.id)", ticketID: ticket.id, reason: AutomaticMessage.Reason.csatSurvey.rawValue, rule: nil,
                                               why: why, now: timers.now)
                }
            } catch {
                logger.error("satisfaction survey step not recorded", metadata: ["ticket": "\(ticket.reference)", "error": "\(error)"])
            }
        }
    }

    // MARK: The sweep: triage deadlines, auto-close

    /// When the sweep is due next.
    private var nextSweepAt: Date?

    private func scheduleSweep(at date: Date?) {
        let at = date ?? timers.now
        nextSweepAt = at
        timers.schedule(.automationSweep, at: at) { [weak self] in await self?.sweep() }
    }

    /// A ticket was set pending: the sweep looks at it when its quiet time can first be over.
    func ticketSetPending() {
        guard let autoClose = configuration.autoClose else { return }
        let due = timers.now.addingTimeInterval(autoClose.pendingAfter)
        if due < nextSweepAt ?? .distantFuture { scheduleSweep(at: due) }
    }

    /// Acts on what fell due, then sleeps until the next triage deadline or the sweep interval.
    func sweep() async {
        nextSweepAt = nil
        let now = timers.now
        do {
            for ticketID in try await store.dueTriage(now: now) {
                guard let session = try await store.triageSessions([ticketID])[ticketID], let context = try await store.tickets([ticketID])[ticketID] else { continue }
                guard let rule = configuration.triage.first(where: { $0.name == session.rule }) else {
                    // The rule was removed by a reload: the menu ends, the rules route the ticket.
                    try await store.saveTriage(ticketID: ticketID, rule: session.rule, state: .timedOut, why: "triage rule removed from the configuration", now: now)
                    await routeNow(ticketID)
                    continue
                }
                var machine = TriageStateMachine(rule: rule, ticket: context, state: session.state)
                await perform(machine.event(.deadlinePassed(now: now)), machine: machine, routeWhenDone: true)
            }
            if let autoClose = configuration.autoClose { try await closeQuietTickets(autoClose, now: now) }
        } catch {
            logger.error("automation sweep failed; trying again", metadata: ["error": "\(error)"])
        }
        var next = now.addingTimeInterval(sweepInterval)
        if let deadline = try? await store.nextTriageDeadline() { next = min(next, max(deadline, now)) }
        // A wake-up asked for while this sweep ran (a ticket set pending) is kept.
        if let asked = nextSweepAt { next = min(next, asked) }
        // Never sooner than a second: what could not be done now (the database is down) waits a little.
        scheduleSweep(at: max(next, now.addingTimeInterval(1)))
    }

    private func closeQuietTickets(_ autoClose: AutomationConfiguration.AutoClose, now: Date) async throws {
        guard let router else { return }
        let candidates = try await store.autoCloseCandidates(pendingQuietBefore: now.addingTimeInterval(-autoClose.pendingAfter),
                                                             openQueues: autoClose.openAfterByQueue.keys.sorted())
        let due = candidates.filter { AutoClosePolicy.isDue($0.candidate, configuration: autoClose, now: now) }
        guard !due.isEmpty else { return }
        let contexts = try await store.tickets(due.map(\.ticketID))
        for ticket in due {
            guard let context = contexts[ticket.ticketID], let dueAt = AutoClosePolicy.dueAt(ticket.candidate, configuration: autoClose) else { continue }
            let quietSince = dueAt.addingTimeInterval(-(ticket.candidate.status == .pending ? autoClose.pendingAfter : autoClose.openAfterByQueue[ticket.candidate.queue ?? ""] ?? 0))
            if let closing = AutoClosePolicy.closingMessage(context, quietSince: quietSince, configuration: autoClose, now: now) { await send(closing, to: context) }
            let resolved = try await router.setStatus(ticket.ticketID, to: .resolved, actor: AutomationEngine.autoCloseActor,
                                                      also: (.autoResolved, .object(["quiet_since": .string(ISO8601DateFormatter().string(from: quietSince)),
                                                                                     "after_seconds": .number(now.timeIntervalSince(quietSince).rounded())])))
            if resolved { logger.info("auto-closed a quiet ticket", metadata: ["ticket": "\(context.reference)"]) }
        }
    }

    /// The actor recorded on an auto-close's status change (and how a resolution is told to be one).
    public static let autoCloseActor = "automation:auto_close"

    // MARK: Sending

    /// Queues an automatic message in the outbox under its key; a refusal (closed window, sending
    /// off) is recorded under the same key, so it is not retried on every message.
    /// True when the message is in the outbox (now, or from an earlier decision of the same cause).
    @discardableResult
    private func send(_ message: AutomaticMessage, to ticket: AutomationTicket) async -> Bool {
        guard let outbox else {
            _ = try? await store.recordSkip(key: message.key, ticketID: ticket.id, reason: message.reason.rawValue, rule: message.rule,
                                        why: "sending is disabled (no whatsapp.accessToken)", now: timers.now)
            return false
        }
        do {
            _ = try await outbox.send(Self.content(message.content, language: ticket.customerLanguage), ticket: ticket.reference, author: message.author,
                                      automation: .init(key: message.key, reason: message.reason.rawValue, rule: message.rule))
            logger.info("automatic message queued", metadata: ["ticket": "\(ticket.reference)", "reason": "\(message.reason.rawValue)", "key": "\(message.key)"])
            return true
        } catch is AutomaticMessageAlreadyRecorded {
            logger.debug("automatic message already recorded", metadata: ["key": "\(message.key)"])
            return true
        } catch let refusal as ReplyRefusal {
            do {
                try await store.recordSkip(key: message.key, ticketID: ticket.id, reason: message.reason.rawValue, rule: message.rule, why: "\(refusal)", now: timers.now)
            } catch {
                logger.error("automatic message refused and the refusal not recorded", metadata: ["key": "\(message.key)", "error": "\(error)"])
            }
            logger.notice("automatic message not sent", metadata: ["ticket": "\(ticket.reference)", "reason": "\(message.reason.rawValue)", "why": "\(refusal)"])
            return false
        } catch {
            logger.error("automatic message not queued: the database did not answer", metadata: ["key": "\(message.key)", "error": "\(error)"])
            return false
        }
    }

    /// The Cloud API's shape of an automatic message.
    static func content(_ content: AutomaticMessage.Content, language: String?) -> OutboundContent {
        switch content {
        case .text(let text):
            return .text(body: text)
        case .template(let template):
            return .template(name: template.name, languageCode: template.language)
        case .menu(let menu):
            let body: JSONValue = .object(["text": .string(menu.body)])
            switch menu.style {
            case .buttons:
                let buttons = menu.rows.map { JSONValue.object(["type": .string("reply"), "reply": .object(["id": .string($0.id), "title": .string($0.title)])]) }
                return .interactive(.object(["type": .string("button"), "body": body, "action": .object(["buttons": .array(buttons)])]))
            case .list:
                let rows = menu.rows.map { JSONValue.object(["id": .string($0.id), "title": .string($0.title)]) }
                return .interactive(.object(["type": .string("list"), "body": body,
                                             "action": .object(["button": .string(menu.button), "sections": .array([.object(["rows": .array(rows)])])])]))
            }
        }
    }
}
