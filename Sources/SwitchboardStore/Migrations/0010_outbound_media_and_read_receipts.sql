-- 0010: the files agents send, and read receipts (issue #18). An agent uploads a file for a ticket before the reply
-- that carries it exists, so a file belongs to its ticket (the visibility rule reads it there) and
-- to a message only once one carries it.

SET LOCAL search_path = switchboard;

ALTER TABLE media ADD COLUMN ticket_id bigint REFERENCES tickets (id);
UPDATE media f SET ticket_id = m.ticket_id FROM messages m WHERE m.id = f.message_id;
ALTER TABLE media ALTER COLUMN ticket_id SET NOT NULL;
CREATE INDEX media_ticket ON media (ticket_id);

-- inbound: fetched from the Graph API (a customer's file, or one the business app sent: an echo);
-- outbound: an agent's upload, sent to it.
ALTER TABLE media ADD COLUMN direction text NOT NULL DEFAULT 'inbound' CHECK (direction IN ('inbound', 'outbound'));
ALTER TABLE media ADD COLUMN uploaded_by text;
-- When Meta took the upload: its media id is good for 30 days.
ALTER TABLE media ADD COLUMN uploaded_at timestamptz;

-- An upload is `uploading` while its bytes arrive and go on to Meta (never served, never fetched),
-- then `stored`; its Meta id is known only then.
ALTER TABLE media ALTER COLUMN message_id DROP NOT NULL;
ALTER TABLE media ALTER COLUMN wa_media_id DROP NOT NULL;
ALTER TABLE media DROP CONSTRAINT media_state_check;
ALTER TABLE media ADD CONSTRAINT media_state_check CHECK (state IN ('uploading', 'pending', 'stored', 'failed', 'purged'));
ALTER TABLE media ADD CONSTRAINT media_inbound_has_message CHECK (direction = 'outbound' OR (message_id IS NOT NULL AND wa_media_id IS NOT NULL));
ALTER TABLE media ADD CONSTRAINT media_outbound_is_uploaded CHECK (direction = 'inbound' OR state = 'uploading' OR wa_media_id IS NOT NULL OR state = 'purged');
-- Uploads a crash left half-way, found and deleted by retention.
CREATE INDEX media_uploading ON media (created_at) WHERE state = 'uploading';

-- When the customer was shown this message read (blue ticks): sent once, when its agent opened the
-- ticket or started typing (issue #18).
ALTER TABLE messages ADD COLUMN read_receipt_sent_at timestamptz;
