import Foundation
import Logging
import SwitchboardCore

/// Keeps an agent online while their client is alive: every API call and heartbeat (and an open
/// event stream) counts; after `silence` seconds of nothing, an agent still online is set away, so
/// a closed laptop does not keep receiving tickets.
actor APIPresenceWatch {
    private let router: TicketRouter
    private let timers: any RoutingTimers
    private let silence: TimeInterval
    private let logger: Logger
    private var lastSeen: [String: Date] = [:]

    init(router: TicketRouter, timers: any RoutingTimers, silence: TimeInterval, logger: Logger) {
        self.router = router
        self.timers = timers
        self.silence = silence
        self.logger = logger
    }

    /// The agent's client is alive now.
    func touch(_ agentID: String) {
        let now = timers.now
        // Rescheduling on every call would churn the timers: once a second is precise enough.
        if let seen = lastSeen[agentID], now.timeIntervalSince(seen) < 1 { return }
        lastSeen[agentID] = now
        timers.schedule(.apiSilence(agentID: agentID), at: now.addingTimeInterval(silence)) { [weak self] in
            await self?.silent(agentID)
        }
    }

    private func silent(_ agentID: String) async {
        guard let seen = lastSeen[agentID], timers.now.timeIntervalSince(seen) >= silence else { return }
        lastSeen.removeValue(forKey: agentID)
        guard await router.roster.agent(agentID)?.current.presence == .online else { return }
        do {
            _ = try await router.setPresence(agentID, to: .away, actor: "api:silence")
            logger.info("agent set away: their client went silent", metadata: ["agent": "\(agentID)", "silence_seconds": "\(Int(silence))"])
        } catch {
            logger.error("could not set a silent agent away", metadata: ["agent": "\(agentID)", "error": "\(error)"])
        }
    }
}
