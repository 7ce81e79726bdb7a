import Foundation

/// Runs a blocking closure on a new thread and resumes the caller when it returns.
///
/// For rare blocking work (connecting, spawning and waiting for processes, `PQcancel`) that must stay
/// off the cooperative pool and off the event loops.
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
