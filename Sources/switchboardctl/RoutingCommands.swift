import ArgumentParser
import Foundation

struct PauseQueue: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause-queue", abstract: "Stops assigning from a queue (supervisor); its tickets keep waiting.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The queue.") var name: String

    func run() throws {
        try global.run("PauseQueue", ["name": name]) { reply in
            ((reply["changed"] as? Bool ?? false) ? "queue \(name) paused" : "queue \(name) was already paused") + "\n"
                + Output.queueTable([reply["queue"] as? [String: Any] ?? [:]])
        }
    }
}

struct ResumeQueue: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume-queue", abstract: "Assigns from a paused queue again (supervisor).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The queue.") var name: String

    func run() throws {
        try global.run("ResumeQueue", ["name": name]) { reply in
            ((reply["changed"] as? Bool ?? false) ? "queue \(name) resumed" : "queue \(name) was not paused") + "\n"
                + Output.queueTable([reply["queue"] as? [String: Any] ?? [:]])
        }
    }
}

struct Drain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stops new assignments to an agent, or without one to everyone (admin); running work continues.",
        discussion: "switchboardctl drain ana; switchboardctl drain --undo ana; switchboardctl drain (the whole daemon, until --undo or a restart)."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent's handle; none: the whole daemon.") var agent: String?
    @Flag(help: "End the drain.") var undo = false

    func run() throws {
        var parameters: [String: Any] = ["undo": undo]
        if let agent { parameters["agent"] = agent }
        let subject = agent.map { "agent \($0)" } ?? "switchboardd"
        try global.run("Drain", parameters) { reply in
            let draining = reply["draining"] as? Bool ?? false
            let changed = reply["changed"] as? Bool ?? false
            return draining ? "\(subject) \(changed ? "is now draining" : "was already draining"): no new assignments"
                : "\(subject) \(changed ? "takes new assignments again" : "was not draining")"
        }
    }
}

struct Assign: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Gives a ticket to an agent (supervisor), whatever routing would choose.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The ticket's reference, e.g. T-1042.") var reference: String
    @Argument(help: "The agent's handle.") var agent: String

    func run() throws {
        try global.run("Assign", ["reference": reference, "agent": agent]) { reply in
            "\(reference) assigned to \((reply["ticket"] as? [String: Any])?["assignee"] as? String ?? agent)"
        }
    }
}

struct Unassign: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Takes a ticket from its agent back to its queue (supervisor).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The ticket's reference, e.g. T-1042.") var reference: String

    func run() throws {
        try global.run("Unassign", ["reference": reference]) { reply in
            "\(reference) back in queue \((reply["ticket"] as? [String: Any])?["queue"] as? String ?? "-")"
        }
    }
}

struct Priority: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Sets a ticket's priority (supervisor): low, normal, high or urgent.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The ticket's reference, e.g. T-1042.") var reference: String
    @Argument(help: "low, normal, high or urgent.") var priority: String

    func validate() throws {
        guard ["low", "normal", "high", "urgent"].contains(priority) else { throw ValidationError("priority is low, normal, high or urgent, got \(priority)") }
    }

    func run() throws {
        try global.run("SetPriority", ["reference": reference, "priority": priority]) { reply in
            (reply["changed"] as? Bool ?? false) ? "\(reference) is now \(priority)" : "\(reference) was already \(priority)"
        }
    }
}

struct Note: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Adds an internal note to a ticket (never sent to the customer).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The ticket's reference, e.g. T-1042.") var reference: String
    @Argument(help: "The note's text.") var text: String

    func run() throws {
        try global.run("AddNote", ["reference": reference, "text": text]) { reply in
            let note = reply["note"] as? [String: Any] ?? [:]
            return "note \(note["id"] as? Int ?? 0) added to \(reference) by \(note["author"] as? String ?? "?")"
        }
    }
}
