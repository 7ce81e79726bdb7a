import SwitchboardCore

/// Where a ticket of one trace type goes: its queue and the skills its agent needs — what a routing
/// rule's actions would say for it.
public struct TypeRoute: Sendable, Equatable {
    public var queue: String
    public var requirements: [SkillRequirement]

    public init(queue: String, requirements: [SkillRequirement]) {
        self.queue = queue
        self.requirements = requirements
    }
}

/// How trace types map to queues and skills: read from a types file (`type,skills,queue`), or by
/// default one queue and one skill per type, both named like the type.
public struct TraceTypes: Sendable {
    /// Nil: the default mapping, every type known.
    let routes: [String: TypeRoute]?
    let file: String?

    public static let byName = TraceTypes(routes: nil, file: nil)

    /// Columns: `type` and `skills` (`product:billing>=3 lang:es`; empty: any agent of the queue),
    /// optional `queue` (empty or absent: named like the type; several types may share one).
    public init(table: CSVTable) throws(TraceError) {
        try table.require(["type", "skills"])
        var routes: [String: TypeRoute] = [:]
        for row in table.rows {
            let type = table.value("type", in: row)
            guard !type.isEmpty else { throw table.error(row, "type", "is empty") }
            guard routes[type] == nil else { throw table.error(row, "type", "\"\(type)\" is mapped twice") }
            let requirements: [SkillRequirement]
            switch SkillList.requirements(table.value("skills", in: row)) {
            case .success(let parsed): requirements = parsed
            case .failure(let problem): throw table.error(row, "skills", problem.message)
            }
            let queue = table.value("queue", in: row)
            routes[type] = TypeRoute(queue: queue.isEmpty ? type : queue, requirements: requirements)
        }
        guard !routes.isEmpty else { throw TraceError(file: table.file, line: 1, reason: "maps no type") }
        self.routes = routes
        self.file = table.file
    }

    private init(routes: [String: TypeRoute]?, file: String?) {
        self.routes = routes
        self.file = file
    }

    /// The route of `type`, or why there is none.
    func route(of type: String) -> Result<TypeRoute, TypeMapError> {
        guard let routes else { return .success(TypeRoute(queue: type, requirements: [SkillRequirement(type, atLeast: 1)])) }
        if let route = routes[type] { return .success(route) }
        return .failure(TypeMapError(message: "unknown type \"\(type)\": \(file ?? "the types file") maps \(routes.keys.sorted().joined(separator: ", "))"))
    }
}

struct TypeMapError: Error {
    var message: String
}
