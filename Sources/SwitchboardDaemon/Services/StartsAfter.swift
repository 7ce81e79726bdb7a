import ServiceLifecycle

/// A service started only once the readiness barrier has some conditions (the database is up,
/// migrations are at head): the service group starts every service at once, so order of start is
/// what each waits for. A shutdown while it waits ends it without starting it.
public struct StartsAfter<Wrapped: Service>: Service {
    let wrapped: Wrapped
    let conditions: Set<Readiness.Condition>
    let readiness: Readiness

    public init(_ conditions: Set<Readiness.Condition>, _ readiness: Readiness, _ wrapped: Wrapped) {
        self.wrapped = wrapped
        self.conditions = conditions
        self.readiness = readiness
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await readiness.wait(for: conditions) }
        } catch is CancellationError {
            return
        }
        try await wrapped.run()
    }
}
