"""Opening the clinic's SQLite file: pragmas for durability, private permissions, migrations.

Every write in the domain goes through `write_transaction`, which takes the write lock
up front (BEGIN IMMEDIATE) so two processes wait for each other instead of failing
half-way through a visit.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from kinesio_tui.errors import DatabaseTooNew, KinesioError
from kinesio_tui.locations import private_dir

#: Identifies a kinesio-tui file (PRAGMA application_id), "KNSO".
APPLICATION_ID = 0x4B4E534F
BUSY_TIMEOUT_MS = 10_000

migrations = Migrations("kinesio")


class ClinicDB(Database):
    """A sqlite-utils Database that knows its file and who is working (for the audit trail)."""

    path: Path
    actor: str


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _create_private_file(path: Path) -> None:
    private_dir(path.parent) if not path.parent.exists() else None
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def make_private(path: Path) -> None:
    """Take group/other access away from a database file we own, and from its -wal/-shm.

    SQLite creates the -wal and -shm files with the main file's mode, so a file copied in
    with a loose umask would otherwise leak through its companions too.
    """
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(OSError):  # missing, or not ours to change: leave it
            st = file.stat()
            if st.st_uid == os.getuid() and st.st_mode & 0o077:
                os.chmod(file, 0o600)


def connect(
    path: Path, *, actor: str | None = None, migrate: bool = True, any_thread: bool = False
) -> ClinicDB:
    """Open (creating if needed) the database at `path`, upgrade its schema, return it.

    A file written by a newer kinesio-tui, or a file that is not ours, is refused untouched.
    `any_thread` lets one reader connection serve successive worker threads; the caller
    must serialise its use (sqlite3 itself is built thread-safe).
    """
    path = Path(path)
    if not path.exists():
        _create_private_file(path)
    else:
        make_private(path)
    try:
        conn = sqlite3.connect(
            str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=not any_thread
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # No sqlite-utils plugins: scanning every installed package's entry points costs
        # ~40 ms at start-up, and a plugin could run code on the clinic's connection.
        db = ClinicDB(conn, execute_plugins=False)
        try:
            _check_ours(db, path)
            # Before any pragma that writes (journal_mode): a newer file stays byte-for-byte.
            _refuse_newer(db, path)
        except KinesioError:
            conn.close()
            raise
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise KinesioError("Cannot open database", f"{path} does not support WAL mode.")
        # FULL in WAL mode fsyncs the log on every commit: a record the screen shows as
        # saved survives a power cut (~0.1 ms per commit here, see performance.md).
        conn.execute("PRAGMA synchronous = FULL")
    except sqlite3.DatabaseError as error:
        raise KinesioError(
            "Cannot open database", f"{path} is not a readable SQLite database ({error})."
        ) from None
    db.path = path
    db.actor = actor or current_user()
    if migrate:
        migrate_schema(db)
    return db


@contextlib.contextmanager
def open_db(path: Path, *, actor: str | None = None) -> Iterator[ClinicDB]:
    db = connect(path, actor=actor)
    try:
        yield db
    finally:
        db.close()


def _check_ours(db: ClinicDB, path: Path) -> None:
    app_id = db.execute("PRAGMA application_id").fetchone()[0]
    if app_id not in (0, APPLICATION_ID):
        raise KinesioError("Not a kinesio-tui database", f"{path} belongs to another program.")
    if app_id == 0 and db.table_names():
        raise KinesioError(
            "Not a kinesio-tui database", f"{path} already holds tables of another program."
        )


def schema_version(db: Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def known_migrations() -> list[str]:
    return [m.name for m in migrations._migrations]


def _refuse_newer(db: Database, path: Path) -> None:
    """Raise DatabaseTooNew if the file records migrations or a schema this program lacks."""
    known = known_migrations()
    applied = [m.name for m in migrations.applied(db)]
    unknown = [name for name in applied if name not in known]
    if unknown or schema_version(db) > len(known):
        raise DatabaseTooNew(
            "Database is newer than this program",
            f"{path} was written by a newer kinesio-tui (schema {schema_version(db)}, "
            f"this program knows {len(known)}). Upgrade kinesio-tui; the file was not changed.",
        )


def migrate_schema(db: ClinicDB) -> list[str]:
    """Apply pending numbered migrations; refuse a file from a newer version. Returns names applied."""
    known = known_migrations()
    _refuse_newer(db, db.path)
    pending = [m.name for m in migrations.pending(db)]
    if not pending:
        return []
    before_migration(db, pending)
    # All pending steps, their records and the header pragmas commit as one transaction:
    # a failing step (or a power cut) leaves the file exactly as it was, and the claim
    # on the file (application_id) can never be separated from the tables it explains.
    with write_transaction(db):
        if not migrations.pending(db):  # another process migrated while we waited
            return []
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        migrations.apply(db)
        db.execute(f"PRAGMA user_version = {len(known)}")
    return pending


def before_migration(db: ClinicDB, pending: list[str]) -> None:
    """Hook run before pending migrations touch an existing file (automatic backup).

    A file that already holds applied migrations is copied (online backup API) into the
    backups directory first; a new, empty file has nothing to lose and is not copied.
    """
    if not migrations.applied(db):
        return
    from kinesio_tui.maintenance.backup import pre_migration_backup  # avoids an import cycle

    pre_migration_backup(db, pending)


@contextlib.contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """One atomic write: BEGIN IMMEDIATE (waits for the lock), COMMIT, or roll back whole."""
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# --- schema -------------------------------------------------------------------------------
# An applied step stays as it is; change the schema with a new numbered step.

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


# Patient search at clinic scale (issue 7): `LIKE '% word%'` cannot use an index and scanned
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


# Steps run in registration order; make that the numbered order, wherever a block sits above.
migrations._migrations.sort(key=lambda m: m.name)
