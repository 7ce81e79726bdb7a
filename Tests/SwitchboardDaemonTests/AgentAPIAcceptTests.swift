import Foundation
import Hummingbird
import HummingbirdTesting
import JSON
import SwitchboardCore
import SwitchboardStore
import Testing
import TestSupport

/// Accepting a ticket through the API in a queue with an acceptance timeout, on routing's virtual
/// clock; who may accept; and what a take lost to someone quicker answers.
@Suite("Agents' API: accepting, and takes lost to someone quicker")
struct AgentAPIAcceptTests {
    static let ana = AgentDefinition(id: "ana", name: "Ana", teams: ["care"], capacity: 1, queues: ["support"])
    static let ben = AgentDefinition(id: "ben", name: "Ben", teams: ["care"], capacity: 1, queues: ["support"])
    static let sam = AgentDefinition(id: "sam", name: "Sam", role: .supervisor, teams: ["care"], capacity: 5, queues: ["supervisors"])
    static let cal = AgentDefinition(id: "cal", name: "Cal", teams: ["billing"], capacity: 5, queues: ["billing"])

    static func configuration(acceptWithin: TimeInterval? = nil, presence: [String: AgentPresence] = [:]) -> RoutingConfiguration {
        .testing(agents: [ana, ben, sam, cal], presence: ["sam": .offline, "cal": .offline].merging(presence) { _, new in new },
                 extraQueues: [QueueDefinition(name: "supervisors"), QueueDefinition(name: "billing")], acceptWithin: acceptWithin)
    }

    @Test func anAcceptedTicketStaysAtTheDeadlineAndAnUnacceptedOneIsTakenBack() async throws {
        let harness = try await APIHarness.start("api_accept", configuration: Self.configuration(acceptWithin: 90))
        defer { harness.stop() }
        let first = try await harness.routing.customerWrites("447700900701", "Hello")
        let second = try await harness.routing.customerWrites("447700900702", "Hello too")
        let waiting = try await harness.routing.customerWrites("447700900703", "And me")
        let keeper = try #require(try await harness.routing.assignee(first))
        let other = try #require(try await harness.routing.assignee(second))
        #expect(keeper != other)
        #expect(try await harness.routing.assignee(waiting) == nil)
        let (r1, r3) = (try await harness.reference(first), try await harness.reference(waiting))
        let keeperToken = try await harness.token(keeper), otherToken = try await harness.token(other), sam = try await harness.token("sam")
        let path = "/api/v1/tickets/{ref}/accept"
        await harness.routing.advance(by: 30)
        try await harness.application().test(.router) { client async throws in
            let accepted = try await harness.call(client, .post, path, "/api/v1/tickets/\(r1)/accept", token: keeperToken)
            #expect(accepted.status == 200)
            #expect(accepted.body?["changed"]?.bool == true)
            #expect(accepted.body?["ticket"]?["assignee"]?.string == keeper)
            let acceptedAt = try #require(accepted.body?["accepted_at"]?.string)
            // Again (a retried request): the same answer, nothing written.
            let again = try await harness.call(client, .post, path, "/api/v1/tickets/\(r1)/accept", token: keeperToken)
            #expect(again.status == 200 && again.body?["changed"]?.bool == false && again.body?["accepted_at"]?.string == acceptedAt)
            // Someone else's ticket: a colleague in the queue and a supervisor are told whose it is not.
            for (token, who) in [(otherToken, other), (sam, "sam")] {
                let refused = try await harness.call(client, .post, path, "/api/v1/tickets/\(r1)/accept", token: token)
                #expect(refused.status == 409 && refused.body?["error"]?["code"]?.string == "not_your_ticket", "\(who): \(refused)")
            }
            // A ticket nobody holds yet.
            let unassigned = try await harness.call(client, .post, path, "/api/v1/tickets/\(r3)/accept", token: keeperToken)
            #expect(unassigned.status == 409 && unassigned.body?["error"]?["code"]?.string == "not_assigned")
            let shown = try await harness.call(client, .get, "/api/v1/tickets/{ref}", "/api/v1/tickets/\(r1)", token: keeperToken)
            let event = shown.body?["events"]?.array.first { $0["kind"]?.string == "accepted" }
            #expect(event?["data"]?["agent"]?.string == keeper)
            #expect(event?["data"]?["seconds_after_assignment"]?.number == 30)
        }
        // The deadline passes: the accepted ticket stays; the other goes back (and to someone else).
        await harness.routing.advance(by: 61)
        #expect(try await harness.routing.assignee(first) == keeper)
        #expect(try await harness.routing.events(first, "acceptance_missed").isEmpty)
        let missed = try await harness.routing.events(second, "acceptance_missed")
        #expect(missed.map { $0["agent"] as? String } == [other])
        #expect(try await harness.routing.assignee(second) != other)
        #expect(try await harness.routing.events(first, "accepted").count == 1)
    }

    /// The deadline's check found the ticket unaccepted; the agent accepts before the ticket is taken
    /// back: the return is decided again on what the database holds under the ticket's row lock, and
    /// the ticket stays.
    @Test func anAcceptanceThatCommitsAfterTheDeadlinesCheckStillKeepsTheTicket() async throws {
        let harness = try await RoutingHarness.make("accept_race", Self.configuration(acceptWithin: 90))
        let ticket = try await harness.customerWrites("447700900721", "Hello")
        let agent = try #require(try await harness.assignee(ticket))
        let store = RoutingStore(pool: harness.pool)
        let checked = try await store.acceptanceFacts(ticket)
        let assignedAt = try #require(checked.assignedAt)
        let stillMissed: @Sendable (RoutingCoordinator.AcceptanceFacts) -> Bool = {
            RoutingCoordinator.acceptanceMissed($0, agentID: agent, assignedAt: assignedAt)
        }
        #expect(stillMissed(checked))
        #expect(try await store.accept(ticket, agentID: agent, actor: agent, now: harness.timers.now) == .accepted(at: harness.timers.now))
        let back = try await store.unassign([ticket], from: agent, kind: .acceptanceMissed, reason: "not accepted or answered in time", exclude: true,
                                            stickySeconds: 0, now: harness.timers.now, onlyIf: stillMissed)
        #expect(back.isEmpty)
        #expect(try await harness.assignee(ticket) == agent)
        #expect(try await harness.events(ticket, "acceptance_missed").isEmpty)
    }

    @Test func aTakeLostToSomeoneQuickerIsAConflictForWhoSawTheTicketWait() async throws {
        let harness = try await APIHarness.start("api_take_race", configuration: Self.configuration(presence: ["cal": .online]))
        defer { harness.stop() }
        _ = try await harness.routing.router.setPaused(queue: "support", true, actor: "test")
        let ticket = try await harness.routing.customerWrites("447700900711", "Hello")
        let reference = try await harness.reference(ticket)
        let ana = try await harness.token("ana"), ben = try await harness.token("ben"), sam = try await harness.token("sam"), cal = try await harness.token("cal")
        let path = "/api/v1/tickets/{ref}/take"
        try await harness.application().test(.router) { client async throws in
            #expect(try await harness.call(client, .post, path, "/api/v1/tickets/\(reference)/take", token: ana).status == 200)
            // Ben serves the queue and saw it wait; Sam oversees it: both are told it is taken.
            for token in [ben, sam] {
                let lost = try await harness.call(client, .post, path, "/api/v1/tickets/\(reference)/take", token: token)
                #expect(lost.status == 409)
                #expect(lost.body?["error"]?["code"]?.string == "already_assigned")
            }
            // Cal serves another queue: for him the ticket does not exist.
            #expect(try await harness.call(client, .post, path, "/api/v1/tickets/\(reference)/take", token: cal).status == 404)
            // Ana's own list, by `assignee=me`.
            let mine = try await harness.call(client, .get, "/api/v1/tickets", "/api/v1/tickets?assignee=me", token: ana)
            #expect(mine.body?["tickets"]?.array.compactMap { $0["reference"]?.string } == [reference])
            let bens = try await harness.call(client, .get, "/api/v1/tickets", "/api/v1/tickets?assignee=me", token: ben)
            #expect(bens.body?["tickets"]?.array.isEmpty == true)
        }
        #expect(try await harness.routing.assignee(ticket) == "ana")
    }
}
