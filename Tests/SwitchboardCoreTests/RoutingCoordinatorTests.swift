import Foundation
import SwitchboardCore
import Testing

/// Routing's decisions outside a round, without a database, an actor or a clock: each test feeds
/// events and checks the actions the router would perform.
@Suite("Routing coordinator: presence and grace, acceptance, changes by hand, escalations, holds, recovery, reconfiguration")
struct RoutingCoordinatorTests {
    typealias Coordinator = RoutingCoordinator
    let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    /// `billing` gives tickets back after the grace period; `vip` keeps them with an absent agent;
    /// `sales` wants each assignment accepted within 5 minutes.
    func coordinator(grace: TimeInterval = 120) -> Coordinator {
        let configuration = RoutingConfiguration(
            queues: [QueueDefinition(name: "billing"), QueueDefinition(name: "vip", keepTicketsWhenAgentAway: true),
                     QueueDefinition(name: "sales", acceptWithin: 300)],
            rules: [RoutingRule(name: "all", actions: .init(queue: "billing"))], presenceGraceSeconds: grace)
        var coordinator = Coordinator(configuration: configuration)
        _ = coordinator.agentLoaded("ana", .init(.online, since: t0), holdsTickets: false)
        _ = coordinator.agentLoaded("ben", .init(.online, since: t0), holdsTickets: false)
        return coordinator
    }

    func ticket(_ id: Int64, _ agent: String = "ana", _ queue: String? = "billing", _ status: TicketStatus = .open) -> AssignedTicket {
        AssignedTicket(ticketID: id, agentID: agent, queue: queue, status: status, assignedAt: t0)
    }

    // MARK: Presence and the grace period

    @Test func goingAwayStartsTheGracePeriodAndComingBackEndsIt() {
        var c = coordinator()
        let away = t0.addingTimeInterval(10)
        #expect(c.presenceChanged("ana", to: .away, at: away, by: "ana")
            == [.announcePresence(agentID: "ana", .away, by: "ana"), .schedule(.presenceGrace(agentID: "ana"), at: away.addingTimeInterval(120))])
        #expect(c.presenceChanged("ana", to: .online, at: away.addingTimeInterval(30), by: "control:sam")
            == [.announcePresence(agentID: "ana", .online, by: "control:sam"), .cancel(.presenceGrace(agentID: "ana")), .matchQueuesOf(agentID: "ana")])
        // Back before the grace period ended: a timer that fires anyway does nothing.
        #expect(c.timerFired(.presenceGrace(agentID: "ana"), now: away.addingTimeInterval(120)) == [])
    }

    @Test func sayingTheSamePresenceAgainAnnouncesNothingAndKeepsTheAbsenceStart() {
        var c = coordinator()
        _ = c.presenceChanged("ana", to: .offline, at: t0, by: "ana")
        #expect(c.presenceChanged("ana", to: .offline, at: t0.addingTimeInterval(60), by: "ana")
            == [.schedule(.presenceGrace(agentID: "ana"), at: t0.addingTimeInterval(120))])
        #expect(c.presenceChanged("ana", to: .online, at: t0.addingTimeInterval(61), by: "ana").contains(.matchQueuesOf(agentID: "ana")))
        #expect(c.presenceChanged("ana", to: .online, at: t0.addingTimeInterval(62), by: "ana")
            == [.cancel(.presenceGrace(agentID: "ana")), .matchQueuesOf(agentID: "ana")])
    }

    @Test func afterTheGracePeriodOnlyOpenTicketsOfQueuesThatDoNotKeepThemGoBack() {
        var c = coordinator()
        _ = c.presenceChanged("ana", to: .away, at: t0, by: "ana")
        #expect(c.timerFired(.presenceGrace(agentID: "ana"), now: t0.addingTimeInterval(120)) == [.collectTicketsOfAbsentAgent("ana")])
        let held = [ticket(1), ticket(2, "ana", "billing", .pending), ticket(3, "ana", "vip"), ticket(4), ticket(5, "ben")]
        #expect(c.absentAgentTickets("ana", held)
            == [.returnToQueues(.init(ticketIDs: [1, 4], agentID: "ana", reason: "agent away past the grace period"))])
        #expect(c.absentAgentTickets("ana", [ticket(2, "ana", "billing", .pending)]) == [])
        #expect(c.absentAgentTicketsUnreadable("ana", now: t0.addingTimeInterval(120))
            == [.schedule(.presenceGrace(agentID: "ana"), at: t0.addingTimeInterval(125))])
    }

    @Test func anAgentBackWhileTheirTicketsWereReadKeepsThem() {
        var c = coordinator()
        _ = c.presenceChanged("ana", to: .offline, at: t0, by: "ana")
        #expect(c.timerFired(.presenceGrace(agentID: "ana"), now: t0.addingTimeInterval(120)) == [.collectTicketsOfAbsentAgent("ana")])
        _ = c.presenceChanged("ana", to: .online, at: t0.addingTimeInterval(121), by: "ana")
        #expect(c.absentAgentTickets("ana", [ticket(1)]) == [])
    }

    @Test func anAbsentAgentWithTicketsFoundAtStartHasTheirGracePeriodFromWhenTheyLeft() {
        var c = coordinator()
        #expect(c.agentLoaded("cai", .init(.away, since: t0), holdsTickets: true) == [.schedule(.presenceGrace(agentID: "cai"), at: t0.addingTimeInterval(120))])
        #expect(c.agentLoaded("dee", .init(.away, since: t0), holdsTickets: false) == [])
        #expect(c.agentLoaded("eve", .init(.online, since: t0), holdsTickets: true) == [])
    }

    @Test func aCustomerWritingToAnAbsentAgentsTicketAfterTheGracePeriodGetsSomeoneElse() {
        var c = coordinator()
        _ = c.presenceChanged("ana", to: .away, at: t0, by: "ana")
        let woken = [ticket(1), ticket(2, "ana", "vip"), ticket(3, "ben")]
        #expect(c.customerWrote(to: woken, now: t0.addingTimeInterval(119)) == [])
        #expect(c.customerWrote(to: woken, now: t0.addingTimeInterval(120))
            == [.returnToQueues(.init(ticketIDs: [1], agentID: "ana", reason: "customer wrote while the agent was away"))])
    }

    // MARK: Acceptance

    @Test func onlyQueuesThatAskForAcceptanceSetADeadline() {
        var c = coordinator()
        let at = t0.addingTimeInterval(5)
        #expect(c.assignmentsCommitted([(1, "ana", "sales"), (2, "ana", "billing")], at: at)
            == [.schedule(.acceptance(ticketID: 1), at: at.addingTimeInterval(300))])
        #expect(c.timerFired(.acceptance(ticketID: 1), now: at.addingTimeInterval(300)) == [.checkAcceptance(ticketID: 1, agentID: "ana", assignedAt: at)])
        #expect(c.timerFired(.acceptance(ticketID: 1), now: at.addingTimeInterval(301)) == [], "a deadline fires once")
        #expect(c.assignmentsLoaded([ticket(7, "ben", "sales"), ticket(8, "ben", "sales", .pending), ticket(9, "ben", "billing")])
            == [.schedule(.acceptance(ticketID: 7), at: t0.addingTimeInterval(300))])
    }

    @Test func acceptingOrReplyingInTimeKeepsTheTicketAndSilenceSendsItToSomeoneElse() {
        let c = coordinator()
        func facts(assignee: String? = "ana", at: Date? = nil, status: TicketStatus = .open, reply: Date? = nil, accepted: Date? = nil) -> Coordinator.AcceptanceFacts {
            .init(assignee: assignee, assignedAt: at ?? t0, status: status, lastReplyAt: reply, acceptedAt: accepted)
        }
        let missed: [Coordinator.Action] = [
            .returnToQueues(.init(ticketIDs: [1], agentID: "ana", kind: .acceptanceMissed, reason: "not accepted or answered in time", excludeAgent: true,
                                  unlessAcceptedSince: t0)),
            .matchQueuesOf(agentID: "ana"),
        ]
        #expect(c.acceptanceChecked(1, agentID: "ana", assignedAt: t0, facts()) == missed)
        #expect(c.acceptanceChecked(1, agentID: "ana", assignedAt: t0, facts(reply: t0.addingTimeInterval(-60))) == missed, "a reply before the assignment does not count")
        #expect(c.acceptanceChecked(1, agentID: "ana", assignedAt: t0, facts(accepted: t0.addingTimeInterval(-1))) == missed, "an earlier acceptance does not count")
        #expect(c.acceptanceChecked(1, agentID: "ana", assignedAt: t0, facts(reply: t0.addingTimeInterval(60))) == [])
        #expect(c.acceptanceChecked(1, agentID: "ana", assignedAt: t0, facts(accepted: t0.addingTimeInterval(60))) == [])
        #expect(c.acceptanceChecked(1, agentID: "ana", assignedAt: t0, facts(status: .pending)) == [])
        #expect(c.acceptanceChecked(1, agentID: "ana", assignedAt: t0, facts(assignee: "ben")) == [])
        #expect(c.acceptanceChecked(1, agentID: "ana", assignedAt: t0, facts(assignee: nil)) == [])
        #expect(c.acceptanceChecked(1, agentID: "ana", assignedAt: t0, facts(at: t0.addingTimeInterval(30))) == [], "assigned to her again since: a new deadline")
        // The stored assignment time reads back rounded to the microsecond: still the same assignment.
        let asTimed = t0.addingTimeInterval(0.000_000_4)
        #expect(c.acceptanceChecked(1, agentID: "ana", assignedAt: asTimed, facts(at: t0.addingTimeInterval(0.000_001))).count == 2)
    }

    // MARK: Status and changes by hand

    @Test func resolvingFreesTheAgentOrTheQueueAndEndsTheAcceptanceDeadline() {
        var c = coordinator()
        _ = c.assignmentsCommitted([(1, "ana", "sales")], at: t0)
        #expect(c.statusChanged(1, to: .resolved, assignee: "ana", queue: "sales")
            == .init(underLock: [.agentDrops(agentID: "ana", ticketID: 1)], then: [.matchQueuesOf(agentID: "ana"), .cancel(.acceptance(ticketID: 1))]))
        #expect(c.statusChanged(2, to: .pending, assignee: "ana", queue: "billing")
            == .init(underLock: [.agentHolds(agentID: "ana", ticketID: 2, .pending)], then: [.matchQueuesOf(agentID: "ana")]))
        #expect(c.statusChanged(3, to: .resolved, assignee: nil, queue: "billing") == .init(underLock: [.queueForgets(queue: "billing", ticketID: 3)]))
        #expect(c.statusChanged(4, to: .open, assignee: nil, queue: nil) == .init())
        // Pending keeps the deadline: the customer may open it again before it, unanswered.
        _ = c.assignmentsCommitted([(5, "ben", "sales")], at: t0)
        #expect(c.statusChanged(5, to: .pending, assignee: "ben", queue: "sales").then == [.matchQueuesOf(agentID: "ben")])
        #expect(c.timerFired(.acceptance(ticketID: 5), now: t0.addingTimeInterval(300)) == [.checkAcceptance(ticketID: 5, agentID: "ben", assignedAt: t0)])
    }

    @Test func aSupervisorMayAssignAnyRoutedUnresolvedTicketToAKnownAgent() {
        var c = coordinator()
        let waiting = TicketPlacement(priority: .normal, queue: "billing", assignee: nil)
        let bens = TicketPlacement(priority: .normal, queue: "billing", assignee: "ben")
        #expect(c.manualAssign(waiting, to: "zed") == .refuse(.unknownAgent))
        #expect(c.manualAssign(nil, to: "ana") == .refuse(.notAssignable("the ticket is resolved")))
        #expect(c.manualAssign(.init(priority: .normal, queue: nil, assignee: nil), to: "ana") == .refuse(.notAssignable("the ticket is not routed yet")))
        #expect(c.manualAssign(bens, to: "ben") == .refuse(.alreadyHeld))
        #expect(c.manualAssign(waiting, to: "ana") == .assign(takingOutOf: "billing"))
        #expect(c.manualAssign(bens, to: "ana") == .assign(takingOutOf: nil))
        #expect(c.manuallyAssigned(1, to: "ana", previous: "ben", status: .open)
            == .init(underLock: [.agentHolds(agentID: "ana", ticketID: 1, .open), .agentDrops(agentID: "ben", ticketID: 1)],
                     then: [.matchQueuesOf(agentID: "ben")]))
    }

    @Test func anAgentTakesOnlyAWaitingTicketOfTheirQueuesAndLosingTheRaceSaysWhy() {
        let c = coordinator()
        let waiting = TicketPlacement(priority: .normal, queue: "billing", assignee: nil)
        #expect(c.take(waiting, by: "ana", serving: ["billing"]) == .take(fromQueue: "billing"))
        #expect(c.take(waiting, by: "ana", serving: ["sales"]) == .refuse(.notTheirQueue))
        #expect(c.take(.init(priority: .normal, queue: "billing", assignee: "ben"), by: "ana", serving: ["billing"]) == .refuse(.alreadyAssigned))
        #expect(c.take(.init(priority: .normal, queue: "billing", assignee: "ana"), by: "ana", serving: ["billing"]) == .alreadyTheirs)
        #expect(c.take(.init(priority: .normal, queue: nil, assignee: nil), by: "ana", serving: ["billing"]) == .refuse(.notWaiting))
        #expect(c.take(nil, by: "ana", serving: ["billing"]) == .refuse(.notWaiting))
    }

    @Test func unassigningNeedsAnAgentAndSaysWhoDidIt() {
        let c = coordinator()
        #expect(c.unassign(1, .init(priority: .normal, queue: "billing", assignee: nil), by: "control:sam") == nil)
        #expect(c.unassign(1, nil, by: "control:sam") == nil)
        #expect(c.unassign(1, .init(priority: .normal, queue: "billing", assignee: "ana"), by: "control:sam")
            == .init(ticketIDs: [1], agentID: "ana", reason: "unassigned by control:sam"))
    }

    // MARK: Escalations

    @Test func escalationsRaiseOneLevelMoveAwayFromTheAgentAndTag() {
        let assigned = TicketPlacement(priority: .high, queue: "billing", assignee: "ana")
        #expect(Coordinator.escalationStep(.raisePriority, assigned) == .setPriority(.urgent))
        #expect(Coordinator.escalationStep(.raisePriority, .init(priority: .urgent, queue: "billing", assignee: nil)) == .none)
        #expect(Coordinator.escalationStep(.raisePriority, nil) == .none)
        #expect(Coordinator.escalationStep(.moveTo(queue: "vip"), assigned) == .move(from: "billing", to: "vip", takingFrom: "ana"))
        #expect(Coordinator.escalationStep(.moveTo(queue: "billing"), assigned) == .none)
        #expect(Coordinator.escalationStep(.moveTo(queue: "vip"), .init(priority: .low, queue: "billing", assignee: nil))
            == .move(from: "billing", to: "vip", takingFrom: nil))
        #expect(Coordinator.escalationStep(.addTag("late"), assigned) == .addTag("late"))
        #expect(Coordinator.escalationStep(.notifySupervisors, assigned) == .none)
    }

    // MARK: Pausing and draining

    @Test func aPausedQueueStaysHeldWhenTheDrainEndsAndARefusedPauseIsUndone() {
        var c = coordinator()
        #expect(c.pause("nowhere", true) == .unknownQueue)
        #expect(c.pause("billing", true) == .store)
        #expect(c.pause("billing", true) == .unchanged, "a second request while the first is stored")
        #expect(c.pauseStored("billing") == [.holdQueue("billing", true)])
        #expect(c.drain(true) == [.holdQueue("billing", true), .holdQueue("sales", true), .holdQueue("vip", true)])
        #expect(c.drain(true) == nil)
        #expect(c.drain(false) == [.holdQueue("billing", true), .holdQueue("sales", false), .holdQueue("vip", false)])
        #expect(c.pause("sales", true) == .store)
        c.pauseNotStored("sales", true)
        #expect(c.pausedQueues == ["billing"])
        #expect(!c.isHeld("sales"))
    }

    // MARK: Recovery

    @Test func refusedWorkIsRetriedWithDoublingBackOffUntilItSucceeds() {
        var c = coordinator()
        let first = Coordinator.RecoveryWork(reconcile: [1, 2])
        #expect(c.recoveryNeeded(first) == [.recover(first)])
        // More arrives while the batch runs: it waits for the batch to end.
        #expect(c.recoveryNeeded(.init(routeUnrouted: true)) == [])
        var now = t0
        var delays: [TimeInterval] = []
        var batch = Coordinator.RecoveryWork(routeUnrouted: true, reconcile: [1, 2])
        for _ in 0..<8 {
            guard case .schedule(.recovery, let at) = c.recoveryFinished(unfinished: batch, now: now).first else {
                Issue.record("a failed batch is retried")
                return
            }
            delays.append(at.timeIntervalSince(now))
            now = at
            #expect(c.timerFired(.recovery, now: now) == [.recover(batch)])
            batch = Coordinator.RecoveryWork(routeUnrouted: true, reconcile: [1, 2])
        }
        #expect(delays.map { ($0 * 10).rounded() / 10 } == [0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10, 10])
        // Half succeeds: the rest at once; then all of it, and the back-off starts again.
        #expect(c.recoveryFinished(unfinished: .init(reconcile: [2]), now: now).first == .schedule(.recovery, at: now.addingTimeInterval(10)))
        #expect(c.timerFired(.recovery, now: now) == [.recover(.init(reconcile: [2]))])
        #expect(c.recoveryFinished(unfinished: .init(), now: now) == [])
        #expect(c.recoveryNeeded(.init(handBack: ["ana": "agent removed"])) == [.recover(.init(handBack: ["ana": "agent removed"]))])
        #expect(c.recoveryFinished(unfinished: .init(handBack: ["ana": "agent removed"]), now: now)
            == [.schedule(.recovery, at: now.addingTimeInterval(0.2))])
    }

    @Test func afterShutdownNothingIsRetried() {
        var c = coordinator()
        #expect(c.recoveryNeeded(.init(reconcile: [1])) == [.recover(.init(reconcile: [1]))])
        #expect(c.stopRecovery() == [.cancel(.recovery)])
        #expect(c.recoveryFinished(unfinished: .init(reconcile: [1]), now: t0) == [])
        #expect(c.recoveryNeeded(.init(reconcile: [3])) == [])
    }

    // MARK: Agents and queues coming and going

    @Test func agentsNoLongerActiveHandBackTheirTicketsAndNewQueuesStartHeldWhileDraining() {
        var c = coordinator()
        _ = c.drain(true)
        var new = c.configuration
        new.queues.append(QueueDefinition(name: "returns"))
        let change = c.reconfigure(new, activeAgents: ["ana"])
        #expect(change.removedAgents == ["ben"])
        #expect(change.addedQueues.map(\.name) == ["returns"])
        #expect(change.keptQueues.map(\.name) == ["billing", "vip", "sales"])
        #expect(change.actions == [.cancel(.presenceGrace(agentID: "ben")), .handBack(agentID: "ben", reason: "agent deactivated"), .holdQueue("returns", true)])
        #expect(c.manualAssign(.init(priority: .normal, queue: "billing", assignee: nil), to: "ben") == .refuse(.unknownAgent))
        #expect(c.agentRemoved("ana", reason: "agent removed") == [.cancel(.presenceGrace(agentID: "ana")), .handBack(agentID: "ana", reason: "agent removed")])
        #expect(Coordinator.orphanedHandBacks([ticket(1, "zed"), ticket(2, "ana"), ticket(3, "zed"), ticket(4, "yan")], activeAgents: ["ana"])
            == [.handBack(agentID: "yan", reason: "agent deactivated"), .handBack(agentID: "zed", reason: "agent deactivated")])
    }

    // MARK: Classification and ingest

    @Test func theGuessedLanguageWinsAndWithoutACalendarEveryTicketIsWithinHours() throws {
        let rules = [RoutingRule(name: "es", conditions: .init(languages: ["es"]), actions: .init(queue: "es")),
                     RoutingRule(name: "night", conditions: .init(withinBusinessHours: false), actions: .init(queue: "night")),
                     RoutingRule(name: "rest", actions: .init(queue: "day"))]
        let facts = TicketFacts(businessNumber: "1", firstMessageText: "Hola, necesito ayuda con mi factura por favor")
        let always = Coordinator(configuration: RoutingConfiguration(queues: [], rules: rules))
        let found = try #require(always.classify(facts, knownLanguage: "en", createdAt: t0))
        #expect(found.rule.name == "es" && found.guessedLanguage == "es")
        #expect(always.classify(TicketFacts(businessNumber: "1", firstMessageText: "12345"), knownLanguage: "es", createdAt: t0)?.guessedLanguage == nil)
        #expect(always.classify(TicketFacts(businessNumber: "1", firstMessageText: "12345"), knownLanguage: "es", createdAt: t0)?.rule.name == "es")
        #expect(always.classify(TicketFacts(businessNumber: "1"), knownLanguage: nil, createdAt: t0)?.rule.name == "rest")
        let closed = BusinessCalendar(timeZone: try #require(TimeZone(identifier: "UTC")), week: Array(repeating: [], count: 7))
        let office = Coordinator(configuration: RoutingConfiguration(queues: [], rules: rules, businessHours: closed))
        #expect(office.classify(TicketFacts(businessNumber: "1"), knownLanguage: nil, createdAt: t0)?.rule.name == "night")
        #expect(Coordinator(configuration: RoutingConfiguration(queues: [], rules: [])).classify(facts, knownLanguage: nil, createdAt: t0) == nil)
    }

    @Test func newAndReopenedTicketsAreRoutedAndWokenOnesCountForTheirAgentAgain() {
        let followUp = Coordinator.followUp([(1, .reopen(1), true), (2, .newTicket, true), (3, .wakeUp(3), true), (4, .append(to: 4), true),
                                             (5, .append(to: 5), false), (6, .attach(to: 6), false)])
        #expect(followUp.route == [2, 1])
        #expect(followUp.wake == [3])
        // A reaction to an open ticket (5) starts no clock; one attached to a resolved ticket (6) nothing at all.
        #expect(followUp.customerWrote == [3, 4])
    }

    @Test func aReturningCustomerPrefersTheirLastAgentForTheStickyTime() throws {
        let sticky = try #require(StickyRouting.preference(lastAgent: "ana", lastContactAt: t0, stickySeconds: 3600))
        #expect(sticky.agent == "ana" && sticky.until == t0.addingTimeInterval(3600))
        #expect(StickyRouting.preference(lastAgent: "ana", lastContactAt: t0, stickySeconds: 0) == nil)
        #expect(StickyRouting.preference(lastAgent: nil, lastContactAt: t0, stickySeconds: 3600) == nil)
        #expect(StickyRouting.preference(lastAgent: "ana", lastContactAt: nil, stickySeconds: 3600) == nil)
    }
}
