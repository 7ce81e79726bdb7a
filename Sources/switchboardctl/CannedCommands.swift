import ArgumentParser
import JSON

/// `switchboardctl canned list|add|edit|remove`: the canned responses agents pick with /shortcut.
struct Canned: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "canned",
        abstract: "Canned responses agents pick by typing /shortcut (supervisors for their teams, admins for everyone).",
        discussion: """
            switchboardctl canned add refund --title "Refund policy" --body "Hi {{customer.name|there}}, …" --team support; \
            the body may name {{customer.name}}, {{agent.name}}, {{ticket.reference}}, filled in when it is sent.
            """,
        subcommands: [CannedList.self, CannedAdd.self, CannedEdit.self, CannedRemove.self],
        defaultSubcommand: CannedList.self
    )
}

struct CannedList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The canned responses you may use, by shortcut.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Only those whose shortcut starts with it, or whose title or body contains it.") var query: String?

    func run() throws {
        var parameters: [String: JSONValue] = [:]
        if let query { parameters["query"] = .string(query) }
        try global.run("ListCannedResponses", parameters) { reply in
            Output.table([["ID", "SHORTCUT", "FOR", "TITLE", "BODY"]] + reply.list("canned").map { canned in
                [canned.text("id"), "/" + canned.text("shortcut"), Output.cannedScope(canned), canned.text("title"), Output.excerpt(canned.text("body"), 60)]
            })
        }
    }
}

/// Who a response is for: `--team`, `--queue` (and for edit, `--everyone`).
struct CannedScopeOptions: ParsableArguments {
    @Option(help: "For the agents of this team.") var team: String?
    @Option(help: "For whoever answers this queue's tickets.") var queue: String?

    func add(to parameters: inout [String: JSONValue]) {
        if let team { parameters["team"] = .string(team) }
        if let queue { parameters["queue"] = .string(queue) }
    }
}

struct CannedAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Adds a canned response; without --team or --queue it is for everyone (admin).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "What agents type after /: lower-case letters, digits, '_' and '-'.") var shortcut: String
    @Option(help: "What the picker shows.") var title: String
    @Option(help: "The text sent; {{customer.name|default}}, {{agent.name}}, {{ticket.reference}} are filled in when sent.") var body: String
    @OptionGroup var scope: CannedScopeOptions

    func run() throws {
        var parameters: [String: JSONValue] = ["shortcut": .string(shortcut), "title": .string(title), "body": .string(body)]
        scope.add(to: &parameters)
        try global.run("AddCannedResponse", parameters) { reply in
            Output.canned(reply["canned"] ?? [:], "added")
        }
    }
}

struct CannedEdit: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "edit", abstract: "Changes a canned response; only the options given change.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The response's id (see switchboardctl canned list).") var id: Int
    @Option(help: "A new shortcut.") var shortcut: String?
    @Option(help: "A new title.") var title: String?
    @Option(help: "A new body.") var body: String?
    @OptionGroup var scope: CannedScopeOptions
    @Flag(help: "Make it for everyone (admin).") var everyone = false

    func run() throws {
        var parameters: [String: JSONValue] = ["id": .number(Double(id))]
        if let shortcut { parameters["shortcut"] = .string(shortcut) }
        if let title { parameters["title"] = .string(title) }
        if let body { parameters["body"] = .string(body) }
        scope.add(to: &parameters)
        if everyone { parameters["everyone"] = .bool(true) }
        try global.run("EditCannedResponse", parameters) { reply in
            Output.canned(reply["canned"] ?? [:], "changed")
        }
    }
}

struct CannedRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Removes a canned response.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The response's id (see switchboardctl canned list).") var id: Int

    func run() throws {
        try global.run("RemoveCannedResponse", ["id": .number(Double(id))]) { reply in
            let canned = reply["canned"] ?? [:]
            return "canned response \(canned.text("id", "\(id)")) /\(canned.text("shortcut", "?")) (\(Output.cannedScope(canned))) removed"
        }
    }
}

extension Output {
    /// `team support`, `queue billing`, `everyone`.
    static func cannedScope(_ canned: JSONValue) -> String {
        let scope = canned.text("scope", "?")
        return scope == "everyone" ? scope : "\(scope) \(canned.text("scope_name", "?"))"
    }

    /// The first `limit` characters of one line of text.
    static func excerpt(_ text: String, _ limit: Int) -> String {
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return line.count <= limit ? line : String(line.prefix(limit - 1)) + "…"
    }

    static func canned(_ canned: JSONValue, _ what: String) -> String {
        """
        canned response \(canned.text("id", "?")) /\(canned.text("shortcut", "?")) (\(cannedScope(canned))) \(what)
        title: \(canned.text("title"))
        body:  \(canned.text("body"))
        """
    }
}

/// `switchboardctl customer-tag T-1042 add vip`: a customer's tags, which routing rules'
/// `customerTags` read for their next ticket.
struct CustomerTag: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customer-tag",
        abstract: "Adds or removes tags of a ticket's customer (the ticket's agent or a supervisor), or of a customer by WhatsApp number.",
        discussion: "switchboardctl customer-tag T-1042 add vip; switchboardctl customer-tag 447700900123 remove vip trial."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "A ticket's reference (T-1042) or the customer's WhatsApp number.") var customer: String
    @Argument(help: "add or remove.") var action: String
    @Argument(help: "The tags (no spaces).") var tags: [String]

    func validate() throws {
        guard ["add", "remove"].contains(action) else { throw ValidationError("the action is add or remove, got \(action)") }
        guard !tags.isEmpty else { throw ValidationError("name at least one tag") }
    }

    func run() throws {
        var parameters: [String: JSONValue] = [action: .array(tags.map(JSONValue.string))]
        parameters[customer.uppercased().hasPrefix("T-") ? "reference" : "wa_id"] = .string(customer.uppercased().hasPrefix("T-") ? customer.uppercased() : customer)
        try global.run("TagCustomer", parameters) { reply in
            let tags = reply.strings("tags"), added = reply.strings("added"), removed = reply.strings("removed")
            var said = "customer of \(reply.text("ticket", customer)): tags \(tags.isEmpty ? "none" : tags.joined(separator: ", "))"
            if !added.isEmpty { said += "; added \(added.joined(separator: ", "))" }
            if !removed.isEmpty { said += "; removed \(removed.joined(separator: ", "))" }
            if added.isEmpty && removed.isEmpty { said += " (unchanged)" }
            return said
        }
    }
}
