import Foundation

/// What to do after fetching a customer's file from the Graph API failed, from what the failure was.
/// Meta's media ids live 7 days; failed look-ups are not retried for long, because providers report
/// numbers throttled for repeating them.
public struct MediaFetchPolicy: Sendable, Equatable {
    /// The most bytes kept of one file (Meta's largest, a document: 100 MB).
    public var maxBytes: Int
    public var maxAttempts: Int
    /// Waits between attempts: the first, doubling up to the longest.
    public var firstRetry: TimeInterval
    public var longestRetry: TimeInterval
    /// How long fetching pauses when the access token is refused (it needs an operator).
    public var tokenPause: TimeInterval

    public init(maxBytes: Int = 100 * 1024 * 1024, maxAttempts: Int = 8, firstRetry: TimeInterval = 30, longestRetry: TimeInterval = 3600,
                tokenPause: TimeInterval = 300) {
        self.maxBytes = maxBytes
        self.maxAttempts = maxAttempts
        self.firstRetry = firstRetry
        self.longestRetry = longestRetry
        self.tokenPause = tokenPause
    }

    public enum Failure: Sendable, Equatable {
        /// The Graph API answered (or not: `httpStatus` nil) with Meta's error code, if any.
        case graph(httpStatus: Int?, code: Int?, message: String)
        /// The bytes are not the file Meta described.
        case digestDiffers
        /// Larger than `maxBytes`.
        case tooLarge
    }

    public enum Decision: Sendable, Equatable {
        case retry(at: Date)
        case giveUp(String)
        /// The token is refused: this file is tried again after the pause, and so is every other.
        case pauseFetching(until: Date)
    }

    /// After attempt number `attempts` (1 for the first) failed at `now`.
    public func afterFailure(_ failure: Failure, attempts: Int, now: Date) -> Decision {
        switch failure {
        case .digestDiffers:
            return .giveUp("the file's SHA-256 is not the one Meta gave")
        case .tooLarge:
            return .giveUp("the file is larger than \(maxBytes) bytes")
        case .graph(let status, let code, let message):
            if code == 190 || status == 401 { return .pauseFetching(until: now.addingTimeInterval(tokenPause)) }
            let retriable = status == nil || status == 429 || (status ?? 0) >= 500 || code == 131052 || code == 4 || code == 80007
            guard retriable else { return .giveUp("the Graph API refused it: \(message)") }
            guard attempts < maxAttempts else { return .giveUp("gave up after \(attempts) attempts: \(message)") }
            let wait = min(firstRetry * pow(2, Double(attempts - 1)), longestRetry)
            return .retry(at: now.addingTimeInterval(wait))
        }
    }
}
