"""The schema's numbered steps: a sqlite-utils migration set, applied by `data.db.migrate_schema`.

Imported only when a file has steps pending (a new file, or an upgrade), so an up-to-date
clinic opens without loading sqlite-utils. An applied step stays as it is; change the
schema with a new numbered step, and name it in `data.db.SCHEMA_STEPS` too.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from kinesio_tui.audit_key import GENESIS_HASH, load_key, seal_signature
from kinesio_tui.data.db import MIGRATION_SET, SCHEMA_STEPS

migrations = Migrations(MIGRATION_SET)


_SCHEMA_0001 = """
CREATE TABLE patients (
    id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    sex TEXT NOT NULL CHECK (sex IN ('F', 'M', 'X')),
    phone TEXT NOT NULL DEFAULT '',
    occupation TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    search_text TEXT NOT NULL DEFAULT '',
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX patients_last_name ON patients (last_name COLLATE NOCASE);
CREATE INDEX patients_roster ON patients (archived_at, search_text);

CREATE TABLE episodes (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    condition TEXT NOT NULL,
    subtype TEXT NOT NULL,
    side TEXT NOT NULL CHECK (side IN ('L', 'R', 'both')),
    course TEXT NOT NULL CHECK (course IN ('acute', 'chronic')),
    onset_date TEXT,
    pain_medication TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('active', 'completed', 'closed')),
    opened_on TEXT NOT NULL,
    closed_on TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX episodes_patient ON episodes (patient_id, status);

CREATE TABLE visits (
    id INTEGER PRIMARY KEY,
    episode_id INTEGER NOT NULL REFERENCES episodes (id),
    module INTEGER NOT NULL CHECK (module BETWEEN 1 AND 3),
    number INTEGER NOT NULL CHECK (number BETWEEN 1 AND 15),
    seq INTEGER NOT NULL CHECK (seq BETWEEN 1 AND 45),
    kind TEXT NOT NULL CHECK (kind IN ('doctor', 'therapy')),
    planned_date TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('planned', 'done', 'missed', 'cancelled')),
    held_on TEXT,
    started_at TEXT,
    completed_at TEXT,
    therapist TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (episode_id, module, number),
    UNIQUE (episode_id, seq)
);
CREATE INDEX visits_planned ON visits (status, planned_date);

CREATE TABLE checklist_ticks (
    id INTEGER PRIMARY KEY,
    visit_id INTEGER NOT NULL REFERENCES visits (id),
    item_code TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    ticked_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (visit_id, item_code)
);

CREATE TABLE pir_cycles (
    id INTEGER PRIMARY KEY,
    visit_id INTEGER NOT NULL REFERENCES visits (id),
    muscle TEXT NOT NULL,
    side TEXT NOT NULL CHECK (side IN ('L', 'R', 'both')),
    tension_s INTEGER NOT NULL,
    effort_pct INTEGER NOT NULL,
    relaxation_s INTEGER NOT NULL,
    cycles INTEGER NOT NULL,
    rom_before REAL,
    rom_after REAL,
    pain_before REAL,
    pain_after REAL,
    recorded_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX pir_cycles_visit ON pir_cycles (visit_id);

CREATE TABLE measurements (
    id INTEGER PRIMARY KEY,
    visit_id INTEGER NOT NULL REFERENCES visits (id),
    test_code TEXT NOT NULL,
    side TEXT CHECK (side IN ('L', 'R')),
    value_num REAL,
    value_text TEXT,
    recorded_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX measurements_visit ON measurements (visit_id, test_code);

CREATE TABLE red_flag_screens (
    id INTEGER PRIMARY KEY,
    episode_id INTEGER NOT NULL REFERENCES episodes (id),
    visit_id INTEGER REFERENCES visits (id),
    screened_on TEXT NOT NULL,
    flags TEXT NOT NULL DEFAULT '[]',
    note TEXT NOT NULL DEFAULT '',
    recorded_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX red_flag_screens_episode ON red_flag_screens (episode_id, id);
"""


@migrations(name="0001_initial")
def _m0001_initial(db: Database) -> None:
    for statement in _SCHEMA_0001.split(";"):
        if statement.strip():
            db.execute(statement)


_SCHEMA_0002 = """
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    table_name TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    patient_id INTEGER,
    old TEXT,
    new TEXT,
    content_sha TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_log_patient ON audit_log (patient_id, id)
"""


@migrations(name="0002_audit_log")
def _m0002_audit_log(db: Database) -> None:
    for statement in _SCHEMA_0002.split(";"):
        if statement.strip():
            db.execute(statement)


# Patient search at clinic scale: `LIKE '% word%'` cannot use an index and scanned
# all 100,000 patients (~20 ms a keystroke). Two FTS5 indexes over patients.search_text find
# candidates; the domain still applies the exact match. patients_fts (contentless, unicode61
# with prefix indexes) serves name prefixes from one letter on; it keeps search_text's first
# word (head) apart from the rest, so "a later word starts with ..." is a query of its own.
# patients_trigram (external content) serves phone/birth-year digits found anywhere.
_HEAD = "substr({0}.search_text, 1, instr({0}.search_text || ' ', ' ') - 1)"
_REST = "substr({0}.search_text, instr({0}.search_text || ' ', ' ') + 1)"
_FTS_NEW = (
    "INSERT INTO patients_fts (rowid, head, rest) "
    f"VALUES (new.id, {_HEAD.format('new')}, {_REST.format('new')});"
    "INSERT INTO patients_trigram (rowid, search_text) VALUES (new.id, new.search_text);"
)
_FTS_OLD = (
    "INSERT INTO patients_fts (patients_fts, rowid, head, rest) "
    f"VALUES ('delete', old.id, {_HEAD.format('old')}, {_REST.format('old')});"
    "INSERT INTO patients_trigram (patients_trigram, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text);"
)
_SEARCH_INDEX_0003 = [
    "CREATE VIRTUAL TABLE patients_fts USING fts5(head, rest, content='', "
    "tokenize='unicode61 remove_diacritics 2', prefix='1 2 3')",
    "CREATE VIRTUAL TABLE patients_trigram USING fts5(search_text, content='patients', "
    "content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER patients_search_insert AFTER INSERT ON patients BEGIN {_FTS_NEW} END",
    f"CREATE TRIGGER patients_search_delete AFTER DELETE ON patients BEGIN {_FTS_OLD} END",
    "CREATE TRIGGER patients_search_update AFTER UPDATE OF search_text ON patients "
    f"BEGIN {_FTS_OLD} {_FTS_NEW} END",
    "INSERT INTO patients_fts (rowid, head, rest) "
    f"SELECT id, {_HEAD.format('patients')}, {_REST.format('patients')} FROM patients",
    "INSERT INTO patients_trigram (patients_trigram) VALUES ('rebuild')",
]


@migrations(name="0003_search_index")
def _m0003_search_index(db: Database) -> None:
    for statement in _SEARCH_INDEX_0003:
        db.execute(statement)


# The chain head lives outside audit_log and moves in the same transaction as each append
# (a trigger), so deleting the newest entries is detectable too; UPDATE and DELETE on the
# trail are refused except the one erasure may do: blank old/new and keep everything else.
# Someone who drops these triggers and rewrites the chain *and* the head consistently is
# not stopped by any unkeyed hash chain; that limit is documented in maintenance/audit.py.
_AUDIT_GUARD_0004 = (
    """CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        entries INTEGER NOT NULL,
        last_id INTEGER,
        last_hash TEXT NOT NULL
    )""",
    """INSERT INTO audit_head (id, entries, last_id, last_hash)
    SELECT 1, count(*), max(id),
        coalesce((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), printf('%.64d', 0))
    FROM audit_log""",
    """CREATE TRIGGER audit_log_head AFTER INSERT ON audit_log BEGIN
        UPDATE audit_head SET entries = entries + 1, last_id = NEW.id, last_hash = NEW.hash
        WHERE id = 1;
    END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
        SELECT RAISE(ABORT, 'the audit trail is append-only');
    END""",
    """CREATE TRIGGER audit_log_only_erasure BEFORE UPDATE ON audit_log
    WHEN NOT (
        NEW.old IS NULL AND NEW.new IS NULL
        AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.actor = OLD.actor
        AND NEW.action = OLD.action AND NEW.table_name = OLD.table_name
        AND NEW.record_id = OLD.record_id AND NEW.patient_id IS OLD.patient_id
        AND NEW.content_sha = OLD.content_sha AND NEW.prev_hash = OLD.prev_hash
        AND NEW.hash = OLD.hash
    ) BEGIN
        SELECT RAISE(ABORT, 'the audit trail is append-only (erasure may only blank content)');
    END""",
    """CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head BEGIN
        SELECT RAISE(ABORT, 'the audit trail head cannot be removed');
    END""",
)


@migrations(name="0004_audit_guard")
def _m0004_audit_guard(db: Database) -> None:
    for statement in _AUDIT_GUARD_0004:
        db.execute(statement)


# The trail keyed (HMAC-SHA256 under a key kept outside the file, see audit_key.py), and ids
# never given twice. Entries already in the file keep their plain SHA-256 links; the
# seal signs how many there were and the last one's hash, so none of them can be rewritten
# either. The head's signature (`mac`) names the newest entry, so the end cannot be cut off
# with a head edited to match. `retired_ids` starts from the highest id the trail ever
# recorded per table: ids a past erasure freed are not given again either. AUTOINCREMENT
# would have meant rebuilding every clinical table (foreign keys off, outside this step's
# one transaction); the table costs one indexed lookup per insert.
_CLINICAL_TABLES = (  # as in domain/store.py CLINICAL_TABLES at the time of this step
    "patients",
    "episodes",
    "visits",
    "checklist_ticks",
    "pir_cycles",
    "measurements",
    "red_flag_screens",
)
_KEYED_TRAIL_0005 = (
    "ALTER TABLE audit_log ADD COLUMN key_id TEXT",
    "ALTER TABLE audit_head ADD COLUMN key_id TEXT",
    "ALTER TABLE audit_head ADD COLUMN mac TEXT",
    "ALTER TABLE audit_head ADD COLUMN legacy_entries INTEGER",
    "ALTER TABLE audit_head ADD COLUMN legacy_hash TEXT",
    "ALTER TABLE audit_head ADD COLUMN seal TEXT",
    "ALTER TABLE audit_head ADD COLUMN seal_key_id TEXT",
    """CREATE TABLE retired_ids (
        table_name TEXT PRIMARY KEY,
        last_id INTEGER NOT NULL
    ) WITHOUT ROWID""",
    f"""INSERT INTO retired_ids (table_name, last_id)
    SELECT table_name, max(record_id) FROM audit_log
    WHERE table_name IN ({", ".join(f"'{t}'" for t in _CLINICAL_TABLES)})
    GROUP BY table_name""",
    """CREATE TRIGGER retired_ids_no_delete BEFORE DELETE ON retired_ids BEGIN
        SELECT RAISE(ABORT, 'retired ids stay retired');
    END""",
)


@migrations(name="0005_keyed_audit")
def _m0005_keyed_audit(db: Database) -> None:
    for statement in _KEYED_TRAIL_0005:
        db.execute(statement)
    key = load_key(create=True)
    assert key is not None
    count, last_id = db.execute("SELECT count(*), max(id) FROM audit_log").fetchone()
    row = db.execute("SELECT hash FROM audit_log WHERE id = ?", [last_id]).fetchone()
    last_hash = row[0] if row else GENESIS_HASH
    db.execute(
        "UPDATE audit_head SET legacy_entries = ?, legacy_hash = ?, seal = ?, seal_key_id = ? "
        "WHERE id = 1",
        [count, last_hash, seal_signature(key, count, last_hash), key.id],
    )


# A raised red flag puts the episode on hold (domain/holds.py): the hold names the flags and
# the screen that raised them, the referral (to whom, when, why) and the doctor's clearance
# at a doctor's appointment; at most one hold of an episode is open at a time. Each therapy
# session started while on hold keeps the override's reason. An episode still active with
# flags raised at its latest screen is put on hold by this step, through the audited write
# path like any other hold, so a clinic's file upgrades to the same safety as a new one.
_HOLDS_0006 = (
    """CREATE TABLE episode_holds (
        id INTEGER PRIMARY KEY,
        episode_id INTEGER NOT NULL REFERENCES episodes (id),
        screen_id INTEGER REFERENCES red_flag_screens (id),
        flags TEXT NOT NULL DEFAULT '[]',
        raised_on TEXT NOT NULL,
        referred_to TEXT NOT NULL DEFAULT '',
        referred_on TEXT,
        referral_reason TEXT NOT NULL DEFAULT '',
        cleared_on TEXT,
        cleared_visit_id INTEGER REFERENCES visits (id),
        cleared_by TEXT NOT NULL DEFAULT '',
        clearance_note TEXT NOT NULL DEFAULT '',
        recorded_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1
    )""",
    "CREATE INDEX episode_holds_episode ON episode_holds (episode_id, id)",
    "CREATE UNIQUE INDEX episode_holds_one_open ON episode_holds (episode_id) "
    "WHERE cleared_on IS NULL",
    """CREATE TABLE hold_overrides (
        id INTEGER PRIMARY KEY,
        hold_id INTEGER NOT NULL REFERENCES episode_holds (id),
        visit_id INTEGER NOT NULL REFERENCES visits (id),
        reason TEXT NOT NULL,
        overridden_by TEXT NOT NULL DEFAULT '',
        recorded_at TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1
    )""",
    "CREATE INDEX hold_overrides_hold ON hold_overrides (hold_id, id)",
)


@migrations(name="0006_red_flag_holds")
def _m0006_red_flag_holds(db: Database) -> None:
    import json

    from kinesio_tui.domain.store import insert_row, now_iso

    for statement in _HOLDS_0006:
        db.execute(statement)
    flagged = db.execute(
        """SELECT e.id, e.patient_id, s.id, s.flags, s.screened_on FROM episodes e
        JOIN red_flag_screens s ON s.id = (
            SELECT id FROM red_flag_screens WHERE episode_id = e.id
            ORDER BY screened_on DESC, id DESC LIMIT 1)
        WHERE e.status = 'active' AND s.flags != '[]' ORDER BY e.id"""
    ).fetchall()
    db.actor = "schema upgrade"  # type: ignore[attr-defined]  # named on the audit trail
    for episode_id, patient_id, screen_id, flags, screened_on in flagged:
        stamp = now_iso()
        insert_row(
            db,  # type: ignore[arg-type]  # sqlite-utils' Database runs the same SQL
            "episode_holds",
            {
                "episode_id": episode_id,
                "screen_id": screen_id,
                "flags": json.dumps(sorted(json.loads(flags))),
                "raised_on": screened_on,
                "recorded_at": stamp,
                "updated_at": stamp,
            },
            patient_id=patient_id,
            record_uuid=False,  # step 0012 gives it one
        )


# Patient-reported outcomes: each item's answer as the patient marked it on the validated
# form, at a doctor's appointment (scores and rules are in questionnaires.toml; unanswered
# items have no row). One answer per form item per visit.
_PROMS_0007 = (
    """CREATE TABLE prom_answers (
        id INTEGER PRIMARY KEY,
        visit_id INTEGER NOT NULL REFERENCES visits (id),
        questionnaire TEXT NOT NULL,
        item TEXT NOT NULL,
        score INTEGER NOT NULL CHECK (score BETWEEN 0 AND 5),
        recorded_at TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1,
        UNIQUE (visit_id, questionnaire, item)
    )""",
)


@migrations(name="0007_proms")
def _m0007_proms(db: Database) -> None:
    for statement in _PROMS_0007:
        db.execute(statement)


# The programme the doctor tailors for one patient (domain/plan.py): each change made at a
# doctor's appointment to a module's session checklist or home exercises, in the order made:
# an item added (from the programme, or one the doctor names, `label`), removed, or given a
# target dosage, with the reason, who and when. `from_seq` is the first therapy session it
# applies to (the module's first not yet started when it was made; NULL when none was left),
# so sessions already held keep the list they had.
_PLAN_0008 = (
    """CREATE TABLE plan_changes (
        id INTEGER PRIMARY KEY,
        episode_id INTEGER NOT NULL REFERENCES episodes (id),
        visit_id INTEGER NOT NULL REFERENCES visits (id),
        module INTEGER NOT NULL CHECK (module BETWEEN 1 AND 3),
        list TEXT NOT NULL CHECK (list IN ('session', 'home')),
        change TEXT NOT NULL CHECK (change IN ('add', 'remove', 'dosage')),
        item_code TEXT NOT NULL,
        label TEXT NOT NULL DEFAULT '',
        dosage TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL DEFAULT '',
        made_by TEXT NOT NULL DEFAULT '',
        made_on TEXT NOT NULL,
        from_seq INTEGER,
        recorded_at TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1
    )""",
    "CREATE INDEX plan_changes_episode ON plan_changes (episode_id, module, id)",
)


@migrations(name="0008_tailored_plan")
def _m0008_tailored_plan(db: Database) -> None:
    for statement in _PLAN_0008:
        db.execute(statement)


# The clinic's day: a visit's planned time of day (optional; orders the Today list) and why a
# visit was missed or cancelled (required when it is marked so; empty for older rows and for
# the visits an episode closed early cancelled).
_DAY_0009 = (
    "ALTER TABLE visits ADD COLUMN planned_time TEXT "
    "CHECK (planned_time IS NULL OR planned_time GLOB '[0-2][0-9]:[0-5][0-9]')",
    "ALTER TABLE visits ADD COLUMN absence_reason TEXT NOT NULL DEFAULT ''",
    "CREATE INDEX visits_held ON visits (held_on)",
)


@migrations(name="0009_day")
def _m0009_day(db: Database) -> None:
    for statement in _DAY_0009:
        db.execute(statement)


# Who treats and what was amended. A doctor's appointment names the doctor who held it
# (`visits.therapist` is who was at the keyboard; at a session they are the same person).
# An amendment is a held visit reopened, or a recorded value (a test result, a PIR set, a
# dosage) corrected or removed after the fact: who, when, why, and the value as it was.
# The audit trail keeps every change as well; this table is where reports read the reason.
_WHO_TREATS_0010 = (
    "ALTER TABLE visits ADD COLUMN doctor TEXT NOT NULL DEFAULT ''",
    """CREATE TABLE amendments (
        id INTEGER PRIMARY KEY,
        visit_id INTEGER NOT NULL REFERENCES visits (id),
        kind TEXT NOT NULL CHECK (kind IN ('reopen', 'correct', 'remove')),
        what TEXT NOT NULL DEFAULT '',
        old_value TEXT NOT NULL DEFAULT '',
        new_value TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL,
        amended_by TEXT NOT NULL DEFAULT '',
        recorded_at TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1
    )""",
    "CREATE INDEX amendments_visit ON amendments (visit_id, id)",
)


@migrations(name="0010_who_treats_and_amendments")
def _m0010_who_treats_and_amendments(db: Database) -> None:
    for statement in _WHO_TREATS_0010:
        db.execute(statement)


# The discharge letter: who referred the patient (on the episode: a name and, optionally,
# the institution; plain text, '' when not recorded), and what the doctor typed at the final
# appointment for the letter: medication and work status at discharge (a choice from
# data/discharge.toml, with optional words), recommendations and the follow-up plan with an
# optional review date. One row per episode, versioned like every clinical record; the
# appointment it was typed at names the doctor who signs the letter.
_DISCHARGE_0011 = (
    "ALTER TABLE episodes ADD COLUMN referring_doctor TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE episodes ADD COLUMN referring_institution TEXT NOT NULL DEFAULT ''",
    """CREATE TABLE discharges (
        id INTEGER PRIMARY KEY,
        episode_id INTEGER NOT NULL UNIQUE REFERENCES episodes (id),
        visit_id INTEGER NOT NULL REFERENCES visits (id),
        medication TEXT NOT NULL DEFAULT '',
        work_status TEXT NOT NULL DEFAULT '',
        work_note TEXT NOT NULL DEFAULT '',
        recommendations TEXT NOT NULL DEFAULT '',
        follow_up TEXT NOT NULL DEFAULT '',
        review_date TEXT,
        recorded_by TEXT NOT NULL DEFAULT '',
        recorded_at TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1
    )""",
)


@migrations(name="0011_discharge_letter")
def _m0011_discharge_letter(db: Database) -> None:
    for statement in _DISCHARGE_0011:
        db.execute(statement)
    if "uuid" in db["episodes"].columns_dict:
        # a file upgraded by a version that had step 0012 (record uuids) and not this one:
        # the new table gets its uuid column, index and guard as 0012 gives every table
        _give_record_uuids(db, "discharges")


# Every clinical record carries a stable UUID (`uuid`, text): the id it has outside this file
# (a FHIR resource's id, a copy in another database, a branch's record at head office), so
# that records of two files never collide. A random UUID (version 4) is given once, by the
# one write path (domain/store.py insert_row) when a record is made; this step gives one to
# every record already in the file. A UNIQUE index refuses a second record with the same
# uuid, and a trigger refuses any change of a uuid once given. An erased record's uuid leaves
# the file with it (nothing about an erased patient is kept), and a new one is random, so it
# is never given again. The audit trail's create entries name the uuid from this step on;
# the records made before it were given theirs here, unaudited row by row (a schema step,
# like the search index's), and the audit check compares the uuid wherever the trail names it.
# Every record of every clinical table: all of them are copied between files, none is
# derived. (The trail itself, its head, the retired ids and the search indexes are not
# records of care and have none.)
_UUID_TABLES_0012 = (  # as in domain/store.py CLINICAL_TABLES at the time of this step
    "patients",
    "episodes",
    "visits",
    "checklist_ticks",
    "pir_cycles",
    "measurements",
    "red_flag_screens",
    "prom_answers",
    "episode_holds",
    "hold_overrides",
    "amendments",
    "plan_changes",
    # The discharge letter's records (step 0011, landing beside this step): given uuids
    # here when that step has made the table, so no file has them without.
    "discharges",
)


# A random version-4 UUID per row, made in SQL: randomblob() (SQLite's generator, seeded from
# the OS) gives the 122 random bits, '4' is the version and one of 8, 9, a, b the variant.
# On the 100,000-patient benchmark clinic (2.3 million records) the step takes 16 s of CPU
# this way, 28 s with Python's uuid4() called per row as an SQL function.
_RANDOM_UUID_SQL = (
    "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)"
    " || '-' || substr('89ab', 1 + (random() & 3), 1) || substr(hex(randomblob(2)), 2)"
    " || '-' || hex(randomblob(6)))"
)


@migrations(name="0012_record_uuids")
def _m0012_record_uuids(db: Database) -> None:
    for table in _UUID_TABLES_0012:
        if not db[table].exists():  # discharges, before step 0011 is on this branch
            continue
        _give_record_uuids(db, table)


def _give_record_uuids(db: Database, table: str) -> None:
    """A uuid for every record of `table`, unique, and a guard that it never changes."""
    db.execute(f"ALTER TABLE {table} ADD COLUMN uuid TEXT")
    db.execute(f"UPDATE {table} SET uuid = {_RANDOM_UUID_SQL}")
    db.execute(f"CREATE UNIQUE INDEX {table}_uuid ON {table} (uuid)")
    db.execute(
        f"""CREATE TRIGGER {table}_uuid_stays BEFORE UPDATE OF uuid ON {table}
        WHEN OLD.uuid IS NOT NULL AND NEW.uuid IS NOT OLD.uuid BEGIN
            SELECT RAISE(ABORT, 'a record''s uuid never changes');
        END"""
    )


# Steps run in the order they are registered above: in their numbered order, as checked here
# through sqlite-utils' public view of the set (every step is pending on an empty database).
registered = tuple(
    step.name for step in migrations.pending(Database(memory=True, execute_plugins=False))
)
if registered != SCHEMA_STEPS:  # a step out of order, or added here but not named in db.py
    raise RuntimeError(f"schema steps {registered} differ from data.db.SCHEMA_STEPS")
