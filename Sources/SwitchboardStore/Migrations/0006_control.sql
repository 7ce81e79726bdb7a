-- 0006: the control socket: agents linked to Unix users, and the audit of every call that changes
-- something.

SET LOCAL search_path = switchboard;

-- The Unix user whose control-socket calls act as this agent (an agent-role peer needs one).
ALTER TABLE agents ADD COLUMN unix_user text UNIQUE;

-- Every mutating control call: who (Unix user and uid, role), what (method, arguments without
-- secrets), the result (ok or the error's name) and when.
CREATE TABLE control_audit (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    unix_user text NOT NULL,
    uid       bigint NOT NULL,
    role      text NOT NULL,
    method    text NOT NULL,
    arguments jsonb NOT NULL DEFAULT '{}',
    result    text NOT NULL,
    detail    text
);
CREATE INDEX control_audit_by_time ON control_audit (at);
