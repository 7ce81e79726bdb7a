import Foundation
import Logging
import Postgres
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore

/// `tickets` open tickets written with set-based SQL (`generate_series`), shaped as ingest, routing
/// and the SLA engine write them — the rows the daemon's rebuild reads:
///
/// - the oldest go to agents: every agent up to capacity, a third of them one short (the restart
///   fills those slots), at most a tenth of all tickets; half of them already answered;
/// - 5 % pending (answered, waiting on the customer, their clocks paused), held by agents beyond
///   capacity (`pendingCountsAgainstCapacity` is off);
/// - the newest 0.01 % unrouted (ingest committed them just before the stop);
/// - every other one waits in a queue (1 % of them prefer the agent who helped the customer last).
///
/// Tickets arrived over the last 12 hours; each has its first inbound message (routing reads it) and,
/// once routed, its SLA (first response 8 h, resolution 72 h, 24×7): clocks whose warning or deadline
/// passed are marked as the engine marks them; those falling due while the daemon is down fire at
/// its start.
struct RestartSeed {
    let tickets: Int
    let config: RestartConfig
    /// The moment the seed treats as now.
    let now: Date

    static let span: Double = 12 * 3600
    static let businessNumber = "1122334455"

    struct Counts {
        var assigned = 0, pending = 0, waiting = 0, unrouted = 0
    }

    var counts: Counts {
        var slots = 0
        for agent in 0..<config.agents { slots += config.capacity - (agent % 3 == 0 ? 1 : 0) }
        var counts = Counts()
        counts.unrouted = max(1, tickets / 10_000)
        counts.assigned = min(slots, tickets / 10)
        counts.pending = tickets / 20
        counts.waiting = tickets - counts.assigned - counts.pending - counts.unrouted
        return counts
    }

    func run(pool: PostgresPool, log: (String) -> Void) async throws {
        let configuration = try SwitchboardConfiguration.load(path: config.path)
        // Agents and the policy exactly as the daemon stores them at start.
        try await AgentStore(pool: pool).syncConfigured(configuration.routing.agents, presence: configuration.routing.initialPresence, now: now)
        guard let policyID = try await SLAStore(pool: pool).register(configuration.slaPolicies).first else {
            throw SoakFailure("the benchmark's configuration has no SLA policy")
        }
        let counts = self.counts
        try await pool.query("INSERT INTO switchboard.business_numbers (phone_number_id, display_phone_number) VALUES ($1, '4930123456') ON CONFLICT DO NOTHING",
                             [Self.businessNumber])
        try await pool.withConnection { connection in
            var clock = ContinuousClock.now
            func step(_ what: String, _ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws {
                try await connection.query(sql, parameters)
                log("  \(what): \(format((ContinuousClock.now - clock).seconds, 1)) s")
                clock = .now
            }
            try await connection.query(Self.planTableSQL)
            try await step("plan", Self.planSQL, [tickets, config.agents, config.queues, config.capacity, now, Self.span,
                                                  counts.assigned, counts.pending, counts.unrouted])
            try await step("customers", Self.customersSQL)
            try await step("tickets", Self.ticketsSQL, [Self.businessNumber, now])
            try await step("messages", Self.messagesSQL)
            try await step("SLAs", Self.slasSQL, [policyID, now])
            try await step("SLA clocks", Self.clocksSQL, [RestartConfig.firstResponse, RestartConfig.resolution, RestartConfig.warnFraction, now])
            try await connection.query("DROP TABLE plan")
        }
    }

    /// Marks the warnings and breaches that fell due before `until` as acted on, as the daemon did
    /// while it ran: seeding takes minutes, and what fell due meanwhile would otherwise all fire at
    /// the first start. What falls due after `until` fires at start, as after an outage that long.
    static func catchUp(pool: PostgresPool, until: Date) async throws {
        try await pool.query("""
            UPDATE switchboard.sla_clocks SET warned_at = CASE WHEN warned_at IS NULL AND warn_at <= $1 THEN warn_at ELSE warned_at END,
                                              breached_at = CASE WHEN breached_at IS NULL AND deadline <= $1 THEN deadline ELSE breached_at END
            WHERE (warned_at IS NULL AND warn_at <= $1) OR (breached_at IS NULL AND deadline <= $1)
            """, [until])
    }

    /// One row per ticket: its kind, agent, queue, priority and moments. `g` numbers tickets from the
    /// oldest; customers and tickets are inserted in `g` order into a fresh database, so ids are `g`.
    static let planTableSQL = """
        CREATE TEMP TABLE plan (g bigint PRIMARY KEY, kind text, created_at timestamptz, agent text, queue text, priority text,
                                assigned_at timestamptz, replied boolean)
        """

    static let planSQL = """
        INSERT INTO plan
        WITH slots AS (
            SELECT row_number() OVER (ORDER BY s, a) AS g, a FROM generate_series(0, $2 - 1) a, generate_series(0, $4 - 1) s
            WHERE s < $4 - CASE WHEN a % 3 = 0 THEN 1 ELSE 0 END
        ),
        base AS (
            SELECT g, CASE WHEN g <= $7 THEN 'assigned' WHEN g <= $7 + $8 THEN 'pending' WHEN g <= $1 - $9 THEN 'waiting' ELSE 'unrouted' END AS kind,
                   $5::timestamptz - make_interval(secs => $6 * ($1 - g + 1)::float8 / $1) AS created_at
            FROM generate_series(1, $1::bigint) g
        ),
        placed AS (
            SELECT b.*, CASE b.kind WHEN 'assigned' THEN sl.a WHEN 'pending' THEN b.g % $2
                                    WHEN 'waiting' THEN CASE WHEN b.g % 100 = 0 THEN (b.g / 100) % $2 END END AS agent_index
            FROM base b LEFT JOIN slots sl ON sl.g = b.g AND b.kind = 'assigned'
        )
        SELECT g, kind, created_at,
               CASE WHEN agent_index IS NOT NULL THEN 'agent' || lpad(agent_index::text, 4, '0') END AS agent,
               'q' || lpad((CASE WHEN kind IN ('assigned', 'pending') THEN agent_index % $3 ELSE (g * 7) % $3 END)::text, 2, '0') AS queue,
               CASE WHEN g * 37 % 100 < 5 THEN 'urgent' WHEN g * 37 % 100 < 20 THEN 'high' WHEN g * 37 % 100 < 90 THEN 'normal' ELSE 'low' END AS priority,
               CASE WHEN kind IN ('assigned', 'pending') THEN greatest(created_at + interval '1 minute', $5::timestamptz - make_interval(mins => (g % 240)::int)) END AS assigned_at,
               kind = 'pending' OR (kind = 'assigned' AND g % 2 = 0) AS replied
        FROM placed
        """

    static let customersSQL = """
        INSERT INTO switchboard.customers (wa_id, profile_name, country, language, created_at, updated_at)
        SELECT (49151000000000 + g)::text, 'Customer ' || g, 'DE', CASE WHEN substr(queue, 2)::int % 2 = 0 THEN 'es' ELSE 'en' END, created_at, created_at
        FROM plan ORDER BY g
        """

    /// What ingest writes (customer, number, times, window), then routing (queue, priority, rule,
    /// skills, waiting since, entered), then an assignment, a reply, pending; a ticket back in its
    /// queue keeps its last assignee (sticky) with no assignment time.
    static let ticketsSQL = """
        INSERT INTO switchboard.tickets (customer_id, business_number, status, priority, queue, assignee, created_at, updated_at, first_response_at,
                                         last_inbound_at, last_outbound_at, customer_window_expires_at, routing_rule, required_skills, waiting_since,
                                         queue_entered_at, assigned_at, last_assignee)
        SELECT g, $1, CASE kind WHEN 'pending' THEN 'pending' ELSE 'open' END,
               CASE WHEN kind = 'unrouted' THEN 'normal' ELSE priority END,
               CASE WHEN kind <> 'unrouted' THEN queue END,
               CASE WHEN kind IN ('assigned', 'pending') THEN agent END,
               created_at,
               CASE kind WHEN 'unrouted' THEN created_at WHEN 'waiting' THEN created_at + interval '200 milliseconds' + CASE WHEN agent IS NULL THEN interval '0' ELSE interval '40 minutes' END
                         ELSE CASE WHEN replied THEN assigned_at + interval '3 minutes' ELSE assigned_at END END,
               CASE WHEN replied THEN assigned_at + interval '2 minutes' END,
               created_at, CASE WHEN replied THEN assigned_at + interval '2 minutes' END, created_at + interval '24 hours',
               CASE WHEN kind <> 'unrouted' THEN queue END,
               CASE WHEN kind = 'unrouted' THEN '{}'::jsonb
                    ELSE jsonb_build_object(CASE WHEN substr(queue, 2)::int % 2 = 0 THEN 'lang:es' ELSE 'lang:en' END, 3) END,
               CASE WHEN kind <> 'unrouted' THEN created_at END,
               CASE WHEN kind <> 'unrouted' THEN created_at + interval '200 milliseconds' END,
               assigned_at, agent
        FROM plan ORDER BY g
        """

    /// Each ticket's first message as ingest stores it, and the agent's reply where there was one.
    static let messagesSQL = """
        INSERT INTO switchboard.messages (ticket_id, direction, wamid, outbound_id, type, body, details, payload, provider_sent_at, received_at, status, status_at)
        SELECT g, 'inbound', 'wamid.restart.' || g, NULL, 'text', 'Hello, I need help with my order (' || queue || ')', '{}'::jsonb,
               jsonb_build_object('from', (49151000000000 + g)::text, 'id', 'wamid.restart.' || g, 'timestamp', extract(epoch FROM created_at)::bigint::text,
                                  'type', 'text', 'text', jsonb_build_object('body', 'Hello, I need help with my order (' || queue || ')')),
               date_trunc('second', created_at), created_at, NULL, NULL
        FROM plan
        UNION ALL
        SELECT g, 'outbound', 'wamid.restart.reply.' || g, gen_random_uuid(), 'text', 'Thanks for writing, let me check that for you.', '{}'::jsonb,
               NULL, NULL, assigned_at + interval '2 minutes', 'read', assigned_at + interval '150 seconds'
        FROM plan WHERE replied
        ORDER BY 1, 2
        """

    /// The SLA each routed ticket runs under: answered ones await the customer, pending ones are paused.
    static let slasSQL = """
        INSERT INTO switchboard.ticket_slas (ticket_id, policy_id, awaiting_customer, pending, started_at, updated_at)
        SELECT g, $1, replied, kind = 'pending', created_at,
               CASE WHEN replied THEN assigned_at + interval '2 minutes' + CASE WHEN kind = 'pending' THEN interval '1 minute' ELSE interval '0' END
                    ELSE created_at END
        FROM plan WHERE kind <> 'unrouted' ORDER BY g
        """

    /// First response (until the reply) and resolution clocks, with the engine's warning and deadline
    /// moments; a paused clock keeps its accumulated seconds and no moments.
    static let clocksSQL = """
        INSERT INTO switchboard.sla_clocks (ticket_id, clock, target_seconds, started_at, accumulated_seconds, running_since, warn_at, deadline, warned_at, breached_at)
        SELECT g, 'first_response', $1::float8, created_at, 0, created_at, created_at + make_interval(secs => $1 * $3), created_at + make_interval(secs => $1),
               CASE WHEN created_at + make_interval(secs => $1 * $3) <= $4 THEN created_at + make_interval(secs => $1 * $3) END,
               CASE WHEN created_at + make_interval(secs => $1) <= $4 THEN created_at + make_interval(secs => $1) END
        FROM plan WHERE kind <> 'unrouted' AND NOT replied
        UNION ALL
        SELECT g, 'resolution', $2::float8, created_at,
               CASE WHEN kind = 'pending' THEN extract(epoch FROM assigned_at + interval '3 minutes' - created_at) ELSE 0 END,
               CASE WHEN kind = 'pending' THEN NULL ELSE created_at END,
               CASE WHEN kind = 'pending' THEN NULL ELSE created_at + make_interval(secs => $2 * $3) END,
               CASE WHEN kind = 'pending' THEN NULL ELSE created_at + make_interval(secs => $2) END, NULL, NULL
        FROM plan WHERE kind <> 'unrouted'
        ORDER BY 1, 2
        """
}
