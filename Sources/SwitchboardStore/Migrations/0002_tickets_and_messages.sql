-- 0002: business numbers, customers, tickets, messages, delivery statuses, the ticket event log and the
-- raw webhook deliveries. Routing (queues, agents) and SLAs add their own tables later.

-- SET LOCAL: the migration runs in a transaction; the setting ends with it.
SET LOCAL search_path = switchboard;

-- A WhatsApp Business number the daemon serves, keyed by Meta's phone_number_id.
CREATE TABLE business_numbers (
    phone_number_id      text PRIMARY KEY,
    display_phone_number text,
    -- Set when sending through this number must stop (an expired access token): why and since when.
    sending_paused_reason text,
    sending_paused_at    timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now()
);

-- A WhatsApp user. Since 2026 a user may arrive with a business-scoped user id and no phone number.
CREATE TABLE customers (
    id           bigserial PRIMARY KEY,
    wa_id        text UNIQUE,
    user_id      text UNIQUE,
    profile_name text,
    -- ISO 3166-1 alpha-2, from the phone number's calling code where there is one.
    country      text CHECK (country ~ '^[A-Z]{2}$'),
    -- BCP 47 language tag, once known (classification sets it).
    language     text,
    tags         text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (wa_id IS NOT NULL OR user_id IS NOT NULL)
);

CREATE SEQUENCE ticket_numbers START 1001;

-- One support case: a customer's conversation with one business number, from open until resolved.
CREATE TABLE tickets (
    id                bigserial PRIMARY KEY,
    number            bigint NOT NULL UNIQUE DEFAULT nextval('ticket_numbers'),
    reference         text GENERATED ALWAYS AS ('T-' || number) STORED UNIQUE,
    customer_id       bigint NOT NULL REFERENCES customers (id),
    business_number   text NOT NULL REFERENCES business_numbers (phone_number_id),
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'pending', 'resolved')),
    priority          text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    -- Routing fills these (a later migration adds the foreign keys with the queues and agents).
    queue             text,
    assignee          text,
    tags              text[] NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    first_response_at timestamptz,
    resolved_at       timestamptz,
    last_inbound_at   timestamptz,
    last_outbound_at  timestamptz,
    -- WhatsApp's customer service window: free-form replies are allowed until then.
    customer_window_expires_at timestamptz,
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
);
-- A customer has at most one ticket that is not resolved per business number: a burst of messages
-- can never open two.
CREATE UNIQUE INDEX tickets_one_active_per_customer_and_number
    ON tickets (customer_id, business_number) WHERE status <> 'resolved';
CREATE INDEX tickets_latest_per_customer ON tickets (customer_id, business_number, created_at DESC);
CREATE INDEX tickets_by_status ON tickets (status, queue);

-- One inbound or outbound WhatsApp message on a ticket.
CREATE TABLE messages (
    id               bigserial PRIMARY KEY,
    ticket_id        bigint NOT NULL REFERENCES tickets (id),
    direction        text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    -- Meta's id: known on arrival for inbound messages, after sending for outbound ones.
    wamid            text UNIQUE,
    -- Switchboard's own id of an outbound message, generated before sending (idempotency key).
    outbound_id      uuid UNIQUE,
    type             text NOT NULL,
    -- What a person reads: text, caption, chosen title, emoji, notice.
    body             text,
    -- Structured parts: media, location, choice, reaction, context, referral, errors.
    details          jsonb NOT NULL DEFAULT '{}',
    -- For edits and revocations: the message they change.
    target_wamid     text,
    -- The element exactly as Meta sent it (inbound), unknown fields included.
    payload          jsonb,
    provider_sent_at timestamptz,
    received_at      timestamptz NOT NULL DEFAULT now(),
    -- Outbound delivery: queued, sent, delivered, read, played, failed.
    status           text,
    status_at        timestamptz,
    error_code       integer,
    error_title      text,
    CHECK (direction = 'outbound' OR wamid IS NOT NULL)
);
CREATE INDEX messages_by_ticket ON messages (ticket_id, id);

-- Every delivery status Meta reported, once per (wamid, status), in arrival order.
CREATE TABLE message_statuses (
    id          bigserial PRIMARY KEY,
    wamid       text NOT NULL,
    status      text NOT NULL,
    occurred_at timestamptz,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    errors      jsonb NOT NULL DEFAULT '[]',
    payload     jsonb,
    UNIQUE (wamid, status)
);

-- The append-only history of every ticket: the audit trail and the BI fact source.
CREATE TABLE ticket_events (
    id        bigserial PRIMARY KEY,
    ticket_id bigint NOT NULL REFERENCES tickets (id),
    at        timestamptz NOT NULL DEFAULT now(),
    kind      text NOT NULL,
    actor     text,
    data      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX ticket_events_by_ticket ON ticket_events (ticket_id, id);
CREATE INDEX ticket_events_by_time ON ticket_events (at);

-- Webhook bodies exactly as received, kept for a configurable time so that a decoding fix can be
-- replayed over them.
CREATE TABLE webhook_deliveries (
    id            bigserial PRIMARY KEY,
    received_at   timestamptz NOT NULL DEFAULT now(),
    body          bytea NOT NULL,
    messages      integer NOT NULL DEFAULT 0,
    statuses      integer NOT NULL DEFAULT 0,
    -- Why (part of) the body could not be read; null when all of it was.
    decode_problem text
);
CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries (received_at);

