-- 0009: the files customers send (and, later, agents send), kept in PostgreSQL so that every
-- instance of the daemon can serve every file and one backup holds everything (issue #18).

SET LOCAL search_path = switchboard;

-- One row per file, written by ingest in the transaction that stores its message, so no file is
-- ever forgotten: the fetcher finds the rows still `pending`.
CREATE TABLE media (
    id              bigserial PRIMARY KEY,
    message_id      bigint NOT NULL UNIQUE REFERENCES messages (id),
    -- Meta's media id (to ask the Graph API for the file) and what the webhook said of the file.
    wa_media_id     text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('image', 'audio', 'video', 'document', 'sticker')),
    mime_type       text,
    -- Meta's SHA-256 of the file, as the webhook gave it (checked against the bytes fetched).
    sha256          text,
    file_name       text,
    -- pending → stored, or failed (for good, with the reason), and later purged (bytes deleted,
    -- this row kept).
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'stored', 'failed', 'purged')),
    size_bytes      bigint,
    -- The SHA-256 (hex) of the bytes kept: the file's ETag.
    stored_sha256   text,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    failure         text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    stored_at       timestamptz,
    purged_at       timestamptz
);
-- The fetcher's work list: what is due, oldest first.
CREATE INDEX media_due ON media (next_attempt_at) WHERE state = 'pending';

-- The bytes, in chunks of at most 256 KiB in order: written as they stream in, read back for
-- HTTP Range requests without loading a whole file.
CREATE TABLE media_chunks (
    media_id bigint NOT NULL REFERENCES media (id),
    seq      integer NOT NULL CHECK (seq >= 0),
    bytes    bytea NOT NULL,
    PRIMARY KEY (media_id, seq)
);
-- Already compressed formats (JPEG, MP4, Opus, PDF) gain nothing from TOAST compression.
ALTER TABLE media_chunks ALTER COLUMN bytes SET STORAGE EXTERNAL;
