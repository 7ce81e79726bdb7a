import ArgumentParser
import Glibc
import JSON

struct SetPassword: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-password",
        abstract: "Sets or resets an agent's password for the web inbox (admin); their open sessions end.",
        discussion: "Asked twice without echo on a terminal; read from the first line of standard input otherwise (never on the command line)."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent's handle.") var agent: String

    func run() throws {
        let password: String
        if isatty(STDIN_FILENO) == 1 {
            let first = try Self.prompt("New password for \(agent): ")
            let second = try Self.prompt("Again: ")
            guard first == second else { throw ValidationError("the two passwords differ; nothing changed") }
            password = first
        } else {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw ValidationError("no password on standard input; nothing changed") }
            password = line
        }
        try global.run("SetPassword", ["agent": .string(agent), "password": .string(password)]) { reply in
            let ended = reply["sessions_ended"]?.number.map { Int($0) } ?? 0
            return "password set for \(agent)" + (ended > 0 ? "; \(ended) open session\(ended == 1 ? "" : "s") ended" : "")
        }
    }

    /// To standard error (file descriptor 2), where a prompt goes so that standard output stays the reply.
    static func toTerminal(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }

    /// Reads a line from the terminal with echo off (restored whatever happens).
    static func prompt(_ text: String) throws -> String {
        Self.toTerminal(text)
        var saved = termios()
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else { throw ValidationError("cannot read the terminal's settings") }
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        guard tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent) == 0 else { throw ValidationError("cannot turn the terminal's echo off") }
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
            Self.toTerminal("\n")
        }
        return readLine(strippingNewline: true) ?? ""
    }
}

struct Sessions: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sessions", abstract: "Web sessions still open, newest first (admin).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this agent's.") var agent: String?
    @Flag(help: "Also those that ended (signed out, revoked, idle, expired).") var ended = false

    func run() throws {
        var parameters: [String: JSONValue] = ["ended": .bool(ended)]
        if let agent { parameters["agent"] = .string(agent) }
        try global.run("ListSessions", parameters) { reply in
            Output.table([["ID", "AGENT", "SIGNED IN", "LAST SEEN", "ENDS", "ADDRESS", "ENDED", "WHY"]] + reply.list("sessions").map { session in
                ["id", "agent", "created_at", "last_seen_at", "expires_at", "address", "ended_at", "ended_why"].map { session.text($0, "-") }
            })
        }
    }
}

struct EndSessions: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "end-sessions",
                                                    abstract: "Signs an agent out everywhere, or ends one session (admin).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent's handle (all their sessions).") var agent: String?
    @Option(help: "One session's id (see switchboardctl sessions).") var id: Int?

    func validate() throws {
        guard (agent == nil) != (id == nil) else { throw ValidationError("give an agent or --id, not both") }
    }

    func run() throws {
        var parameters: [String: JSONValue] = [:]
        if let agent { parameters["agent"] = .string(agent) }
        if let id { parameters["id"] = .number(Double(id)) }
        try global.run("EndSessions", parameters) { reply in
            let count = reply["ended"]?.number.map { Int($0) } ?? 0
            return "\(count) session\(count == 1 ? "" : "s") ended"
        }
    }
}
