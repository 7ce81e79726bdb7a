-- 0003: the outbox (replies recorded before they are sent, then sent by one sender per business
-- number) and operator alerts.

SET LOCAL search_path = switchboard;

-- One send to the Cloud API. Its id is generated before sending, stored on the message as
-- outbound_id and sent as biz_opaque_callback_data, so status webhooks name it.
CREATE TABLE outbox (
    id              uuid PRIMARY KEY,
    -- Queue order: a customer's replies go out in this order.
    seq             bigserial NOT NULL UNIQUE,
    business_number text NOT NULL REFERENCES business_numbers (phone_number_id),
    ticket_id       bigint NOT NULL REFERENCES tickets (id),
    -- The message on the ticket; null for a read receipt.
    message_id      bigint REFERENCES messages (id),
    -- Who it goes to (wa_id, or the business-scoped user id): pacing is per recipient.
    recipient       text NOT NULL,
    kind            text NOT NULL,
    -- Only allowed inside the customer service window (everything but templates and read receipts).
    free_form       boolean NOT NULL,
    -- The Graph API request body, exactly what is sent.
    request         jsonb NOT NULL,
    -- queued → sending → sent | failed; 'sending' is committed before the request leaves.
    state           text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    last_error_code integer,
    last_error      text,
    wamid           text,
    created_by      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    CHECK ((state IN ('sent', 'failed')) = (finished_at IS NOT NULL))
);
CREATE INDEX outbox_unfinished ON outbox (business_number, seq) WHERE state IN ('queued', 'sending');

-- Something an operator must act on (an expired access token, …); open until cleared.
CREATE TABLE alerts (
    id         bigserial PRIMARY KEY,
    raised_at  timestamptz NOT NULL DEFAULT now(),
    kind       text NOT NULL,
    -- What it is about: a business number, a ticket reference…
    subject    text NOT NULL,
    message    text NOT NULL,
    cleared_at timestamptz
);
-- One open alert per kind and subject: raising it again is a no-op.
CREATE UNIQUE INDEX alerts_one_open ON alerts (kind, subject) WHERE cleared_at IS NULL;

-- After a crash, a send left in 'sending' is confirmed by a status webhook that echoes its id.
CREATE INDEX message_statuses_by_callback_data ON message_statuses ((payload ->> 'biz_opaque_callback_data'))
    WHERE payload ? 'biz_opaque_callback_data';
