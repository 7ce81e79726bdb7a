-- 0011: signing in to the web inbox (issue #19): agents' passwords, stored as PBKDF2-HMAC-SHA256
-- hashes, and server-side sessions, stored as the SHA-256 of their cookie's token.

SET LOCAL search_path = switchboard;

CREATE TABLE agent_passwords (
    agent_id text PRIMARY KEY REFERENCES agents (id),
    -- pbkdf2-sha256$<iterations>$<salt, base64>$<hash, base64>
    hash     text NOT NULL,
    set_at   timestamptz NOT NULL,
    set_by   text NOT NULL
);

CREATE TABLE web_sessions (
    id           bigserial PRIMARY KEY,
    token_hash   bytea NOT NULL UNIQUE,
    agent_id     text NOT NULL REFERENCES agents (id),
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    -- The absolute end; an idle one ends earlier (web.sessionIdleMinutes after last_seen_at).
    expires_at   timestamptz NOT NULL,
    address      text,
    user_agent   text,
    ended_at     timestamptz,
    -- signed out, revoked by <actor>, password changed
    ended_why    text
);
CREATE INDEX web_sessions_agent ON web_sessions (agent_id) WHERE ended_at IS NULL;
