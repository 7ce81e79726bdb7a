import Synchronization

/// SQL every session of a pool runs before its next use once the setup changed, and after each
/// reconnect: how a leader's sessions come to carry its epoch (issue #21) without reopening them.
/// Set when the role changes, read on every use (a lock and an integer compare).
public final class SessionSetup: Sendable {
    private let state = Mutex<(generation: UInt64, sql: String?)>((0, nil))

    public init() {}

    /// Sessions run `sql` (a statement without parameters) before their next use; nil runs nothing more.
    public func set(_ sql: String?) {
        state.withLock { $0 = ($0.generation &+ 1, sql) }
    }

    var current: (generation: UInt64, sql: String?) { state.withLock { $0 } }
}
