import Synchronization

/// The daemon's live events, fanned out to every subscriber. A subscriber that does not keep up
/// loses its oldest events (the bound below), never slows the daemon down.
public final class EventStream: Sendable {
    private struct State {
        var subscribers: [Int: AsyncStream<DaemonEvent>.Continuation] = [:]
        var next = 0
    }

    private let state = Mutex(State())
    private let bufferPerSubscriber: Int

    public init(bufferPerSubscriber: Int = 1000) {
        precondition(bufferPerSubscriber > 0, "a subscriber keeps at least one event")
        self.bufferPerSubscriber = bufferPerSubscriber
    }

    /// Events published from now on, until the stream is dropped or its task cancelled.
    public func subscribe() -> AsyncStream<DaemonEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: DaemonEvent.self, bufferingPolicy: .bufferingNewest(bufferPerSubscriber))
        let id = state.withLock { state -> Int in
            state.next += 1
            state.subscribers[state.next] = continuation
            return state.next
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    public func publish(_ event: DaemonEvent) {
        let subscribers = state.withLock { Array($0.subscribers.values) }
        for subscriber in subscribers { subscriber.yield(event) }
    }

    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }
}
