import ArgumentParser
import Foundation

struct IssueToken: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue-token",
        abstract: "Issues a bearer token of the agents' HTTP API for an agent (admin). It is shown once: only its hash is kept."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent's handle.") var agent: String
    @Option(help: "What the token is for, e.g. \"ana's laptop\".") var label: String?

    func run() throws {
        var parameters: [String: Any] = ["agent": agent]
        if let label { parameters["label"] = label }
        try global.run("IssueToken", parameters) { reply in
            """
            token \(reply["id"] as? Int ?? 0) for \(agent) (shown once; keep it secret):
            \(reply["token"] as? String ?? "")
            """
        }
    }
}

struct RevokeToken: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke-token", abstract: "Revokes an API token at once (admin).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The token's id (see switchboardctl tokens).") var id: Int

    func run() throws {
        try global.run("RevokeToken", ["id": id]) { reply in
            let token = reply["token"] as? [String: Any] ?? [:]
            return "token \(id) of \(token["agent"] as? String ?? "?") revoked at \(token["revoked_at"] as? String ?? "?")"
        }
    }
}

struct Tokens: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "API tokens (never their text), newest first (admin).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this agent's.") var agent: String?

    func run() throws {
        var parameters: [String: Any] = [:]
        if let agent { parameters["agent"] = agent }
        try global.run("ListTokens", parameters) { reply in
            let tokens = reply["tokens"] as? [[String: Any]] ?? []
            return Output.table([["ID", "AGENT", "LABEL", "CREATED", "BY", "LAST USED", "REVOKED"]] + tokens.map { token in
                ["\(token["id"] as? Int ?? 0)"] + ["agent", "label", "created_at", "created_by", "last_used_at", "revoked_at"].map { token[$0] as? String ?? "-" }
            })
        }
    }
}
