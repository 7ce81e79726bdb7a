import SwitchboardCore

/// A recorded trace turned into a simulation: the queues its types name (one step, no relaxation, the
/// daemon's serving order: priority, then age), agents per skill group serving every queue some type
/// of which they are fit for, shift changes as presence, and each contact's recorded handle time.
public struct TraceScenario: Sendable {
    public var scenario: SimulationScenario
    /// Whether the trace says when customers give up (else abandonment is not reported).
    public var hasPatience: Bool
    public var agentCount: Int
    public var groupCount: Int
    /// What the user should know before reading the figures.
    public var notes: [String] = []

    public init(arrivals: TraceArrivals, types: TraceTypes, staffing: TraceStaffing, capacity: Int, target: Double) throws(TraceError) {
        let means = arrivals.meanHandleSeconds
        var routes: [String: TypeRoute] = [:]
        var simulated: [SimulatedArrival] = []
        for contact in arrivals.contacts {
            let route: TypeRoute
            switch types.route(of: contact.type) {
            case .success(let found): route = found
            case .failure(let problem): throw TraceError(file: arrivals.file, line: contact.line, column: "type", reason: problem.message)
            }
            routes[contact.type] = route
            guard let handle = contact.handleSeconds ?? means[contact.type] else {
                throw TraceError(file: arrivals.file, line: contact.line, column: "handle_seconds",
                                 reason: "is empty, and no contact of type \"\(contact.type)\" has one to replay it with")
            }
            simulated.append(SimulatedArrival(id: Int64(contact.line), at: contact.arrival.value, type: contact.type, queue: route.queue,
                                              priority: contact.priority, requirements: route.requirements, work: handle, patience: contact.patienceSeconds))
        }
        let queueNames = Set(routes.values.map(\.queue)).sorted()
        let queues = queueNames.map { QueueDefinition(name: $0, order: WaitingOrder(windowBoost: 0)) }

        if case .shifts(let schedule) = staffing, let first = schedule.slots.first, schedule.usesTimestamps != arrivals.usesTimestamps {
            let form = { (timestamps: Bool) in timestamps ? "timestamps" : "seconds from the start" }
            throw TraceError(file: schedule.file, line: first.line, column: "start",
                             reason: "gives \(form(schedule.usesTimestamps)) but \(arrivals.file) gives \(form(arrivals.usesTimestamps)); use one form in both")
        }
        let staff = TraceStaff(staffing, routes: routes, capacity: capacity)
        groupCount = staff.groupCount
        notes = staff.notes
        agentCount = staff.agents.count
        hasPatience = arrivals.hasPatience
        let routing = RoutingConfiguration(queues: queues, rules: [], agents: staff.agents)
        // The recorded handle time, whoever answers.
        scenario = SimulationScenario(name: arrivals.file, routing: routing, arrivals: simulated, handleTime: { _, _, work, _ in work },
                                      slaTarget: target, warmup: -.infinity, initialPresence: staff.initialPresence, presenceChanges: staff.changes)
    }
}
