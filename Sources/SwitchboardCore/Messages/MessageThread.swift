import Foundation

/// What later messages do to earlier ones on a ticket, as a customer sees the conversation: an edit
/// gives its message the new text ("edited"), a revoke deletes it ("deleted by the customer"), a
/// reaction attaches its emoji (a later one replaces it; a removal takes it away). The edits,
/// revokes and reactions stay messages of their own, for the audit, marked as applying to the one
/// they change; one whose message is not on the ticket stands alone.
public enum MessageThread {
    public struct Entry: Sendable, Equatable {
        public var id: Int64
        public var wamid: String?
        public var type: String
        public var body: String?
        /// For an edit or a revoke: the message it changes.
        public var targetWamid: String?
        /// For a reaction: the message reacted to, and whether the reaction was taken back.
        public var reactionTarget: String?
        public var reactionRemoved: Bool
        public var at: Date

        public init(id: Int64, wamid: String?, type: String, body: String?, targetWamid: String? = nil, reactionTarget: String? = nil,
                    reactionRemoved: Bool = false, at: Date) {
            self.id = id
            self.wamid = wamid
            self.type = type
            self.body = body
            self.targetWamid = targetWamid
            self.reactionTarget = reactionTarget
            self.reactionRemoved = reactionRemoved
            self.at = at
        }
    }

    public struct View: Sendable, Equatable {
        /// The text to show: the latest edit's, nil once deleted.
        public var body: String?
        public var edited: Bool
        public var deleted: Bool
        /// The customer's reaction now, and when they gave it.
        public var reaction: (emoji: String, at: Date)?
        /// The message this one edits, deletes or reacts to (shown there, not on its own).
        public var appliesTo: Int64?

        public init(body: String?, edited: Bool = false, deleted: Bool = false, reaction: (emoji: String, at: Date)? = nil, appliesTo: Int64? = nil) {
            self.body = body
            self.edited = edited
            self.deleted = deleted
            self.reaction = reaction
            self.appliesTo = appliesTo
        }

        public static func == (a: View, b: View) -> Bool {
            a.body == b.body && a.edited == b.edited && a.deleted == b.deleted && a.appliesTo == b.appliesTo
                && a.reaction?.emoji == b.reaction?.emoji && a.reaction?.at == b.reaction?.at
        }
    }

    /// Each message's view, in the order given (the order they were stored).
    public static func views(_ entries: [Entry]) -> [Int64: View] {
        var views = Dictionary(uniqueKeysWithValues: entries.map { ($0.id, View(body: $0.body)) })
        var byWamid: [String: Int64] = [:]
        for entry in entries {
            if let wamid = entry.wamid { byWamid[wamid] = entry.id }
            switch entry.type {
            case "edit":
                guard let target = entry.targetWamid.flatMap({ byWamid[$0] }) else { continue }
                views[entry.id]?.appliesTo = target
                guard views[target]?.deleted == false else { continue }
                views[target]?.body = entry.body
                views[target]?.edited = true
            case "revoke":
                guard let target = entry.targetWamid.flatMap({ byWamid[$0] }) else { continue }
                views[entry.id]?.appliesTo = target
                views[target]?.deleted = true
                views[target]?.body = nil
            case "reaction":
                guard let target = entry.reactionTarget.flatMap({ byWamid[$0] }) else { continue }
                views[entry.id]?.appliesTo = target
                if entry.reactionRemoved { views[target]?.reaction = nil } else if let emoji = entry.body { views[target]?.reaction = (emoji, entry.at) }
            default:
                continue
            }
        }
        return views
    }
}
