/// The order of delivery statuses: a status only moves forward (sent < delivered < read < played),
/// and failed is final. Statuses arrive out of order and `delivered` can be skipped.
public enum DeliveryProgress {
    /// The rank of a status; nil for a name this build does not know (recorded, never applied).
    public static func rank(_ status: String) -> Int? {
        switch status {
        case "queued": return 0
        case "sent": return 1
        case "delivered": return 2
        case "read": return 3
        case "played": return 4
        case "failed": return 100
        default: return nil
        }
    }

    /// Whether a message whose status is `current` should take `new`.
    public static func advances(from current: String?, to new: String) -> Bool {
        guard let newRank = rank(new) else { return false }
        guard let current, let currentRank = rank(current) else { return true }
        if current == "failed" { return false }
        return newRank > currentRank
    }
}
