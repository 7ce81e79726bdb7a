import ArgumentParser
import JSON

struct IssueToken: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue-token",
        abstract: "Issues a bearer token of the agents' HTTP API for an agent (admin). It is shown once: only its hash is kept."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent's handle.") var agent: String
    @Option(help: "What the token is for, e.g. \"ana's laptop\".") var label: String?

    func run() throws {
        var parameters: [String: JSONValue] = ["agent": .string(agent)]
        if let label { parameters["label"] = .string(label) }
        try global.run("IssueToken", parameters) { reply in
            """
            token \(reply.text("id", "?")) for \(agent) (shown once; keep it secret):
            \(reply.text("token"))
            """
        }
    }
}

struct RevokeToken: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke-token", abstract: "Revokes an API token at once (admin).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The token's id (see switchboardctl tokens).") var id: Int

    func run() throws {
        try global.run("RevokeToken", ["id": .number(Double(id))]) { reply in
            let token = reply["token"] ?? [:]
            return "token \(id) of \(token.text("agent", "?")) revoked at \(token.text("revoked_at", "?"))"
        }
    }
}

struct Tokens: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokens", abstract: "API tokens (never their text), newest first (admin).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this agent's.") var agent: String?

    func run() throws {
        var parameters: [String: JSONValue] = [:]
        if let agent { parameters["agent"] = .string(agent) }
        try global.run("ListTokens", parameters) { reply in
            Output.table([["ID", "AGENT", "LABEL", "CREATED", "BY", "LAST USED", "REVOKED"]] + reply.list("tokens").map { token in
                ["id", "agent", "label", "created_at", "created_by", "last_used_at", "revoked_at"].map { token.text($0, "-") }
            })
        }
    }
}
