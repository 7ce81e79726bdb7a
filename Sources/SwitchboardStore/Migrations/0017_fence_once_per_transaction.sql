-- 0017: the leader fence looks the lease up once per transaction, not once per statement (issue #22).
--
-- 0014's fence runs before every statement on a leader table and read the lease each time: 6-9 %
-- of the database's CPU on the routing path (a look-up through SPI per statement, and a batch
-- writes several tables); 3.8 % with this (`switchboard-bench routing --rate 500`, perf). A
-- transaction that passed the check is no safer for being checked again: the new leader ends every
-- session of an earlier epoch (`pg_terminate_backend`, waited for) before it reads anything, so such
-- a transaction either commits before the takeover or not at all, as a one-statement transaction
-- that passed its check just before the claim always could. A transaction that begins after the
-- claim is refused at its first write, as before.
--
-- The mark is transaction-local (`set_config(…, true)`): it is gone at commit or rollback, and a
-- savepoint rolled back takes it with it (the next statement looks again).
--
-- (A WHEN condition on the triggers testing the mark was tried and measured: PostgreSQL parses and
-- compiles a statement trigger's condition again for every statement, which cost as much as the
-- call it saved.)

SET LOCAL search_path = switchboard;

CREATE OR REPLACE FUNCTION refuse_stale_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    claimed text := current_setting('switchboard.epoch', true);
BEGIN
    IF claimed IS NULL OR claimed = '' OR current_setting('switchboard.fence_passed', true) IS NOT DISTINCT FROM claimed THEN
        RETURN NULL;
    END IF;
    IF claimed::bigint <> (SELECT epoch FROM switchboard.leadership) THEN
        RAISE EXCEPTION 'leader epoch % is stale: % refused on %', claimed, TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'SB001', HINT = 'another instance leads now';
    END IF;
    PERFORM set_config('switchboard.fence_passed', claimed, true);
    RETURN NULL;
END $$;
