import Foundation

/// The promises of one SLA policy, as fixed on a ticket when it starts: business-time targets for
/// each clock (nil: not promised), when to warn, and the calendar they count in.
public struct SLATargets: Sendable, Equatable {
    public var firstResponse: TimeInterval?
    public var nextResponse: TimeInterval?
    public var resolution: TimeInterval?
    /// Warn when this fraction of a target has passed (0 < w ≤ 1; 1 warns at the breach itself).
    public var warningFraction: Double
    public var calendar: BusinessCalendar

    public init(firstResponse: TimeInterval? = nil, nextResponse: TimeInterval? = nil, resolution: TimeInterval? = nil,
                warningFraction: Double = 0.8, calendar: BusinessCalendar) {
        precondition(warningFraction > 0 && warningFraction <= 1, "the warning threshold is above 0 and at most 100 % (configuration checks it)")
        self.firstResponse = firstResponse
        self.nextResponse = nextResponse
        self.resolution = resolution
        self.warningFraction = warningFraction
        self.calendar = calendar
    }

    public func target(_ clock: SLAClockKind) -> TimeInterval? {
        switch clock {
        case .firstResponse: return firstResponse
        case .nextResponse: return nextResponse
        case .resolution: return resolution
        }
    }
}

/// The three promises a ticket can carry.
public enum SLAClockKind: String, Sendable, CaseIterable, Hashable, Codable {
    case firstResponse = "first_response"
    case nextResponse = "next_response"
    case resolution
}
