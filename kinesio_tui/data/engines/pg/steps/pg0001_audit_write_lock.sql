-- PostgreSQL's own step (no SQLite step: one SQLite file has one writer at a time, by its
-- file lock). Plan risk 4: the trail stays one chain only if every entry is appended under
-- the clinic's write lock, the advisory transaction lock that data/engines/postgres.py
-- takes at the start of every write (pg_try_advisory_xact_lock(4711, hashtext(schema))):
-- under it the entry's prev_hash is read and the entry written while no other room can
-- append. UNIQUE (prev_hash) already makes a forked chain impossible; this refuses, before
-- it is written, an append from a transaction that never took the lock (another program, a
-- hand-written INSERT, a kinesio-tui bug), whoever sends it: the rooms' role, the owner, a
-- superuser. Once per INSERT or COPY statement (FOR EACH STATEMENT), not per row.
--
-- A new schema gets this after baseline.sql and guards.sql like any step after the
-- baseline; a schema made before it gets it from its owner's next connection (`kinesio
-- init`), the rooms' role being asked to fetch the owner meanwhile. pg_catalog.py names
-- the trigger among the guards `kinesio check` expects.

CREATE FUNCTION kinesio_audit_needs_write_lock() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- The lock of pg_advisory_xact_lock(int4, int4): classid the first key, objid the
    -- second (an oid: the hash's 32 bits read unsigned), objsubid 2.
    IF NOT EXISTS (
        SELECT 1 FROM pg_locks
        WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND classid = 4711 AND objid = hashtext(TG_TABLE_SCHEMA)::oid AND objsubid = 2
    ) THEN
        RAISE EXCEPTION USING
            MESSAGE = 'the audit trail is appended to only under the clinic''s write lock',
            HINT = 'write through kinesio-tui, which takes the lock for every write',
            ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_log_write_lock BEFORE INSERT ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION kinesio_audit_needs_write_lock();
