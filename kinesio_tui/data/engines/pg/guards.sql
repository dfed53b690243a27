-- The audit trail's guards on PostgreSQL (SQLite: steps 0004 and 0005's triggers), applied
-- right after baseline.sql by the owner. On PostgreSQL the trail is protected twice: the
-- application's role may only INSERT into audit_log (roles.sql: privileges), and these
-- triggers refuse what privileges cannot, even to the owner or a superuser (a changed
-- hash, a deleted entry, a removed head). maintenance/audit.py checks they are all there
-- (data/engines/pg_catalog.py names them).
--
-- @schema@ is the clinic's schema, quoted, put in by pg_schema.py: the two SECURITY DEFINER
-- functions pin their search_path to it, so a role that can create objects elsewhere cannot
-- slip a table of its own in front of the trail.

-- The head follows every append, in the same transaction. SECURITY DEFINER: the
-- application's role cannot update the head's entries, last_id or last_hash itself
-- (roles.sql grants it only mac and key_id, which it signs).
CREATE FUNCTION kinesio_audit_head() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
    UPDATE audit_head SET entries = entries + 1, last_id = NEW.id, last_hash = NEW.hash
    WHERE id = 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_log_head AFTER INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION kinesio_audit_head();

-- Nothing is ever removed from the trail or changed in it, except what an erasure does:
-- blank an entry's old/new and keep everything else (its content_sha keeps the chain
-- verifying). That one change is allowed only to the table's owner, which is who runs
-- kinesio_erase_audit_content below (SECURITY DEFINER): not the application's role
-- directly, and not a superuser either. No ALTER TABLE ... DISABLE TRIGGER is needed for
-- the erasure (it would lock the whole trail).
CREATE FUNCTION kinesio_audit_only_erasure() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND NEW.old IS NULL AND NEW.new IS NULL
        AND (NEW.id, NEW.at, NEW.actor, NEW.action, NEW.table_name, NEW.record_id,
             NEW.patient_id, NEW.content_sha, NEW.prev_hash, NEW.hash, NEW.key_id)
            IS NOT DISTINCT FROM
            (OLD.id, OLD.at, OLD.actor, OLD.action, OLD.table_name, OLD.record_id,
             OLD.patient_id, OLD.content_sha, OLD.prev_hash, OLD.hash, OLD.key_id)
        AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID)
    THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION USING MESSAGE = 'the audit trail is append-only',
            ERRCODE = 'integrity_constraint_violation';
    END IF;
    RAISE EXCEPTION USING
        MESSAGE = 'the audit trail is append-only (erasure may only blank content)',
        ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION kinesio_audit_only_erasure();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION kinesio_refuse('the audit trail is append-only');

CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION kinesio_refuse('the audit trail head cannot be removed');
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION kinesio_refuse('the audit trail head cannot be removed');

-- An erasure (maintenance/erase.py) blanks the erased patient's entries through this
-- function: the application's role has no UPDATE on audit_log. Only once the patient is
-- gone: it cannot blank the history of a patient still on record. Returns how many
-- entries it blanked. EXECUTE is granted to the application's role only (roles.sql).
CREATE FUNCTION kinesio_erase_audit_content(patient bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
    blanked bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM patients WHERE id = patient) THEN
        RAISE EXCEPTION USING
            MESSAGE = 'the history of a patient still on record cannot be erased',
            ERRCODE = 'integrity_constraint_violation';
    END IF;
    UPDATE audit_log SET old = NULL, new = NULL
    WHERE patient_id = patient AND (old IS NOT NULL OR new IS NOT NULL);
    GET DIAGNOSTICS blanked = ROW_COUNT;
    RETURN blanked;
END
$$;
REVOKE ALL ON FUNCTION kinesio_erase_audit_content(bigint) FROM PUBLIC;

-- Appends only under the clinic's write lock (plan risk 4): the trigger audit_log_write_lock
-- is PostgreSQL's own step pg/steps/pg0001_audit_write_lock.sql, which a new schema takes
-- right after this file (one definition for new and older schemas alike).

-- Change notification (data/watch.py's PostgreSQL side): every clinical write appends to
-- the trail, so one statement trigger here tells the other terminals, at COMMIT, once per
-- transaction (PostgreSQL folds duplicate notifications).
CREATE FUNCTION kinesio_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kinesio:' || TG_TABLE_SCHEMA, '');
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_log_notify AFTER INSERT ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION kinesio_changed();
