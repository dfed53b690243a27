-- The clinic's schema on PostgreSQL as of SQLite's last step (0012_record_uuids): every
-- table, column, default, CHECK, UNIQUE, foreign key and index of a new SQLite file, in the
-- same column order, so rows, the audit trail's canonical JSON and ORDER BY read back the
-- same on both engines. Applied by data/engines/pg_schema.py as the owner, in one
-- transaction, with search_path set to the clinic's schema (so nothing here names it);
-- guards.sql and roles.sql follow it. tests/test_pg_schema_parity.py compares the result
-- with SQLite's. A later SQLite step needs its pg/steps/00NN_name.sql as well.
--
-- Types: INTEGER -> bigint (SQLite's 64 bits), REAL -> double precision, TEXT -> text
-- COLLATE "C" (SQLite's BINARY order, whatever the database's locale), uuid -> uuid.
-- Ids are given by the write path (max(id) + 1 under the write lock, above retired_ids),
-- never by a sequence: a copy or a branch keeps them verbatim. Foreign keys are DEFERRABLE
-- so an erasure can delete a patient's rows in any order (SET CONSTRAINTS ALL DEFERRED).
-- Not here: FTS5 and its triggers (the search indexes at the end replace them) and the
-- unused patients_last_name NOCASE index.

-- The one body of every refusing trigger; the message is the trigger's argument.
CREATE FUNCTION kinesio_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = TG_ARGV[0], ERRCODE = 'integrity_constraint_violation';
END
$$;

CREATE TABLE patients (
    id bigint PRIMARY KEY,
    first_name text COLLATE "C" NOT NULL,
    last_name text COLLATE "C" NOT NULL,
    birth_date text COLLATE "C" NOT NULL,
    sex text COLLATE "C" NOT NULL CHECK (sex IN ('F', 'M', 'X')),
    phone text COLLATE "C" NOT NULL DEFAULT '',
    occupation text COLLATE "C" NOT NULL DEFAULT '',
    notes text COLLATE "C" NOT NULL DEFAULT '',
    search_text text COLLATE "C" NOT NULL DEFAULT '',
    archived_at text COLLATE "C",
    created_at text COLLATE "C" NOT NULL,
    updated_at text COLLATE "C" NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    uuid uuid NOT NULL CONSTRAINT patients_uuid UNIQUE
);
CREATE INDEX patients_roster ON patients (archived_at, search_text);

CREATE TABLE episodes (
    id bigint PRIMARY KEY,
    patient_id bigint NOT NULL REFERENCES patients (id) DEFERRABLE INITIALLY IMMEDIATE,
    condition text COLLATE "C" NOT NULL,
    subtype text COLLATE "C" NOT NULL,
    side text COLLATE "C" NOT NULL CHECK (side IN ('L', 'R', 'both')),
    course text COLLATE "C" NOT NULL CHECK (course IN ('acute', 'chronic')),
    onset_date text COLLATE "C",
    pain_medication text COLLATE "C" NOT NULL DEFAULT '',
    status text COLLATE "C" NOT NULL CHECK (status IN ('active', 'completed', 'closed')),
    opened_on text COLLATE "C" NOT NULL,
    closed_on text COLLATE "C",
    created_at text COLLATE "C" NOT NULL,
    updated_at text COLLATE "C" NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    referring_doctor text COLLATE "C" NOT NULL DEFAULT '',
    referring_institution text COLLATE "C" NOT NULL DEFAULT '',
    uuid uuid NOT NULL CONSTRAINT episodes_uuid UNIQUE
);
CREATE INDEX episodes_patient ON episodes (patient_id, status);

CREATE TABLE visits (
    id bigint PRIMARY KEY,
    episode_id bigint NOT NULL REFERENCES episodes (id) DEFERRABLE INITIALLY IMMEDIATE,
    module bigint NOT NULL CHECK (module BETWEEN 1 AND 3),
    number bigint NOT NULL CHECK (number BETWEEN 1 AND 15),
    seq bigint NOT NULL CHECK (seq BETWEEN 1 AND 45),
    kind text COLLATE "C" NOT NULL CHECK (kind IN ('doctor', 'therapy')),
    planned_date text COLLATE "C" NOT NULL,
    status text COLLATE "C" NOT NULL CHECK (status IN ('planned', 'done', 'missed', 'cancelled')),
    held_on text COLLATE "C",
    started_at text COLLATE "C",
    completed_at text COLLATE "C",
    therapist text COLLATE "C" NOT NULL DEFAULT '',
    note text COLLATE "C" NOT NULL DEFAULT '',
    updated_at text COLLATE "C" NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    planned_time text COLLATE "C" CHECK (planned_time IS NULL OR planned_time ~ '^[0-2][0-9]:[0-5][0-9]$'),
    absence_reason text COLLATE "C" NOT NULL DEFAULT '',
    doctor text COLLATE "C" NOT NULL DEFAULT '',
    uuid uuid NOT NULL CONSTRAINT visits_uuid UNIQUE,
    UNIQUE (episode_id, module, number),
    UNIQUE (episode_id, seq)
);
CREATE INDEX visits_planned ON visits (status, planned_date);
CREATE INDEX visits_held ON visits (held_on);

CREATE TABLE checklist_ticks (
    id bigint PRIMARY KEY,
    visit_id bigint NOT NULL REFERENCES visits (id) DEFERRABLE INITIALLY IMMEDIATE,
    item_code text COLLATE "C" NOT NULL,
    note text COLLATE "C" NOT NULL DEFAULT '',
    ticked_at text COLLATE "C" NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    uuid uuid NOT NULL CONSTRAINT checklist_ticks_uuid UNIQUE,
    UNIQUE (visit_id, item_code)
);

CREATE TABLE pir_cycles (
    id bigint PRIMARY KEY,
    visit_id bigint NOT NULL REFERENCES visits (id) DEFERRABLE INITIALLY IMMEDIATE,
    muscle text COLLATE "C" NOT NULL,
    side text COLLATE "C" NOT NULL CHECK (side IN ('L', 'R', 'both')),
    tension_s bigint NOT NULL,
    effort_pct bigint NOT NULL,
    relaxation_s bigint NOT NULL,
    cycles bigint NOT NULL,
    rom_before double precision,
    rom_after double precision,
    pain_before double precision,
    pain_after double precision,
    recorded_at text COLLATE "C" NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    uuid uuid NOT NULL CONSTRAINT pir_cycles_uuid UNIQUE
);
CREATE INDEX pir_cycles_visit ON pir_cycles (visit_id);

CREATE TABLE measurements (
    id bigint PRIMARY KEY,
    visit_id bigint NOT NULL REFERENCES visits (id) DEFERRABLE INITIALLY IMMEDIATE,
    test_code text COLLATE "C" NOT NULL,
    side text COLLATE "C" CHECK (side IN ('L', 'R')),
    value_num double precision,
    value_text text COLLATE "C",
    recorded_at text COLLATE "C" NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    uuid uuid NOT NULL CONSTRAINT measurements_uuid UNIQUE
);
CREATE INDEX measurements_visit ON measurements (visit_id, test_code);

CREATE TABLE red_flag_screens (
    id bigint PRIMARY KEY,
    episode_id bigint NOT NULL REFERENCES episodes (id) DEFERRABLE INITIALLY IMMEDIATE,
    visit_id bigint REFERENCES visits (id) DEFERRABLE INITIALLY IMMEDIATE,
    screened_on text COLLATE "C" NOT NULL,
    flags text COLLATE "C" NOT NULL DEFAULT '[]',
    note text COLLATE "C" NOT NULL DEFAULT '',
    recorded_at text COLLATE "C" NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    uuid uuid NOT NULL CONSTRAINT red_flag_screens_uuid UNIQUE
);
CREATE INDEX red_flag_screens_episode ON red_flag_screens (episode_id, id);

CREATE TABLE audit_log (
    id bigint PRIMARY KEY,
    at text COLLATE "C" NOT NULL,
    actor text COLLATE "C" NOT NULL,
    action text COLLATE "C" NOT NULL,
    table_name text COLLATE "C" NOT NULL,
    record_id bigint NOT NULL,
    patient_id bigint,
    old text COLLATE "C",
    new text COLLATE "C",
    content_sha text COLLATE "C" NOT NULL,
    prev_hash text COLLATE "C" NOT NULL UNIQUE,
    hash text COLLATE "C" NOT NULL UNIQUE,
    key_id text COLLATE "C"
);
CREATE INDEX audit_log_patient ON audit_log (patient_id, id);

CREATE TABLE audit_head (
    id bigint PRIMARY KEY CHECK (id = 1),
    entries bigint NOT NULL,
    last_id bigint,
    last_hash text COLLATE "C" NOT NULL,
    key_id text COLLATE "C",
    mac text COLLATE "C",
    legacy_entries bigint,
    legacy_hash text COLLATE "C",
    seal text COLLATE "C",
    seal_key_id text COLLATE "C"
);

CREATE TABLE retired_ids (
    table_name text COLLATE "C" PRIMARY KEY,
    last_id bigint NOT NULL
);

CREATE TABLE episode_holds (
    id bigint PRIMARY KEY,
    episode_id bigint NOT NULL REFERENCES episodes (id) DEFERRABLE INITIALLY IMMEDIATE,
    screen_id bigint REFERENCES red_flag_screens (id) DEFERRABLE INITIALLY IMMEDIATE,
    flags text COLLATE "C" NOT NULL DEFAULT '[]',
    raised_on text COLLATE "C" NOT NULL,
    referred_to text COLLATE "C" NOT NULL DEFAULT '',
    referred_on text COLLATE "C",
    referral_reason text COLLATE "C" NOT NULL DEFAULT '',
    cleared_on text COLLATE "C",
    cleared_visit_id bigint REFERENCES visits (id) DEFERRABLE INITIALLY IMMEDIATE,
    cleared_by text COLLATE "C" NOT NULL DEFAULT '',
    clearance_note text COLLATE "C" NOT NULL DEFAULT '',
    recorded_at text COLLATE "C" NOT NULL,
    updated_at text COLLATE "C" NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    uuid uuid NOT NULL CONSTRAINT episode_holds_uuid UNIQUE
);
CREATE INDEX episode_holds_episode ON episode_holds (episode_id, id);
CREATE UNIQUE INDEX episode_holds_one_open ON episode_holds (episode_id) WHERE cleared_on IS NULL;

CREATE TABLE hold_overrides (
    id bigint PRIMARY KEY,
    hold_id bigint NOT NULL REFERENCES episode_holds (id) DEFERRABLE INITIALLY IMMEDIATE,
    visit_id bigint NOT NULL REFERENCES visits (id) DEFERRABLE INITIALLY IMMEDIATE,
    reason text COLLATE "C" NOT NULL,
    overridden_by text COLLATE "C" NOT NULL DEFAULT '',
    recorded_at text COLLATE "C" NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    uuid uuid NOT NULL CONSTRAINT hold_overrides_uuid UNIQUE
);
CREATE INDEX hold_overrides_hold ON hold_overrides (hold_id, id);

CREATE TABLE prom_answers (
    id bigint PRIMARY KEY,
    visit_id bigint NOT NULL REFERENCES visits (id) DEFERRABLE INITIALLY IMMEDIATE,
    questionnaire text COLLATE "C" NOT NULL,
    item text COLLATE "C" NOT NULL,
    score bigint NOT NULL CHECK (score BETWEEN 0 AND 5),
    recorded_at text COLLATE "C" NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    uuid uuid NOT NULL CONSTRAINT prom_answers_uuid UNIQUE,
    UNIQUE (visit_id, questionnaire, item)
);

CREATE TABLE plan_changes (
    id bigint PRIMARY KEY,
    episode_id bigint NOT NULL REFERENCES episodes (id) DEFERRABLE INITIALLY IMMEDIATE,
    visit_id bigint NOT NULL REFERENCES visits (id) DEFERRABLE INITIALLY IMMEDIATE,
    module bigint NOT NULL CHECK (module BETWEEN 1 AND 3),
    list text COLLATE "C" NOT NULL CHECK (list IN ('session', 'home')),
    change text COLLATE "C" NOT NULL CHECK (change IN ('add', 'remove', 'dosage')),
    item_code text COLLATE "C" NOT NULL,
    label text COLLATE "C" NOT NULL DEFAULT '',
    dosage text COLLATE "C" NOT NULL DEFAULT '',
    reason text COLLATE "C" NOT NULL DEFAULT '',
    made_by text COLLATE "C" NOT NULL DEFAULT '',
    made_on text COLLATE "C" NOT NULL,
    from_seq bigint,
    recorded_at text COLLATE "C" NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    uuid uuid NOT NULL CONSTRAINT plan_changes_uuid UNIQUE
);
CREATE INDEX plan_changes_episode ON plan_changes (episode_id, module, id);

CREATE TABLE amendments (
    id bigint PRIMARY KEY,
    visit_id bigint NOT NULL REFERENCES visits (id) DEFERRABLE INITIALLY IMMEDIATE,
    kind text COLLATE "C" NOT NULL CHECK (kind IN ('reopen', 'correct', 'remove')),
    what text COLLATE "C" NOT NULL DEFAULT '',
    old_value text COLLATE "C" NOT NULL DEFAULT '',
    new_value text COLLATE "C" NOT NULL DEFAULT '',
    reason text COLLATE "C" NOT NULL,
    amended_by text COLLATE "C" NOT NULL DEFAULT '',
    recorded_at text COLLATE "C" NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    uuid uuid NOT NULL CONSTRAINT amendments_uuid UNIQUE
);
CREATE INDEX amendments_visit ON amendments (visit_id, id);

CREATE TABLE discharges (
    id bigint PRIMARY KEY,
    episode_id bigint NOT NULL UNIQUE REFERENCES episodes (id) DEFERRABLE INITIALLY IMMEDIATE,
    visit_id bigint NOT NULL REFERENCES visits (id) DEFERRABLE INITIALLY IMMEDIATE,
    medication text COLLATE "C" NOT NULL DEFAULT '',
    work_status text COLLATE "C" NOT NULL DEFAULT '',
    work_note text COLLATE "C" NOT NULL DEFAULT '',
    recommendations text COLLATE "C" NOT NULL DEFAULT '',
    follow_up text COLLATE "C" NOT NULL DEFAULT '',
    review_date text COLLATE "C",
    recorded_by text COLLATE "C" NOT NULL DEFAULT '',
    recorded_at text COLLATE "C" NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    uuid uuid NOT NULL CONSTRAINT discharges_uuid UNIQUE
);

-- The trail's signed end moves with every append (guards.sql); one row, never removed.
-- Its first row, with the seal over no unkeyed entries, is inserted by pg_schema.py: the
-- seal is signed with the audit key, which SQL never sees.

-- Ids a removed record had are never given again (store.retire_ids).
CREATE TRIGGER retired_ids_no_delete BEFORE DELETE ON retired_ids
    FOR EACH ROW EXECUTE FUNCTION kinesio_refuse('retired ids stay retired');
CREATE TRIGGER retired_ids_no_truncate BEFORE TRUNCATE ON retired_ids
    FOR EACH STATEMENT EXECUTE FUNCTION kinesio_refuse('retired ids stay retired');

-- A record's uuid, once given, never changes (SQLite: the {table}_uuid_stays triggers).
CREATE TRIGGER patients_uuid_stays BEFORE UPDATE OF uuid ON patients
    FOR EACH ROW WHEN (NEW.uuid IS DISTINCT FROM OLD.uuid)
    EXECUTE FUNCTION kinesio_refuse('a record''s uuid never changes');
CREATE TRIGGER episodes_uuid_stays BEFORE UPDATE OF uuid ON episodes
    FOR EACH ROW WHEN (NEW.uuid IS DISTINCT FROM OLD.uuid)
    EXECUTE FUNCTION kinesio_refuse('a record''s uuid never changes');
CREATE TRIGGER visits_uuid_stays BEFORE UPDATE OF uuid ON visits
    FOR EACH ROW WHEN (NEW.uuid IS DISTINCT FROM OLD.uuid)
    EXECUTE FUNCTION kinesio_refuse('a record''s uuid never changes');
CREATE TRIGGER checklist_ticks_uuid_stays BEFORE UPDATE OF uuid ON checklist_ticks
    FOR EACH ROW WHEN (NEW.uuid IS DISTINCT FROM OLD.uuid)
    EXECUTE FUNCTION kinesio_refuse('a record''s uuid never changes');
CREATE TRIGGER pir_cycles_uuid_stays BEFORE UPDATE OF uuid ON pir_cycles
    FOR EACH ROW WHEN (NEW.uuid IS DISTINCT FROM OLD.uuid)
    EXECUTE FUNCTION kinesio_refuse('a record''s uuid never changes');
CREATE TRIGGER measurements_uuid_stays BEFORE UPDATE OF uuid ON measurements
    FOR EACH ROW WHEN (NEW.uuid IS DISTINCT FROM OLD.uuid)
    EXECUTE FUNCTION kinesio_refuse('a record''s uuid never changes');
CREATE TRIGGER red_flag_screens_uuid_stays BEFORE UPDATE OF uuid ON red_flag_screens
    FOR EACH ROW WHEN (NEW.uuid IS DISTINCT FROM OLD.uuid)
    EXECUTE FUNCTION kinesio_refuse('a record''s uuid never changes');
CREATE TRIGGER prom_answers_uuid_stays BEFORE UPDATE OF uuid ON prom_answers
    FOR EACH ROW WHEN (NEW.uuid IS DISTINCT FROM OLD.uuid)
    EXECUTE FUNCTION kinesio_refuse('a record''s uuid never changes');
CREATE TRIGGER episode_holds_uuid_stays BEFORE UPDATE OF uuid ON episode_holds
    FOR EACH ROW WHEN (NEW.uuid IS DISTINCT FROM OLD.uuid)
    EXECUTE FUNCTION kinesio_refuse('a record''s uuid never changes');
CREATE TRIGGER hold_overrides_uuid_stays BEFORE UPDATE OF uuid ON hold_overrides
    FOR EACH ROW WHEN (NEW.uuid IS DISTINCT FROM OLD.uuid)
    EXECUTE FUNCTION kinesio_refuse('a record''s uuid never changes');
CREATE TRIGGER amendments_uuid_stays BEFORE UPDATE OF uuid ON amendments
    FOR EACH ROW WHEN (NEW.uuid IS DISTINCT FROM OLD.uuid)
    EXECUTE FUNCTION kinesio_refuse('a record''s uuid never changes');
CREATE TRIGGER plan_changes_uuid_stays BEFORE UPDATE OF uuid ON plan_changes
    FOR EACH ROW WHEN (NEW.uuid IS DISTINCT FROM OLD.uuid)
    EXECUTE FUNCTION kinesio_refuse('a record''s uuid never changes');
CREATE TRIGGER discharges_uuid_stays BEFORE UPDATE OF uuid ON discharges
    FOR EACH ROW WHEN (NEW.uuid IS DISTINCT FROM OLD.uuid)
    EXECUTE FUNCTION kinesio_refuse('a record''s uuid never changes');

-- Patient search (domain/search.py through data/engines/pg_search.py), in place of FTS5:
-- the surname range on the active roster (COLLATE "C": a prefix is a range), every word
-- and every word after the first (patients_fts' head/rest split), digits anywhere. The word
-- indexes cover every patient, as FTS5's do: partial ones left the archive's search reading
-- its rows one by one (31 ms a keystroke at 100k patients).
CREATE INDEX patients_active ON patients (search_text, id) WHERE archived_at IS NULL;
CREATE INDEX patients_words ON patients USING gin (to_tsvector('simple', search_text));
CREATE INDEX patients_rest ON patients USING gin (
    to_tsvector('simple', substr(search_text, strpos(search_text, ' ') + 1))
);
CREATE INDEX patients_digits ON patients USING gin (search_text gin_trgm_ops);

-- The schema steps this schema is at (SQLite: _sqlite_migrations and user_version); every
-- step up to the baseline is recorded when the baseline is applied.
CREATE TABLE kinesio_schema (
    step text COLLATE "C" PRIMARY KEY,
    applied_at text COLLATE "C"
);
