import Foundation
import JSON
import SwitchboardCore
import SwitchboardStore

/// Canned responses from the shell: supervisors manage their teams' (scoped to one of their teams
/// or a queue of their teams), admins everyone's; anyone lists those they may use.
extension ControlService {
    func listCannedResponses(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let query = try request.optionalString("query")
        let found = try await store.cannedResponses.list(within: Permissions.cannedScope(request.caller), matching: query, limit: 1000)
        return ["canned": .array(found.map(Self.cannedValue))]
    }

    func addCannedResponse(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let shortcut = try Self.cannedField(request, "shortcut", CannedResponse.problem(shortcut:))
        let title = try Self.cannedField(request, "title", CannedResponse.problem(title:))
        let body = try Self.cannedField(request, "body", CannedResponse.problem(body:))
        let scope = try Self.requestedScope(request) ?? .everyone
        try request.require(.manageCannedResponse(scope))
        try await knownScope(scope)
        do {
            let added = try await store.cannedResponses.add(shortcut: shortcut, title: title, body: body, scope: scope, by: request.actor, now: Date())
            return ["canned": Self.cannedValue(added)]
        } catch let taken as CannedResponseStore.ShortcutTaken {
            throw ControlFailure.invalid("shortcut", "/\(taken.shortcut) is already a canned response for \(taken.scope)")
        }
    }

    func editCannedResponse(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let id = try request.int("id")
        var change = CannedResponseStore.Change()
        if request.call.parameters["shortcut"] != nil { change.shortcut = try Self.cannedField(request, "shortcut", CannedResponse.problem(shortcut:)) }
        if request.call.parameters["title"] != nil { change.title = try Self.cannedField(request, "title", CannedResponse.problem(title:)) }
        if request.call.parameters["body"] != nil { change.body = try Self.cannedField(request, "body", CannedResponse.problem(body:)) }
        change.scope = try Self.requestedScope(request)
        guard change != CannedResponseStore.Change() else {
            throw ControlFailure.invalid("shortcut", "nothing to change: give shortcut, title, body, or a new scope (team, queue or everyone)")
        }
        let existing = try await cannedResponse(id, request)
        try request.require(.manageCannedResponse(existing.scope))
        if let scope = change.scope {
            try request.require(.manageCannedResponse(scope))
            try await knownScope(scope)
        }
        do {
            guard let edited = try await store.cannedResponses.edit(Int64(id), expecting: existing.scope, change, by: request.actor, now: Date()) else {
                throw ControlFailure.notFound("canned response", "\(id)")
            }
            return ["canned": Self.cannedValue(edited)]
        } catch let taken as CannedResponseStore.ShortcutTaken {
            throw ControlFailure.invalid("shortcut", "/\(taken.shortcut) is already a canned response for \(taken.scope)")
        }
    }

    func removeCannedResponse(_ request: ControlRequest) async throws -> [String: JSONValue] {
        let id = try request.int("id")
        let existing = try await cannedResponse(id, request)
        try request.require(.manageCannedResponse(existing.scope))
        guard let removed = try await store.cannedResponses.remove(Int64(id), expecting: existing) else { throw ControlFailure.notFound("canned response", "\(id)") }
        return ["canned": Self.cannedValue(removed)]
    }

    /// The response by id, if the caller may at least use it (one they may not is not found, as
    /// in the API).
    private func cannedResponse(_ id: Int, _ request: ControlRequest) async throws -> CannedResponse {
        guard id > 0, let found = try await store.cannedResponses.response(Int64(id)),
              Permissions.decide(request.caller, .useCannedResponse(found.scope, ticket: nil)) == .allowed
                || Permissions.decide(request.caller, .manageCannedResponse(found.scope)) == .allowed else {
            throw ControlFailure.notFound("canned response", "\(id)")
        }
        return found
    }

    /// A text field checked by its rule.
    private static func cannedField(_ request: ControlRequest, _ name: String, _ problem: (String) -> String?) throws -> String {
        let value = try request.string(name)
        if let reason = problem(value) { throw ControlFailure.invalid(name, reason) }
        return value
    }

    /// `team`, `queue` or `everyone: true` (at most one); nil when none is given.
    private static func requestedScope(_ request: ControlRequest) throws -> CannedScope? {
        let team = try request.optionalString("team"), queue = try request.optionalString("queue")
        let everyone = try request.optionalBool("everyone")
        if everyone == false { throw ControlFailure.invalid("everyone", "only true (or leave it out)") }
        let given = [team.map(CannedScope.team), queue.map(CannedScope.queue), everyone.map { _ in CannedScope.everyone }].compactMap { $0 }
        guard given.count <= 1 else { throw ControlFailure.invalid(team != nil ? "queue" : "everyone", "a canned response is for a team, a queue or everyone: one of them") }
        return given.first
    }

    /// A team some active agent is in, or a configured queue.
    private func knownScope(_ scope: CannedScope) async throws {
        switch scope {
        case .everyone: return
        case .queue(let queue):
            let known = await router.configuredQueueNames
            guard known.contains(queue) else {
                throw ControlFailure.invalid("queue", "unknown queue \"\(queue)\" (queues: \(known.sorted().map { "\"\($0)\"" }.joined(separator: ", ")))")
            }
        case .team(let team):
            var teams: Set<String> = []
            for agent in router.roster.all { teams.formUnion(await agent.current.definition.teams) }
            guard teams.contains(team) else {
                throw ControlFailure.invalid("team", "no agent is in team \"\(team)\" (teams: \(teams.sorted().map { "\"\($0)\"" }.joined(separator: ", ")))")
            }
        }
    }

    static func cannedValue(_ canned: CannedResponse) -> JSONValue {
        ["id": .int(Int(canned.id)), "shortcut": .string(canned.shortcut), "title": .string(canned.title), "body": .string(canned.body),
         "scope": .string(canned.scope.kind), "scope_name": canned.scope == .everyone ? .null : .string(canned.scope.name),
         "created_by": .optional(canned.createdBy), "created_at": .timestamp(canned.createdAt), "updated_by": .optional(canned.updatedBy),
         "updated_at": .timestamp(canned.updatedAt)]
    }
}
