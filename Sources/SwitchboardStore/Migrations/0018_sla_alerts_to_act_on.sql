-- 0018: a warning or breach is acted on even when the daemon dies between storing it and acting on
-- it.
--
-- The SLA engine stores a step (the clock's warned or breached flag, its ticket event) and then acts
-- on its alerts: supervisors told, priority raised, ticket moved, tag added. Until now a daemon
-- stopped, killed or taken over in between left the breach stored and its actions never taken: the
-- next start sees the flag and fires nothing. Each alert is now written here in the step's own
-- statement and deleted once its actions ran; a start reads what is left before it fires anything
-- and acts on it, marked late, once routing is rebuilt. At least once: an alert acted on but not yet
-- deleted when its daemon died is acted on again.

SET LOCAL search_path = switchboard;

CREATE TABLE sla_alerts_to_act_on (
    ticket_id    bigint NOT NULL REFERENCES tickets (id),
    clock        text NOT NULL CHECK (clock IN ('first_response', 'next_response', 'resolution')),
    kind         text NOT NULL CHECK (kind IN ('warning', 'breach')),
    -- The moment it was for (the warning moment or the deadline); with the clock and the kind, one alert.
    due_at       timestamptz NOT NULL,
    -- The policy version whose actions apply (the ticket's, fixed when its SLA started).
    policy_id    bigint NOT NULL REFERENCES sla_policies (id),
    stored_at    timestamptz NOT NULL,
    PRIMARY KEY (ticket_id, clock, kind, due_at)
);
COMMENT ON TABLE sla_alerts_to_act_on IS 'SLA warnings and breaches stored but not yet acted on (migration 0018): written with the step, deleted once acted on; a start acts on what is left. Not an interface.';

-- Only the leader acts on alerts.
CREATE TRIGGER fence BEFORE INSERT OR UPDATE OR DELETE ON sla_alerts_to_act_on
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_stale_epoch();
