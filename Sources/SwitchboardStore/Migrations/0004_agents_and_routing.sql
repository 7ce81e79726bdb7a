-- 0004: agents, their skills and presence history, and the routing state of tickets (queue, required
-- skills, when they started waiting, who has them since when).

SET LOCAL search_path = switchboard;

-- A person who answers tickets.
CREATE TABLE agents (
    -- A short handle: 'ana', 'li.wei'.
    id             text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    name           text NOT NULL,
    role           text NOT NULL DEFAULT 'agent' CHECK (role IN ('agent', 'supervisor', 'admin')),
    teams          text[] NOT NULL DEFAULT '{}',
    -- Open tickets at once.
    capacity       integer NOT NULL CHECK (capacity BETWEEN 0 AND 1000),
    -- The queues whose tickets the agent takes.
    queues         text[] NOT NULL DEFAULT '{}',
    presence       text NOT NULL DEFAULT 'offline' CHECK (presence IN ('online', 'away', 'offline')),
    presence_since timestamptz NOT NULL DEFAULT now(),
    last_assigned_at timestamptz,
    -- Declared in the configuration file rather than through the control commands.
    from_config    boolean NOT NULL DEFAULT false,
    -- The file's entry as last applied: the file's values are applied again only when this changes, so
    -- a restart or a reload of an unchanged file keeps what the control commands changed since.
    config_spec    jsonb,
    -- An agent who left is deactivated, never deleted: their history keeps its meaning.
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agent_skills (
    agent_id    text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    -- 'product:billing', 'lang:es'.
    skill       text NOT NULL CHECK (skill <> '' AND skill !~ '\s'),
    proficiency integer NOT NULL CHECK (proficiency BETWEEN 1 AND 5),
    PRIMARY KEY (agent_id, skill)
);

-- Every presence change, for occupancy reports.
CREATE TABLE agent_presence_changes (
    id       bigserial PRIMARY KEY,
    agent_id text NOT NULL REFERENCES agents (id),
    presence text NOT NULL CHECK (presence IN ('online', 'away', 'offline')),
    at       timestamptz NOT NULL DEFAULT now(),
    actor    text
);
CREATE INDEX agent_presence_changes_by_agent ON agent_presence_changes (agent_id, at);

ALTER TABLE tickets
    -- The routing rule that classified the ticket.
    ADD COLUMN routing_rule     text,
    -- Skill → minimum proficiency from the rule; the queue's steps add theirs.
    ADD COLUMN required_skills  jsonb NOT NULL DEFAULT '{}',
    -- When the ticket started waiting for an agent; kept when it returns to the queue, so it keeps its place.
    ADD COLUMN waiting_since    timestamptz,
    -- When it entered its current queue: the routing steps count from here.
    ADD COLUMN queue_entered_at timestamptz,
    ADD COLUMN assigned_at      timestamptz,
    -- The agent who last had the ticket, kept when it is unassigned: sticky routing prefers them.
    ADD COLUMN last_assignee    text REFERENCES agents (id),
    -- Agents whose acceptance time ran out on this ticket: it goes to someone else.
    ADD COLUMN excluded_agents  text[] NOT NULL DEFAULT '{}',
    ADD CONSTRAINT tickets_assignee_fkey FOREIGN KEY (assignee) REFERENCES agents (id);

-- The waiting tickets of each queue, for the rebuild at start.
CREATE INDEX tickets_waiting ON tickets (queue, waiting_since) WHERE assignee IS NULL AND status <> 'resolved';
-- An agent's tickets.
CREATE INDEX tickets_by_assignee ON tickets (assignee) WHERE status <> 'resolved';
-- Sticky routing: the last agent who helped a customer.
CREATE INDEX tickets_by_customer_assigned ON tickets (customer_id, assigned_at DESC) WHERE last_assignee IS NOT NULL;
