-- 0013: automation (issue #20): automatic messages recorded once per cause, triage menus, CSAT
-- surveys, canned responses; the CSAT rating in the BI views.

SET LOCAL search_path = switchboard;

-- Every automatic message, one per cause. The key is derived from what caused it
-- (`greeting:<ticket>`, `out_of_hours:<ticket>:<closed since>`, `csat:<ticket>`, …): a decision taken
-- again — a second message in the same closed period, the same webhook after a crash — finds the key
-- taken and sends nothing. Written in the transaction that queues the send (or records why not).
CREATE TABLE automation_sends (
    key        text PRIMARY KEY,
    ticket_id  bigint NOT NULL REFERENCES tickets (id),
    -- greeting, out_of_hours, triage_menu, triage_retry, auto_close, csat_survey, csat_thanks
    reason     text NOT NULL,
    -- The configured rule it came from.
    rule       text,
    -- The outbox entry (messages.outbound_id) when it was queued; null when it was not sent.
    outbox_id  uuid,
    -- Why nothing was sent (the window had closed and no template was configured, sending is off).
    skipped    text,
    created_at timestamptz NOT NULL
);
CREATE INDEX automation_sends_by_ticket ON automation_sends (ticket_id);

-- A triage menu sent instead of routing at once: the ticket waits here, in no queue, until the
-- customer chooses, writes something else twice, or the timeout passes.
CREATE TABLE triage_sessions (
    ticket_id  bigint PRIMARY KEY REFERENCES tickets (id),
    rule       text NOT NULL,
    state      text NOT NULL CHECK (state IN ('asking', 'chosen', 'unanswered', 'timed_out')),
    -- How many times the menu was sent (the second time after free text instead of a choice).
    asked      integer NOT NULL CHECK (asked >= 1),
    started_at timestamptz NOT NULL,
    -- When an unanswered menu gives way to the fallback.
    deadline   timestamptz NOT NULL,
    -- The chosen option's id.
    choice     text,
    ended_at   timestamptz,
    CHECK ((state = 'asking') = (ended_at IS NULL)),
    CHECK ((state = 'chosen') = (choice IS NOT NULL))
);
CREATE INDEX triage_sessions_asking ON triage_sessions (deadline) WHERE state = 'asking';

-- One satisfaction survey per ticket, credited to the agent and queue that resolved it.
CREATE TABLE csat_surveys (
    ticket_id     bigint PRIMARY KEY REFERENCES tickets (id),
    agent_id      text,
    queue         text,
    resolved_at   timestamptz NOT NULL,
    auto_resolved boolean NOT NULL,
    -- interactive (a list inside the window) or template (outside it).
    channel       text NOT NULL CHECK (channel IN ('interactive', 'template')),
    sent_at       timestamptz NOT NULL,
    -- After this a reply is a normal message.
    expires_at    timestamptz NOT NULL,
    -- Until when the customer's next message on the resolved ticket is the survey's answer (the
    -- rating, then the comment) rather than a reason to reopen it; null once answered in full.
    open_until    timestamptz,
    rating        smallint CHECK (rating BETWEEN 1 AND 5),
    rated_at      timestamptz,
    comment       text,
    commented_at  timestamptz,
    CHECK ((rating IS NULL) = (rated_at IS NULL)),
    CHECK (comment IS NULL OR rating IS NOT NULL)
);
CREATE INDEX csat_surveys_by_resolved ON csat_surveys (resolved_at);

-- Canned responses: a shortcut agents type (`/refund`), a title, and a body with variables
-- rendered when the reply is sent. Scoped to everyone, a team or a queue.
CREATE TABLE canned_responses (
    id         bigserial PRIMARY KEY,
    shortcut   text NOT NULL CHECK (shortcut ~ '^[a-z0-9][a-z0-9_-]{0,31}$'),
    title      text NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 4096),
    scope      text NOT NULL CHECK (scope IN ('everyone', 'team', 'queue')),
    -- The team or queue; '' for everyone.
    scope_name text NOT NULL DEFAULT '' CHECK ((scope = 'everyone') = (scope_name = '')),
    created_by text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_by text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (shortcut, scope, scope_name)
);

-- BI: the survey's outcome, without the customer's words (BI readers see no message text).
CREATE VIEW bi.csat AS
SELECT t.reference AS ticket,
       s.queue,
       s.agent_id AS agent,
       coalesce(b.display_phone_number, b.phone_number_id) AS business_number,
       s.resolved_at,
       s.auto_resolved,
       s.channel,
       s.sent_at,
       s.expires_at,
       s.rating,
       s.rated_at,
       s.comment IS NOT NULL AS commented
FROM csat_surveys s
JOIN tickets t ON t.id = s.ticket_id
JOIN business_numbers b ON b.phone_number_id = t.business_number;
COMMENT ON VIEW bi.csat IS 'One row per satisfaction survey sent: who it is credited to (the agent and queue that resolved the ticket) and the rating, if the customer gave one before it expired.';
COMMENT ON COLUMN bi.csat.ticket IS 'Ticket reference, e.g. T-1042.';
COMMENT ON COLUMN bi.csat.queue IS 'The queue the ticket was in when it was resolved.';
COMMENT ON COLUMN bi.csat.agent IS 'The agent who resolved it (or held it when it was auto-closed); null if it had none.';
COMMENT ON COLUMN bi.csat.business_number IS 'The business number the survey went out on (display number when known).';
COMMENT ON COLUMN bi.csat.resolved_at IS 'When the ticket was resolved.';
COMMENT ON COLUMN bi.csat.auto_resolved IS 'True when auto-close resolved it (surveys after an auto-close are optional).';
COMMENT ON COLUMN bi.csat.channel IS 'interactive (a 1–5 list inside the 24-hour window) or template (outside it).';
COMMENT ON COLUMN bi.csat.sent_at IS 'When the survey was queued.';
COMMENT ON COLUMN bi.csat.expires_at IS 'After this a reply is kept as a normal message.';
COMMENT ON COLUMN bi.csat.rating IS '1 (bad) to 5 (very good); null when the customer did not answer in time.';
COMMENT ON COLUMN bi.csat.rated_at IS 'When the rating arrived.';
COMMENT ON COLUMN bi.csat.commented IS 'Whether the customer added a comment after rating (its text is not in BI).';

-- The rating beside the SLA outcomes and the ticket (new columns at the end: the views keep theirs).
CREATE OR REPLACE VIEW bi.sla_outcomes AS
SELECT r.id AS record_id, t.reference AS ticket, t.queue, t.priority, p.name AS policy, r.clock, r.outcome,
       r.target_seconds, r.started_at, r.deadline, r.ended_at,
       r.elapsed_business_seconds, r.elapsed_wall_seconds,
       (SELECT s.rating FROM csat_surveys s WHERE s.ticket_id = t.id)::integer AS csat_rating
FROM switchboard.sla_records r
JOIN switchboard.tickets t ON t.id = r.ticket_id
JOIN switchboard.sla_policies p ON p.id = r.policy_id;
COMMENT ON COLUMN bi.sla_outcomes.csat_rating IS 'The ticket''s satisfaction rating (1–5), null when none was given: breaches beside what customers thought.';

-- Ratings per agent and day (the day the rated ticket was resolved) beside their utilization.
CREATE OR REPLACE VIEW bi.agent_utilization_daily AS
WITH spans AS (
    SELECT agent, 'online' AS what, NULL::text AS ticket, NULL::text AS end_reason, NULL::timestamptz AS ended_at,
           tstzrange(started_at, greatest(coalesce(ended_at, now()), started_at)) AS span
    FROM bi.agent_presence_intervals WHERE presence = 'online'
    UNION ALL
    SELECT agent, 'held', ticket, end_reason, ended_at, tstzrange(assigned_at, greatest(coalesce(ended_at, now()), assigned_at))
    FROM bi.agent_ticket_intervals
),
daily AS (
    SELECT s.agent, s.what, s.ticket, s.end_reason, s.ended_at, d::date AS day,
           s.span * tstzrange(d, d + interval '1 day') AS part
    FROM spans s, generate_series(date_trunc('day', lower(s.span)), date_trunc('day', upper(s.span)), interval '1 day') AS d
),
per_day AS (
    SELECT agent, day,
           coalesce(range_agg(part) FILTER (WHERE what = 'online'), '{}') AS online,
           coalesce(range_agg(part) FILTER (WHERE what = 'held'), '{}') AS held,
           count(DISTINCT ticket) FILTER (WHERE what = 'held' AND NOT isempty(part)) AS tickets,
           count(*) FILTER (WHERE what = 'held' AND end_reason = 'resolved' AND ended_at::date = day) AS resolved
    FROM daily
    GROUP BY agent, day
)
SELECT agent, day,
       coalesce((SELECT sum(extract(epoch FROM upper(r) - lower(r))) FROM unnest(online) AS r), 0)::double precision AS online_seconds,
       coalesce((SELECT sum(extract(epoch FROM upper(r) - lower(r))) FROM unnest(online * held) AS r), 0)::double precision AS occupied_seconds,
       tickets::integer AS tickets_handled,
       resolved::integer AS tickets_resolved,
       (SELECT count(*) FROM csat_surveys s WHERE s.agent_id = per_day.agent AND s.resolved_at::date = per_day.day AND s.rating IS NOT NULL)::integer AS csat_ratings,
       (SELECT avg(s.rating) FROM csat_surveys s WHERE s.agent_id = per_day.agent AND s.resolved_at::date = per_day.day)::double precision AS csat_average
FROM per_day
WHERE NOT (isempty(online) AND tickets = 0 AND resolved = 0);
COMMENT ON COLUMN bi.agent_utilization_daily.csat_ratings IS 'Satisfaction ratings given for tickets the agent resolved that day.';
COMMENT ON COLUMN bi.agent_utilization_daily.csat_average IS 'Their mean (1–5); null when none. Weight by csat_ratings when rolling up.';

