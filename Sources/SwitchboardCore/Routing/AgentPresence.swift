/// Whether an agent takes new tickets: only `online` agents do.
public enum AgentPresence: String, Sendable, CaseIterable {
    case online, away, offline
}
