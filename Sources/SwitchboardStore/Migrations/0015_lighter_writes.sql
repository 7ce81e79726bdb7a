-- 0015: fewer index entries per message (issue #22). Every row inserted, and every update that is not
-- HOT, adds an entry to each index of its table; these indexes held entries no query reads.

SET LOCAL search_path = switchboard;

-- 0008's tickets_by_created and 0012's tickets_by_creation are the same index on (created_at).
DROP INDEX tickets_by_created;

-- An inbound message has no outbound id, and most customers have no BSUID (user_id): a unique
-- constraint indexes their NULLs too, one entry per message and per customer for nothing. Partial
-- unique indexes keep the same guarantee (NULLs never conflicted) and serve the same lookups
-- (`outbound_id = $1` implies it is not null).
ALTER TABLE messages DROP CONSTRAINT messages_outbound_id_key;
CREATE UNIQUE INDEX messages_outbound_id_key ON messages (outbound_id) WHERE outbound_id IS NOT NULL;
ALTER TABLE customers DROP CONSTRAINT customers_user_id_key;
CREATE UNIQUE INDEX customers_user_id_key ON customers (user_id) WHERE user_id IS NOT NULL;
