-- 0005: SLA policies as fixed on tickets, the clocks of open tickets with their deadlines, the outcome
-- of every clock, and the first documented BI views.

SET LOCAL search_path = switchboard;

-- Every version of an SLA policy that a ticket started under, exactly as it was then: a later change
-- of the configuration makes a new version and applies to new tickets only.
CREATE TABLE sla_policies (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL,
    -- SHA-256 of spec's canonical text: one row per distinct version.
    checksum      text NOT NULL UNIQUE,
    -- Targets (seconds), warning fraction, calendar (zone, week, holidays) and actions.
    spec          jsonb NOT NULL,
    first_seen_at timestamptz NOT NULL DEFAULT now()
);

-- The SLA a ticket runs under.
CREATE TABLE ticket_slas (
    ticket_id         bigint PRIMARY KEY REFERENCES tickets (id),
    policy_id         bigint NOT NULL REFERENCES sla_policies (id),
    -- An agent has replied: the customer's next message starts a next-response clock.
    awaiting_customer boolean NOT NULL DEFAULT false,
    -- The ticket waits on the customer: every clock is paused.
    pending           boolean NOT NULL DEFAULT false,
    started_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);

-- The clocks that are running or paused, with their deadlines as they stand. A clock that ends
-- leaves this table for sla_records.
CREATE TABLE sla_clocks (
    ticket_id           bigint NOT NULL REFERENCES ticket_slas (ticket_id),
    clock               text NOT NULL CHECK (clock IN ('first_response', 'next_response', 'resolution')),
    target_seconds      double precision NOT NULL,
    started_at          timestamptz NOT NULL,
    -- Business seconds counted before running_since (pauses excluded).
    accumulated_seconds double precision NOT NULL DEFAULT 0,
    -- Null while paused.
    running_since       timestamptz,
    -- Business-time moments, computed from the calendar; null while paused.
    warn_at             timestamptz,
    deadline            timestamptz,
    -- When the warning and the breach were acted on (at most once each).
    warned_at           timestamptz,
    breached_at         timestamptz,
    PRIMARY KEY (ticket_id, clock)
);
CREATE INDEX sla_clocks_by_deadline ON sla_clocks (deadline) WHERE breached_at IS NULL;

-- How each clock ended: the BI fact for SLA attainment.
CREATE TABLE sla_records (
    id                       bigserial PRIMARY KEY,
    ticket_id                bigint NOT NULL REFERENCES tickets (id),
    policy_id                bigint NOT NULL REFERENCES sla_policies (id),
    clock                    text NOT NULL CHECK (clock IN ('first_response', 'next_response', 'resolution')),
    outcome                  text NOT NULL CHECK (outcome IN ('met', 'breached', 'cancelled')),
    target_seconds           double precision NOT NULL,
    started_at               timestamptz NOT NULL,
    deadline                 timestamptz NOT NULL,
    ended_at                 timestamptz NOT NULL,
    elapsed_business_seconds double precision NOT NULL,
    elapsed_wall_seconds     double precision NOT NULL
);
CREATE INDEX sla_records_by_ticket ON sla_records (ticket_id);
CREATE INDEX sla_records_by_end ON sla_records (ended_at);

-- BI views: stable names and columns, documented in docs/bi.md.

CREATE VIEW bi.sla_outcomes AS
SELECT r.id AS record_id, t.reference AS ticket, t.queue, t.priority, p.name AS policy, r.clock, r.outcome,
       r.target_seconds, r.started_at, r.deadline, r.ended_at,
       r.elapsed_business_seconds, r.elapsed_wall_seconds
FROM switchboard.sla_records r
JOIN switchboard.tickets t ON t.id = r.ticket_id
JOIN switchboard.sla_policies p ON p.id = r.policy_id;
COMMENT ON VIEW bi.sla_outcomes IS 'One row per SLA clock that ended: met, breached or cancelled (the ticket was resolved or reopened before a reply was due).';
COMMENT ON COLUMN bi.sla_outcomes.record_id IS 'Stable id of the outcome (increasing).';
COMMENT ON COLUMN bi.sla_outcomes.ticket IS 'Ticket reference, e.g. T-1042.';
COMMENT ON COLUMN bi.sla_outcomes.queue IS 'The ticket''s queue now (it may have moved since the clock ran).';
COMMENT ON COLUMN bi.sla_outcomes.priority IS 'The ticket''s priority now.';
COMMENT ON COLUMN bi.sla_outcomes.policy IS 'Name of the SLA policy fixed on the ticket when it started.';
COMMENT ON COLUMN bi.sla_outcomes.clock IS 'first_response, next_response or resolution.';
COMMENT ON COLUMN bi.sla_outcomes.outcome IS 'met, breached or cancelled.';
COMMENT ON COLUMN bi.sla_outcomes.target_seconds IS 'The promise, in business seconds.';
COMMENT ON COLUMN bi.sla_outcomes.started_at IS 'When the clock started.';
COMMENT ON COLUMN bi.sla_outcomes.deadline IS 'The business-time deadline as it stood when the clock ended.';
COMMENT ON COLUMN bi.sla_outcomes.ended_at IS 'When the clock ended (the reply, the resolution, or the cancellation).';
COMMENT ON COLUMN bi.sla_outcomes.elapsed_business_seconds IS 'Business seconds the clock ran, pauses (pending) excluded.';
COMMENT ON COLUMN bi.sla_outcomes.elapsed_wall_seconds IS 'Wall-clock seconds from start to end.';

CREATE VIEW bi.sla_open_clocks AS
SELECT t.reference AS ticket, t.queue, t.priority, t.assignee, p.name AS policy, k.clock, k.target_seconds,
       k.started_at, k.running_since IS NULL AS paused, k.warn_at, k.deadline, k.warned_at, k.breached_at
FROM switchboard.sla_clocks k
JOIN switchboard.ticket_slas s ON s.ticket_id = k.ticket_id
JOIN switchboard.tickets t ON t.id = k.ticket_id
JOIN switchboard.sla_policies p ON p.id = s.policy_id;
COMMENT ON VIEW bi.sla_open_clocks IS 'SLA clocks still running or paused, with their business-time deadlines: what is at risk now.';
COMMENT ON COLUMN bi.sla_open_clocks.ticket IS 'Ticket reference, e.g. T-1042.';
COMMENT ON COLUMN bi.sla_open_clocks.queue IS 'The ticket''s queue.';
COMMENT ON COLUMN bi.sla_open_clocks.priority IS 'The ticket''s priority.';
COMMENT ON COLUMN bi.sla_open_clocks.assignee IS 'The agent who has the ticket (null while it waits).';
COMMENT ON COLUMN bi.sla_open_clocks.policy IS 'Name of the SLA policy fixed on the ticket.';
COMMENT ON COLUMN bi.sla_open_clocks.clock IS 'first_response, next_response or resolution.';
COMMENT ON COLUMN bi.sla_open_clocks.target_seconds IS 'The promise, in business seconds.';
COMMENT ON COLUMN bi.sla_open_clocks.started_at IS 'When the clock started.';
COMMENT ON COLUMN bi.sla_open_clocks.paused IS 'True while the ticket is pending (waiting on the customer).';
COMMENT ON COLUMN bi.sla_open_clocks.warn_at IS 'When the warning falls due, in business time (null while paused).';
COMMENT ON COLUMN bi.sla_open_clocks.deadline IS 'When the promise is broken, in business time (null while paused).';
COMMENT ON COLUMN bi.sla_open_clocks.warned_at IS 'When the warning was acted on.';
COMMENT ON COLUMN bi.sla_open_clocks.breached_at IS 'When the breach was acted on.';
