import ArgumentParser
import Glibc
import JSON

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
                      Queues.self, PauseQueue.self, ResumeQueue.self, Tickets.self, Ticket.self, Take.self, Accept.self, Assign.self, Unassign.self,
                      Priority.self, Note.self, AtRisk.self, IssueToken.self, RevokeToken.self, Tokens.self, SetPassword.self, Sessions.self,
                      EndSessions.self, Canned.self, CustomerTag.self, Reload.self, Watch.self, Call.self]
    )

    /// `--socket` and `--json` before the subcommand (`switchboardctl --socket PATH status`): parsed
    /// here, and every subcommand's `@OptionGroup var global` is this same value (swift-argument-parser
    /// hands a parent's option group to its subcommands), so they may come after it as well.
    @OptionGroup var global: GlobalOptions
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The control socket (default: $SWITCHBOARD_CONTROL_SOCKET or /run/switchboard/control.sock).")
    var socket: String?

    @Flag(name: .long, help: "Print the daemon's reply as JSON (for scripts).")
    var json = false

    var socketPath: String {
        socket ?? getenv("SWITCHBOARD_CONTROL_SOCKET").map { String(cString: $0) } ?? "/run/switchboard/control.sock"
    }

    /// Calls one method and prints the reply as JSON or through `human`; maps failures to exit codes.
    func run(_ method: String, _ parameters: [String: JSONValue] = [:], human: (JSONValue) -> String) throws {
        let reply = try perform { try VarlinkConnection(path: socketPath).call("io.switchboard.Control." + method, .object(parameters)) }
        if json { print(Output.json(reply)) } else { print(human(reply)) }
    }

    func perform<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as VarlinkConnection.RemoteError {
            throw Output.failure(error)
        } catch let error as VarlinkConnection.Failure {
            Output.error(error.description)
            throw ExitCode(69)
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "The daemon's version and uptime, and each queue: waiting, longest wait, agents online and free, SLA risk.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        try global.run("Status") { reply in
            var text = "switchboardd \(reply.text("version", "?")), up \(Output.duration(reply["uptime_seconds"]?.number ?? 0)); "
            text += "you are \(reply.text("caller", "?")) (\(reply.text("role", "?")))\n"
            if reply.flag("draining") { text += "DRAINING: no new assignments (switchboardctl drain --undo)\n" }
            if let lease = reply["leadership"], let role = lease["role"]?.text {
                switch role {
                case "leader":
                    text += "leader: this instance (\(lease.text("node", "?"))) since \(lease.text("since", "?")), epoch \(lease.text("epoch", "?"))\n"
                case "standby":
                    let leader = lease["leader"]?.text.map { "\($0) (\(lease.text("leader_address", "no advertised address")))" } ?? "none right now"
                    text += "STANDBY: this instance (\(lease.text("node", "?"))) takes webhooks and passes the rest to the leader, \(leader)"
                    text += lease["leader"]?.text == nil ? "\n" : ", leading since \(lease.text("since", "?")), epoch \(lease.text("epoch", "?")); its queues: switchboardctl queues\n"
                default:
                    text += "leadership: \(role) (\(lease.text("node", "?")))\n"
                }
            }
            if let database = reply["database"], database.text("kind") == "embedded" {
                let restarts = database["restarts"]?.number.map { Int($0) } ?? 0
                text += database.flag("running") ? "database: embedded PostgreSQL running" : "DATABASE DOWN: the embedded PostgreSQL is being started again"
                if restarts > 0 { text += "; restarted \(restarts) time\(restarts == 1 ? "" : "s"), last exit \(database.text("last_exit", "?")) at \(database.text("last_exit_at", "?"))" }
                if !database.flag("running"), let error = database["last_attempt_error"]?.text { text += "; last attempt: \(error)" }
                text += "\n"
            }
            if let media = reply["media"], let fetching = media["fetching"]?.text {
                let pending = media["pending"]?.number.map { "\(Int($0)) waiting" } ?? "waiting: unknown"
                switch fetching {
                case "paused":
                    text += "MEDIA FETCHING PAUSED until \(media.text("paused_until", "?")) (since \(media.text("paused_since", "?")); \(pending)): "
                    text += "\(media.text("paused_reason", "?"))\n"
                case "off":
                    text += "media: not fetched (no whatsapp.accessToken); \(pending)\n"
                default:
                    text += "media: fetching; \(pending)\n"
                }
            }
            return text + Output.queueTable(reply.list("queues"))
        }
    }
}

struct Queues: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "queues", abstract: "Every queue with its strategy and load.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        try global.run("ListQueues") { Output.queueTable($0.list("queues")) }
    }
}

struct Agents: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "agents", abstract: "Every active agent: role, presence, load, queues, skills.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        try global.run("ListAgents") { reply in
            Output.table([["AGENT", "ROLE", "PRESENCE", "LOAD", "QUEUES", "SKILLS"]] + reply.list("agents").map { agent in
                [agent.text("id"), agent.text("role"), agent.text("presence") + (agent.flag("draining") ? " (draining)" : ""),
                 "\(agent.text("open_tickets", "0"))/\(agent.text("capacity", "0"))", agent.strings("queues").joined(separator: ","), Output.skills(agent["skills"])]
            })
        }
    }
}

struct Agent: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "agent", abstract: "One agent in full.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent's handle.") var id: String

    func run() throws {
        try global.run("ShowAgent", ["id": .string(id)]) { Output.agent($0["agent"] ?? [:]) }
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

    func parameters(id: String) throws -> [String: JSONValue] {
        var parameters: [String: JSONValue] = ["id": .string(id)]
        if let name { parameters["name"] = .string(name) }
        if let role { parameters["role"] = .string(role) }
        if !teams.isEmpty { parameters["teams"] = .array(teams.map(JSONValue.string)) }
        if !queues.isEmpty { parameters["queues"] = .array(queues.map(JSONValue.string)) }
        if !skills.isEmpty {
            var levels: [String: JSONValue] = [:]
            for skill in skills {
                guard let equals = skill.lastIndex(of: "="), let level = Int(skill[skill.index(after: equals)...]) else {
                    throw ValidationError("--skill is skill=level, e.g. lang:es=5, got \(skill)")
                }
                levels[String(skill[..<equals])] = .number(Double(level))
            }
            parameters["skills"] = .object(levels)
        }
        if let capacity { parameters["capacity"] = .number(Double(capacity)) }
        if let unixUser { parameters["unix_user"] = .string(unixUser) }
        return parameters
    }
}

struct AddAgent: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add-agent", abstract: "Adds an agent (admin): switchboardctl add-agent eva --queue support --skill lang:en=4.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The new agent's handle.") var id: String
    @OptionGroup var fields: AgentFields

    func run() throws {
        try global.run("AddAgent", try fields.parameters(id: id)) { Output.agent($0["agent"] ?? [:]) }
    }
}

struct UpdateAgent: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update-agent", abstract: "Changes an agent (admin); only the options given change.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent's handle.") var id: String
    @OptionGroup var fields: AgentFields

    func run() throws {
        try global.run("UpdateAgent", try fields.parameters(id: id)) { Output.agent($0["agent"] ?? [:]) }
    }
}

struct RemoveAgent: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove-agent", abstract: "Deactivates an agent (admin); their tickets return to their queues.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent's handle.") var id: String

    func run() throws {
        try global.run("RemoveAgent", ["id": .string(id)]) { _ in "agent \(id) removed" }
    }
}

struct Presence: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "presence", abstract: "Sets an agent online, away or offline.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent's handle.") var id: String
    @Argument(help: "online, away or offline.") var presence: String

    func validate() throws {
        guard ["online", "away", "offline"].contains(presence) else { throw ValidationError("presence is online, away or offline, got \(presence)") }
    }

    func run() throws {
        try global.run("SetPresence", ["id": .string(id), "presence": .string(presence)]) { Output.agent($0["agent"] ?? [:]) }
    }
}

struct Tickets: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tickets", abstract: "Tickets you may see, newest activity first.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "open, pending or resolved.") var status: String?
    @Option(help: "A queue.") var queue: String?
    @Option(help: "An agent's handle.") var assignee: String?
    @Option(help: "low, normal, high or urgent.") var priority: String?
    @Option(help: "At most this many (1–500).") var limit: Int = 50

    func run() throws {
        var parameters: [String: JSONValue] = ["limit": .number(Double(limit))]
        if let status { parameters["status"] = .string(status) }
        if let queue { parameters["queue"] = .string(queue) }
        if let assignee { parameters["assignee"] = .string(assignee) }
        if let priority { parameters["priority"] = .string(priority) }
        try global.run("ListTickets", parameters) { reply in
            Output.table([["TICKET", "STATUS", "PRIORITY", "QUEUE", "ASSIGNEE", "CUSTOMER", "UPDATED"]] + reply.list("tickets").map { ticket in
                ["reference", "status", "priority", "queue", "assignee", "customer", "updated_at"].map { ticket.text($0, "-") }
            })
        }
    }
}

struct Ticket: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ticket", abstract: "One ticket: messages, events, SLA clocks.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The ticket's reference, e.g. T-1042.") var reference: String

    func run() throws {
        try global.run("ShowTicket", ["reference": .string(reference)]) { Output.ticket($0["ticket"] ?? [:]) }
    }
}

struct AtRisk: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "at-risk", abstract: "SLA clocks warned, breached, or due soon.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Also clocks due within this many minutes.") var within: Int = 60

    func run() throws {
        try global.run("AtRisk", ["within_minutes": .number(Double(within))]) { Output.clockTable($0.list("clocks")) }
    }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reload", abstract: "Reads the configuration file again and applies it, or shows why it was refused.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        try global.run("Reload") { _ in "configuration reloaded" }
    }
}

struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "watch", abstract: "Follows events as they happen (Ctrl-C to stop).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this queue's tickets.") var queue: String?
    @Option(help: "Only this agent's tickets.") var agent: String?

    func run() throws {
        var parameters: [String: JSONValue] = [:]
        if let queue { parameters["queue"] = .string(queue) }
        if let agent { parameters["agent"] = .string(agent) }
        try global.perform {
            let connection = try VarlinkConnection(path: global.socketPath)
            try connection.send(method: "io.switchboard.Control.Watch", parameters: .object(parameters), more: true)
            while true {
                let (reply, continues) = try connection.receive()
                let event = reply["event"] ?? [:]
                // One JSON object a line, so `watch --json | jq -c …` and line-reading scripts work.
                if global.json { print(JSONWriter.write(event)) } else { print(Output.event(event)) }
                fflush(nil)
                if !continues { return }
            }
        }
    }
}

struct Call: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "call", abstract: "Calls any method with JSON parameters (e.g. call ShowAgent '{\"id\": \"ana\"}').")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "A method of io.switchboard.Control, or a fully qualified one.") var method: String
    @Argument(help: "The parameters as a JSON object.") var parameters: String = "{}"

    func run() throws {
        guard let object = try? JSONParser.parse(Array(parameters.utf8)), object.isObject else {
            throw ValidationError("parameters must be a JSON object, got \(parameters)")
        }
        let qualified = method.contains(".") ? method : "io.switchboard.Control." + method
        let reply = try global.perform { try VarlinkConnection(path: global.socketPath).call(qualified, object) }
        print(Output.json(reply))
    }
}
