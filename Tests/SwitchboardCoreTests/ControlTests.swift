import SwitchboardCore
import Testing
import Varlink

@Suite("Control: Varlink framing, roles from Unix identities, the permission matrix")
struct ControlTests {
    @Test func messagesAreSplitOnNulWhateverPiecesTheyArriveIn() throws {
        var decoder = VarlinkFrameDecoder(maxMessageBytes: 64)
        let stream = Array(#"{"a":1}"#.utf8) + [0] + Array(#"{"b":2}"#.utf8) + [0] + Array(#"{"c""#.utf8)
        var messages: [[UInt8]] = []
        for piece in [stream[0..<3], stream[3..<9], stream[9..<stream.count]] { messages += try decoder.append(piece) }
        #expect(messages.map { String(decoding: $0, as: UTF8.self) } == [#"{"a":1}"#, #"{"b":2}"#])
        #expect(decoder.pendingBytes == 4)
        #expect(try decoder.append(Array(":3}".utf8) + [0]).map { String(decoding: $0, as: UTF8.self) } == [#"{"c":3}"#])
    }

    @Test func aMessageLongerThanTheLimitIsRefusedBeforeItIsBufferedWhole() throws {
        var decoder = VarlinkFrameDecoder(maxMessageBytes: 8)
        #expect(try decoder.append(Array("12345678".utf8) + [0]).count == 1)
        #expect(throws: VarlinkFrameDecoder.Failure.messageTooLong(limit: 8)) { try decoder.append(Array("123456789".utf8)) }
    }

    @Test func rolesComeFromUsersAndGroupsAndRootIsAlwaysAdmin() {
        let access = ControlAccess(admins: .init(users: ["ops"]), supervisors: .init(groups: ["leads"]), agents: .init(groups: ["support"]))
        #expect(access.role(uid: 0, user: "root", groups: []) == .admin)
        #expect(access.role(uid: 1001, user: "ops", groups: ["support"]) == .admin)
        #expect(access.role(uid: 1002, user: "maria", groups: ["support", "leads"]) == .supervisor)
        #expect(access.role(uid: 1003, user: "ana", groups: ["support"]) == .agent)
        #expect(access.role(uid: 1004, user: "mallory", groups: ["users"]) == nil)
    }

    @Test func thePermissionMatrix() {
        let admin = Permissions.Caller(role: .admin, agentID: nil, visibleQueues: nil)
        // Sam's team is Ana and himself; Ben is in another team.
        let supervisor = Permissions.Caller(role: .supervisor, agentID: "sam", visibleQueues: ["support", "supervisors"], team: ["sam", "ana"])
        let agent = Permissions.Caller(role: .agent, agentID: "ana", visibleQueues: ["support"])
        let mine = Permissions.TicketPlace(assignee: "ana", queue: "support")
        let colleagues = Permissions.TicketPlace(assignee: "ben", queue: "support")
        let waiting = Permissions.TicketPlace(assignee: nil, queue: "support")
        let elsewhere = Permissions.TicketPlace(assignee: nil, queue: "billing")
        let denied = Permissions.Decision.denied
        let cases: [(Permissions.Operation, admin: Permissions.Decision, supervisor: Permissions.Decision, agent: Permissions.Decision)] = [
            (.readOverview, .allowed, .allowed, .allowed),
            (.showAgent("ana"), .allowed, .allowed, .allowed),
            (.showAgent("ben"), .allowed, denied("supervisors may see only the agents of their teams"), denied("agents may see only themselves")),
            (.showAgent("sam"), .allowed, .allowed, denied("agents may see only themselves")),
            (.setPresence(agent: "ana"), .allowed, .allowed, .allowed),
            (.setPresence(agent: "ben"), .allowed, denied("supervisors may change the presence of the agents of their teams only"),
             denied("agents may change only their own presence")),
            (.drainAgent("ana"), .allowed, .allowed, .allowed),
            (.drainAgent("ben"), .allowed, denied("supervisors may drain only the agents of their teams"), denied("agents may drain only themselves")),
            (.manageAgents, .allowed, denied("needs the admin role"), denied("needs the admin role")),
            (.drainDaemon, .allowed, denied("needs the admin role"), denied("needs the admin role")),
            (.reloadConfiguration, .allowed, denied("needs the admin role"), denied("needs the admin role")),
            (.pauseQueue("support"), .allowed, .allowed, denied("needs the supervisor role")),
            (.pauseQueue("billing"), .allowed, denied("supervisors may pause only their teams' queues"), denied("needs the supervisor role")),
            (.viewTicket(mine), .allowed, .allowed, .allowed),
            (.viewTicket(waiting), .allowed, .allowed, .allowed),
            (.viewTicket(colleagues), .allowed, .allowed, .hidden),
            (.viewTicket(elsewhere), .allowed, .hidden, .hidden),
            (.assignTicket(waiting, to: "ana"), .allowed, .allowed, denied("needs the supervisor role")),
            (.assignTicket(waiting, to: "ben"), .allowed, denied("supervisors may assign only to the agents of their teams"), denied("needs the supervisor role")),
            (.assignTicket(colleagues, to: nil), .allowed, .allowed, .hidden),
            (.assignTicket(elsewhere, to: "ana"), .allowed, .hidden, .hidden),
            (.changeTicket(mine), .allowed, .allowed, .allowed),
            (.changeTicket(waiting), .allowed, .allowed, denied("only the ticket's agent or a supervisor may change it")),
            (.changeTicket(colleagues), .allowed, .allowed, .hidden),
            (.setPriority(mine), .allowed, .allowed, denied("needs the supervisor role")),
            (.setPriority(elsewhere), .allowed, .hidden, .hidden),
            (.addNote(mine), .allowed, .allowed, .allowed),
            (.addNote(waiting), .allowed, .allowed, .allowed),
            (.addNote(colleagues), .allowed, .allowed, .hidden),
            (.addNote(elsewhere), .allowed, .hidden, .hidden),
        ]
        for (operation, forAdmin, forSupervisor, forAgent) in cases {
            #expect(Permissions.decide(admin, operation) == forAdmin, "admin: \(operation)")
            #expect(Permissions.decide(supervisor, operation) == forSupervisor, "supervisor: \(operation)")
            #expect(Permissions.decide(agent, operation) == forAgent, "agent: \(operation)")
        }
        // A supervisor without an agent record oversees every queue.
        let operator_ = Permissions.Caller(role: .supervisor, agentID: nil, visibleQueues: nil)
        #expect(Permissions.decide(operator_, .viewTicket(elsewhere)) == .allowed)
        #expect(Permissions.decide(operator_, .showAgent("ben")) == .allowed)
        #expect(Permissions.decide(operator_, .pauseQueue("billing")) == .allowed)
    }

    /// One scope answers "who may see ticket T?" for the checks and for the SQL that lists tickets.
    @Test func whoMaySeeTicketsAgentsQueuesAndEvents() {
        let admin = Permissions.Caller(role: .admin, agentID: nil, visibleQueues: nil)
        let supervisor = Permissions.Caller(role: .supervisor, agentID: "sam", visibleQueues: ["support"], team: ["sam", "ana"])
        let agent = Permissions.Caller(role: .agent, agentID: "ana", visibleQueues: ["support"])
        #expect(Permissions.ticketScope(admin) == .init(everything: true, assignee: nil, queues: [], assignedInQueues: true))
        #expect(Permissions.ticketScope(supervisor) == .init(everything: false, assignee: "sam", queues: ["support"], assignedInQueues: true))
        #expect(Permissions.ticketScope(agent) == .init(everything: false, assignee: "ana", queues: ["support"], assignedInQueues: false))
        #expect(Permissions.canSee(agent, queue: "support") && !Permissions.canSee(agent, queue: "billing"))
        #expect(Permissions.canSee(supervisor, queue: "support") && !Permissions.canSee(supervisor, queue: "billing") && Permissions.canSee(admin, queue: "billing"))
        #expect(Permissions.canSee(supervisor, agent: "ana") && !Permissions.canSee(supervisor, agent: "ben") && !Permissions.canSee(agent, agent: "sam"))
        // Presence: the agent's own, or of an agent one oversees.
        let bensPresence = Permissions.EventPlace(ticket: nil, agent: "ben", audience: ["ben"])
        #expect(!Permissions.canSee(supervisor, event: bensPresence))
        #expect(Permissions.canSee(admin, event: bensPresence))
        let anasPresence = Permissions.EventPlace(ticket: nil, agent: "ana", audience: ["ana"])
        #expect(Permissions.canSee(agent, event: anasPresence))
        // A ticket's event: visible ticket, or addressed to the caller (Ana hears that Ben took hers).
        let taken = Permissions.EventPlace(ticket: .init(assignee: "ben", queue: "billing"), agent: "ben", audience: ["ben", "ana"])
        #expect(Permissions.canSee(agent, event: taken))
        #expect(!Permissions.canSee(supervisor, event: taken))
        let waiting = Permissions.EventPlace(ticket: .init(assignee: nil, queue: "support"), agent: nil, audience: [])
        let bens = Permissions.EventPlace(ticket: .init(assignee: "ben", queue: "support"), agent: "ben", audience: ["ben"])
        #expect(Permissions.canSee(agent, event: waiting))
        #expect(!Permissions.canSee(agent, event: bens))
    }
}
