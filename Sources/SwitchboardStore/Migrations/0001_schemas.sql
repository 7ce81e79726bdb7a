-- 0001: the two schemas every later migration builds on.
-- switchboard: the daemon's tables. bi: documented, stable views for BI tools (and nothing else).

CREATE SCHEMA IF NOT EXISTS switchboard;
COMMENT ON SCHEMA switchboard IS 'Switchboard''s own tables. Not an interface: BI tools read schema bi.';

CREATE SCHEMA IF NOT EXISTS bi;
COMMENT ON SCHEMA bi IS 'Documented, stable views for BI tools. Each view and column carries a COMMENT. See docs/bi.md.';
