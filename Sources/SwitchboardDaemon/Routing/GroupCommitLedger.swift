import Foundation
import SwitchboardCore
import SwitchboardStore

/// Group commit for assignments: while commits are in flight, the assignments of other queues wait
/// and then share the next statement, so fifty queues matching at once cost a few commits, not fifty.
/// A lone assignment is committed at once. Each caller gets its own tickets' outcome.
public actor GroupCommitLedger: AssignmentLedger {
    private typealias Waiter = (records: [AssignmentRecord], now: Date, continuation: CheckedContinuation<[Int64: TicketStatus], any Error>)

    private let base: any AssignmentLedger
    private let maxInFlight: Int
    private var pending: [Waiter] = []
    private var inFlight = 0

    public init(_ base: any AssignmentLedger, maxInFlight: Int = 2) {
        precondition(maxInFlight >= 1, "at least one commit runs")
        self.base = base
        self.maxInFlight = maxInFlight
    }

    public func commit(_ records: [AssignmentRecord], now: Date) async throws -> [Int64: TicketStatus] {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((records, now, continuation))
            flush()
        }
    }

    private func flush() {
        while !pending.isEmpty && inFlight < maxInFlight {
            let batch = pending
            pending = []
            inFlight += 1
            let base = self.base
            Task {
                // One statement for the batch, stamped with the latest decision time in it.
                let now = batch.map(\.now).max() ?? Date()
                do {
                    let statuses = try await base.commit(batch.flatMap(\.records), now: now)
                    for waiter in batch {
                        let mine = Set(waiter.records.map(\.ticketID))
                        waiter.continuation.resume(returning: statuses.filter { mine.contains($0.key) })
                    }
                } catch {
                    for waiter in batch { waiter.continuation.resume(throwing: error) }
                }
                self.completed()
            }
        }
    }

    private func completed() {
        inFlight -= 1
        flush()
    }
}
