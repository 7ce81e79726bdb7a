-- 0007: what supervisors and admins change through the control socket: agents and queues held out
-- of routing, internal notes, and the API tokens of the agents' HTTP API.

SET LOCAL search_path = switchboard;

-- A draining agent receives no new assignments; the tickets they hold stay with them.
ALTER TABLE agents ADD COLUMN draining boolean NOT NULL DEFAULT false;

-- Queues a supervisor paused: their tickets keep waiting (and their SLA clocks running), but
-- nobody is assigned from them until they are resumed. A queue without a row is not paused.
CREATE TABLE queue_states (
    queue      text PRIMARY KEY,
    paused     boolean NOT NULL,
    changed_at timestamptz NOT NULL,
    changed_by text NOT NULL
);

-- Internal notes: written by agents and supervisors, never sent to the customer.
CREATE TABLE notes (
    id        bigserial PRIMARY KEY,
    ticket_id bigint NOT NULL REFERENCES tickets (id),
    at        timestamptz NOT NULL,
    -- The agent who wrote it, when the writer acts as one.
    agent_id  text REFERENCES agents (id),
    -- Who wrote it as shown: the agent's handle or control:<unix user>.
    author    text NOT NULL,
    body      text NOT NULL CHECK (length(body) BETWEEN 1 AND 10000)
);
CREATE INDEX notes_by_ticket ON notes (ticket_id, id);

-- Bearer tokens of the agents' API. Only the SHA-256 of a token is kept: it is shown once, when
-- issued, and cannot be recovered from here.
CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    agent_id     text NOT NULL REFERENCES agents (id),
    label        text,
    secret_hash  bytea NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    created_at   timestamptz NOT NULL,
    created_by   text NOT NULL,
    revoked_at   timestamptz,
    revoked_by   text,
    last_used_at timestamptz
);
CREATE INDEX api_tokens_by_agent ON api_tokens (agent_id);
