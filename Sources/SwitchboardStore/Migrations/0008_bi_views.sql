-- 0008: the BI schema's views for dashboards: tickets, message volume, agents' presence, ticket holding
-- and utilization, SLA compliance, queue waits. Every view and column has a COMMENT (docs/bi.md says
-- the same with example queries). No view exposes a message's text, a phone number or a WhatsApp user
-- id: BI readers (role switchboard_bi, deploy/bi-grants.sql) see these views and nothing else.
--
-- Days are calendar days in the reading session's time zone (the TimeZone setting): a BI tool that
-- sets it, or `ALTER ROLE … SET timezone`, gets its own days.

SET LOCAL search_path = switchboard;

-- The time filters of BI queries (created last week, messages of a month).
CREATE INDEX tickets_by_created ON tickets (created_at);
CREATE INDEX messages_by_received ON messages (received_at);

CREATE VIEW bi.tickets AS
SELECT t.reference AS ticket,
       t.customer_id,
       t.queue,
       h.teams[1] AS team,
       t.priority,
       t.status,
       coalesce(b.display_phone_number, b.phone_number_id) AS business_number,
       c.country AS customer_country,
       c.language AS customer_language,
       t.created_at,
       t.first_response_at,
       t.resolved_at,
       extract(epoch FROM t.first_response_at - t.created_at)::double precision AS first_response_wall_seconds,
       fr.elapsed_business_seconds AS first_response_business_seconds,
       extract(epoch FROM t.resolved_at - t.created_at)::double precision AS resolution_wall_seconds,
       rs.elapsed_business_seconds AS resolution_business_seconds,
       fr.outcome AS first_response_sla,
       rs.outcome AS resolution_sla,
       (SELECT count(*) FROM sla_records r WHERE r.ticket_id = t.id AND r.outcome = 'breached')::integer AS sla_breaches,
       coalesce(t.assignee, t.last_assignee) AS assignee,
       t.assignee IS NOT NULL AND t.status <> 'resolved' AS assigned_now,
       t.tags
FROM tickets t
JOIN business_numbers b ON b.phone_number_id = t.business_number
JOIN customers c ON c.id = t.customer_id
LEFT JOIN agents h ON h.id = coalesce(t.assignee, t.last_assignee)
LEFT JOIN LATERAL (SELECT r.outcome, r.elapsed_business_seconds FROM sla_records r
                   WHERE r.ticket_id = t.id AND r.clock = 'first_response' AND r.outcome <> 'cancelled'
                   ORDER BY r.id LIMIT 1) fr ON true
LEFT JOIN LATERAL (SELECT r.outcome, r.elapsed_business_seconds FROM sla_records r
                   WHERE r.ticket_id = t.id AND r.clock = 'resolution' AND r.outcome <> 'cancelled'
                   ORDER BY r.id DESC LIMIT 1) rs ON true;
COMMENT ON VIEW bi.tickets IS 'One row per ticket: where it is, who has it, how fast it was answered and resolved (wall and business time) and how its SLA went.';
COMMENT ON COLUMN bi.tickets.ticket IS 'Ticket reference, e.g. T-1042 (unique).';
COMMENT ON COLUMN bi.tickets.customer_id IS 'Switchboard''s internal number for the customer (not a phone number or WhatsApp id): count distinct customers, find returning ones.';
COMMENT ON COLUMN bi.tickets.queue IS 'The queue the ticket is in now (null before routing placed it).';
COMMENT ON COLUMN bi.tickets.team IS 'The first team of the agent in column assignee (null when nobody had the ticket or the agent has no team).';
COMMENT ON COLUMN bi.tickets.priority IS 'low, normal, high or urgent (now).';
COMMENT ON COLUMN bi.tickets.status IS 'open, pending (waiting on the customer) or resolved.';
COMMENT ON COLUMN bi.tickets.business_number IS 'The WhatsApp Business number the customer wrote to, as Meta displays it (e.g. +34 600 000 000).';
COMMENT ON COLUMN bi.tickets.customer_country IS 'ISO 3166-1 alpha-2 country of the customer''s phone number (null when unknown).';
COMMENT ON COLUMN bi.tickets.customer_language IS 'BCP 47 language classification found (e.g. es, pt-BR; null when unknown).';
COMMENT ON COLUMN bi.tickets.created_at IS 'When the customer''s first message arrived.';
COMMENT ON COLUMN bi.tickets.first_response_at IS 'When the first reply (text, template or media) was sent to the customer; null until then.';
COMMENT ON COLUMN bi.tickets.resolved_at IS 'When the ticket was resolved (the latest time, if it was reopened); null while it is not.';
COMMENT ON COLUMN bi.tickets.first_response_wall_seconds IS 'Seconds from created_at to first_response_at on the wall clock.';
COMMENT ON COLUMN bi.tickets.first_response_business_seconds IS 'The same in business seconds (the SLA policy''s calendar, pending time excluded); null for tickets without an SLA or not yet answered.';
COMMENT ON COLUMN bi.tickets.resolution_wall_seconds IS 'Seconds from created_at to resolved_at on the wall clock (for a reopened ticket, from its first message to its latest resolution).';
COMMENT ON COLUMN bi.tickets.resolution_business_seconds IS 'Business seconds of the latest resolution SLA clock (pending time excluded; for a reopened ticket, counted from the reopening); null without an SLA or before resolution.';
COMMENT ON COLUMN bi.tickets.first_response_sla IS 'met or breached: the first-response SLA''s outcome; null while it runs, without an SLA, or when it was cancelled.';
COMMENT ON COLUMN bi.tickets.resolution_sla IS 'met or breached: the resolution SLA''s latest outcome; null while it runs, without an SLA, or when it was cancelled.';
COMMENT ON COLUMN bi.tickets.sla_breaches IS 'SLA clocks of this ticket that ended breached (first response, next responses, resolution).';
COMMENT ON COLUMN bi.tickets.assignee IS 'The agent who has the ticket, or who last had it (handle, e.g. ana).';
COMMENT ON COLUMN bi.tickets.assigned_now IS 'True while an agent holds the ticket and it is not resolved.';
COMMENT ON COLUMN bi.tickets.tags IS 'Tags on the ticket (from routing rules, SLA actions and agents).';

CREATE VIEW bi.messages_daily AS
SELECT m.received_at::date AS day,
       m.direction,
       m.type,
       t.queue,
       coalesce(b.display_phone_number, b.phone_number_id) AS business_number,
       count(*)::integer AS messages,
       count(DISTINCT m.ticket_id)::integer AS tickets
FROM messages m
JOIN tickets t ON t.id = m.ticket_id
JOIN business_numbers b ON b.phone_number_id = t.business_number
GROUP BY 1, 2, 3, 4, 5;
COMMENT ON VIEW bi.messages_daily IS 'Message counts per day, direction, type, queue and business number.';
COMMENT ON COLUMN bi.messages_daily.day IS 'Calendar day (in the session''s time zone) the message arrived (inbound) or was written (outbound).';
COMMENT ON COLUMN bi.messages_daily.direction IS 'inbound (from the customer) or outbound (to the customer).';
COMMENT ON COLUMN bi.messages_daily.type IS 'WhatsApp message type: text, image, audio, video, document, sticker, location, contacts, interactive, button, reaction, template, …';
COMMENT ON COLUMN bi.messages_daily.queue IS 'The ticket''s queue now.';
COMMENT ON COLUMN bi.messages_daily.business_number IS 'The WhatsApp Business number, as Meta displays it.';
COMMENT ON COLUMN bi.messages_daily.messages IS 'Messages in this group.';
COMMENT ON COLUMN bi.messages_daily.tickets IS 'Distinct tickets these messages belong to.';

CREATE VIEW bi.agent_presence_intervals AS
SELECT agent, presence, started_at, ended_at,
       extract(epoch FROM greatest(coalesce(ended_at, now()), started_at) - started_at)::double precision AS seconds
FROM (SELECT p.agent_id AS agent, p.presence, p.at AS started_at,
             lead(p.at) OVER (PARTITION BY p.agent_id ORDER BY p.at, p.id) AS ended_at
      FROM agent_presence_changes p) i;
COMMENT ON VIEW bi.agent_presence_intervals IS 'One row per stretch of time an agent spent online, away or offline.';
COMMENT ON COLUMN bi.agent_presence_intervals.agent IS 'The agent''s handle, e.g. ana.';
COMMENT ON COLUMN bi.agent_presence_intervals.presence IS 'online, away or offline.';
COMMENT ON COLUMN bi.agent_presence_intervals.started_at IS 'When the agent entered this presence.';
COMMENT ON COLUMN bi.agent_presence_intervals.ended_at IS 'When it changed again; null for the agent''s presence now.';
COMMENT ON COLUMN bi.agent_presence_intervals.seconds IS 'Length in seconds (up to now for the current one).';

CREATE VIEW bi.agent_ticket_intervals AS
SELECT e.data ->> 'agent' AS agent,
       t.reference AS ticket,
       e.data ->> 'queue' AS queue,
       e.at AS assigned_at,
       e.next_at AS ended_at,
       CASE e.next_kind WHEN 'assigned' THEN 'reassigned' WHEN 'status_changed' THEN 'resolved' ELSE e.next_kind END AS end_reason,
       extract(epoch FROM greatest(coalesce(e.next_at, now()), e.at) - e.at)::double precision AS seconds,
       e.actor AS assigned_by
FROM (SELECT ev.ticket_id, ev.id, ev.at, ev.kind, ev.actor, ev.data,
             lead(ev.at) OVER w AS next_at, lead(ev.kind) OVER w AS next_kind
      FROM ticket_events ev
      WHERE ev.kind IN ('assigned', 'unassigned', 'acceptance_missed', 'reopened')
         OR (ev.kind = 'status_changed' AND ev.data ->> 'to' = 'resolved')
      WINDOW w AS (PARTITION BY ev.ticket_id ORDER BY ev.at, ev.id)) e
JOIN tickets t ON t.id = e.ticket_id
WHERE e.kind = 'assigned';
COMMENT ON VIEW bi.agent_ticket_intervals IS 'One row per time an agent held a ticket: from its assignment until it was resolved, reassigned or taken back.';
COMMENT ON COLUMN bi.agent_ticket_intervals.agent IS 'The agent''s handle.';
COMMENT ON COLUMN bi.agent_ticket_intervals.ticket IS 'Ticket reference.';
COMMENT ON COLUMN bi.agent_ticket_intervals.queue IS 'The queue the ticket was assigned from.';
COMMENT ON COLUMN bi.agent_ticket_intervals.assigned_at IS 'When the agent got the ticket.';
COMMENT ON COLUMN bi.agent_ticket_intervals.ended_at IS 'When the agent stopped holding it; null while they still do.';
COMMENT ON COLUMN bi.agent_ticket_intervals.end_reason IS 'resolved, reassigned (to another agent by routing or a supervisor), unassigned (back to the queue: presence grace ran out, by hand, agent removed), acceptance_missed (not answered in time), reopened; null while held.';
COMMENT ON COLUMN bi.agent_ticket_intervals.seconds IS 'How long the agent held it, in wall seconds (up to now while held).';
COMMENT ON COLUMN bi.agent_ticket_intervals.assigned_by IS 'routing; the agent''s own handle (they took it through the API); a supervisor''s handle (assigned through the API); control:<unix user> (assigned on the control socket).';

CREATE VIEW bi.agent_utilization_daily AS
WITH spans AS (
    -- Every stretch online and every ticket held, as ranges (an open one runs until now).
    SELECT agent, 'online' AS what, NULL::text AS ticket, NULL::text AS end_reason, NULL::timestamptz AS ended_at,
           tstzrange(started_at, greatest(coalesce(ended_at, now()), started_at)) AS span
    FROM bi.agent_presence_intervals WHERE presence = 'online'
    UNION ALL
    SELECT agent, 'held', ticket, end_reason, ended_at, tstzrange(assigned_at, greatest(coalesce(ended_at, now()), assigned_at))
    FROM bi.agent_ticket_intervals
),
daily AS (
    -- Cut at the session's midnights (a DST day is 23 or 25 hours long).
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
       resolved::integer AS tickets_resolved
FROM per_day
WHERE NOT (isempty(online) AND tickets = 0 AND resolved = 0);
COMMENT ON VIEW bi.agent_utilization_daily IS 'Per agent and day: time online, time holding at least one ticket, tickets held and resolved.';
COMMENT ON COLUMN bi.agent_utilization_daily.agent IS 'The agent''s handle.';
COMMENT ON COLUMN bi.agent_utilization_daily.day IS 'Calendar day in the session''s time zone.';
COMMENT ON COLUMN bi.agent_utilization_daily.online_seconds IS 'Seconds the agent was online that day.';
COMMENT ON COLUMN bi.agent_utilization_daily.occupied_seconds IS 'Seconds that day the agent was online and held at least one ticket (overlapping tickets count once; tickets kept while away or offline do not count); divided by online_seconds it is utilization, at most 1.';
COMMENT ON COLUMN bi.agent_utilization_daily.tickets_handled IS 'Distinct tickets the agent held at some time that day.';
COMMENT ON COLUMN bi.agent_utilization_daily.tickets_resolved IS 'Tickets resolved that day (session time zone) while the agent held them.';

CREATE VIEW bi.sla_compliance_daily AS
SELECT r.ended_at::date AS day,
       t.queue,
       holder.agent,
       r.clock,
       count(*) FILTER (WHERE r.outcome = 'met')::integer AS met,
       count(*) FILTER (WHERE r.outcome = 'breached')::integer AS breached,
       count(*) FILTER (WHERE r.outcome = 'cancelled')::integer AS cancelled,
       round(100.0 * count(*) FILTER (WHERE r.outcome = 'met') / nullif(count(*) FILTER (WHERE r.outcome <> 'cancelled'), 0), 1)::double precision AS compliance_percent
FROM sla_records r
JOIN tickets t ON t.id = r.ticket_id
-- Who held the ticket when the clock ended: the latest assignment, unassignment or resolution
-- before then (the resolution that ends a resolution clock itself excluded).
LEFT JOIN LATERAL (
    SELECT CASE WHEN e.kind = 'assigned' THEN e.data ->> 'agent' END AS agent
    FROM ticket_events e
    WHERE e.ticket_id = r.ticket_id AND e.at <= r.ended_at
      AND (e.kind IN ('assigned', 'unassigned', 'acceptance_missed')
           OR (e.kind = 'status_changed' AND e.data ->> 'to' = 'resolved' AND e.at < r.ended_at))
    ORDER BY e.at DESC, e.id DESC LIMIT 1
) holder ON true
GROUP BY 1, 2, 3, 4;
COMMENT ON VIEW bi.sla_compliance_daily IS 'SLA clocks that ended, per day, queue, agent and clock: how many met and breached the promise.';
COMMENT ON COLUMN bi.sla_compliance_daily.day IS 'Calendar day (session time zone) the clock ended.';
COMMENT ON COLUMN bi.sla_compliance_daily.queue IS 'The ticket''s queue now.';
COMMENT ON COLUMN bi.sla_compliance_daily.agent IS 'The agent who held the ticket when the clock ended (for a response clock, usually the one who replied); null when it was waiting in a queue.';
COMMENT ON COLUMN bi.sla_compliance_daily.clock IS 'first_response, next_response or resolution.';
COMMENT ON COLUMN bi.sla_compliance_daily.met IS 'Clocks that ended within their target.';
COMMENT ON COLUMN bi.sla_compliance_daily.breached IS 'Clocks that ran past their deadline.';
COMMENT ON COLUMN bi.sla_compliance_daily.cancelled IS 'Clocks that stopped without a verdict (resolved or reopened before a reply was due).';
COMMENT ON COLUMN bi.sla_compliance_daily.compliance_percent IS '100 × met / (met + breached), one decimal; null when neither. Sum met and breached before dividing when rolling up.';

CREATE VIEW bi.queue_waits AS
SELECT t.reference AS ticket,
       e.data ->> 'queue' AS queue,
       t.priority,
       e.at AS assigned_at,
       extract(epoch FROM e.at - coalesce(e.entered_at, t.created_at))::double precision AS waited_seconds,
       e.data ->> 'agent' AS agent,
       CASE WHEN e.actor = 'routing' THEN 'routing' WHEN e.actor = e.data ->> 'agent' THEN 'taken' ELSE 'by hand' END AS how,
       (e.data ->> 'step')::integer AS routing_step
FROM (SELECT ev.ticket_id, ev.at, ev.kind, ev.actor, ev.data,
             lag(ev.at) OVER w AS entered_at, lag(ev.kind) OVER w AS entered_by
      FROM ticket_events ev
      WHERE ev.kind IN ('routed', 'unassigned', 'acceptance_missed', 'assigned')
      WINDOW w AS (PARTITION BY ev.ticket_id ORDER BY ev.at, ev.id)) e
JOIN tickets t ON t.id = e.ticket_id
-- A ticket handed from one agent to another did not wait in a queue.
WHERE e.kind = 'assigned' AND e.entered_by IS DISTINCT FROM 'assigned' AND e.data ->> 'previous' IS NULL;
COMMENT ON VIEW bi.queue_waits IS 'One row per assignment out of a queue (not handovers from agent to agent): how long the ticket had waited for an agent.';
COMMENT ON COLUMN bi.queue_waits.ticket IS 'Ticket reference.';
COMMENT ON COLUMN bi.queue_waits.queue IS 'The queue it waited in.';
COMMENT ON COLUMN bi.queue_waits.priority IS 'The ticket''s priority now.';
COMMENT ON COLUMN bi.queue_waits.assigned_at IS 'When the wait ended with an assignment.';
COMMENT ON COLUMN bi.queue_waits.waited_seconds IS 'Wall seconds from when the ticket entered the queue (routed, or returned to it by an unassignment) to the assignment.';
COMMENT ON COLUMN bi.queue_waits.agent IS 'The agent it was assigned to.';
COMMENT ON COLUMN bi.queue_waits.how IS 'routing (chosen by the queue''s strategy), by hand (a supervisor, through the API or the control socket) or taken (the agent took it through the API).';
COMMENT ON COLUMN bi.queue_waits.routing_step IS 'The queue''s routing step (1 = first, strictest) that matched; null when not assigned by routing.';

CREATE VIEW bi.queue_waiting_now AS
SELECT t.queue,
       count(*)::integer AS tickets_waiting,
       max(extract(epoch FROM now() - coalesce(t.waiting_since, t.created_at)))::double precision AS longest_wait_seconds,
       count(*) FILTER (WHERE t.priority IN ('high', 'urgent'))::integer AS high_or_urgent
FROM tickets t
WHERE t.queue IS NOT NULL AND t.assignee IS NULL AND t.status <> 'resolved'
GROUP BY t.queue;
COMMENT ON VIEW bi.queue_waiting_now IS 'Per queue, the tickets waiting for an agent right now (queues with none are absent).';
COMMENT ON COLUMN bi.queue_waiting_now.queue IS 'The queue.';
COMMENT ON COLUMN bi.queue_waiting_now.tickets_waiting IS 'Tickets in the queue with no agent, not resolved.';
COMMENT ON COLUMN bi.queue_waiting_now.longest_wait_seconds IS 'How long the oldest of them has waited, in wall seconds, counted from when it first waited (a ticket returned to the queue keeps its place and its time).';
COMMENT ON COLUMN bi.queue_waiting_now.high_or_urgent IS 'Of those, tickets with priority high or urgent.';
