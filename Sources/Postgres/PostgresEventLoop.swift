import CEpoll
import Foundation
import Glibc
import Synchronization

/// A thread that runs the jobs of the connection actors assigned to it and waits, with `epoll`, on
/// their sockets.
///
/// Connections drive libpq in non-blocking mode: an actor sends a statement, then suspends until its
/// socket is ready, and the loop resumes it. So a few threads serve every connection (as `pgbench`
/// does), no libpq call ever runs on the cooperative pool, and no thread blocks on one statement.
final class PostgresEventLoop: SerialExecutor, @unchecked Sendable {
    // @unchecked Sendable: `pending` and `sleeping` live in a Mutex; `waiters` and `registered` are
    // touched only on the loop's own thread (checked with preconditions); the file descriptors and
    // `threadID` are set once (the latter atomically) and only read afterwards.

    /// What a waiter wants to hear about.
    enum Interest {
        case readable
        case readableOrWritable
    }

    private struct Queue: ~Copyable {
        var pending: [UnownedJob] = []
        var sleeping = false
    }

    private let queue = Mutex(Queue())
    private let epollFD: Int32
    private let wakeFD: Int32
    private let threadID = Atomic<UInt>(0)
    private var waiters: [Int32: CheckedContinuation<Void, Never>] = [:]
    private var registered: Set<Int32> = []

    /// The loops every connection of this process shares: one per core, at most four.
    static let shared: [PostgresEventLoop] = (0..<max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))).map {
        PostgresEventLoop(name: "pg-loop-\($0)")
    }
    private static let nextIndex = Atomic<Int>(0)

    /// Loops are handed out round robin.
    static func next() -> PostgresEventLoop {
        let index = nextIndex.add(1, ordering: .relaxed).oldValue
        return shared[index % shared.count]
    }

    private init(name: String) {
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(epollFD >= 0 && wakeFD >= 0, "cannot create epoll or eventfd: errno \(errno)")
        var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(fd: wakeFD))
        precondition(epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &event) == 0, "epoll_ctl on eventfd failed")
        let thread = Thread { [self] in self.run() }
        thread.name = name
        thread.start()
    }

    var isCurrentThread: Bool {
        let owner = threadID.load(ordering: .acquiring)
        return owner != 0 && pthread_equal(owner, pthread_self()) != 0
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        let wake = queue.withLock { queue -> Bool in
            queue.pending.append(unowned)
            defer { queue.sleeping = false }
            return queue.sleeping
        }
        if wake { eventfd_write(wakeFD, 1) }
    }

    /// Suspends the calling connection until `fd` is ready. Runs isolated to the caller, which must be
    /// an actor on this loop, so registering and resuming both happen on the loop's thread.
    func wait(for fd: Int32, _ interest: Interest, isolation: isolated (any Actor) = #isolation) async {
        precondition(isCurrentThread, "a connection waited on a loop it does not run on")
        precondition(waiters[fd] == nil, "two waiters on one socket")
        var events = EPOLLIN.rawValue | EPOLLONESHOT.rawValue
        if case .readableOrWritable = interest { events |= EPOLLOUT.rawValue }
        var event = epoll_event(events: events, data: epoll_data_t(fd: fd))
        let operation = registered.contains(fd) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD
        if epoll_ctl(epollFD, operation, fd, &event) != 0 {
            // The descriptor was closed and reused behind our back, or is new: try the other way.
            let retry = operation == EPOLL_CTL_MOD ? EPOLL_CTL_ADD : EPOLL_CTL_MOD
            if epoll_ctl(epollFD, retry, fd, &event) != 0 {
                // Not pollable at all (closed): report it ready, so libpq finds the error itself.
                return
            }
        }
        registered.insert(fd)
        await withCheckedContinuation(isolation: isolation) { continuation in
            waiters[fd] = continuation
        }
    }

    /// Forgets a socket before libpq closes it.
    func deregister(_ fd: Int32) {
        precondition(isCurrentThread, "deregister off the loop")
        guard fd >= 0, registered.remove(fd) != nil else { return }
        epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
        // A waiter cannot exist here: its connection is the caller, and it is not waiting.
        waiters.removeValue(forKey: fd)?.resume()
    }

    private func run() {
        threadID.store(pthread_self(), ordering: .releasing)
        var batch: [UnownedJob] = []
        let serialExecutor = asUnownedSerialExecutor()
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while true {
            queue.withLock { swap(&batch, &$0.pending) }
            for job in batch {
                job.runSynchronously(on: serialExecutor)
            }
            batch.removeAll(keepingCapacity: true)
            let block = queue.withLock { queue -> Bool in
                if queue.pending.isEmpty {
                    queue.sleeping = true
                    return true
                }
                return false
            }
            let count = epoll_wait(epollFD, &events, Int32(events.count), block ? -1 : 0)
            if block { queue.withLock { $0.sleeping = false } }
            guard count > 0 else { continue }
            for index in 0..<Int(count) {
                let fd = events[index].data.fd
                if fd == wakeFD {
                    var value: eventfd_t = 0
                    eventfd_read(wakeFD, &value)
                } else if let waiter = waiters.removeValue(forKey: fd) {
                    // Resuming enqueues the connection's job on this loop; it runs in the next pass.
                    waiter.resume()
                }
            }
        }
    }
}
