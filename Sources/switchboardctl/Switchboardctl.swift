import ArgumentParser
import Foundation

@main
struct Switchboardctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboardctl",
        abstract: "Runs switchboardd through its control socket (Varlink interface io.switchboard.Control).",
        discussion: """
            Exit codes: 0 done; 1 failed; 2 not found; 64 usage or invalid argument; 69 daemon unreachable; \
            77 permission denied. Shell completions: switchboardctl --generate-completion-script bash|zsh|fish.
            """,
        subcommands: [Status.self, Agents.self, Agent.self, AddAgent.self, UpdateAgent.self, RemoveAgent.self, Presence.self, Drain.self,
                      Queues.self, PauseQueue.self, ResumeQueue.self, Tickets.self, Ticket.self, Assign.self, Unassign.self, Priority.self, Note.self,
                      AtRisk.self, IssueToken.self, RevokeToken.self, Tokens.self, Reload.self, Watch.self, Call.self]
    )
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The control socket (default: $SWITCHBOARD_CONTROL_SOCKET or /run/switchboard/control.sock).")
    var socket: String?

    @Flag(name: .long, help: "Print the daemon's reply as JSON (for scripts).")
    var json = false

    var socketPath: String {
        socket ?? ProcessInfo.processInfo.environment["SWITCHBOARD_CONTROL_SOCKET"] ?? "/run/switchboard/control.sock"
    }

    /// Calls one method and prints the reply as JSON or through `human`; maps failures to exit codes.
    func run(_ method: String, _ parameters: [String: Any] = [:], human: ([String: Any]) -> String) throws {
        let reply = try perform { try VarlinkConnection(path: socketPath).call("io.switchboard.Control." + method, parameters) }
        if json { print(Output.json(reply)) } else { print(human(reply)) }
    }

    func perform<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as VarlinkConnection.RemoteError {
            throw Output.failure(error)
        } catch let error as VarlinkConnection.Failure {
            FileHandle.standardError.write(Data("switchboardctl: \(error.description)\n".utf8))
            throw ExitCode(69)
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The daemon's version and uptime, and each queue: waiting, longest wait, agents online and free, SLA risk.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        try global.run("Status") { reply in
            var text = "switchboardd \(reply["version"] as? String ?? "?"), up \(Output.duration(reply["uptime_seconds"] as? Double ?? 0)); "
            text += "you are \(reply["caller"] as? String ?? "?") (\(reply["role"] as? String ?? "?"))\n"
            if reply["draining"] as? Bool ?? false { text += "DRAINING: no new assignments (switchboardctl drain --undo)\n" }
            return text + Output.queueTable(reply["queues"] as? [[String: Any]] ?? [])
        }
    }
}

struct Queues: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Every queue with its strategy and load.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        try global.run("ListQueues") { Output.queueTable($0["queues"] as? [[String: Any]] ?? []) }
    }
}

struct Agents: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Every active agent: role, presence, load, queues, skills.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        try global.run("ListAgents") { reply in
            let agents = reply["agents"] as? [[String: Any]] ?? []
            return Output.table([["AGENT", "ROLE", "PRESENCE", "LOAD", "QUEUES", "SKILLS"]] + agents.map { agent in
                [agent["id"] as? String ?? "", agent["role"] as? String ?? "",
                 (agent["presence"] as? String ?? "") + ((agent["draining"] as? Bool ?? false) ? " (draining)" : ""),
                 "\(agent["open_tickets"] as? Int ?? 0)/\(agent["capacity"] as? Int ?? 0)",
                 (agent["queues"] as? [String] ?? []).joined(separator: ","), Output.skills(agent["skills"])]
            })
        }
    }
}

struct Agent: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "One agent in full.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent's handle.") var id: String

    func run() throws {
        try global.run("ShowAgent", ["id": id]) { Output.agent($0["agent"] as? [String: Any] ?? [:]) }
    }
}

/// The fields of AddAgent and UpdateAgent.
struct AgentFields: ParsableArguments {
    @Option(help: "Full name.") var name: String?
    @Option(help: "agent, supervisor or admin.") var role: String?
    @Option(name: .customLong("team"), help: "A team (repeat for several).") var teams: [String] = []
    @Option(name: .customLong("queue"), help: "A queue the agent serves (repeat for several).") var queues: [String] = []
    @Option(name: .customLong("skill"), help: "skill=level, level 1–5, e.g. --skill lang:es=5 (repeat for several).") var skills: [String] = []
    @Option(help: "Open tickets at once (0–1000).") var capacity: Int?
    @Option(name: .customLong("unix-user"), help: "The Unix login that acts as this agent on the control socket.") var unixUser: String?

    func parameters(id: String) throws -> [String: Any] {
        var parameters: [String: Any] = ["id": id]
        if let name { parameters["name"] = name }
        if let role { parameters["role"] = role }
        if !teams.isEmpty { parameters["teams"] = teams }
        if !queues.isEmpty { parameters["queues"] = queues }
        if !skills.isEmpty {
            var levels: [String: Int] = [:]
            for skill in skills {
                guard let equals = skill.lastIndex(of: "="), let level = Int(skill[skill.index(after: equals)...]) else {
                    throw ValidationError("--skill is skill=level, e.g. lang:es=5, got \(skill)")
                }
                levels[String(skill[..<equals])] = level
            }
            parameters["skills"] = levels
        }
        if let capacity { parameters["capacity"] = capacity }
        if let unixUser { parameters["unix_user"] = unixUser }
        return parameters
    }
}

struct AddAgent: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add-agent", abstract: "Adds an agent (admin): switchboardctl add-agent eva --queue support --skill lang:en=4.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The new agent's handle.") var id: String
    @OptionGroup var fields: AgentFields

    func run() throws {
        try global.run("AddAgent", try fields.parameters(id: id)) { Output.agent($0["agent"] as? [String: Any] ?? [:]) }
    }
}

struct UpdateAgent: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update-agent", abstract: "Changes an agent (admin); only the options given change.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent's handle.") var id: String
    @OptionGroup var fields: AgentFields

    func run() throws {
        try global.run("UpdateAgent", try fields.parameters(id: id)) { Output.agent($0["agent"] as? [String: Any] ?? [:]) }
    }
}

struct RemoveAgent: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove-agent", abstract: "Deactivates an agent (admin); their tickets return to their queues.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent's handle.") var id: String

    func run() throws {
        try global.run("RemoveAgent", ["id": id]) { _ in "agent \(id) removed" }
    }
}

struct Presence: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Sets an agent online, away or offline.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent's handle.") var id: String
    @Argument(help: "online, away or offline.") var presence: String

    func validate() throws {
        guard ["online", "away", "offline"].contains(presence) else { throw ValidationError("presence is online, away or offline, got \(presence)") }
    }

    func run() throws {
        try global.run("SetPresence", ["id": id, "presence": presence]) { Output.agent($0["agent"] as? [String: Any] ?? [:]) }
    }
}

struct Tickets: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Tickets you may see, newest activity first.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "open, pending or resolved.") var status: String?
    @Option(help: "A queue.") var queue: String?
    @Option(help: "An agent's handle.") var assignee: String?
    @Option(help: "low, normal, high or urgent.") var priority: String?
    @Option(help: "At most this many (1–500).") var limit: Int = 50

    func run() throws {
        var parameters: [String: Any] = ["limit": limit]
        if let status { parameters["status"] = status }
        if let queue { parameters["queue"] = queue }
        if let assignee { parameters["assignee"] = assignee }
        if let priority { parameters["priority"] = priority }
        try global.run("ListTickets", parameters) { reply in
            let tickets = reply["tickets"] as? [[String: Any]] ?? []
            return Output.table([["TICKET", "STATUS", "PRIORITY", "QUEUE", "ASSIGNEE", "CUSTOMER", "UPDATED"]] + tickets.map { ticket in
                ["reference", "status", "priority", "queue", "assignee", "customer", "updated_at"].map { ticket[$0] as? String ?? "-" }
            })
        }
    }
}

struct Ticket: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "One ticket: messages, events, SLA clocks.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The ticket's reference, e.g. T-1042.") var reference: String

    func run() throws {
        try global.run("ShowTicket", ["reference": reference]) { Output.ticket($0["ticket"] as? [String: Any] ?? [:]) }
    }
}

struct AtRisk: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "at-risk", abstract: "SLA clocks warned, breached, or due soon.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Also clocks due within this many minutes.") var within: Int = 60

    func run() throws {
        try global.run("AtRisk", ["within_minutes": within]) { Output.clockTable($0["clocks"] as? [[String: Any]] ?? []) }
    }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Reads the configuration file again and applies it, or shows why it was refused.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        try global.run("Reload") { _ in "configuration reloaded" }
    }
}

struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Follows events as they happen (Ctrl-C to stop).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this queue's tickets.") var queue: String?
    @Option(help: "Only this agent's tickets.") var agent: String?

    func run() throws {
        var parameters: [String: Any] = [:]
        if let queue { parameters["queue"] = queue }
        if let agent { parameters["agent"] = agent }
        try global.perform {
            let connection = try VarlinkConnection(path: global.socketPath)
            try connection.send(method: "io.switchboard.Control.Watch", parameters: parameters, more: true)
            while true {
                let (reply, continues) = try connection.receive()
                let event = reply["event"] as? [String: Any] ?? [:]
                if global.json { print(Output.json(event)) } else { print(Output.event(event)) }
                fflush(nil)
                if !continues { return }
            }
        }
    }
}

struct Call: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Calls any method with JSON parameters (e.g. call ShowAgent '{\"id\": \"ana\"}').")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "A method of io.switchboard.Control, or a fully qualified one.") var method: String
    @Argument(help: "The parameters as a JSON object.") var parameters: String = "{}"

    func run() throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(parameters.utf8)) as? [String: Any] else {
            throw ValidationError("parameters must be a JSON object, got \(parameters)")
        }
        let qualified = method.contains(".") ? method : "io.switchboard.Control." + method
        let reply = try global.perform { try VarlinkConnection(path: global.socketPath).call(qualified, object) }
        print(Output.json(reply))
    }
}
