-- 0012: the web inbox's list (issue #19): what each agent has read, the newest-activity order as an
-- index, and trigram indexes so that searching by customer name, phone number or message text uses
-- an index instead of reading every row.

SET LOCAL search_path = switchboard;

-- pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it. It may already
-- be installed in another schema; its operator classes are looked up wherever it is.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
DO $$
DECLARE home text;
BEGIN
    SELECT n.nspname INTO home FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    EXECUTE format('SET LOCAL search_path = switchboard, %I', home);
END $$;

-- How far each agent has read each ticket: the id of the last message shown to them when they
-- opened it. Unread = the customer's messages after it.
CREATE TABLE ticket_reads (
    agent_id     text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    ticket_id    bigint NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    read_through bigint NOT NULL,
    read_at      timestamptz NOT NULL,
    PRIMARY KEY (agent_id, ticket_id)
);
CREATE INDEX ticket_reads_ticket ON ticket_reads (ticket_id);

CREATE INDEX tickets_by_activity ON tickets (updated_at DESC, id DESC);
CREATE INDEX messages_body_trigrams ON messages USING gin (body gin_trgm_ops);
CREATE INDEX customers_name_trigrams ON customers USING gin (profile_name gin_trgm_ops);
CREATE INDEX customers_phone_trigrams ON customers USING gin (wa_id gin_trgm_ops);
-- The dashboard's arrivals chart counts tickets by creation time.
CREATE INDEX tickets_by_creation ON tickets (created_at);
