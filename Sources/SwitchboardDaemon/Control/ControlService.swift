import JSON
import Foundation
import Logging
import Postgres
import SwitchboardCore
import SwitchboardStore

/// The methods of `io.switchboard.Control` and `org.varlink.service`: who the caller is (from the
/// peer's credentials and the configuration), whether they may (the same `Permissions.decide` the
/// agents' API will use), the work, the audit of every call that changes something.
public struct ControlService: VarlinkHandler {
    public static let interface = "io.switchboard.Control"

    /// A connection's caller: nil role when the peer is not allowed at all.
    public struct Peer: Sendable {
        public var credentials: PeerCredentials?
        public var caller: Permissions.Caller?
        public var refusal: String?

        public init(credentials: PeerCredentials?, caller: Permissions.Caller?, refusal: String?) {
            self.credentials = credentials
            self.caller = caller
            self.refusal = refusal
        }
    }

    let router: TicketRouter
    let store: ControlStore
    let events: EventStream
    let access: @Sendable () -> ControlAccess
    let reload: @Sendable () async -> ConfigurationReloader.Outcome
    let startedAt: ContinuousClock.Instant
    /// The database's state for `Status` (nil: not known here, e.g. in tests without one).
    let database: (@Sendable () -> DatabaseStatus)?
    /// Fetching customers' files for `Status` (nil: not known here, e.g. in tests without it).
    let media: (@Sendable () async -> MediaFetchStatus)?
    /// A web session unused this long has ended (`api.sessionIdleMinutes`), for listing sessions.
    let sessionIdle: TimeInterval
    /// This instance's part in the lease, and how a standby passes calls to the leader (nil: a
    /// single instance in tests).
    var leadership: LeadershipStatus?
    var forwarding: ControlForwarding?
    let logger: Logger

    public init(router: TicketRouter, store: ControlStore, events: EventStream, access: @escaping @Sendable () -> ControlAccess,
                reload: @escaping @Sendable () async -> ConfigurationReloader.Outcome, database: (@Sendable () -> DatabaseStatus)? = nil,
                media: (@Sendable () async -> MediaFetchStatus)? = nil, sessionIdle: TimeInterval = 8 * 3600, logger: Logger) {
        self.database = database
        self.media = media
        self.sessionIdle = sessionIdle
        self.router = router
        self.store = store
        self.events = events
        self.access = access
        self.reload = reload
        self.startedAt = .now
        self.logger = logger
    }

    // MARK: Who

    public func admit(_ credentials: PeerCredentials?) async -> Peer {
        guard let credentials else { return Peer(credentials: nil, caller: nil, refusal: "the peer's credentials could not be read") }
        let access = access()
        guard let role = access.role(uid: credentials.uid, user: credentials.user, groups: credentials.groups) else {
            logger.notice("control connection refused", metadata: ["user": "\(credentials.user)", "uid": "\(credentials.uid)", "pid": "\(credentials.pid)"])
            return Peer(credentials: credentials, caller: nil, refusal: Self.noRole(credentials.user, access))
        }
        do {
            let record = try await store.agent(forUnixUser: credentials.user)
            switch role {
            case .agent:
                guard let record else {
                    return Peer(credentials: credentials, caller: nil, refusal: "no agent record names Unix user \(credentials.user); an admin links it: "
                                + "switchboardctl update-agent AGENT --unix-user \(credentials.user)")
                }
                return Peer(credentials: credentials, caller: record.caller(as: .agent), refusal: nil)
            case .supervisor, .admin:
                // Without an agent record, a supervisor oversees every queue and agent.
                let caller = record?.caller(as: role) ?? .init(role: role, agentID: nil, visibleQueues: nil, team: nil)
                return Peer(credentials: credentials, caller: caller, refusal: nil)
            }
        } catch {
            return Peer(credentials: credentials, caller: nil, refusal: "the database is unavailable: \(error)")
        }
    }

    /// Why a Unix user without a role is refused, and exactly what an admin does about it: roles
    /// come from the configuration (a user or a group per role), applied by a reload.
    static func noRole(_ user: String, _ access: ControlAccess) -> String {
        let group = access.agents.groups.sorted().first.map { " (usermod -aG \($0) \(user))" } ?? ""
        return "Unix user \(user) has no role. An admin grants one in the configuration: \(user) in control.agents.users "
            + "(or control.supervisors, control.admins), or in a group it names\(group), then runs: switchboardctl reload; "
            + "an agent is also linked to their record: switchboardctl update-agent AGENT --unix-user \(user)"
    }

    // MARK: Dispatch

    public func respond(to call: VarlinkCall, from peer: Peer) async -> VarlinkResponse {
        guard let caller = peer.caller, let credentials = peer.credentials else {
            let reply = Self.denied(call.method, peer.refusal ?? "not allowed")
            if let credentials = peer.credentials, let name = call.method.split(separator: ".").last, ControlRequest.mutating.contains(String(name)) {
                // A stranger's attempt to change something is audited too.
                await audit(ControlRequest(call: call, caller: .init(role: .agent, agentID: nil, visibleQueues: []), credentials: credentials), reply, role: "none")
            }
            return .single(reply, closeAfter: true)
        }
        let parts = call.method.split(separator: ".")
        let interface = parts.dropLast().joined(separator: "."), name = parts.last.map(String.init) ?? ""
        switch interface {
        case "org.varlink.service":
            return .single(service(name, call.parameters))
        case Self.interface:
            break
        default:
            return .single(.failure("org.varlink.service.InterfaceNotFound", ["interface": .string(interface)]))
        }
        if let forwarding, forwarding.passes(name) {
            // A standby: the leader does it (and audits it).
            return .single(await forwarding.forward(call, credentials: credentials))
        }
        let request = ControlRequest(call: call, caller: caller, credentials: credentials)
        if name == "Watch" {
            guard call.more else { return .single(.failure("org.varlink.service.ExpectedMore", [:])) }
            return await watch(request)
        }
        let reply: VarlinkReply
        do {
            reply = .ok(try await perform(name, request))
        } catch let failure as ControlFailure {
            reply = failure.reply(method: call.method)
        } catch {
            logger.error("control call failed", metadata: ["method": "\(call.method)", "error": "\(error)"])
            reply = .failure("io.switchboard.Control.Failed", ["reason": .string("\(error)")])
        }
        if ControlRequest.mutating.contains(name) { await audit(request, reply) }
        return .single(reply)
    }

    private func perform(_ name: String, _ request: ControlRequest) async throws -> [String: JSONValue] {
        switch name {
        case "Status": return try await status(request)
        case "ListQueues": return ["queues": .array(try await queues(visibleTo: request.caller))]
        case "ListAgents": return try await listAgents(request)
        case "ShowAgent": return try await showAgent(request)
        case "SetPresence": return try await setPresence(request)
        case "ListTickets": return try await listTickets(request)
        case "ShowTicket": return try await showTicket(request)
        case "AtRisk": return try await atRisk(request)
        case "Reload": return try await reloadConfiguration(request)
        case "AddAgent": return try await saveAgent(request, creating: true)
        case "UpdateAgent": return try await saveAgent(request, creating: false)
        case "RemoveAgent": return try await removeAgent(request)
        case "PauseQueue": return try await pauseQueue(request, true)
        case "ResumeQueue": return try await pauseQueue(request, false)
        case "Drain": return try await drain(request)
        case "Assign": return try await assign(request)
        case "Unassign": return try await unassign(request)
        case "SetPriority": return try await setPriority(request)
        case "AddNote": return try await addNote(request)
        case "Take": return try await take(request)
        case "Accept": return try await accept(request)
        case "IssueToken": return try await issueToken(request)
        case "RevokeToken": return try await revokeToken(request)
        case "ListTokens": return try await listTokens(request)
        case "SetPassword": return try await setPassword(request)
        case "ListSessions": return try await listSessions(request)
        case "EndSessions": return try await endSessions(request)
        case "ListCannedResponses": return try await listCannedResponses(request)
        case "AddCannedResponse": return try await addCannedResponse(request)
        case "EditCannedResponse": return try await editCannedResponse(request)
        case "RemoveCannedResponse": return try await removeCannedResponse(request)
        case "TagCustomer": return try await tagCustomer(request)
        default: throw ControlFailure.methodNotFound(request.call.method)
        }
    }

    private func service(_ name: String, _ parameters: [String: ConfigValue]) -> VarlinkReply {
        switch name {
        case "GetInfo":
            return .ok(["vendor": "Switchboard", "product": "switchboardd", "version": .string(SwitchboardVersion.current),
                        "url": "https://github.com/switchboard/switchboard", "interfaces": ["org.varlink.service", .string(Self.interface)]])
        case "GetInterfaceDescription":
            guard case .string(let interface)? = parameters["interface"] else {
                return .failure("org.varlink.service.InvalidParameter", ["parameter": "interface"])
            }
            guard let description = ControlInterface.description(of: interface) else {
                return .failure("org.varlink.service.InterfaceNotFound", ["interface": .string(interface)])
            }
            return .ok(["description": .string(description)])
        default:
            return .failure("org.varlink.service.MethodNotFound", ["method": .string("org.varlink.service." + name)])
        }
    }

    private func audit(_ request: ControlRequest, _ reply: VarlinkReply, role: String? = nil) async {
        let entry = AuditEntry(unixUser: request.credentials.user, uid: request.credentials.uid, role: role ?? request.caller.role.rawValue,
                               method: request.call.method, arguments: JSONWriter.write(.object(request.auditedArguments)),
                               result: reply.error.map { String($0.split(separator: ".").last ?? "") } ?? "ok",
                               detail: reply.parameters["reason"].flatMap { if case .string(let text) = $0 { text } else { nil } })
        do {
            try await store.audit(entry, at: Date())
        } catch {
            logger.error("control call not audited", metadata: ["method": "\(request.call.method)", "user": "\(request.credentials.user)", "error": "\(error)"])
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func denied(_ method: String, _ reason: String) -> VarlinkReply {
        .failure("io.switchboard.Control.PermissionDenied", ["method": .string(method), "reason": .string(reason)])
    }

    // MARK: Methods

    private func status(_ request: ControlRequest) async throws -> [String: JSONValue] {
        var mediaValue = JSONValue.null
        if let media { mediaValue = Self.mediaValue(await media()) }
        let lease = leadership?.snapshot
        // A standby's routing is not running: its queues would say nothing true.
        let queues: [JSONValue] = lease.map { $0.role == .leader } ?? true ? try await queues(visibleTo: request.caller) : []
        return ["version": .string(SwitchboardVersion.current), "uptime_seconds": .double(Self.seconds(startedAt.duration(to: .now))),
         "caller": .string(request.credentials.user), "role": .string(request.caller.role.rawValue), "queues": .array(queues),
         "leadership": lease.map(Self.leadershipValue) ?? .null,
         "followers": .int(events.subscriberCount), "draining": .bool(await router.isDraining),
         "database": database.map { Self.databaseValue($0()) } ?? .null,
         "media": mediaValue]
    }

    static func leadershipValue(_ lease: LeadershipStatus.Snapshot) -> JSONValue {
        ["role": .string(lease.role.rawValue), "node": .string(lease.node), "leader": .optional(lease.leader),
         "leader_address": .optional(lease.leaderAddress), "since": .timestamp(lease.since), "epoch": .int(Int(lease.epoch))]
    }

    static func mediaValue(_ media: MediaFetchStatus) -> JSONValue {
        ["fetching": .string(media.fetching.rawValue), "paused_since": .timestamp(media.pause?.since), "paused_until": .timestamp(media.pause?.until),
         "paused_reason": .optional(media.pause?.reason), "pending": media.pending.map { .int($0) } ?? .null]
    }

    static func databaseValue(_ database: DatabaseStatus) -> JSONValue {
        ["kind": .string(database.embedded == nil ? "external" : "embedded"), "running": .bool(database.embedded?.running ?? true),
         "restarts": .int(database.embedded?.restarts ?? 0), "last_exit": .optional(database.embedded?.lastExit),
         "last_exit_at": .timestamp(database.embedded?.lastExitAt),
         "last_attempt_error": .optional(database.embedded?.lastAttemptError),
         "pool_in_use": .int(database.poolInUse), "pool_size": .int(database.poolSize)]
    }

    /// Every queue's figures the caller may see, by name; or only the named one's.
    func queues(only: String? = nil, visibleTo caller: Permissions.Caller? = nil) async throws -> [JSONValue] {
        let figures = try await QueueFigures.collect(router: router, store: store, only: only.map { [$0] })
        return figures.filter { queue in caller.map { Permissions.canSee($0, queue: queue.name) } ?? true }.map { queue in
            ["name": .string(queue.name), "strategy": .string(queue.strategy), "waiting": .int(queue.waiting),
             "longest_wait_seconds": .double(queue.longestWaitSeconds), "agents_online": .int(queue.agentsOnline), "agents_free": .int(queue.agentsFree),
             "at_risk": .int(queue.atRisk), "paused": .bool(queue.paused)]
        }
    }

    private func agentValue(_ state: AgentState, _ account: AgentAccountRow?) -> JSONValue {
        let definition = state.definition
        return ["id": .string(definition.id), "name": .string(definition.name), "role": .string(definition.role.rawValue),
                "teams": .strings(definition.teams), "queues": .strings(definition.queues),
                "skills": .object(definition.skills.mapValues { .int($0) }), "capacity": .int(definition.capacity),
                "presence": .string(state.presence.rawValue), "presence_since": .timestamp(state.presenceSince),
                "open_tickets": .int(state.tickets.count), "unix_user": .optional(account?.unixUser),
                "from_config": .bool(account?.fromConfiguration ?? false), "draining": .bool(state.draining)]
    }

    private func listAgents(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let accounts = try await store.accounts()
        var list: [JSONValue] = []
        for agent in router.roster.all where Permissions.canSee(request.caller, agent: agent.id) {
            list.append(agentValue(await agent.current, accounts[agent.id]))
        }
        return ["agents": .array(list)]
    }

    func agent(_ id: String) async throws -> JSONValue {
        guard let actor = router.roster.agent(id) else { throw ControlFailure.notFound("agent", id) }
        return agentValue(await actor.current, try await store.accounts()[id])
    }

    private func showAgent(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let id = try request.string("id")
        try request.require(.showAgent(id))
        return ["agent": try await agent(id)]
    }

    private func setPresence(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let id = try request.string("id")
        let text = try request.string("presence")
        guard let presence = AgentPresence(rawValue: text) else { throw ControlFailure.invalid("presence", "online, away or offline, got \"\(text)\"") }
        try request.require(.setPresence(agent: id))
        guard try await router.setPresence(id, to: presence, actor: "control:\(request.credentials.user)") else { throw ControlFailure.notFound("agent", id) }
        return ["agent": try await agent(id)]
    }

    /// AddAgent creates (refused if the handle exists); UpdateAgent changes the fields given.
    private func saveAgent(_ request: ControlRequest, creating: Bool) async throws -> [String: JSONValue] {
        let id = try request.string("id")
        try request.require(.manageAgents)
        let existing = await router.roster.agent(id)?.current.definition
        if creating {
            guard AgentDefinition.isValidID(id) else { throw ControlFailure.invalid("id", "letters, digits, '.', '_', '-', 1–64, starting with a letter or digit") }
            guard existing == nil else { throw ControlFailure.invalid("id", "agent \(id) exists (UpdateAgent changes it)") }
        } else if existing == nil {
            throw ControlFailure.notFound("agent", id)
        }
        var definition = existing ?? AgentDefinition(id: id, name: id, capacity: 5, queues: [])
        if let name = try request.optionalString("name") { definition.name = name }
        if let roleName = try request.optionalString("role") {
            guard let role = Role(rawValue: roleName) else { throw ControlFailure.invalid("role", "agent, supervisor or admin, got \"\(roleName)\"") }
            definition.role = role
        }
        if let teams = try request.optionalStrings("teams") { definition.teams = teams }
        if let queues = try request.optionalStrings("queues") {
            let known = await router.configuredQueueNames
            if let unknown = queues.first(where: { !known.contains($0) }) {
                throw ControlFailure.invalid("queues", "unknown queue \"\(unknown)\" (queues: \(known.sorted().map { "\"\($0)\"" }.joined(separator: ", ")))")
            }
            definition.queues = queues
        }
        if let skills = try request.optionalSkills("skills") { definition.skills = skills }
        if let capacity = try request.optionalInt("capacity") {
            guard (0...1000).contains(capacity) else { throw ControlFailure.invalid("capacity", "from 0 to 1000, got \(capacity)") }
            definition.capacity = capacity
        }
        if creating && definition.queues.isEmpty { throw ControlFailure.invalid("queues", "a new agent serves at least one queue") }
        let unixUser = try request.optionalString("unix_user")
        do {
            try await router.upsertAgent(definition, unixUser: unixUser)
        } catch let error as PostgresError where error.sqlState == .uniqueViolation {
            throw ControlFailure.invalid("unix_user", "Unix user \(unixUser ?? "") already names another agent")
        }
        return ["agent": try await agent(id)]
    }

    private func removeAgent(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let id = try request.string("id")
        try request.require(.manageAgents)
        guard try await router.removeAgent(id, actor: "control:\(request.credentials.user)") else { throw ControlFailure.notFound("agent", id) }
        return [:]
    }

    private func listTickets(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let status = try request.optionalString("status")
        if let status, TicketStatus(rawValue: status) == nil { throw ControlFailure.invalid("status", "open, pending or resolved, got \"\(status)\"") }
        let priority = try request.optionalString("priority")
        if let priority, WaitingOrder.Priority(name: priority) == nil { throw ControlFailure.invalid("priority", "low, normal, high or urgent, got \"\(priority)\"") }
        let limit = try request.optionalInt("limit") ?? 50
        guard (1...500).contains(limit) else { throw ControlFailure.invalid("limit", "between 1 and 500, got \(limit)") }
        let filter = ControlStore.TicketFilter(status: status, queue: try request.optionalString("queue"), assignee: try request.optionalString("assignee"),
                                               priority: priority, limit: limit)
        let rows = try await store.tickets(filter, visibleTo: request.caller)
        return ["tickets": .array(rows.map(Self.summaryValue))]
    }

    static func summaryValue(_ row: TicketSummaryRow) -> JSONValue {
        ["reference": .string(row.reference), "status": .string(row.status), "priority": .string(row.priority), "queue": .optional(row.queue),
         "assignee": .optional(row.assignee), "customer": .optional(row.customer), "updated_at": .timestamp(row.updatedAt)]
    }

    static func clockValue(_ row: SLAClockRow) -> JSONValue {
        ["ticket": .string(row.ticket), "policy": .string(row.policy), "clock": .string(row.clock), "paused": .bool(row.paused),
         "warn_at": .timestamp(row.warnAt), "deadline": .timestamp(row.deadline), "warned_at": .timestamp(row.warnedAt),
         "breached_at": .timestamp(row.breachedAt), "queue": .optional(row.queue), "assignee": .optional(row.assignee)]
    }

    private func showTicket(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let reference = try request.string("reference")
        guard let found = try await store.place(of: reference) else { throw ControlFailure.notFound("ticket", reference) }
        try request.require(.viewTicket(found.place), hiddenAs: ("ticket", reference))
        guard let ticket = try await store.ticket(found.id) else { throw ControlFailure.notFound("ticket", reference) }
        var value = Self.summaryValue(ticket.summary)
        guard case .object(var fields) = value else { preconditionFailure("a summary is an object") }
        fields["tags"] = .strings(ticket.tags)
        fields["created_at"] = .timestamp(ticket.createdAt)
        fields["customer_window_expires_at"] = .timestamp(ticket.customerWindowExpiresAt)
        // The same view of a message as the agents' API gives.
        fields["messages"] = .array(APIRepresentation.messages(ticket.messages))
        fields["notes"] = .array(ticket.notes.map(Self.noteValue))
        fields["events"] = .array(ticket.events.map { ["at": .timestamp($0.at), "kind": .string($0.kind), "actor": .optional($0.actor), "data": .parsing($0.data)] })
        fields["sla"] = .array(ticket.sla.map(Self.clockValue))
        value = .object(fields)
        return ["ticket": value]
    }

    private func atRisk(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let minutes = try request.optionalInt("within_minutes") ?? 60
        guard (0...10_080).contains(minutes) else { throw ControlFailure.invalid("within_minutes", "between 0 and 10080, got \(minutes)") }
        let clocks = try await store.atRisk(within: TimeInterval(minutes * 60), now: Date())
            .filter { Permissions.canSee(request.caller, .init(assignee: $0.assignee, queue: $0.queue)) }
        return ["clocks": .array(clocks.map(Self.clockValue))]
    }

    private func reloadConfiguration(_ request: ControlRequest) async throws -> [String: JSONValue] {
        try request.require(.reloadConfiguration)
        switch await reload() {
        case .applied(let needingRestart):
            return ["applied": true, "problems": .strings(needingRestart.map { "\($0): changed; takes effect after a restart" })]
        case .refused(let issues):
            throw ControlFailure.configurationRefused(issues.issues.map(\.description))
        }
    }

    // MARK: Watch

    private func watch(_ request: ControlRequest) async -> VarlinkResponse {
        let queue: String?, agent: String?
        do {
            queue = try request.optionalString("queue")
            agent = try request.optionalString("agent")
        } catch let failure as ControlFailure {
            return .single(failure.reply(method: request.call.method))
        } catch {
            return .single(.failure("io.switchboard.Control.Failed", ["reason": .string("\(error)")]))
        }
        let subscription = events.subscribe()
        let store = self.store, caller = request.caller
        let (replies, continuation) = AsyncStream.makeStream(of: VarlinkReply.self, bufferingPolicy: .bufferingNewest(1000))
        let task = Task {
            for await event in subscription {
                var event = event
                if event.needsTicketLookup, let ticketID = event.ticketID, let found = try? await store.summary(ofTicket: ticketID) {
                    event = event.filling(reference: found.reference, queue: found.queue, assignee: found.assignee)
                }
                if let queue, event.queue != queue { continue }
                if let agent, event.agent != agent, !event.audience.contains(agent) { continue }
                guard Permissions.canSee(caller, event: event.place) else { continue }
                continuation.yield(.ok(["event": ["kind": .string(event.kind.rawValue), "ticket": .string(event.reference ?? event.ticketID.map { "#\($0)" } ?? ""),
                                                  "agent": .optional(event.agent), "queue": .optional(event.queue),
                                                  "at": .timestamp(event.at), "audience": .strings(event.audience),
                                                  "details": .object(event.details.mapValues { .string($0) })]], continues: true))
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return .stream(replies)
    }
}
