-- Privileges for BI tools on the Switchboard database. Run by deploy/install.sh as postgres after the
-- migrations, on every install and upgrade:
--
--     runuser -u postgres -- psql -X -v ON_ERROR_STOP=1 -d switchboard -f - < deploy/bi-grants.sql
--
-- Every statement is idempotent: running the file again changes nothing. It assumes the roles that
-- install.sh creates: switchboard (LOGIN; owns the database, both schemas and every object in them)
-- and switchboard_bi (NOLOGIN; the group role for BI). An analyst gets a LOGIN role of their own:
--
--     CREATE ROLE alice LOGIN PASSWORD '…' IN ROLE switchboard_bi;
--
-- What BI may read is the schema bi (documented views, docs/bi.md) and nothing else. The views run
-- with their owner's (switchboard's) privileges, so switchboard_bi needs no access to the tables in
-- the schema switchboard.

\set ON_ERROR_STOP on

BEGIN;

-- BI may look up names in the schema bi …
GRANT USAGE ON SCHEMA bi TO switchboard_bi;

-- … and read every view in it as it is today …
GRANT SELECT ON ALL TABLES IN SCHEMA bi TO switchboard_bi;

-- … and every view a later migration creates there (migrations run as switchboard, at the daemon's
-- start too, so an upgrade needs no second run of this file for new views).
ALTER DEFAULT PRIVILEGES FOR ROLE switchboard IN SCHEMA bi GRANT SELECT ON TABLES TO switchboard_bi;

-- The daemon's own tables are not an interface: no privilege for PUBLIC on their schema (a schema
-- created by CREATE SCHEMA grants PUBLIC nothing; this keeps it so if someone granted by hand).
REVOKE ALL ON SCHEMA switchboard FROM PUBLIC;

-- No temporary tables or functions for other roles: a BI reader cannot define a function that
-- watches the rows a view filters out (views are not security barriers).
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;

-- Nobody but the database owner creates objects in the schema public (PostgreSQL 15's default;
-- older servers let every role create there).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- The migration runner keeps its ledger in public.schema_migrations, so switchboard must keep
-- CREATE on public. From PostgreSQL 15, public belongs to pg_database_owner (and so to switchboard,
-- the database owner) and this does nothing; on 13 and 14, public belongs to postgres and CREATE
-- came only from PUBLIC, revoked just above.
DO $$
BEGIN
    IF NOT has_schema_privilege('switchboard', 'public', 'CREATE') THEN
        GRANT CREATE ON SCHEMA public TO switchboard;
    END IF;
END
$$;

COMMIT;
