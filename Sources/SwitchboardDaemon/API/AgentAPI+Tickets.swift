import Foundation
import Hummingbird
import JSON
import SwitchboardCore
import SwitchboardStore

/// Tickets: list, show, take, assign, status, priority, tags, notes.
extension AgentAPI {
    /// A page of tickets as the inbox lists them. Filters are exact words or names; `assignee=me`
    /// is the caller; `view` is mine, waiting (no agent) or all; `q` searches references, phone
    /// numbers, customers' names and messages' text. A `limit` above `api.maxPageSize` gives a
    /// page of that size (the document cannot know the setting).
    func tickets(_ caller: APICaller, _ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        func word(_ name: String, _ allowed: [String]) throws -> String? {
            guard let value = query.get(name) else { return nil }
            guard allowed.contains(value) else { throw APIFailure.invalid(name, "one of \(allowed.joined(separator: ", ")), got \"\(value)\"") }
            return value
        }
        let status = try word("status", ["open", "pending", "resolved"])
        let priority = try word("priority", ["low", "normal", "high", "urgent"])
        let view = try word("view", ["mine", "waiting", "all"]) ?? "all"
        var limit = 50
        if let text = query.get("limit") {
            guard let value = Int(text), value >= 1 else { throw APIFailure.invalid("limit", "a whole number from 1 (at most \(maxPageSize) are returned)") }
            limit = min(value, maxPageSize)
        }
        var after: TicketCursor?
        if let text = query.get("cursor") {
            guard let cursor = Self.cursor(text) else { throw APIFailure.invalid("cursor", "not a cursor this API returned (next_cursor of a page)") }
            after = cursor
        }
        var assignee = query.get("assignee").map { $0 == "me" ? caller.agentID : $0 }
        if view == "mine" {
            if let assignee, assignee != caller.agentID { throw APIFailure.invalid("assignee", "view=mine lists your own tickets; leave assignee out") }
            assignee = caller.agentID
        }
        if view == "waiting", assignee != nil { throw APIFailure.invalid("assignee", "view=waiting lists tickets without an agent; leave assignee out") }
        var search: TicketSearch?
        if let text = query.get("q") {
            guard let parsed = TicketSearch(text) else { throw APIFailure.invalid("q", "at least 3 characters (a reference, a phone number, a name or words of a message)") }
            search = parsed
        }
        var filter = ControlStore.TicketFilter(status: status, queue: query.get("queue"), assignee: assignee, priority: priority, limit: limit + 1, after: after)
        filter.unassigned = view == "waiting"
        filter.tag = query.get("tag")
        filter.search = search
        if let text = query.get("references") {
            let references = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0) }
            guard (1...100).contains(references.count), references.allSatisfy({ !$0.isEmpty && $0.count <= 32 }) else {
                throw APIFailure.invalid("references", "1 to 100 ticket references separated by commas (T-1042,T-1043)")
            }
            filter.references = references
        }
        var rows = try await store.inbox(filter, visibleTo: caller.permissions, reader: caller.agentID)
        let more = rows.count > limit
        if more { rows.removeLast() }
        return APIResponse.json(["tickets": .array(rows.map(APIRepresentation.inboxRow)),
                                 "next_cursor": more ? rows.last.map { .string(Self.cursorText($0.summary.cursor)) } ?? .null : .null])
    }

    /// `<microseconds since 1970>.<ticket id>`: opaque to clients, exact for the database.
    static func cursorText(_ cursor: TicketCursor) -> String {
        "\(Int64((cursor.updatedAt.timeIntervalSince1970 * 1_000_000).rounded())).\(cursor.id)"
    }

    /// The document's pattern (`^[0-9]{1,18}\.[0-9]{1,18}$`) is exactly what parses here.
    static func cursor(_ text: String) -> TicketCursor? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ (1...18).contains($0.count) && $0.allSatisfy { ("0"..."9").contains($0) } }),
              let micros = Int64(parts[0]), let id = Int64(parts[1]) else { return nil }
        return TicketCursor(updatedAt: Date(timeIntervalSince1970: Double(micros) / 1_000_000), id: id)
    }

    /// The ticket's id once the caller may do `operation` on it (not found if they may not see it).
    func ticketID(_ reference: String, _ caller: APICaller, _ operation: (Permissions.TicketPlace) -> Permissions.Operation) async throws -> Int64 {
        guard let found = try await store.place(of: reference) else { throw APIFailure.notFound("ticket", reference) }
        try caller.require(operation(found.place), ticket: reference)
        return found.id
    }

    /// The ticket with its history; `messages=N`: only the latest N messages (older ones page in
    /// through `GET …/messages?before=`). Opening it is reading it: the caller's unread count
    /// goes to zero.
    func ticket(_ caller: APICaller, _ reference: String, _ request: Request) async throws -> Response {
        var latest: Int?
        if let text = request.uri.queryParameters.get("messages") {
            guard let value = Int(text), (1...500).contains(value) else { throw APIFailure.invalid("messages", "a whole number from 1 to 500") }
            latest = value
        }
        let id = try await ticketID(reference, caller, Permissions.Operation.viewTicket)
        guard let detail = try await store.ticket(id, latestMessages: latest) else { throw APIFailure.notFound("ticket", reference) }
        // Its agent opening it is the customer's blue ticks; anyone else looking is not.
        if detail.summary.assignee == caller.agentID { signals?.opened(id) }
        if let newest = detail.messages.last?.id { _ = try await store.markRead(agentID: caller.agentID, ticketID: id, through: newest, now: Date()) }
        return APIResponse.json(APIRepresentation.ticket(detail, now: Date()))
    }

    /// `GET /tickets/{ref}/messages?before=&limit=`: older messages, a page at a time, oldest first,
    /// with the ticket's events of that stretch of time.
    func messagePage(_ caller: APICaller, _ reference: String, _ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        var before: Int64?
        if let text = query.get("before") {
            guard let value = Int64(text), value > 0 else { throw APIFailure.invalid("before", "a message id (a whole number)") }
            before = value
        }
        var limit = 50
        if let text = query.get("limit") {
            guard let value = Int(text), (1...500).contains(value) else { throw APIFailure.invalid("limit", "a whole number from 1 to 500") }
            limit = value
        }
        let id = try await ticketID(reference, caller, Permissions.Operation.viewTicket)
        let page = try await store.historyPage(ticketID: id, before: before, limit: limit)
        return APIResponse.json(["messages": .array(APIRepresentation.messages(page.messages, changes: page.changes)),
                                 "events": .array(page.events.map(APIRepresentation.event)), "more": .bool(page.more)])
    }

    /// The ticket as it is now, after a change.
    func current(_ id: Int64, _ reference: String) async throws -> Response {
        guard let detail = try await store.ticket(id) else { throw APIFailure.notFound("ticket", reference) }
        return APIResponse.json(APIRepresentation.summary(detail.summary))
    }

    /// Takes a waiting ticket. Losing the race to another agent (or routing) answers 409
    /// `already_assigned` to anyone who could see the ticket while it waited, not 404: an agent
    /// serving its queue knew of it a moment ago.
    func take(_ caller: APICaller, _ reference: String) async throws -> Response {
        guard let found = try await store.place(of: reference) else { throw APIFailure.notFound("ticket", reference) }
        if let holder = found.place.assignee, holder != caller.agentID, caller.knewOf(found.place) { throw Self.alreadyAssigned(reference) }
        try caller.require(.viewTicket(found.place), ticket: reference)
        switch try await router.take(found.id, agentID: caller.agentID) {
        case .taken: return try await current(found.id, reference)
        case .alreadyAssigned: throw Self.alreadyAssigned(reference)
        case .notWaiting:
            throw APIFailure.conflict("not_waiting", "\(reference) is not waiting for an agent (resolved, not routed yet, or being assigned right now)")
        case .notTheirQueue: throw APIFailure.forbidden("\(reference) is not in a queue you serve")
        case .noRoom: throw APIFailure.conflict("no_capacity", "you cannot take more now (offline, draining, or at capacity)")
        }
    }

    static func alreadyAssigned(_ reference: String) -> APIFailure {
        APIFailure.conflict("already_assigned", "\(reference) is already assigned to another agent")
    }

    func assign(_ caller: APICaller, _ reference: String, _ request: Request) async throws -> Response {
        let body = try await APIBody.read(request)
        try body.only(["agent"])
        let agent = try body.string("agent")
        // A supervisor's lever: audited as the control socket's Assign.
        return try await audited(caller, "Assign", ["reference": .string(reference), "agent": .string(agent)]) {
            let id = try await ticketID(reference, caller) { .assignTicket($0, to: agent) }
            switch try await router.assign(id, to: agent, actor: caller.agentID) {
            case .assigned, .alreadyHeld: return try await current(id, reference)
            case .unknownAgent: throw APIFailure.invalid("agent", "no active agent \(agent)")
            case .notAssignable(let why): throw APIFailure.conflict("not_assignable", "\(reference): \(why)")
            }
        }
    }

    func status(_ caller: APICaller, _ reference: String, _ request: Request) async throws -> Response {
        let body = try await APIBody.read(request)
        try body.only(["status"])
        let text = try body.choice("status", ["open", "pending", "resolved"])
        guard let status = TicketStatus(rawValue: text) else { throw APIFailure.invalid("status", "unknown") }
        let id = try await ticketID(reference, caller, Permissions.Operation.changeTicket)
        _ = try await router.setStatus(id, to: status, actor: caller.agentID)
        return try await current(id, reference)
    }

    func priority(_ caller: APICaller, _ reference: String, _ request: Request) async throws -> Response {
        let body = try await APIBody.read(request)
        try body.only(["priority"])
        let text = try body.choice("priority", ["low", "normal", "high", "urgent"])
        guard let priority = WaitingOrder.Priority(name: text) else { throw APIFailure.invalid("priority", "unknown") }
        let id = try await ticketID(reference, caller, Permissions.Operation.setPriority)
        _ = try await router.setPriority(id, to: priority, actor: caller.agentID)
        return try await current(id, reference)
    }

    func tag(_ caller: APICaller, _ reference: String, _ request: Request) async throws -> Response {
        let body = try await APIBody.read(request)
        try body.only(["tag"])
        let tag = try body.string("tag")
        if let problem = TagRule.problem(tag) { throw APIFailure.invalid("tag", problem) }
        let id = try await ticketID(reference, caller, Permissions.Operation.changeTicket)
        _ = try await router.addTag(id, tag, actor: caller.agentID)
        return try await current(id, reference)
    }

    /// `DELETE /tickets/{ref}/tags/{tag}`: the ticket as it is now (unchanged if it had no such tag).
    func removeTag(_ caller: APICaller, _ reference: String, _ request: Request) async throws -> Response {
        let encoded = request.uri.path.split(separator: "/").last.map(String.init) ?? ""
        guard let tag = encoded.removingPercentEncoding, !tag.isEmpty else { throw APIFailure.invalid("tag", "the tag to remove, percent-encoded") }
        let id = try await ticketID(reference, caller, Permissions.Operation.changeTicket)
        _ = try await router.removeTag(id, tag, actor: caller.agentID)
        return try await current(id, reference)
    }

    /// An internal note. Each `@handle` naming an agent who may see the ticket tells them at once
    /// (a `mentioned` event addressed to them); the answer lists who was told and who was not, and
    /// why.
    func note(_ caller: APICaller, _ reference: String, _ request: Request) async throws -> Response {
        let body = try await APIBody.read(request)
        try body.only(["text"])
        let text = try body.text("text", limit: 10_000)
        guard let found = try await store.place(of: reference) else { throw APIFailure.notFound("ticket", reference) }
        try caller.require(.addNote(found.place), ticket: reference)
        var mentioned: [String] = [], notNotified: [JSONValue] = []
        for handle in Mentions.handles(in: text) where handle != caller.agentID {
            guard router.roster.agent(handle) != nil, let record = try await store.agent(id: handle) else {
                notNotified.append(["agent": .string(handle), "reason": "no such agent"])
                continue
            }
            guard Permissions.canSee(record.caller, found.place) else {
                notNotified.append(["agent": .string(handle), "reason": .string("\(handle) cannot see \(reference) (a supervisor can assign it to them)")])
                continue
            }
            mentioned.append(handle)
        }
        let now = Date()
        guard let noteID = try await store.addNote(ticketID: found.id, agentID: caller.agentID, author: caller.agentID, body: text, now: now, mentions: mentioned) else {
            throw APIFailure.notFound("ticket", reference)
        }
        events.publish(DaemonEvent(kind: .noteAdded, ticketID: found.id, reference: reference, queue: found.place.queue, agent: found.place.assignee, at: now,
                                   audience: [], details: ["author": caller.agentID, "note": "\(noteID)", "text": text]))
        for handle in mentioned {
            events.publish(DaemonEvent(kind: .mentioned, ticketID: found.id, reference: reference, queue: found.place.queue, agent: found.place.assignee, at: now,
                                       audience: [handle], details: ["author": caller.agentID, "note": "\(noteID)", "mentioned": handle, "text": text]))
        }
        guard case .object(var fields) = APIRepresentation.note(.init(id: noteID, at: now, author: caller.agentID, body: text)) else {
            preconditionFailure("a note is an object")
        }
        fields["mentioned"] = APIResponse.strings(mentioned)
        fields["not_notified"] = .array(notNotified)
        return APIResponse.json(.object(fields), status: .created)
    }
}
