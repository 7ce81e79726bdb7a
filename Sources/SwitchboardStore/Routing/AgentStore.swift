import Foundation
import Postgres
import SwitchboardCore

/// Agents in PostgreSQL: the ones the configuration declares (synchronised at start and on reload)
/// and the ones the control commands manage, their skills and every presence change.
public struct AgentStore: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Applies the configuration's agents: creates each new one (with the file's presence, else
    /// offline), re-applies an entry the file changed since it was last applied (skills replaced;
    /// presence is live state and stays), and deactivates agents the file no longer declares. An
    /// entry the file did not change is left as the control commands last set it, so a restart
    /// changes nothing. Agents managed through the control commands are left alone. One transaction.
    public func syncConfigured(_ agents: [AgentDefinition], presence: [String: AgentPresence], now: Date) async throws {
        struct Spec: Encodable {
            var name: String, role: String, teams: [String], capacity: Int, skills: [String: Int], queues: [String]
        }
        struct Row: Encodable {
            var id: String, name: String, role: String, teams: [String], capacity: Int, queues: [String], presence: String?, spec: String
        }
        struct Skill: Encodable {
            var agent: String, skill: String, proficiency: Int
        }
        let rows = try agents.map { agent in
            let spec = Spec(name: agent.name, role: agent.role.rawValue, teams: agent.teams, capacity: agent.capacity, skills: agent.skills, queues: agent.queues)
            return Row(id: agent.id, name: agent.name, role: agent.role.rawValue, teams: agent.teams, capacity: agent.capacity, queues: agent.queues,
                       presence: presence[agent.id]?.rawValue, spec: try JSONText.encode(spec))
        }
        try await pool.withTransaction { transaction in
            let applied = try await transaction.query("""
                WITH r AS (SELECT * FROM jsonb_to_recordset($1::jsonb)
                           AS r(id text, name text, role text, teams text[], capacity int, queues text[], presence text, spec text)),
                fresh AS (
                    SELECT r.* FROM r LEFT JOIN switchboard.agents a ON a.id = r.id
                    WHERE a.id IS NULL OR NOT a.active OR NOT a.from_config OR a.config_spec IS DISTINCT FROM r.spec::jsonb
                ),
                upserted AS (
                    INSERT INTO switchboard.agents AS a (id, name, role, teams, capacity, queues, presence, presence_since, from_config, config_spec, active, updated_at)
                    SELECT id, name, role, teams, capacity, queues, coalesce(presence, 'offline'), $2, true, spec::jsonb, true, $2 FROM fresh
                    ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role, teams = EXCLUDED.teams,
                        capacity = EXCLUDED.capacity, queues = EXCLUDED.queues, from_config = true, config_spec = EXCLUDED.config_spec,
                        updated_at = $2, active = true,
                        presence = CASE WHEN a.active THEN a.presence ELSE EXCLUDED.presence END,
                        presence_since = CASE WHEN a.active THEN a.presence_since ELSE $2 END
                    RETURNING a.id, a.presence, (xmax = 0) AS created
                ),
                logged AS (
                    INSERT INTO switchboard.agent_presence_changes (agent_id, presence, at, actor)
                    SELECT id, presence, $2, 'configuration' FROM upserted WHERE created
                )
                SELECT id FROM upserted
                """, [try JSONText.encode(rows), now])
            let ids = try applied.map { try $0.decode(0, as: String.self) }
            let skills = agents.filter { ids.contains($0.id) }.flatMap { agent in agent.skills.map { Skill(agent: agent.id, skill: $0.key, proficiency: $0.value) } }
            _ = try await transaction.pipelineAndCommit([
                PostgresStatement("""
                    UPDATE switchboard.agents SET active = false, presence = 'offline', presence_since = $2, updated_at = $2
                    WHERE from_config AND active AND NOT (id = ANY($1::text[]))
                    """, [agents.map(\.id), now]),
                // A removed agent's web sessions end with them: added again later, they sign in again.
                PostgresStatement("""
                    UPDATE switchboard.web_sessions s SET ended_at = $1, ended_why = 'agent removed'
                    FROM switchboard.agents a WHERE a.id = s.agent_id AND NOT a.active AND s.ended_at IS NULL
                    """, [now]),
                PostgresStatement("DELETE FROM switchboard.agent_skills WHERE agent_id = ANY($1::text[])", [ids]),
                PostgresStatement("""
                    INSERT INTO switchboard.agent_skills (agent_id, skill, proficiency)
                    SELECT agent, skill, proficiency FROM jsonb_to_recordset($1::jsonb) AS s(agent text, skill text, proficiency int)
                    """, [try JSONText.encode(skills)]),
            ])
        }
    }

    /// Creates or updates an agent managed through the control commands (skills replaced). A Unix
    /// user, when given, links the agent to that login (one agent per user); nil keeps the link.
    public func upsert(_ agent: AgentDefinition, unixUser: String? = nil, now: Date) async throws {
        struct Skill: Encodable { var skill: String, proficiency: Int }
        let skills = agent.skills.map { Skill(skill: $0.key, proficiency: $0.value) }
        try await pool.withTransaction { transaction in
            _ = try await transaction.pipelineAndCommit([
                PostgresStatement("""
                    INSERT INTO switchboard.agents (id, name, role, teams, capacity, queues, updated_at, unix_user)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                    ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role, teams = EXCLUDED.teams,
                        capacity = EXCLUDED.capacity, queues = EXCLUDED.queues, active = true, updated_at = EXCLUDED.updated_at,
                        unix_user = coalesce(EXCLUDED.unix_user, agents.unix_user)
                    """, [agent.id, agent.name, agent.role.rawValue, agent.teams, agent.capacity, agent.queues, now, unixUser]),
                PostgresStatement("DELETE FROM switchboard.agent_skills WHERE agent_id = $1", [agent.id]),
                PostgresStatement("""
                    INSERT INTO switchboard.agent_skills (agent_id, skill, proficiency)
                    SELECT $1, skill, proficiency FROM jsonb_to_recordset($2::jsonb) AS s(skill text, proficiency int)
                    """, [agent.id, try JSONText.encode(skills)]),
            ])
        }
    }

    /// Records a presence change. Returns false for an unknown or deactivated agent.
    public func setPresence(_ agentID: String, to presence: AgentPresence, at now: Date, actor: String) async throws -> Bool {
        let rows = try await pool.query("""
            WITH a AS (
                UPDATE switchboard.agents SET presence = $2, presence_since = $3, updated_at = $3
                WHERE id = $1 AND active AND presence <> $2 RETURNING id
            ), logged AS (
                INSERT INTO switchboard.agent_presence_changes (agent_id, presence, at, actor) SELECT id, $2, $3, $4 FROM a
            )
            SELECT (SELECT count(*) FROM a), EXISTS (SELECT 1 FROM switchboard.agents WHERE id = $1 AND active)
            """, [agentID, presence.rawValue, now, actor])
        return try rows.first?.decode(1, as: Bool.self) ?? false
    }

    /// Changes how many tickets an agent holds at once. Returns false for an unknown agent.
    public func setCapacity(_ agentID: String, to capacity: Int, at now: Date) async throws -> Bool {
        precondition((0...1000).contains(capacity), "capacity is 0–1000 (callers check it)")
        let rows = try await pool.query(
            "UPDATE switchboard.agents SET capacity = $2, updated_at = $3 WHERE id = $1 AND active RETURNING id", [agentID, capacity, now])
        return !rows.isEmpty
    }

    /// Drains an agent (no new assignments) or ends the drain. Returns nil for an unknown agent,
    /// else whether anything changed.
    public func setDraining(_ agentID: String, _ draining: Bool, at now: Date) async throws -> Bool? {
        let rows = try await pool.query("""
            WITH a AS (UPDATE switchboard.agents SET draining = $2, updated_at = $3 WHERE id = $1 AND active AND draining <> $2 RETURNING id)
            SELECT (SELECT count(*) FROM a)::int, EXISTS (SELECT 1 FROM switchboard.agents WHERE id = $1 AND active)
            """, [agentID, draining, now])
        guard let row = rows.first, try row.decode(1, as: Bool.self) else { return nil }
        return try row.decode(0, as: Int.self) > 0
    }

    /// Deactivates an agent (someone who left): offline, no longer loaded, history kept. Their open
    /// tickets are the router's to return to the queues. Returns false for an unknown or inactive agent.
    public func deactivate(_ agentID: String, at now: Date, actor: String) async throws -> Bool {
        let rows = try await pool.query("""
            WITH a AS (
                UPDATE switchboard.agents SET active = false, presence = 'offline', presence_since = $2, updated_at = $2
                WHERE id = $1 AND active RETURNING id, presence
            ), logged AS (
                INSERT INTO switchboard.agent_presence_changes (agent_id, presence, at, actor) SELECT id, 'offline', $2, $3 FROM a
            ), signedOut AS (
                -- Their web sessions end with them: added again later, they sign in again.
                UPDATE switchboard.web_sessions s SET ended_at = $2, ended_why = 'agent removed' FROM a WHERE s.agent_id = a.id AND s.ended_at IS NULL
            )
            SELECT id FROM a
            """, [agentID, now, actor])
        return !rows.isEmpty
    }

    /// Every active agent with skills and live fields, by id.
    public func loadActive() async throws -> [StoredAgent] {
        let rows = try await pool.query("""
            SELECT a.id, a.name, a.role, a.teams, a.capacity, a.queues, a.presence, a.presence_since, a.last_assigned_at, a.from_config,
                   a.draining,
                   coalesce((SELECT array_agg(s.skill ORDER BY s.skill) FROM switchboard.agent_skills s WHERE s.agent_id = a.id), '{}'),
                   coalesce((SELECT array_agg(s.proficiency ORDER BY s.skill) FROM switchboard.agent_skills s WHERE s.agent_id = a.id), '{}')
            FROM switchboard.agents a WHERE a.active ORDER BY a.id
            """)
        return try rows.map { row in
            let skillNames = try row.decode(11, as: [String].self)
            let levels = try row.decode(12, as: [Int].self)
            let definition = AgentDefinition(
                id: try row.decode(0), name: try row.decode(1), role: Role(rawValue: try row.decode(2, as: String.self)) ?? .agent,
                teams: try row.decode(3), capacity: try row.decode(4), skills: Dictionary(zip(skillNames, levels), uniquingKeysWith: { a, _ in a }),
                queues: try row.decode(5))
            return StoredAgent(definition: definition, presence: AgentPresence(rawValue: try row.decode(6, as: String.self)) ?? .offline,
                               presenceSince: try row.decode(7), lastAssignedAt: try row.decode(8), fromConfiguration: try row.decode(9),
                               draining: try row.decode(10))
        }
    }
}
