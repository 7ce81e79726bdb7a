import Foundation
import SwitchboardDaemon
import Testing

/// The numbered event log behind the agents' event stream: who gets what, resuming, the gap.
@Suite("Event log: followers by scope, resume after a number, the gap, closing")
struct EventLogTests {
    static let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    static func event(_ kind: DaemonEvent.Kind, agent: String?, queue: String?, at offset: TimeInterval = 0, audience: [String] = []) -> DaemonEvent {
        DaemonEvent(kind: kind, ticketID: kind == .presence ? nil : 1, reference: kind == .presence ? nil : "T-1", queue: queue, agent: agent,
                    at: t0.addingTimeInterval(offset), audience: audience, details: [:])
    }

    static func scope(agent: String, queues: Set<String>?, supervisor: Bool = false) -> EventLog.Scope {
        EventLog.Scope(agentID: agent, queues: queues, everyonesPresence: supervisor) { event in
            if event.kind == .presence { return supervisor || event.agent == agent }
            if event.agent == agent || event.audience.contains(agent) { return true }
            guard let queue = event.queue, queues?.contains(queue) ?? true else { return false }
            return supervisor || event.agent == nil
        }
    }

    /// What a follower has received so far (the stream is drained until it would wait).
    static func drain(_ stream: AsyncStream<EventLog.Entry>, count: Int) async -> [UInt64] {
        var iterator = stream.makeAsyncIterator()
        var seen: [UInt64] = []
        for _ in 0..<count { if let entry = await iterator.next() { seen.append(entry.sequence) } }
        return seen
    }

    @Test func eachEventReachesOnlyTheFollowersItConcerns() async {
        let log = EventLog(capacity: 100, maxAge: 3600)
        let ana = log.follow(after: nil, scope: Self.scope(agent: "ana", queues: ["support"])).live
        let ben = log.follow(after: nil, scope: Self.scope(agent: "ben", queues: ["billing"])).live
        let lead = log.follow(after: nil, scope: Self.scope(agent: "sam", queues: ["support"], supervisor: true)).live
        log.append(Self.event(.assigned, agent: "ana", queue: "support"))                      // 1: ana, lead
        log.append(Self.event(.message, agent: nil, queue: "support"))                         // 2: ana (waiting in her queue), lead
        log.append(Self.event(.assigned, agent: "cho", queue: "support"))                      // 3: lead only
        log.append(Self.event(.slaWarning, agent: "cho", queue: "billing", audience: ["ben"])) // 4: ben (addressed)
        log.append(Self.event(.presence, agent: "ben", queue: nil))                            // 5: ben, lead
        log.append(Self.event(.assigned, agent: "ben", queue: "billing"))                      // 6: ben
        #expect(await Self.drain(ana, count: 2) == [1, 2])
        #expect(await Self.drain(ben, count: 3) == [4, 5, 6])
        #expect(await Self.drain(lead, count: 4) == [1, 2, 3, 5])
        #expect(log.followerCount == 3)
    }

    @Test func aFollowerResumesAfterTheLastNumberItSawOrIsToldItMissedSome() async {
        let log = EventLog(capacity: 3, maxAge: 3600)
        for index in 0..<5 { log.append(Self.event(.assigned, agent: "ana", queue: "support", at: Double(index))) }
        // Kept: 3, 4, 5.
        let ana = Self.scope(agent: "ana", queues: ["support"])
        guard case .replay(let entries) = log.follow(after: 3, scope: ana).resume else { Issue.record("expected a replay"); return }
        #expect(entries.map(\.sequence) == [4, 5])
        guard case .replay(let none) = log.follow(after: 5, scope: ana).resume else { Issue.record("expected an empty replay"); return }
        #expect(none.isEmpty)
        #expect(log.follow(after: 1, scope: ana).resume == .gap)    // 2 is gone
        #expect(log.follow(after: 99, scope: ana).resume == .gap)   // a number this run never gave
        // Replays hold only what the scope admits.
        guard case .replay(let others) = log.follow(after: 2, scope: Self.scope(agent: "ben", queues: ["billing"])).resume else {
            Issue.record("expected a replay"); return
        }
        #expect(others.isEmpty)
    }

    @Test func eventsOlderThanTheRetentionAreForgotten() {
        let log = EventLog(capacity: 100, maxAge: 60)
        log.append(Self.event(.assigned, agent: "ana", queue: "support", at: 0))
        log.append(Self.event(.assigned, agent: "ana", queue: "support", at: 30))
        log.append(Self.event(.assigned, agent: "ana", queue: "support", at: 90))
        let ana = Self.scope(agent: "ana", queues: ["support"])
        #expect(log.follow(after: 0, scope: ana).resume == .gap)
        guard case .replay(let entries) = log.follow(after: 1, scope: ana).resume else { Issue.record("expected a replay"); return }
        #expect(entries.map(\.sequence) == [2, 3])
    }

    @Test func closingEndsEveryStreamAndAnyFollowedLater() async {
        let log = EventLog()
        let before = log.follow(after: nil, scope: Self.scope(agent: "ana", queues: nil)).live
        log.close()
        var iterator = before.makeAsyncIterator()
        #expect(await iterator.next() == nil)
        var later = log.follow(after: nil, scope: Self.scope(agent: "ana", queues: nil)).live.makeAsyncIterator()
        #expect(await later.next() == nil)
        #expect(log.followerCount == 0)
    }

    /// A follower fills in an event from its ticket as it stands when it looks: a ticket that
    /// waited (or had just begun) and was taken since must not read as the new agent's then.
    @Test func fillingInFromTheTicketLaterNeverCreditsAWaitToItsLaterAgent() {
        let waited = DaemonEvent(kind: .queued, ticketID: 7, reference: nil, queue: "support", agent: nil, at: Self.t0, audience: [], details: [:])
        #expect(waited.filling(reference: "T-7", queue: "support", assignee: "ben").agent == nil)
        #expect(waited.filling(reference: "T-7", queue: "support", assignee: "ben").reference == "T-7")
        let began = DaemonEvent(kind: .message, ticketID: 7, reference: nil, queue: nil, agent: nil, at: Self.t0, audience: [], details: ["new_ticket": "true"])
        #expect(began.filling(reference: "T-7", queue: "support", assignee: "ben").agent == nil)
        let later = DaemonEvent(kind: .message, ticketID: 7, reference: nil, queue: nil, agent: nil, at: Self.t0, audience: [], details: [:])
        #expect(later.filling(reference: "T-7", queue: "support", assignee: "ben").agent == "ben")
        #expect(later.filling(reference: "T-7", queue: "support", assignee: "ben").queue == "support")
    }
}
