import Foundation
import JSON
import SwitchboardCore
import SwitchboardStore

/// How agents, tickets, queues and events look in the API (described in `docs/openapi.json`).
enum APIRepresentation {
    typealias R = APIResponse

    static func agent(_ state: AgentState) -> JSONValue {
        let definition = state.definition
        return ["id": .string(definition.id), "name": .string(definition.name), "role": .string(definition.role.rawValue),
                "teams": R.strings(definition.teams), "queues": R.strings(definition.queues),
                "skills": .object(definition.skills.mapValues { R.int($0) }), "capacity": R.int(definition.capacity),
                "presence": .string(state.presence.rawValue), "presence_since": R.timestamp(state.presenceSince),
                "open_tickets": R.int(state.tickets.count), "draining": .bool(state.draining)]
    }

    /// A row of the inbox's list: the summary with what the row shows.
    static func inboxRow(_ row: InboxRow) -> JSONValue {
        guard case .object(var fields) = summary(row.summary) else { preconditionFailure("a summary is an object") }
        fields["customer_phone"] = R.optional(row.phone)
        fields["cursor"] = .string(AgentAPI.cursorText(row.summary.cursor))
        fields["tags"] = R.strings(row.tags)
        fields["customer_tags"] = R.strings(row.customerTags)
        fields["last_message"] = row.lastMessage.map { last in
            ["id": .number(Double(last.id)), "at": R.timestamp(last.at), "direction": .string(last.direction), "type": .string(last.type),
             "preview": R.optional(last.preview)]
        } ?? .null
        fields["unread"] = R.int(row.unread)
        fields["window_expires_at"] = R.timestamp(row.windowExpiresAt)
        fields["sla"] = row.clock.map { clock in
            ["clock": .string(clock.clock), "deadline": R.timestamp(clock.deadline), "warned": .bool(clock.warned), "breached": .bool(clock.breached),
             "paused": .bool(clock.paused)]
        } ?? .null
        return .object(fields)
    }

    static func summary(_ row: TicketSummaryRow) -> JSONValue {
        ["reference": .string(row.reference), "status": .string(row.status), "priority": .string(row.priority), "queue": R.optional(row.queue),
         "assignee": R.optional(row.assignee), "customer": R.optional(row.customer), "updated_at": R.timestamp(row.updatedAt)]
    }

    static func ticket(_ ticket: TicketDetailRow, now: Date) -> JSONValue {
        guard case .object(var fields) = summary(ticket.summary) else { preconditionFailure("a summary is an object") }
        fields["tags"] = R.strings(ticket.tags)
        fields["customer_tags"] = R.strings(ticket.customerTags)
        fields["created_at"] = R.timestamp(ticket.createdAt)
        fields["customer_window_expires_at"] = R.timestamp(ticket.customerWindowExpiresAt)
        fields["customer_window_open"] = .bool(ticket.customerWindowExpiresAt.map { $0 > now } ?? false)
        fields["messages"] = .array(Self.messages(ticket.messages, changes: ticket.messageChanges))
        fields["more_messages"] = .bool(ticket.moreMessages)
        fields["notes"] = .array(ticket.notes.map(note))
        fields["events"] = .array(ticket.events.map(event))
        fields["sla"] = .array(ticket.sla.map { clock in
            ["policy": .string(clock.policy), "clock": .string(clock.clock), "paused": .bool(clock.paused), "warn_at": R.timestamp(clock.warnAt),
             "deadline": R.timestamp(clock.deadline), "warned_at": R.timestamp(clock.warnedAt), "breached_at": R.timestamp(clock.breachedAt)]
        })
        return .object(fields)
    }

    /// A ticket's messages as the customer sees the conversation (`MessageThread`): each with what
    /// later edits, revokes and reactions did to it.
    /// `changes`: later messages (not shown) that edit, delete or react to these.
    static func messages(_ messages: [TicketDetailRow.Message], changes: [TicketDetailRow.Message] = []) -> [JSONValue] {
        let details = messages.map { (try? JSONParser.parse(Array($0.details.utf8))) ?? [:] }
        let changeDetails = changes.map { (try? JSONParser.parse(Array($0.details.utf8))) ?? [:] }
        let views = MessageThread.views(zip(messages + changes, details + changeDetails).map { message, details in
            MessageThread.Entry(id: message.id, wamid: message.wamid, type: message.type, body: message.body, targetWamid: message.targetWamid,
                                reactionTarget: details["reaction"]?["message_id"]?.string, reactionRemoved: details["reaction"]?["removed"]?.bool ?? false,
                                at: message.at)
        })
        return zip(messages, details).map { message, details in Self.message(message, details: details, view: views[message.id]) }
    }

    /// Everything a client needs to show a message as the customer sent it: its text (or caption,
    /// as last edited), its file (as Switchboard keeps it, with where to download it), the
    /// structured parts, and what later messages did to it.
    static func message(_ message: TicketDetailRow.Message, details: JSONValue, view: MessageThread.View?) -> JSONValue {
        let view = view ?? MessageThread.View(body: message.body)
        var fields: [String: JSONValue] = [
            "id": .number(Double(message.id)), "at": R.timestamp(message.at), "direction": .string(message.direction), "type": .string(message.type),
            "body": R.optional(view.body), "status": R.optional(message.status), "media": .null, "sent_by": R.optional(message.sentBy),
            "edited": .bool(view.edited), "deleted": .bool(view.deleted), "applies_to": view.appliesTo.map { .number(Double($0)) } ?? .null,
            "customer_reaction": view.reaction.map { ["emoji": .string($0.emoji), "at": R.timestamp($0.at)] } ?? .null,
            "error": message.errorCode == nil && message.errorTitle == nil ? .null
                : ["code": message.errorCode.map { .number(Double($0)) } ?? .null, "title": R.optional(message.errorTitle)],
            "errors": details["errors"] ?? .array([]),
            "contacts": details["contacts"].flatMap { $0.isArray ? $0 : nil } ?? .null,
        ]
        for part in ["location", "choice", "reaction", "context", "referral"] {
            fields[part] = details[part].flatMap { $0.isObject ? $0 : nil } ?? .null
        }
        if let media = message.media {
            fields["media"] = ["id": .number(Double(media.id)), "kind": .string(media.kind), "state": .string(media.state),
                               "mime_type": R.optional(media.mimeType), "size": media.size.map { .number(Double($0)) } ?? .null,
                               "file_name": R.optional(media.fileName), "failure": R.optional(media.failure),
                               "voice": details["media"]?["voice"]?.bool.map(JSONValue.bool) ?? false,
                               "animated": details["media"]?["animated"]?.bool.map(JSONValue.bool) ?? false,
                               "url": .string("/api/v1/media/\(media.id)")]
        }
        return .object(fields)
    }

    /// A ticket's history entry (not a follower's `DaemonEvent`).
    static func event(_ event: TicketDetailRow.Event) -> JSONValue {
        ["id": .number(Double(event.id)), "at": R.timestamp(event.at), "kind": .string(event.kind), "actor": R.optional(event.actor),
         "data": (try? JSONParser.parse(Array(event.data.utf8))) ?? [:]]
    }

    static func note(_ note: TicketDetailRow.Note) -> JSONValue {
        ["id": .number(Double(note.id)), "at": R.timestamp(note.at), "author": .string(note.author), "text": .string(note.body)]
    }

    /// A canned response (the picker adds `preview` when it answers a ticket).
    static func canned(_ canned: CannedResponse) -> JSONValue {
        ["id": .number(Double(canned.id)), "shortcut": .string(canned.shortcut), "title": .string(canned.title), "body": .string(canned.body),
         "scope": .string(canned.scope.kind), "scope_name": canned.scope == .everyone ? .null : .string(canned.scope.name)]
    }

    static func queue(_ queue: QueueFigures) -> JSONValue {
        ["name": .string(queue.name), "strategy": .string(queue.strategy), "waiting": R.int(queue.waiting),
         "longest_wait_seconds": .number(queue.longestWaitSeconds), "agents_online": R.int(queue.agentsOnline),
         "agents_free": R.int(queue.agentsFree), "at_risk": R.int(queue.atRisk), "paused": .bool(queue.paused)]
    }

    static func event(_ event: DaemonEvent) -> JSONValue {
        var fields: [String: JSONValue] = ["kind": .string(event.kind.rawValue), "ticket": R.optional(event.reference), "queue": R.optional(event.queue),
                                           "agent": R.optional(event.agent), "at": R.timestamp(event.at),
                                           "details": .object(event.details.mapValues(JSONValue.string))]
        if let message = event.message { fields["message"] = message }
        if let changed = event.changedMessage { fields["changed_message"] = changed }
        return .object(fields)
    }
}
