import Foundation

/// Slows down guessing passwords: after a few wrong passwords for one handle, or from one address,
/// the next attempt must wait, twice as long after each further failure (up to a ceiling). Failures
/// older than the window are forgotten; a right password clears the handle's count. An address gets
/// more room than a handle: a whole office may sign in from one.
public struct SignInThrottle: Sendable {
    public struct Policy: Sendable, Equatable {
        public var freeFailuresPerHandle: Int
        public var freeFailuresPerAddress: Int
        /// The wait after the first failure past the free ones; doubled after each further one.
        public var firstWait: TimeInterval
        public var longestWait: TimeInterval
        /// Failures this long ago no longer count.
        public var window: TimeInterval

        public init(freeFailuresPerHandle: Int = 5, freeFailuresPerAddress: Int = 20, firstWait: TimeInterval = 30, longestWait: TimeInterval = 900,
                    window: TimeInterval = 900) {
            self.freeFailuresPerHandle = freeFailuresPerHandle
            self.freeFailuresPerAddress = freeFailuresPerAddress
            self.firstWait = firstWait
            self.longestWait = longestWait
            self.window = window
        }
    }

    public enum Decision: Sendable, Equatable {
        case allowed
        /// Refused without looking at the password; try again at `until`.
        case wait(until: Date)
    }

    private enum Key: Hashable {
        case handle(String)
        case address(String)
    }

    private struct Failures {
        var count: Int
        var last: Date
    }

    public let policy: Policy
    private var failures: [Key: Failures] = [:]

    public init(policy: Policy = Policy()) {
        self.policy = policy
    }

    public func decide(handle: String, address: String?, now: Date) -> Decision {
        let waits = [until(.handle(handle.lowercased()), free: policy.freeFailuresPerHandle, now: now),
                     address.flatMap { until(.address($0), free: policy.freeFailuresPerAddress, now: now) }].compactMap { $0 }
        guard let latest = waits.max() else { return .allowed }
        return .wait(until: latest)
    }

    /// An attempt begins: allowed ones are counted as failures at once, before the password is
    /// checked (which takes a good part of a second), so that guesses sent in parallel are counted
    /// as they arrive, not after; `succeeded` takes a right one back.
    public mutating func begin(handle: String, address: String?, now: Date) -> Decision {
        let decision = decide(handle: handle, address: address, now: now)
        if decision == .allowed { failed(handle: handle, address: address, now: now) }
        return decision
    }

    public mutating func failed(handle: String, address: String?, now: Date) {
        if failures.count > 10_000 { failures = failures.filter { now.timeIntervalSince($0.value.last) < policy.window } }
        count(.handle(handle.lowercased()), now: now)
        if let address { count(.address(address), now: now) }
    }

    /// The password was right: the handle's failures are forgotten, and this attempt is no longer
    /// counted against the address.
    public mutating func succeeded(handle: String, address: String?) {
        failures[.handle(handle.lowercased())] = nil
        if let address, var known = failures[.address(address)] {
            known.count -= 1
            failures[.address(address)] = known.count > 0 ? known : nil
        }
    }

    private mutating func count(_ key: Key, now: Date) {
        if let known = failures[key], now.timeIntervalSince(known.last) < policy.window {
            failures[key] = Failures(count: known.count + 1, last: now)
        } else {
            failures[key] = Failures(count: 1, last: now)
        }
    }

    private func until(_ key: Key, free: Int, now: Date) -> Date? {
        guard let known = failures[key], now.timeIntervalSince(known.last) < policy.window, known.count >= free else { return nil }
        let doublings = Double(min(known.count - free, 30))
        let until = known.last.addingTimeInterval(min(policy.firstWait * pow(2, doublings), policy.longestWait))
        return until > now ? until : nil
    }
}
