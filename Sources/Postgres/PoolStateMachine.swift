/// The decisions of a fixed-size connection pool, as a value: events in, actions out.
///
/// Connections are numbered slots. The pool hands out the most recently returned slot first (its
/// connection is the most likely to be warm) and serves waiters first come, first served.
struct PoolStateMachine: Sendable {
    typealias Slot = Int
    typealias WaiterID = UInt64

    enum LeaseAction: Equatable {
        /// Give this slot to the caller now.
        case lease(Slot)
        /// Park the caller; a timeout for it should be started.
        case wait
        /// Fail the caller now.
        case fail(PostgresError)
    }

    enum ReleaseAction: Equatable {
        /// Hand the slot straight to a parked waiter.
        case handOver(Slot, to: WaiterID)
        /// The slot went back to the idle list.
        case none
    }

    private(set) var idle: [Slot]
    private var waiters: [WaiterID] = []
    private var waiterHead = 0
    private(set) var closed = false
    let size: Int

    init(size: Int) {
        precondition(size > 0, "a pool needs at least one connection")
        self.size = size
        self.idle = Array((0..<size).reversed())
    }

    var leasedCount: Int { size - idle.count }
    var waitingCount: Int { waiters.count - waiterHead }

    mutating func leaseRequested(_ waiter: WaiterID) -> LeaseAction {
        if closed { return .fail(.poolClosed) }
        if let slot = idle.popLast() { return .lease(slot) }
        waiters.append(waiter)
        return .wait
    }

    mutating func released(_ slot: Slot) -> ReleaseAction {
        precondition(!idle.contains(slot), "slot \(slot) released twice")
        if !closed, let waiter = popWaiter() {
            return .handOver(slot, to: waiter)
        }
        idle.append(slot)
        return .none
    }

    /// A waiter gave up (timeout or cancellation). Returns false if it was already served.
    mutating func waiterLeft(_ waiter: WaiterID) -> Bool {
        guard let index = waiters[waiterHead...].firstIndex(of: waiter) else { return false }
        waiters.remove(at: index)
        return true
    }

    /// Closes the pool; returns the waiters to fail.
    mutating func close() -> [WaiterID] {
        closed = true
        var failed: [WaiterID] = []
        while let waiter = popWaiter() { failed.append(waiter) }
        return failed
    }

    private mutating func popWaiter() -> WaiterID? {
        guard waiterHead < waiters.count else { return nil }
        let waiter = waiters[waiterHead]
        waiterHead += 1
        if waiterHead > 64 && waiterHead * 2 > waiters.count {
            waiters.removeFirst(waiterHead)
            waiterHead = 0
        }
        return waiter
    }
}
