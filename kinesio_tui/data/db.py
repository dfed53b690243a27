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


def connect(path: Path, *, actor: str | None = None, migrate: bool = True) -> ClinicDB:
    """Open (creating if needed) the database at `path`, upgrade its schema, return it.

    A file written by a newer kinesio-tui, or a file that is not ours, is refused untouched.
    """
    path = Path(path)
    if not path.exists():
        _create_private_file(path)
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db = ClinicDB(conn)
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
    # Claim the file first: a step interrupted half-way leaves tables, and without the id
    # the next start would take them for another program's and refuse to resume.
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    migrations.apply(db)
    with db.atomic():
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {len(known)}")
    return pending


def before_migration(db: ClinicDB, pending: list[str]) -> None:
    """Hook run before pending migrations touch an existing file (automatic backup)."""


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
