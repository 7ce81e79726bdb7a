import Foundation

/// Who a canned response is for: everyone, the agents of one team, or whoever answers one queue's
/// tickets.
public enum CannedScope: Sendable, Hashable, CustomStringConvertible {
    case everyone
    case team(String)
    case queue(String)

    /// As stored (`canned_responses.scope`, `scope_name`; '' for everyone).
    public var kind: String {
        switch self {
        case .everyone: "everyone"
        case .team: "team"
        case .queue: "queue"
        }
    }

    public var name: String {
        switch self {
        case .everyone: ""
        case .team(let name), .queue(let name): name
        }
    }

    public init?(kind: String, name: String) {
        switch kind {
        case "everyone" where name.isEmpty: self = .everyone
        case "team" where !name.isEmpty: self = .team(name)
        case "queue" where !name.isEmpty: self = .queue(name)
        default: return nil
        }
    }

    public var description: String { self == .everyone ? "everyone" : "\(kind) \(name)" }
}

/// A reply agents pick by its shortcut (`/refund`) instead of typing it. Its body may name
/// `{{customer.name}}`, `{{agent.name}}` and `{{ticket.reference}}`, with defaults
/// (`{{customer.name|there}}`), filled in when it is sent — not when it was chosen — so it carries
/// the customer's name as it is then.
public struct CannedResponse: Sendable, Equatable {
    public var id: Int64
    public var shortcut: String
    public var title: String
    public var body: String
    public var scope: CannedScope
    public var createdBy: String?
    public var createdAt: Date
    public var updatedBy: String?
    public var updatedAt: Date

    public init(id: Int64, shortcut: String, title: String, body: String, scope: CannedScope, createdBy: String?, createdAt: Date,
                updatedBy: String?, updatedAt: Date) {
        self.id = id
        self.shortcut = shortcut
        self.title = title
        self.body = body
        self.scope = scope
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.updatedBy = updatedBy
        self.updatedAt = updatedAt
    }

    /// The variables a body may name (`team.back` is for automatic messages only).
    public static let variables: Set<String> = ["customer.name", "agent.name", "ticket.reference"]

    /// The body as sent now.
    public func rendered(customerName: String?, agentName: String?, reference: String) -> String {
        TextVariables.render(body, values: ["customer.name": customerName ?? "", "agent.name": agentName ?? "", "ticket.reference": reference])
    }

    /// What is wrong with a field, said for the person who wrote it (the table's checks, said
    /// before the database would refuse them; lengths in code points, as PostgreSQL's `length`);
    /// nil when it is fine.
    public static func problem(shortcut: String) -> String? {
        let allowed = shortcut.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
        guard (1...32).contains(shortcut.unicodeScalars.count), allowed, let first = shortcut.unicodeScalars.first, first != "_", first != "-" else {
            return "1 to 32 lower-case letters, digits, '_' or '-', starting with a letter or digit (typed after /), got \"\(shortcut)\""
        }
        return nil
    }

    public static func problem(title: String) -> String? {
        guard (1...100).contains(title.unicodeScalars.count), title.contains(where: { !$0.isWhitespace }) else { return "1 to 100 characters, not blank" }
        return nil
    }

    public static func problem(body: String) -> String? {
        guard (1...4096).contains(body.unicodeScalars.count), body.contains(where: { !$0.isWhitespace }) else { return "1 to 4096 characters, not blank" }
        if let problem = TextVariables.check(body, allowed: variables) {
            if case .unknown(let name) = problem {
                return "unknown variable {{\(name)}} (a canned response may use \(variables.sorted().map { "{{\($0)}}" }.joined(separator: ", ")))"
            }
            return problem.description
        }
        return nil
    }
}
