import Foundation
import Postgres
import SwitchboardCore
import SwitchboardStore
import Testing
import TestSupport

@Suite("Agents in PostgreSQL: the file's agents, the control commands' agents, presence history")
struct AgentStoreTests {
    let t0 = Date(timeIntervalSince1970: 1_790_000_000)
    let ana = AgentDefinition(id: "ana", name: "Ana", role: .supervisor, teams: ["es"], capacity: 4, skills: ["lang:es": 5], queues: ["support"])

    private func store(_ label: String) async throws -> (AgentStore, PostgresPool) {
        let pool = try await TestDatabase.freshPool(label)
        try await MigrationRunner(pool: pool, migrations: MigrationCatalog.bundled(), logger: TestDatabase.quietLogger).migrate()
        return (AgentStore(pool: pool), pool)
    }

    private func presenceLog(_ pool: PostgresPool) async throws -> [String] {
        try await pool.query("SELECT agent_id || ' ' || presence || ' by ' || actor FROM switchboard.agent_presence_changes ORDER BY id").map { try $0.decode(0) }
    }

    @Test func theFilesAgentsAreCreatedThenLeftAloneUntilTheFileChangesThem() async throws {
        let (agents, pool) = try await store("agents_sync")
        try await agents.syncConfigured([ana], presence: ["ana": .online], now: t0)
        #expect(try await agents.loadActive() == [StoredAgent(definition: ana, presence: .online, presenceSince: t0, lastAssignedAt: nil, fromConfiguration: true)])
        // The control commands change capacity and presence; the same file again changes nothing.
        #expect(try await agents.setCapacity("ana", to: 9, at: t0))
        #expect(try await agents.setPresence("ana", to: .away, at: t0.addingTimeInterval(60), actor: "ana"))
        try await agents.syncConfigured([ana], presence: ["ana": .online], now: t0.addingTimeInterval(120))
        let kept = try #require(try await agents.loadActive().first)
        #expect(kept.definition.capacity == 9)
        #expect(kept.presence == .away)
        // The file changes Ana's skills: her entry is applied again, presence stays.
        var changed = ana
        changed.skills = ["lang:es": 5, "lang:en": 2]
        try await agents.syncConfigured([changed], presence: ["ana": .online], now: t0.addingTimeInterval(180))
        let reapplied = try #require(try await agents.loadActive().first)
        #expect(reapplied.definition == changed)
        #expect(reapplied.presence == .away)
        #expect(try await presenceLog(pool) == ["ana online by configuration", "ana away by ana"])
    }

    @Test func anAgentLeavingTheFileIsDeactivatedNotDeleted() async throws {
        let (agents, pool) = try await store("agents_leave")
        let ben = AgentDefinition(id: "ben", name: "Ben", capacity: 2, queues: ["support"])
        try await agents.syncConfigured([ana, ben], presence: ["ana": .online, "ben": .online], now: t0)
        try await agents.syncConfigured([ben], presence: [:], now: t0.addingTimeInterval(60))
        #expect(try await agents.loadActive().map(\.definition.id) == ["ben"])
        let row = try #require(try await pool.query("SELECT active, presence FROM switchboard.agents WHERE id = 'ana'").first)
        #expect(try row.decode(0, as: Bool.self) == false)
        #expect(try row.decode(1, as: String.self) == "offline")
    }

    @Test func theControlCommandsManageTheirOwnAgents() async throws {
        let (agents, pool) = try await store("agents_control")
        try await agents.upsert(ana, now: t0)
        #expect(try await agents.loadActive().first?.definition == ana)
        #expect(try await agents.loadActive().first?.fromConfiguration == false)
        // The file's sync does not deactivate an agent it never declared.
        try await agents.syncConfigured([], presence: [:], now: t0)
        #expect(try await agents.loadActive().count == 1)
        #expect(try await agents.setPresence("ana", to: .online, at: t0, actor: "admin"))
        #expect(try await agents.deactivate("ana", at: t0.addingTimeInterval(60), actor: "admin"))
        #expect(try await agents.loadActive().isEmpty)
        #expect(try await presenceLog(pool) == ["ana online by admin", "ana offline by admin"])
        // Unknown or inactive agents are refused, and nothing changes.
        #expect(try await agents.setPresence("nobody", to: .online, at: t0, actor: "admin") == false)
        #expect(try await agents.setPresence("ana", to: .online, at: t0, actor: "admin") == false)
        #expect(try await agents.setCapacity("ana", to: 3, at: t0) == false)
        #expect(try await agents.deactivate("ana", at: t0, actor: "admin") == false)
    }
}
