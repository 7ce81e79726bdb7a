import Foundation
import SwitchboardCore
import SwitchboardDaemon
import Testing

@Suite("Agent roster: which agents a queue's round asks")
struct AgentRosterTests {
    func agent(_ id: String) -> AgentActor {
        AgentActor(state: AgentState(definition: AgentDefinition(id: id, name: id, capacity: 2, queues: []), presence: .online,
                                     presenceSince: Date(timeIntervalSince1970: 0)))
    }

    func serving(_ roster: AgentRoster, _ queue: String) -> [String] { roster.agents(serving: queue).map(\.id) }

    @Test func aQueueSeesItsAgentsInIdOrderAsTheyJoinMoveAndLeave() {
        let roster = AgentRoster()
        roster.set(agent("carol"), queues: ["billing", "sales"])
        roster.set(agent("ana"), queues: ["billing"])
        roster.set(agent("ben"), queues: ["sales"])
        #expect(serving(roster, "billing") == ["ana", "carol"])
        #expect(serving(roster, "sales") == ["ben", "carol"])
        #expect(serving(roster, "vip").isEmpty)

        // carol leaves billing for vip: billing loses her, vip gains her, sales keeps her.
        roster.set(agent("carol"), queues: ["sales", "vip"])
        #expect(serving(roster, "billing") == ["ana"])
        #expect(serving(roster, "sales") == ["ben", "carol"])
        #expect(serving(roster, "vip") == ["carol"])
        #expect(roster.queues(of: "carol") == ["sales", "vip"])

        roster.remove("carol")
        roster.remove("nobody")
        #expect(serving(roster, "sales") == ["ben"])
        #expect(serving(roster, "vip").isEmpty)
        #expect(roster.agent("carol") == nil)
        #expect(roster.all.map(\.id) == ["ana", "ben"])
    }
}
