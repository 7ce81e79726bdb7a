-- 0014: one leader among the daemons on one database (issue #21): the lease, the fence that refuses
-- a former leader's writes, and the relay of what a standby ingested.

SET LOCAL search_path = switchboard;

-- The lease: one row. The leader renews it well before `expires_at` (the database's clock, never a
-- daemon's); a standby claims it once it has run out, which raises `epoch`. A restart on the same
-- node reclaims its own lease at once.
CREATE TABLE leadership (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    epoch      bigint NOT NULL DEFAULT 0,
    -- The instance (`cluster.node`) that holds it, and where its HTTP server answers the others.
    node       text,
    address    text,
    -- When this epoch began, and until when it holds unless renewed.
    since      timestamptz,
    renewed_at timestamptz,
    expires_at timestamptz NOT NULL DEFAULT 'epoch',
    -- Signs calls one instance passes to the leader (control commands run on a standby). Set once,
    -- by the first instance that leads, from its own random source.
    relay_key  text
);
INSERT INTO leadership DEFAULT VALUES;

-- Fencing. A leader's sessions carry its epoch (`switchboard.epoch`, set by `fence_session` before
-- the session's first use under that epoch); a statement on a leader-only table from a session whose
-- epoch is no longer the lease's is refused (SQLSTATE SB001). Sessions without an epoch — ingest on
-- a standby, the API's own reads — are not leader work and pass. A transaction already past its
-- checks when the lease changes hands is ended by the new leader (`pg_terminate_backend`, waited
-- for) before it reads anything, so it either committed before the takeover or not at all.
CREATE FUNCTION fence_session(claimed bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF claimed <> (SELECT epoch FROM switchboard.leadership) THEN
        RAISE EXCEPTION 'leader epoch % is stale: another instance leads now', claimed
            USING ERRCODE = 'SB001', HINT = 'this instance steps down';
    END IF;
    PERFORM set_config('switchboard.epoch', claimed::text, false);
    PERFORM set_config('application_name', 'switchboardd leader epoch ' || claimed, false);
END $$;

CREATE FUNCTION refuse_stale_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    claimed text := current_setting('switchboard.epoch', true);
BEGIN
    IF claimed IS NOT NULL AND claimed <> '' AND claimed::bigint <> (SELECT epoch FROM switchboard.leadership) THEN
        RAISE EXCEPTION 'leader epoch % is stale: % refused on %', claimed, TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'SB001', HINT = 'another instance leads now';
    END IF;
    RETURN NULL;
END $$;

-- Once per statement, on every table only the leader's work changes (and the ones it shares with
-- ingest: a fenced session's ingest is refused too, and answered 503, which Meta retries).
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tickets', 'messages', 'ticket_events', 'outbox', 'alerts', 'agents', 'agent_presence_changes',
                             'ticket_slas', 'sla_clocks', 'sla_records', 'queue_states', 'notes',
                             'automation_sends', 'triage_sessions', 'csat_surveys', 'media'] LOOP
        EXECUTE format('CREATE TRIGGER fence BEFORE INSERT OR UPDATE OR DELETE ON switchboard.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION switchboard.refuse_stale_epoch()', t);
    END LOOP;
END $$;

-- What a standby ingested, for the leader to route and time: written after the standby's ingest
-- commits, read (and deleted) by the leader, which looks several times a second.
CREATE TABLE activity_relay (
    id          bigserial PRIMARY KEY,
    node        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- [{"wamid", "message", "ticket", "reference", "threading", "asks", "echo", "answers"}]
    messages    jsonb NOT NULL DEFAULT '[]',
    -- [{"message", "ticket", "status"}]
    statuses    jsonb NOT NULL DEFAULT '[]'
);
