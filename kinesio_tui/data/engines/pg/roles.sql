-- What the application's role may do (`kinesio init --db postgresql://OWNER@... --app-role
-- ROLE`): read and write clinical records, append to the audit trail and sign its head,
-- nothing else. The owner (who runs init and every schema step) owns the schema, its
-- tables and its functions; the database administrator creates both roles, init only
-- grants. pg_schema.py applies this after every upgrade, to the role it is given and to
-- every role that already holds these grants (so a step's new table reaches them too).
-- @schema@ and @app_role@ are quoted identifiers put in by pg_schema.py. A table a later
-- step adds is listed here as well (tests/test_pg_privileges.py checks every table).

GRANT USAGE ON SCHEMA @schema@ TO @app_role@;
REVOKE CREATE ON SCHEMA @schema@ FROM @app_role@;

-- Clinical records: written only through domain/store.py, each write audited.
GRANT SELECT, INSERT, UPDATE, DELETE ON
    patients, episodes, visits, checklist_ticks, pir_cycles, measurements,
    red_flag_screens, prom_answers, episode_holds, hold_overrides, amendments,
    plan_changes, discharges
TO @app_role@;

-- The trail: appended to, read; never updated, deleted or truncated (an erasure blanks
-- through kinesio_erase_audit_content, a SECURITY DEFINER function of the owner's).
REVOKE ALL ON audit_log FROM @app_role@;
GRANT SELECT, INSERT ON audit_log TO @app_role@;
-- The head: entries, last_id and last_hash move only by the owner's trigger; the
-- application signs it (mac) with its key (key_id).
REVOKE ALL ON audit_head FROM @app_role@;
GRANT SELECT ON audit_head TO @app_role@;
GRANT UPDATE (mac, key_id) ON audit_head TO @app_role@;
-- Retired ids only grow (a trigger refuses DELETE and TRUNCATE).
REVOKE ALL ON retired_ids FROM @app_role@;
GRANT SELECT, INSERT, UPDATE ON retired_ids TO @app_role@;
-- The schema's steps: read by the engine to know the schema is current.
REVOKE ALL ON kinesio_schema FROM @app_role@;
GRANT SELECT ON kinesio_schema TO @app_role@;

GRANT EXECUTE ON FUNCTION kinesio_erase_audit_content(bigint) TO @app_role@;
