import Foundation
import Logging
import Synchronization
import SwitchboardStore

extension SLAStore: SLALedger {}

/// Writes SLA steps in the order they were taken, batching what arrives while a write is in flight.
/// A ticket's timer enqueues its step before it takes the next one, so the stored state of a ticket
/// is never older than the one before it. A failed write is retried (the database may be restarting)
/// until it succeeds or the writer is stopped.
public final class SLAWriter: Sendable {
    private struct State {
        var pending: [SLAChange] = []
        var lastEnqueued = 0
        var writtenThrough = 0
        var writing = false
        var stopped = false
        var waiters: [(sequence: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())
    private let ledger: any SLALedger
    private let logger: Logger

    public init(ledger: any SLALedger, logger: Logger) {
        self.ledger = ledger
        self.logger = logger
    }

    /// Queues a step; returns its sequence number for `written(through:)`.
    public func enqueue(_ change: SLAChange) -> Int {
        let (sequence, start) = state.withLock { state -> (Int, Bool) in
            state.lastEnqueued += 1
            state.pending.append(change)
            let start = !state.writing && !state.stopped
            if start { state.writing = true }
            return (state.lastEnqueued, start)
        }
        if start { Task { await self.drain() } }
        return sequence
    }

    /// Returns once every step up to `sequence` is stored (or the writer stopped).
    public func written(through sequence: Int) async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                if state.writtenThrough >= sequence || state.stopped { return true }
                state.waiters.append((sequence, continuation))
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Returns once everything enqueued so far is stored.
    public func flushed() async {
        await written(through: state.withLock { $0.lastEnqueued })
    }

    /// Stops retrying (shutdown): waiters are released; unwritten steps are recomputed at the next start.
    public func stop() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.stopped = true
            defer { state.waiters = [] }
            return state.waiters.map(\.continuation)
        }
        waiters.forEach { $0.resume() }
    }

    private func drain() async {
        var pause = 0.2
        while true {
            let batch = state.withLock { state -> (changes: [SLAChange], through: Int)? in
                guard !state.pending.isEmpty, !state.stopped else {
                    state.writing = false
                    return nil
                }
                defer { state.pending = [] }
                return (state.pending, state.lastEnqueued)
            }
            guard let batch else { return }
            do {
                try await ledger.save(batch.changes)
                pause = 0.2
                let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                    state.writtenThrough = batch.through
                    let ready = state.waiters.filter { $0.sequence <= batch.through }.map(\.continuation)
                    state.waiters.removeAll { $0.sequence <= batch.through }
                    return ready
                }
                ready.forEach { $0.resume() }
            } catch {
                logger.error("SLA state not stored; retrying", metadata: ["steps": "\(batch.changes.count)", "error": "\(error)"])
                // Put the batch back in front, in order, and try again after a pause.
                state.withLock { $0.pending = batch.changes + $0.pending }
                try? await Task.sleep(for: .milliseconds(Int64(pause * 1000)))
                pause = min(pause * 2, 5)
            }
        }
    }
}
