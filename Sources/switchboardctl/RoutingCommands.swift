import ArgumentParser
import JSON

struct PauseQueue: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause-queue", abstract: "Stops assigning from a queue (supervisor); its tickets keep waiting.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The queue.") var name: String

    func run() throws {
        try global.run("PauseQueue", ["name": .string(name)]) { reply in
            (reply.flag("changed") ? "queue \(name) paused" : "queue \(name) was already paused") + "\n"
                + Output.queueTable([reply["queue"] ?? [:]])
        }
    }
}

struct ResumeQueue: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume-queue", abstract: "Assigns from a paused queue again (supervisor).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The queue.") var name: String

    func run() throws {
        try global.run("ResumeQueue", ["name": .string(name)]) { reply in
            (reply.flag("changed") ? "queue \(name) resumed" : "queue \(name) was not paused") + "\n"
                + Output.queueTable([reply["queue"] ?? [:]])
        }
    }
}

struct Drain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain",
        abstract: "Stops new assignments to an agent, or without one to everyone (admin); running work continues.",
        discussion: "switchboardctl drain ana; switchboardctl drain --undo ana; switchboardctl drain (the whole daemon, until --undo or a restart)."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent's handle; none: the whole daemon.") var agent: String?
    @Flag(help: "End the drain.") var undo = false

    func run() throws {
        var parameters: [String: JSONValue] = ["undo": .bool(undo)]
        if let agent { parameters["agent"] = .string(agent) }
        let subject = agent.map { "agent \($0)" } ?? "switchboardd"
        try global.run("Drain", parameters) { reply in
            let draining = reply.flag("draining")
            let changed = reply.flag("changed")
            return draining ? "\(subject) \(changed ? "is now draining" : "was already draining"): no new assignments"
                : "\(subject) \(changed ? "takes new assignments again" : "was not draining")"
        }
    }
}

struct Take: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "take", abstract: "Takes a waiting ticket of a queue you serve, as the agent your Unix user is linked to (update-agent --unix-user).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The ticket's reference, e.g. T-1042.") var reference: String

    func run() throws {
        try global.run("Take", ["reference": .string(reference)]) { reply in
            "\(reference) taken by \(reply["ticket"]?.text("assignee", "?") ?? "?")"
        }
    }
}

struct Accept: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accept",
        abstract: "Accepts a ticket assigned to you, which stops the queue's acceptance timeout (only the ticket's agent accepts it).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The ticket's reference, e.g. T-1042.") var reference: String

    func run() throws {
        try global.run("Accept", ["reference": .string(reference)]) { reply in
            let agent = reply["ticket"]?.text("assignee", "?") ?? "?"
            return reply.flag("changed") ? "\(reference) accepted by \(agent) at \(reply.text("accepted_at", "?"))"
                : "\(reference) was already accepted by \(agent) at \(reply.text("accepted_at", "?"))"
        }
    }
}

struct Assign: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "assign", abstract: "Gives a ticket to an agent (supervisor), whatever routing would choose.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The ticket's reference, e.g. T-1042.") var reference: String
    @Argument(help: "The agent's handle.") var agent: String

    func run() throws {
        try global.run("Assign", ["reference": .string(reference), "agent": .string(agent)]) { reply in
            "\(reference) assigned to \(reply["ticket"]?.text("assignee", agent) ?? agent)"
        }
    }
}

struct Unassign: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unassign", abstract: "Takes a ticket from its agent back to its queue (supervisor).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The ticket's reference, e.g. T-1042.") var reference: String

    func run() throws {
        try global.run("Unassign", ["reference": .string(reference)]) { reply in
            "\(reference) back in queue \(reply["ticket"]?.text("queue", "-") ?? "-")"
        }
    }
}

struct Priority: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "priority", abstract: "Sets a ticket's priority (supervisor): low, normal, high or urgent.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The ticket's reference, e.g. T-1042.") var reference: String
    @Argument(help: "low, normal, high or urgent.") var priority: String

    func validate() throws {
        guard ["low", "normal", "high", "urgent"].contains(priority) else { throw ValidationError("priority is low, normal, high or urgent, got \(priority)") }
    }

    func run() throws {
        try global.run("SetPriority", ["reference": .string(reference), "priority": .string(priority)]) { reply in
            reply.flag("changed") ? "\(reference) is now \(priority)" : "\(reference) was already \(priority)"
        }
    }
}

struct Note: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "note", abstract: "Adds an internal note to a ticket (never sent to the customer).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The ticket's reference, e.g. T-1042.") var reference: String
    @Argument(help: "The note's text.") var text: String

    func run() throws {
        try global.run("AddNote", ["reference": .string(reference), "text": .string(text)]) { reply in
            let note = reply["note"] ?? [:]
            return "note \(note.text("id", "?")) added to \(reference) by \(note.text("author", "?"))"
        }
    }
}
