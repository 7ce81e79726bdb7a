import CLibPQ
import Foundation
import Synchronization

/// Cancels the statement running on one connection from any thread (`PQcancel` is thread-safe).
///
/// A cancellation only reaches the statement it was meant for: each statement gets an id, and a cancel
/// for an id that is no longer running does nothing.
final class CancelHandle: Sendable {
    /// A `PGcancel*`. `@unchecked Sendable`: libpq documents `PQcancel` as safe to call from any
    /// thread, and this type only moves the pointer into the mutex, where it is used and freed.
    private struct CancelObject: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private struct State: ~Copyable {
        var cancel: CancelObject?
        var runningStatement: UInt64?
    }

    // The PGcancel pointer is only used and freed while the mutex is held.
    private let state = Mutex(State())

    /// Replaces the cancel object after a (re)connect; nil on close.
    func install(from connection: OpaquePointer?) {
        let fresh = connection.flatMap { PQgetCancel($0) }.map(CancelObject.init)
        state.withLock { state in
            if let old = state.cancel { PQfreeCancel(old.pointer) }
            state.cancel = fresh
        }
    }

    func begin(_ statement: UInt64) {
        state.withLock { $0.runningStatement = statement }
    }

    func end() {
        state.withLock { $0.runningStatement = nil }
    }

    /// Asks the server to cancel `statement` if it is still running. Never blocks the caller: the
    /// request is sent from a new thread.
    func cancel(_ statement: UInt64) {
        let thread = Thread { [self] in
            state.withLock { state in
                guard state.runningStatement == statement, let cancel = state.cancel else { return }
                var buffer = [CChar](repeating: 0, count: 256)
                _ = PQcancel(cancel.pointer, &buffer, Int32(buffer.count))
            }
        }
        thread.name = "pg-cancel"
        thread.start()
    }

    deinit {
        state.withLock { state in
            if let cancel = state.cancel { PQfreeCancel(cancel.pointer) }
        }
    }
}
