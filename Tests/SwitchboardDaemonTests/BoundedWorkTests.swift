import Synchronization
import SwitchboardDaemon
import Testing
import TestSupport

/// Follow-up work a few at a time: never more than the limit at once, every item run, in the
/// order it came, and the tracker idle only once the queue is empty.
@Suite("Bounded follow-up work")
struct BoundedWorkTests {
    /// What the items saw: how many ran at once at most, and the order they started in.
    final class Record: Sendable {
        let state = Mutex((running: 0, most: 0, started: [Int]()))
    }

    @Test func aBurstRunsAtMostTheLimitAtOnceInOrderAndIdleWaitsForAll() async {
        let tracker = WorkTracker()
        let work = BoundedWork(limit: 3, tracker: tracker)
        let record = Record()
        // Each item holds its place until released, so the burst is all queued while three run.
        let release = Gate()
        for index in 0..<50 {
            work.spawn {
                record.state.withLock { state in
                    state.running += 1
                    state.most = max(state.most, state.running)
                    state.started.append(index)
                }
                await release.wait()
                record.state.withLock { $0.running -= 1 }
            }
        }
        // Three runners start and each holds its first item; the other 47 wait their turn.
        while record.state.withLock({ $0.running }) < 3 { await Task.yield() }
        #expect(work.waiting == 47)
        await release.open()
        await tracker.idle()
        let seen = record.state.withLock { $0 }
        #expect(seen.most == 3)
        #expect(seen.running == 0)
        #expect(seen.started.count == 50)
        // Three runners take items from one queue in its order: each starts once, none before an
        // earlier one was taken.
        #expect(Set(seen.started) == Set(0..<50))
        #expect(seen.started.enumerated().allSatisfy { position, index in index <= position + 2 })
        #expect(work.waiting == 0)
    }

    @Test func workQueuedAfterTheQueueEmptiedStartsARunnerOfItsOwn() async {
        let tracker = WorkTracker()
        let work = BoundedWork(limit: 1, tracker: tracker)
        let record = Record()
        work.spawn { record.state.withLock { $0.started.append(1) } }
        await tracker.idle()
        work.spawn { record.state.withLock { $0.started.append(2) } }
        await tracker.idle()
        #expect(record.state.withLock { $0.started } == [1, 2])
    }
}
