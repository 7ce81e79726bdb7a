import Foundation
import Synchronization

/// A serial executor that runs every job on one thread it owns.
///
/// libpq calls block their thread. Actors that hold a `PGconn` use this executor, so those calls never
/// occupy a thread of Swift's cooperative pool.
final class DedicatedThreadExecutor: SerialExecutor, @unchecked Sendable {
    // @unchecked Sendable: `pending` and `stopping` are only read or written while `condition` is
    // locked; `threadID` is atomic; `name` is immutable. Jobs themselves run on the owned thread only.
    private let condition = NSCondition()
    private var pending: [UnownedJob] = []
    private var stopping = false
    /// The owned thread's `pthread_t` once it runs (0 before).
    private let threadID = Atomic<UInt>(0)
    let name: String

    init(name: String) {
        self.name = name
        let thread = Thread { [self] in self.runLoop() }
        thread.name = name
        thread.start()
    }

    /// Whether the caller runs on this executor's thread (for preconditions before blocking calls).
    var isCurrentThread: Bool {
        let owner = threadID.load(ordering: .acquiring)
        return owner != 0 && pthread_equal(owner, pthread_self()) != 0
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        pending.append(unowned)
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread finish once the jobs already queued have run.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func runLoop() {
        threadID.store(pthread_self(), ordering: .releasing)
        var batch: [UnownedJob] = []
        while true {
            condition.lock()
            while pending.isEmpty && !stopping {
                condition.wait()
            }
            if pending.isEmpty && stopping {
                condition.unlock()
                return
            }
            swap(&batch, &pending)
            condition.unlock()
            for job in batch {
                job.runSynchronously(on: asUnownedSerialExecutor())
            }
            batch.removeAll(keepingCapacity: true)
        }
    }
}

/// Runs a blocking closure on a new thread and resumes the caller when it returns.
///
/// For rare blocking work (spawning and waiting for processes, `PQcancel`) that must stay off the
/// cooperative pool.
func runOnNewThread<T: Sendable>(
    name: String,
    _ body: @escaping @Sendable () throws -> T
) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.name = name
        thread.start()
    }
}
