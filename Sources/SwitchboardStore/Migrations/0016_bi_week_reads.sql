-- 0016: BI views that read the days asked about, not the whole history (issue #22). Same names, columns,
-- types and rows as before (Tests/SwitchboardStoreTests/BIViewsBeforeAfterTests.swift compares them
-- with the definitions of 0008 and 0013). Before, the views numbered every ticket's events with
-- window functions or cut every stretch of time into days, and a filter on the day or time a BI query
-- gave could not reach below them: "the last 7 days" read the whole history.
--
-- How a filter on a day reaches the tables: a view with a `day` column is a list of calendar days
-- (a few hundred rows) joined to what happened on each one, looked up by an index on the time. The
-- filter applies to the list; each day left reads its own rows. Days belong to the reading
-- session's time zone, so a day's rows are fetched from a span that holds every zone's version of
-- that date (UTC offsets stay within ±16 hours: [day 00:00 UTC − 16 h, day + 1 00:00 UTC + 16 h))
-- and then kept only if their own `::date` is the day: exact in every zone, no index on a date.
-- The list of days is an array (`unnest(ARRAY(…))`), which the planner counts as 10 rows, so the
-- plans stay small enough that no query pays for JIT compilation.
--
-- Which agent held a ticket over time is kept in a table, switchboard.ticket_holds, that a trigger
-- on ticket_events maintains in the same transaction as the events (no service, nothing to refresh:
-- exact, including events that arrive out of order). bi.agent_utilization_daily finds the holds
-- that overlap a day through a GiST index instead of cutting every hold of the history into days.
-- One difference from 0013, on purpose: 0013 stepped each stretch's days from its first midnight,
-- so in a zone whose DST starts at midnight (America/Havana, Asia/Beirut, Atlantic/Azores…) a
-- stretch that crossed that night had its later days begin at 01:00 and lost the day it ended on;
-- here every day runs from its own midnight, as docs/bi.md says. Elsewhere the rows are the same.

SET LOCAL search_path = switchboard;

-- The events that say who holds a ticket or that it entered a queue, by ticket in time order: the
-- next or previous one is one index probe (bi.agent_ticket_intervals, bi.queue_waits,
-- bi.sla_compliance_daily, the trigger below). Partial: a message's or a reply's events add no entry.
CREATE INDEX ticket_events_holding ON ticket_events (ticket_id, at, id) INCLUDE (kind)
    WHERE kind IN ('routed', 'assigned', 'unassigned', 'acceptance_missed', 'reopened')
       OR (kind = 'status_changed' AND data ->> 'to' = 'resolved');

-- Satisfaction per agent and day (bi.agent_utilization_daily's csat columns).
CREATE INDEX csat_surveys_by_agent ON csat_surveys (agent_id, resolved_at);

-- One row per assignment: from the `assigned` event until the ticket's next assignment,
-- unassignment, missed acceptance, reopening or resolution (ended_at null while held). Exactly the
-- holds bi.agent_ticket_intervals shows, kept by the trigger below; not an interface.
CREATE TABLE ticket_holds (
    ticket_id     bigint NOT NULL,
    -- The `assigned` event (ticket_events.id).
    assignment_id bigint NOT NULL,
    agent         text,
    assigned_at   timestamptz NOT NULL,
    ended_at      timestamptz,
    -- As bi.agent_ticket_intervals.end_reason: resolved, reassigned, unassigned, acceptance_missed, reopened.
    end_reason    text,
    PRIMARY KEY (ticket_id, assignment_id)
);
COMMENT ON TABLE ticket_holds IS 'Who held each ticket when: one row per assigned event until the next holding event of the ticket. Kept by triggers on ticket_events (migration 0016) for bi.agent_utilization_daily.';
-- Holds that ended, by the time they cover (which overlap a day).
CREATE INDEX ticket_holds_ended ON ticket_holds USING gist (tstzrange(assigned_at, ended_at, '[]')) WHERE ended_at IS NOT NULL;
-- Holds still running, by when they began.
CREATE INDEX ticket_holds_running ON ticket_holds (assigned_at) INCLUDE (agent) WHERE ended_at IS NULL;

-- A ticket's holds from its events, all of them (after an event arrived out of order, was changed or
-- deleted). The ticket's row lock orders the writers of one ticket's events.
--
-- Both functions look rows up by key. PL/pgSQL keeps a statement's plan for the session, and a plan
-- made while ticket_holds was nearly empty (a new database) would scan it, for every event, as it
-- grows: enable_seqscan = off keeps them on their indexes whatever the statistics said then.
CREATE FUNCTION ticket_holds_rebuild(ticket bigint) RETURNS void LANGUAGE plpgsql SET enable_seqscan = off AS $$
BEGIN
    PERFORM 1 FROM switchboard.tickets WHERE id = ticket FOR NO KEY UPDATE;
    DELETE FROM switchboard.ticket_holds WHERE ticket_id = ticket;
    INSERT INTO switchboard.ticket_holds (ticket_id, assignment_id, agent, assigned_at, ended_at, end_reason)
    SELECT e.ticket_id, e.id, e.data ->> 'agent', e.at, e.next_at,
           CASE e.next_kind WHEN 'assigned' THEN 'reassigned' WHEN 'status_changed' THEN 'resolved' ELSE e.next_kind END
    FROM (SELECT ev.id, ev.ticket_id, ev.at, ev.kind, ev.data,
                 lead(ev.at) OVER w AS next_at, lead(ev.kind) OVER w AS next_kind
          FROM switchboard.ticket_events ev
          WHERE ev.ticket_id = ticket
            AND (ev.kind IN ('assigned', 'unassigned', 'acceptance_missed', 'reopened')
                 OR (ev.kind = 'status_changed' AND ev.data ->> 'to' = 'resolved'))
          WINDOW w AS (ORDER BY ev.at, ev.id)) e
    WHERE e.kind = 'assigned';
END
$$;

-- A holding event was written: usually the ticket's latest, which ends the hold of the one before
-- it and, for an assignment, starts the next. One that belongs before a later holding event of the
-- ticket (written late, or by the same statement) rebuilds the ticket's holds. The lock comes first,
-- so a writer waiting for another one's transaction sees its events when it looks.
CREATE FUNCTION ticket_holds_follow() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
    out_of_order boolean;
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM 1 FROM switchboard.tickets WHERE id = NEW.ticket_id FOR NO KEY UPDATE;
        WITH later AS (
            SELECT EXISTS (SELECT 1 FROM switchboard.ticket_events e
                           WHERE e.ticket_id = NEW.ticket_id AND (e.at, e.id) > (NEW.at, NEW.id)
                             AND (e.kind IN ('assigned', 'unassigned', 'acceptance_missed', 'reopened')
                                  OR (e.kind = 'status_changed' AND e.data ->> 'to' = 'resolved'))) AS exists_later
        ),
        -- The ticket's holding event before this one: its hold, if an assignment, ends here (found by
        -- its key, whatever the table's statistics say).
        previous AS (
            SELECT e.id, e.kind FROM switchboard.ticket_events e
            WHERE e.ticket_id = NEW.ticket_id AND (e.at, e.id) < (NEW.at, NEW.id)
              AND (e.kind IN ('assigned', 'unassigned', 'acceptance_missed', 'reopened')
                   OR (e.kind = 'status_changed' AND e.data ->> 'to' = 'resolved'))
            ORDER BY e.at DESC, e.id DESC LIMIT 1
        ),
        ended AS (
            UPDATE switchboard.ticket_holds h
            SET ended_at = NEW.at,
                end_reason = CASE NEW.kind WHEN 'assigned' THEN 'reassigned' WHEN 'status_changed' THEN 'resolved' ELSE NEW.kind END
            FROM previous p
            WHERE h.ticket_id = NEW.ticket_id AND h.assignment_id = p.id AND p.kind = 'assigned'
              AND NOT (SELECT exists_later FROM later)
              -- (A rebuild earlier in the same statement may have written it already.)
              AND h.ended_at IS DISTINCT FROM NEW.at
        ),
        started AS (
            INSERT INTO switchboard.ticket_holds (ticket_id, assignment_id, agent, assigned_at)
            SELECT NEW.ticket_id, NEW.id, NEW.data ->> 'agent', NEW.at
            WHERE NEW.kind = 'assigned' AND NOT (SELECT exists_later FROM later)
            ON CONFLICT (ticket_id, assignment_id) DO NOTHING
        )
        SELECT exists_later INTO out_of_order FROM later;
        IF out_of_order THEN
            PERFORM switchboard.ticket_holds_rebuild(NEW.ticket_id);
        END IF;
    ELSE
        PERFORM switchboard.ticket_holds_rebuild(OLD.ticket_id);
        IF TG_OP = 'UPDATE' AND NEW.ticket_id <> OLD.ticket_id THEN
            PERFORM switchboard.ticket_holds_rebuild(NEW.ticket_id);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION ticket_holds_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE switchboard.ticket_holds;
    RETURN NULL;
END
$$;

-- Only holding events fire it: a message's events cost nothing more.
CREATE TRIGGER ticket_holds_on_insert AFTER INSERT ON ticket_events FOR EACH ROW
    WHEN (NEW.kind IN ('assigned', 'unassigned', 'acceptance_missed', 'reopened')
          OR (NEW.kind = 'status_changed' AND NEW.data ->> 'to' = 'resolved'))
    EXECUTE FUNCTION ticket_holds_follow();
-- Events are never changed or deleted by Switchboard; by hand, the holds follow all the same.
CREATE TRIGGER ticket_holds_on_update AFTER UPDATE ON ticket_events FOR EACH ROW
    WHEN (OLD.kind IN ('assigned', 'unassigned', 'acceptance_missed', 'reopened')
          OR (OLD.kind = 'status_changed' AND OLD.data ->> 'to' = 'resolved')
          OR NEW.kind IN ('assigned', 'unassigned', 'acceptance_missed', 'reopened')
          OR (NEW.kind = 'status_changed' AND NEW.data ->> 'to' = 'resolved'))
    EXECUTE FUNCTION ticket_holds_follow();
CREATE TRIGGER ticket_holds_on_delete AFTER DELETE ON ticket_events FOR EACH ROW
    WHEN (OLD.kind IN ('assigned', 'unassigned', 'acceptance_missed', 'reopened')
          OR (OLD.kind = 'status_changed' AND OLD.data ->> 'to' = 'resolved'))
    EXECUTE FUNCTION ticket_holds_follow();
CREATE TRIGGER ticket_holds_on_truncate AFTER TRUNCATE ON ticket_events FOR EACH STATEMENT
    EXECUTE FUNCTION ticket_holds_truncate();

-- The holds of the history so far.
INSERT INTO ticket_holds (ticket_id, assignment_id, agent, assigned_at, ended_at, end_reason)
SELECT e.ticket_id, e.id, e.data ->> 'agent', e.at, e.next_at,
       CASE e.next_kind WHEN 'assigned' THEN 'reassigned' WHEN 'status_changed' THEN 'resolved' ELSE e.next_kind END
FROM (SELECT ev.id, ev.ticket_id, ev.at, ev.kind, ev.data,
             lead(ev.at) OVER w AS next_at, lead(ev.kind) OVER w AS next_kind
      FROM ticket_events ev
      WHERE ev.kind IN ('assigned', 'unassigned', 'acceptance_missed', 'reopened')
         OR (ev.kind = 'status_changed' AND ev.data ->> 'to' = 'resolved')
      WINDOW w AS (PARTITION BY ev.ticket_id ORDER BY ev.at, ev.id)) e
WHERE e.kind = 'assigned';
ANALYZE ticket_holds;

-- bi.tickets: the SLA figures are looked up only when a query names them, and the business number's
-- and customer's rows only when it reads their columns (outer joins to their primary keys, which the
-- foreign keys make the same rows as the inner joins of 0008). "New tickets by hour" reads tickets.
CREATE OR REPLACE VIEW bi.tickets AS
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
       (SELECT r.elapsed_business_seconds FROM sla_records r
        WHERE r.ticket_id = t.id AND r.clock = 'first_response' AND r.outcome <> 'cancelled'
        ORDER BY r.id LIMIT 1) AS first_response_business_seconds,
       extract(epoch FROM t.resolved_at - t.created_at)::double precision AS resolution_wall_seconds,
       (SELECT r.elapsed_business_seconds FROM sla_records r
        WHERE r.ticket_id = t.id AND r.clock = 'resolution' AND r.outcome <> 'cancelled'
        ORDER BY r.id DESC LIMIT 1) AS resolution_business_seconds,
       (SELECT r.outcome FROM sla_records r
        WHERE r.ticket_id = t.id AND r.clock = 'first_response' AND r.outcome <> 'cancelled'
        ORDER BY r.id LIMIT 1) AS first_response_sla,
       (SELECT r.outcome FROM sla_records r
        WHERE r.ticket_id = t.id AND r.clock = 'resolution' AND r.outcome <> 'cancelled'
        ORDER BY r.id DESC LIMIT 1) AS resolution_sla,
       (SELECT count(*) FROM sla_records r WHERE r.ticket_id = t.id AND r.outcome = 'breached')::integer AS sla_breaches,
       coalesce(t.assignee, t.last_assignee) AS assignee,
       t.assignee IS NOT NULL AND t.status <> 'resolved' AS assigned_now,
       t.tags
FROM tickets t
LEFT JOIN business_numbers b ON b.phone_number_id = t.business_number
LEFT JOIN customers c ON c.id = t.customer_id
LEFT JOIN agents h ON h.id = coalesce(t.assignee, t.last_assignee);

-- bi.messages_daily: per day, that day's messages (by received_at), counted per ticket (in ticket
-- order: their rows are looked up in turn), then per queue and number.
CREATE OR REPLACE VIEW bi.messages_daily AS
SELECT d.day, m.direction, m.type, m.queue, m.business_number, m.messages, m.tickets
FROM (SELECT g::date AS day, g AT TIME ZONE 'UTC' - interval '16 hours' AS near_from, g AT TIME ZONE 'UTC' + interval '40 hours' AS near_until
      FROM unnest(ARRAY(SELECT generate_series((min(received_at)::date - 1)::timestamp, (max(received_at)::date + 1)::timestamp, interval '1 day') FROM messages)) AS g) d
CROSS JOIN LATERAL (
    SELECT c.direction, c.type, t.queue, coalesce(b.display_phone_number, b.phone_number_id) AS business_number,
           sum(c.messages)::integer AS messages, count(*)::integer AS tickets
    FROM (SELECT m.ticket_id, m.direction, m.type, count(*) AS messages
          FROM messages m
          WHERE m.received_at >= d.near_from AND m.received_at < d.near_until AND m.received_at::date = d.day
          GROUP BY m.ticket_id, m.direction, m.type) c
    JOIN tickets t ON t.id = c.ticket_id
    JOIN business_numbers b ON b.phone_number_id = t.business_number
    GROUP BY 1, 2, 3, 4
) m;

-- bi.agent_ticket_intervals: each assignment and the ticket's next holding event, one index probe.
CREATE OR REPLACE VIEW bi.agent_ticket_intervals AS
SELECT e.data ->> 'agent' AS agent,
       t.reference AS ticket,
       e.data ->> 'queue' AS queue,
       e.at AS assigned_at,
       n.at AS ended_at,
       CASE n.kind WHEN 'assigned' THEN 'reassigned' WHEN 'status_changed' THEN 'resolved' ELSE n.kind END AS end_reason,
       extract(epoch FROM greatest(coalesce(n.at, now()), e.at) - e.at)::double precision AS seconds,
       e.actor AS assigned_by
FROM ticket_events e
JOIN tickets t ON t.id = e.ticket_id
LEFT JOIN LATERAL (
    SELECT n.at, n.kind FROM ticket_events n
    WHERE n.ticket_id = e.ticket_id AND (n.at, n.id) > (e.at, e.id)
      AND (n.kind IN ('assigned', 'unassigned', 'acceptance_missed', 'reopened')
           OR (n.kind = 'status_changed' AND n.data ->> 'to' = 'resolved'))
    ORDER BY n.at, n.id LIMIT 1
) n ON true
WHERE e.kind = 'assigned';

-- bi.agent_utilization_daily: per day, the stretches online and the holds that touch it, cut at the
-- day's midnights as in 0013. A hold that was still running before the day began and still is
-- covers the day until now: those are counted per agent, not cut one by one.
CREATE OR REPLACE VIEW bi.agent_utilization_daily AS
WITH days AS (
    SELECT g.day, g.starts,
           g.day::timestamp AT TIME ZONE 'UTC' - interval '16 hours' AS near_from,
           g.day::timestamp AT TIME ZONE 'UTC' + interval '40 hours' AS near_until
    FROM (SELECT s::date AS day, s::date::timestamptz AS starts
          FROM unnest(ARRAY(
              SELECT generate_series(
                  (least((SELECT min(at) FROM ticket_events),
                        (SELECT min(f.at) FROM agents a CROSS JOIN LATERAL (SELECT min(c.at) AS at FROM agent_presence_changes c WHERE c.agent_id = a.id) f)
                  )::date - 1)::timestamp,
                  (greatest(now(), (SELECT max(at) FROM ticket_events),
                           (SELECT max(l.at) FROM agents a CROSS JOIN LATERAL (SELECT max(c.at) AS at FROM agent_presence_changes c WHERE c.agent_id = a.id) l)
                  )::date + 1)::timestamp,
                  interval '1 day'))) AS s) g
    -- A date the session's zone skipped (Samoa's 2011-12-30) has no midnight of its own.
    WHERE g.starts::date = g.day
),
running AS MATERIALIZED (
    SELECT agent, count(*) AS holds FROM ticket_holds WHERE ended_at IS NULL GROUP BY agent
),
per_day AS (
    SELECT a.agent, d.day, d.near_from, d.near_until, a.online, a.held, a.tickets, a.resolved
    FROM days d
    CROSS JOIN LATERAL (
      SELECT x.agent,
             coalesce(range_agg(x.part) FILTER (WHERE x.what = 'online'), '{}') AS online,
             coalesce(range_agg(x.part) FILTER (WHERE x.what = 'held'), '{}') AS held,
             count(DISTINCT x.ticket_id) FILTER (WHERE x.what = 'held' AND NOT isempty(x.part))
               + coalesce(sum(x.running) FILTER (WHERE NOT isempty(x.part)), 0) AS tickets,
             count(*) FILTER (WHERE x.what = 'held' AND x.end_reason = 'resolved' AND x.ended_at::date = d.day) AS resolved
      FROM (
        -- Stretches and holds near the day, kept if 0013 cut them into this day (the day's midnight
        -- lies between the midnights of their start and end days), and their part of the day.
        SELECT s.agent, s.what, s.ticket_id, s.end_reason, s.ended_at, NULL::bigint AS running,
               tstzrange(s.started_at, s.until) * tstzrange(d.starts, d.starts + interval '1 day') AS part
        FROM (
            -- Online: the agent's presence before the day and every change near it.
            SELECT p.agent_id AS agent, 'online' AS what, NULL::bigint AS ticket_id, NULL::text AS end_reason,
                   NULL::timestamptz AS ended_at, p.at AS started_at, greatest(coalesce(nx.at, now()), p.at) AS until
            FROM agents a
            CROSS JOIN LATERAL (
                (SELECT c.id, c.at, c.presence, c.agent_id FROM agent_presence_changes c
                 WHERE c.agent_id = a.id AND c.at < d.near_from ORDER BY c.at DESC, c.id DESC LIMIT 1)
                UNION ALL
                SELECT c.id, c.at, c.presence, c.agent_id FROM agent_presence_changes c
                WHERE c.agent_id = a.id AND c.at >= d.near_from AND c.at < d.near_until
            ) p
            LEFT JOIN LATERAL (
                SELECT n.at FROM agent_presence_changes n
                WHERE n.agent_id = p.agent_id AND (n.at, n.id) > (p.at, p.id)
                ORDER BY n.at, n.id LIMIT 1
            ) nx ON true
            WHERE p.presence = 'online'
            UNION ALL
            -- Holds that ended, overlapping the day's neighbourhood.
            SELECT h.agent, 'held', h.ticket_id, h.end_reason, h.ended_at, h.assigned_at, greatest(h.ended_at, h.assigned_at)
            FROM ticket_holds h
            WHERE h.ended_at IS NOT NULL AND tstzrange(h.assigned_at, h.ended_at, '[]') && tstzrange(d.near_from, d.near_until)
            UNION ALL
            -- Holds still running that began near the day or after it.
            SELECT h.agent, 'held', h.ticket_id, NULL, NULL, h.assigned_at, greatest(now(), h.assigned_at)
            FROM ticket_holds h
            WHERE h.ended_at IS NULL AND h.assigned_at >= d.near_from
        ) s
        -- (A stretch of no time at all is an empty range, which 0013 cut into no day.)
        WHERE s.until > s.started_at AND date_trunc('day', s.started_at) <= d.starts AND d.starts <= date_trunc('day', s.until)
        UNION ALL
        -- Holds still running that began before the day's neighbourhood: the day until now, once per
        -- agent, and one ticket each.
        SELECT r.agent, 'held', NULL, NULL, NULL, r.holds - coalesce(recent.holds, 0),
               tstzrange(d.starts, least(now(), d.starts + interval '1 day'))
        FROM running r
        LEFT JOIN (
            SELECT h.agent, count(*) AS holds FROM ticket_holds h
            WHERE h.ended_at IS NULL AND h.assigned_at >= d.near_from
            GROUP BY h.agent
        ) recent ON recent.agent IS NOT DISTINCT FROM r.agent
        WHERE r.holds > coalesce(recent.holds, 0) AND d.starts <= date_trunc('day', now())
      ) x
      GROUP BY x.agent
    ) a
)
SELECT agent, day,
       coalesce((SELECT sum(extract(epoch FROM upper(r) - lower(r))) FROM unnest(online) AS r), 0)::double precision AS online_seconds,
       coalesce((SELECT sum(extract(epoch FROM upper(r) - lower(r))) FROM unnest(online * held) AS r), 0)::double precision AS occupied_seconds,
       tickets::integer AS tickets_handled,
       resolved::integer AS tickets_resolved,
       (SELECT count(*) FROM csat_surveys s
        WHERE s.agent_id = per_day.agent AND s.resolved_at >= per_day.near_from AND s.resolved_at < per_day.near_until
          AND s.resolved_at::date = per_day.day AND s.rating IS NOT NULL)::integer AS csat_ratings,
       (SELECT avg(s.rating) FROM csat_surveys s
        WHERE s.agent_id = per_day.agent AND s.resolved_at >= per_day.near_from AND s.resolved_at < per_day.near_until
          AND s.resolved_at::date = per_day.day)::double precision AS csat_average
FROM per_day
WHERE NOT (isempty(online) AND tickets = 0 AND resolved = 0);

-- bi.sla_compliance_daily: per day, the clocks that ended that day (by ended_at), each with the
-- ticket's queue and the agent who held the ticket then (one index probe each), counted per day.
CREATE OR REPLACE VIEW bi.sla_compliance_daily AS
SELECT d.day, r.queue, r.agent, r.clock, r.met, r.breached, r.cancelled, r.compliance_percent
FROM (SELECT g::date AS day, g AT TIME ZONE 'UTC' - interval '16 hours' AS near_from, g AT TIME ZONE 'UTC' + interval '40 hours' AS near_until
      FROM unnest(ARRAY(SELECT generate_series((min(ended_at)::date - 1)::timestamp, (max(ended_at)::date + 1)::timestamp, interval '1 day') FROM sla_records)) AS g) d
CROSS JOIN LATERAL (
    SELECT c.queue, c.agent, c.clock,
           count(*) FILTER (WHERE c.outcome = 'met')::integer AS met,
           count(*) FILTER (WHERE c.outcome = 'breached')::integer AS breached,
           count(*) FILTER (WHERE c.outcome = 'cancelled')::integer AS cancelled,
           round(100.0 * count(*) FILTER (WHERE c.outcome = 'met') / nullif(count(*) FILTER (WHERE c.outcome <> 'cancelled'), 0), 1)::double precision AS compliance_percent
    FROM (SELECT r.clock, r.outcome,
                 (SELECT t.queue FROM tickets t WHERE t.id = r.ticket_id) AS queue,
                 -- Who held the ticket when the clock ended: the latest assignment, unassignment or
                 -- resolution before then (the resolution that ends a resolution clock itself excluded).
                 (SELECT CASE WHEN e.kind = 'assigned' THEN e.data ->> 'agent' END
                  FROM ticket_events e
                  WHERE e.ticket_id = r.ticket_id AND e.at <= r.ended_at
                    AND (e.kind IN ('assigned', 'unassigned', 'acceptance_missed')
                         OR (e.kind = 'status_changed' AND e.data ->> 'to' = 'resolved' AND e.at < r.ended_at))
                  ORDER BY e.at DESC, e.id DESC LIMIT 1) AS agent
          FROM sla_records r
          WHERE r.ended_at >= d.near_from AND r.ended_at < d.near_until AND r.ended_at::date = d.day) c
    GROUP BY 1, 2, 3
) r;

-- bi.queue_waits: each assignment and the ticket's previous queue event, one index probe.
CREATE OR REPLACE VIEW bi.queue_waits AS
SELECT t.reference AS ticket,
       e.data ->> 'queue' AS queue,
       t.priority,
       e.at AS assigned_at,
       extract(epoch FROM e.at - coalesce(entered.at, t.created_at))::double precision AS waited_seconds,
       e.data ->> 'agent' AS agent,
       CASE WHEN e.actor = 'routing' THEN 'routing' WHEN e.actor = e.data ->> 'agent' THEN 'taken' ELSE 'by hand' END AS how,
       (e.data ->> 'step')::integer AS routing_step
FROM ticket_events e
JOIN tickets t ON t.id = e.ticket_id
LEFT JOIN LATERAL (
    SELECT p.at, p.kind FROM ticket_events p
    WHERE p.ticket_id = e.ticket_id AND (p.at, p.id) < (e.at, e.id)
      AND p.kind IN ('routed', 'unassigned', 'acceptance_missed', 'assigned')
    ORDER BY p.at DESC, p.id DESC LIMIT 1
) entered ON true
-- A ticket handed from one agent to another did not wait in a queue.
WHERE e.kind = 'assigned' AND entered.kind IS DISTINCT FROM 'assigned' AND e.data ->> 'previous' IS NULL;
