import Foundation
import SwitchboardCore
import Testing

/// Canned responses, customer tags and the fallback template as pure rules: who may manage and use
/// which response, what a response may say, how it is filled in, what a tag may be.
@Suite("Canned responses, customer tags, fallback templates: the rules")
struct CannedResponseTests {
    // Sam supervises team care (queues support and supervisors); Ana is an agent of team care
    // serving support; Ben is an agent of team sales serving sales.
    static let admin = Permissions.Caller(role: .admin, agentID: "ada", visibleQueues: nil)
    static let sam = Permissions.Caller(role: .supervisor, agentID: "sam", visibleQueues: ["support", "supervisors"], team: ["sam", "ana"], teams: ["care"])
    static let ana = Permissions.Caller(role: .agent, agentID: "ana", visibleQueues: ["support"], team: ["ana"], teams: ["care"])
    static let ben = Permissions.Caller(role: .agent, agentID: "ben", visibleQueues: ["sales"], team: ["ben"], teams: ["sales"])

    @Test func supervisorsManageTheirTeamsResponsesAdminsEveryonesAgentsNone() {
        let denied = Permissions.Decision.denied
        let cases: [(CannedScope, admin: Permissions.Decision, sam: Permissions.Decision, ana: Permissions.Decision)] = [
            (.everyone, .allowed, denied("only admins manage canned responses for everyone"), denied("needs the supervisor role")),
            (.team("care"), .allowed, .allowed, denied("needs the supervisor role")),
            (.team("sales"), .allowed, denied("supervisors may manage canned responses only for their teams"), denied("needs the supervisor role")),
            (.queue("support"), .allowed, .allowed, denied("needs the supervisor role")),
            (.queue("sales"), .allowed, denied("supervisors may manage canned responses only for their teams' queues"), denied("needs the supervisor role")),
        ]
        for (scope, admin, sam, ana) in cases {
            #expect(Permissions.decide(Self.admin, .manageCannedResponse(scope)) == admin, "admin: \(scope)")
            #expect(Permissions.decide(Self.sam, .manageCannedResponse(scope)) == sam, "sam: \(scope)")
            #expect(Permissions.decide(Self.ana, .manageCannedResponse(scope)) == ana, "ana: \(scope)")
        }
        // A supervisor granted by the control socket without an agent record oversees every team.
        let operator_ = Permissions.Caller(role: .supervisor, agentID: nil, visibleQueues: nil)
        #expect(Permissions.decide(operator_, .manageCannedResponse(.team("sales"))) == .allowed)
        #expect(Permissions.decide(operator_, .manageCannedResponse(.everyone)) == .denied("only admins manage canned responses for everyone"))
    }

    @Test func whoMayUseWhichResponseIsOneScopeForDecidingAndListing() {
        #expect(Permissions.cannedScope(Self.admin) == .init(everything: true, teams: nil, queues: nil))
        #expect(Permissions.cannedScope(Self.ana) == .init(everything: false, teams: ["care"], queues: ["support"]))
        let scopes: [CannedScope] = [.everyone, .team("care"), .team("sales"), .queue("support"), .queue("sales"), .queue("supervisors")]
        func usable(_ caller: Permissions.Caller, _ ticket: Permissions.TicketPlace? = nil) -> [CannedScope] {
            let listed = scopes.filter { Permissions.cannedScope(caller, answering: ticket).contains($0) }
            let decided = scopes.filter { Permissions.decide(caller, .useCannedResponse($0, ticket: ticket)) == .allowed }
            #expect(listed == decided, "the list and the decision agree for \(caller.agentID ?? "?")")
            return decided
        }
        #expect(usable(Self.ana) == [.everyone, .team("care"), .queue("support")])
        #expect(usable(Self.ben) == [.everyone, .team("sales"), .queue("sales")])
        #expect(usable(Self.sam) == [.everyone, .team("care"), .queue("support"), .queue("supervisors")])
        #expect(usable(Self.admin) == scopes)
        // Answering a ticket of another queue (a supervisor who may see it): that queue's too.
        let elsewhere = Permissions.TicketPlace(assignee: "sam", queue: "sales")
        #expect(usable(Self.sam, elsewhere) == [.everyone, .team("care"), .queue("support"), .queue("sales"), .queue("supervisors")])
        // A ticket the caller may not see gives nothing, and hides the response as it hides the ticket.
        #expect(Permissions.decide(Self.ben, .useCannedResponse(.everyone, ticket: .init(assignee: "ana", queue: "support"))) == .hidden)
        #expect(Permissions.decide(Self.ana, .useCannedResponse(.team("sales"), ticket: nil)) == .hidden)
    }

    @Test func aCustomersTagsTakeWhatTheTicketsOwnTagsTake() {
        let mine = Permissions.TicketPlace(assignee: "ana", queue: "support"), waiting = Permissions.TicketPlace(assignee: nil, queue: "support")
        #expect(Permissions.decide(Self.ana, .tagCustomer(mine)) == .allowed)
        #expect(Permissions.decide(Self.ana, .tagCustomer(waiting)) == .denied("only the ticket's agent or a supervisor may tag its customer"))
        #expect(Permissions.decide(Self.ben, .tagCustomer(mine)) == .hidden)
        #expect(Permissions.decide(Self.sam, .tagCustomer(waiting)) == .allowed)
        #expect(Permissions.decide(Self.admin, .tagCustomer(.init(assignee: nil, queue: "sales"))) == .allowed)
        for operation in [Permissions.Operation.changeTicket(mine), .changeTicket(waiting)] {
            guard case .changeTicket(let place) = operation else { continue }
            #expect((Permissions.decide(Self.ana, operation) == .allowed) == (Permissions.decide(Self.ana, .tagCustomer(place)) == .allowed))
        }
    }

    @Test func aResponseSaysWhatTheTableTakesWithKnownVariablesFilledInWhenSent() {
        #expect(CannedResponse.problem(shortcut: "refund") == nil)
        #expect(CannedResponse.problem(shortcut: "refund-2_x") == nil)
        for bad in ["", "Refund", "-refund", "_x", "re fund", "/refund", String(repeating: "a", count: 33), "réfund"] {
            #expect(CannedResponse.problem(shortcut: bad) != nil, "\(bad)")
        }
        #expect(CannedResponse.problem(title: "Refund policy") == nil)
        #expect(CannedResponse.problem(title: "   ") != nil)
        #expect(CannedResponse.problem(title: String(repeating: "é", count: 101)) != nil)
        #expect(CannedResponse.problem(body: "Hi {{customer.name|there}}, {{agent.name}} here about {{ticket.reference}}") == nil)
        #expect(CannedResponse.problem(body: "Back {{team.back}}")?.contains("unknown variable {{team.back}}") == true)
        #expect(CannedResponse.problem(body: "Hi {{customer.name") != nil)
        #expect(CannedResponse.problem(body: String(repeating: "x", count: 4097)) != nil)

        let canned = CannedResponse(id: 1, shortcut: "hi", title: "Hi", body: "Hi {{customer.name|there}}, {{agent.name}} here ({{ticket.reference}}).",
                                    scope: .everyone, createdBy: nil, createdAt: Date(), updatedBy: nil, updatedAt: Date())
        #expect(canned.rendered(customerName: "Olga", agentName: "Ben Carter", reference: "T-1042") == "Hi Olga, Ben Carter here (T-1042).")
        #expect(canned.rendered(customerName: nil, agentName: nil, reference: "T-1042") == "Hi there,  here (T-1042).")
        #expect(CannedScope(kind: "team", name: "care") == .team("care"))
        #expect(CannedScope(kind: "everyone", name: "x") == nil)
        #expect(CannedScope(kind: "queue", name: "") == nil)
    }

    @Test func aTagIsOneWordOfAtMost64Characters() {
        #expect(TagRule.problem("vip") == nil)
        #expect(TagRule.problem(String(repeating: "é", count: 64)) == nil)
        for bad in ["", "v ip", "vip\n", "a\u{00A0}b", String(repeating: "x", count: 65)] {
            #expect(TagRule.problem(bad) != nil, "\(bad)")
        }
    }

    @Test func aFallbackTemplatesParametersAreFilledInAndItsTextShown() {
        let template = MessageTemplate(name: "follow_up", language: "en_US", text: "Hello {{1}}, about {{2}}: reply to continue. {{3}}")
        let fallback = AutomationConfiguration.TemplateFallback(queues: ["support"], template: template,
                                                                parameters: ["{{customer.name|there}}", "{{ticket.reference}}"])
        let rendered = fallback.rendered(customerName: "", agentName: "Ben", reference: "T-1042")
        #expect(rendered.parameters == ["there", "T-1042"])
        #expect(rendered.preview == "Hello there, about T-1042: reply to continue. {{3}}")
        #expect(MessageTemplate(name: "x", language: "en", text: "No parameters {{1}} {{").filled([]) == "No parameters {{1}} {{")
    }
}
