"""The clinic's database handle: one connection, on SQLite or PostgreSQL, and its schema.

Every write in the domain goes through `write_transaction`, which takes the write lock
up front (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock) so two processes wait for
each other instead of failing half-way through a visit.

The domain speaks SQL (SQLite's paramstyle, `?` and `:name`) through `ClinicDB`, which
delegates to one engine (`data/engines/`): the SQLite file's specifics (header, pragmas,
file locks) live in `engines/sqlite.py`, and only a `postgresql://` target imports the
PostgreSQL engine. The schema's numbered steps are a sqlite-utils migration set
(`data/migrations.py`), imported only when a file has steps pending. Opening an up-to-date
file therefore loads nothing of sqlite-utils (and click, pluggy, dateutil under it): a
quarter of the time Textual's own import takes, and +3.2 MiB, on every start of the
workstation (measured with `python -X importtime` and ru_maxrss).
"""

from __future__ import annotations

import contextlib
import getpass
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from kinesio_tui.data.engine import (
    WAIT_NOTICE_S,
    Engine,
    EngineKind,
    Parameters,
    Rows,
    Target,
    parse_target,
)
from kinesio_tui.data.engines import sqlite as sqlite_engine
from kinesio_tui.data.engines.sqlite import (
    APPLICATION_ID,
    BUSY_TIMEOUT_MS,
    MIGRATION_SET,
    FileKind,
    SqliteEngine,
    explain_sqlite_error,
)
from kinesio_tui.errors import KinesioError
from kinesio_tui.locations import data_dir
from kinesio_tui.private_files import sweep_leftovers

if TYPE_CHECKING:
    from sqlite_utils import Database

#: Re-exported: callers named them here before the engines had modules of their own.
__all__ = [
    "APPLICATION_ID",
    "BUSY_TIMEOUT_MS",
    "MIGRATION_SET",
    "WAIT_NOTICE_S",
    "FileKind",
    "Parameters",
    "Target",
    "explain_sqlite_error",
]

#: The schema's numbered steps, in order (their code is in data/migrations.py, which checks
#: that it registers exactly these). PRAGMA user_version is their count.
SCHEMA_STEPS: tuple[str, ...] = (
    "0001_initial",
    "0002_audit_log",
    "0003_search_index",
    "0004_audit_guard",
    "0005_keyed_audit",
    "0006_red_flag_holds",
    "0007_proms",
    "0008_tailored_plan",
    "0009_day",
    "0010_who_treats_and_amendments",
    "0011_discharge_letter",
    "0012_record_uuids",
)
#: How long a write waits for another program's write lock (a second terminal mid-visit is
#: milliseconds; a `sqlite3` shell left in a transaction is forever) before it gives up with
#: DatabaseBusy, writing nothing. The workstation waits less per attempt and retries.
WRITE_WAIT_S = 30.0

#: Copies an existing file before its pending schema steps (the names) run.
BackupFirst = Callable[["ClinicDB", list[str]], object]


class ClinicDB:
    """The clinic's open database: its engine's connection, what it is, and who is working
    (for the audit)."""

    def __init__(
        self, engine: Engine | sqlite3.Connection, path: Path | None = None, actor: str = ""
    ) -> None:
        """`ClinicDB(engine, actor=...)`; `ClinicDB(conn, path, actor)` wraps a raw sqlite3
        connection to a file (a backup being checked), with no pragmas or checks."""
        if isinstance(engine, sqlite3.Connection):
            engine = SqliteEngine(engine, Path(path or ""))
        self.engine: Engine = engine
        self.target: Target = engine.target
        self.kind: EngineKind = engine.target.kind
        #: The SQLite file; None on PostgreSQL (check `kind` first).
        self.path: Path | None = engine.target.path
        self.actor = actor
        #: How long `write_transaction` waits for another program's write lock (seconds).
        self.write_wait_s = WRITE_WAIT_S
        #: Called once when a write has waited WAIT_NOTICE_S for the lock (e.g. to say so).
        self.on_wait: Callable[[], None] | None = None

    def execute(self, sql: str, parameters: Parameters | None = None) -> Rows:
        """Run one statement (parameters bound, never formatted in; `?`/`:name` on both)."""
        return self.engine.execute(sql, parameters)

    @property
    def in_transaction(self) -> bool:
        return self.engine.in_transaction

    @property
    def conn(self) -> sqlite3.Connection:
        """The SQLite connection itself (backups, inspection tools); SQLite only."""
        if not isinstance(self.engine, SqliteEngine):
            raise KinesioError("Not an SQLite database", f"{self.target.label()} is not a file.")
        return self.engine.conn

    @property
    def file(self) -> Path:
        """The SQLite file (for what only a file has: backups, holders, -wal); SQLite only."""
        if self.path is None:
            raise KinesioError("Not an SQLite database", f"{self.target.label()} is not a file.")
        return self.path

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> ClinicDB:
        return self

    def __exit__(self, *exc: object) -> None:
        """`with connect(path) as db:` closes the connection at the end of the block."""
        self.close()

    def table_names(self) -> list[str]:
        """The database's tables (SQLite: and virtual ones), by name."""
        return self.engine.table_names()

    def sqlite_utils(self) -> Database:
        """The same connection as a sqlite-utils Database (migrations, inspection tools).

        Plugins off: scanning every installed package's entry points costs ~40 ms, and a
        plugin could run code on the clinic's connection.
        """
        from sqlite_utils import Database

        return Database(self.conn, execute_plugins=False)


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def inspect_file(path: Path) -> FileKind:
    """What is at `path` (missing, blank, kinesio), found out without changing anything
    there; refuses what is not a kinesio-tui file, or one of a newer kinesio-tui."""
    return sqlite_engine.inspect_file(path, len(SCHEMA_STEPS))


def _too_new(path: Path, version: int) -> KinesioError:
    return sqlite_engine.too_new(path, version, len(SCHEMA_STEPS))


def connect(
    target: Path | str | Target,
    *,
    actor: str | None = None,
    migrate: bool = True,
    any_thread: bool = False,
    cache_kib: int | None = None,
    write_wait_s: float | None = None,
    on_wait: Callable[[], None] | None = None,
    create: bool = True,
    backup_first: BackupFirst | None = None,
) -> ClinicDB:
    """Open the kinesio-tui database `target` names (a file's path), upgrade its schema.

    With `create` a missing path (and its folders, 0700) or a blank file becomes a new
    database; without it both are refused ("No database"). Anything else that is not a
    kinesio-tui file, or one written by a newer kinesio-tui, is refused before anything
    at the path is created or changed (not even its mode). `any_thread` lets one reader
    connection serve successive worker threads; the caller must serialise its use
    (sqlite3 itself is built thread-safe). `cache_kib` caps the connection's page cache
    (SQLite's default is 2 MiB). `write_wait_s` (default WRITE_WAIT_S) is how long a write
    waits for another program's lock; `on_wait` is told once a write has waited
    WAIT_NOTICE_S (also while migrating on open). `backup_first` copies a file that holds
    applied steps before pending ones change it (the workstation and the CLI pass
    maintenance.backup.pre_migration_backup: this layer imports nothing above it).
    """
    named = parse_target(target)
    if named.path is None:
        return _connect_postgres(
            named,
            actor=actor,
            migrate=migrate,
            write_wait_s=write_wait_s,
            on_wait=on_wait,
            create=create,
        )
    path = named.path
    try:  # open_file closes what it opened when it fails
        engine = sqlite_engine.open_file(
            path, any_thread=any_thread, create=create, known_steps=len(SCHEMA_STEPS)
        )
    except sqlite3.DatabaseError as error:
        raise explain_sqlite_error(path, error) from None
    try:
        db = ClinicDB(engine, actor=actor or current_user())
        if write_wait_s is not None:
            db.write_wait_s = write_wait_s
        db.on_wait = on_wait
        # Before any pragma that writes (journal_mode): a newer file stays byte-for-byte.
        _refuse_newer(db)
        sqlite_engine.configure(engine, cache_kib)
        if migrate:
            migrate_schema(db, backup_first)
    except sqlite3.DatabaseError as error:
        engine.close()
        raise explain_sqlite_error(path, error) from None
    except BaseException:
        engine.close()
        raise
    if migrate:  # a main connection: sweep what interrupted backups and restores left
        sweep_leftovers(path.parent)
        sweep_leftovers(data_dir() / "backups")
    return db


def _connect_postgres(
    target: Target,
    *,
    actor: str | None,
    migrate: bool,
    write_wait_s: float | None,
    on_wait: Callable[[], None] | None,
    create: bool,
) -> ClinicDB:
    """`connect` for a PostgreSQL target: the engine (psycopg loads only now), the schema
    checked and, for its owner, brought up to date. No backup first: the upgrade is one
    transaction, and PostgreSQL's backups are the server's (pg_dump, archiving)."""
    postgres = postgres_engine()
    engine = postgres.connect(target)
    try:
        db = ClinicDB(engine, actor=actor or current_user())
        if write_wait_s is not None:
            db.write_wait_s = write_wait_s
        db.on_wait = on_wait
        postgres.prepare_schema(engine, create=create, migrate=migrate)
    except BaseException:
        engine.close()
        raise
    return db


def postgres_engine() -> ModuleType:
    """The PostgreSQL engine's module, or one line saying how to install its driver."""
    try:
        from kinesio_tui.data.engines import postgres
    except ImportError as error:
        if (error.name or "").partition(".")[0] not in {"psycopg", "psycopg_binary"}:
            raise
        raise KinesioError(
            "PostgreSQL not installed",
            "PostgreSQL support is not installed: pip install 'kinesio-tui[postgres]'",
        ) from None
    return postgres


#: Page caches of the workstation's connections. With SQLite's default (2 MiB each) they
#: filled up with the roster index and episode rows of a large clinic, so the workstation's
#: memory grew with the clinic (+2.4 MiB at 100,000 patients). A search reads a few dozen
#: pages and a patient screen ~100, which the OS keeps cached anyway: search p95 and a
#: committed write unchanged (benchmarks/run.py). Halved again (512/256 KiB before): -0.3 MiB
#: resident after typing a search on the 2,000-patient clinic, VmHWM in a pty.
READER_CACHE_KIB = 128
WORKSTATION_CACHE_KIB = 256


def connect_reader(path: Path | str | Target) -> ClinicDB:
    """A connection for searching in worker threads (one at a time): small cache, no migration."""
    return connect(path, migrate=False, any_thread=True, cache_kib=READER_CACHE_KIB, create=False)


@contextlib.contextmanager
def open_db(path: Path | str | Target, *, actor: str | None = None) -> Iterator[ClinicDB]:
    db = connect(path, actor=actor)
    try:
        yield db
    finally:
        db.close()


def schema_version(db: ClinicDB) -> int:
    """How many steps the schema is at: SQLite's header (PRAGMA user_version) says; on
    PostgreSQL, the steps its kinesio_schema table records."""
    if db.kind == "postgresql":
        return len(db.engine.applied_steps())
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def known_migrations() -> list[str]:
    return list(SCHEMA_STEPS)


def pending_migrations(db: ClinicDB) -> list[str]:
    applied = set(db.engine.applied_steps())
    return [name for name in SCHEMA_STEPS if name not in applied]


def _refuse_newer(db: ClinicDB) -> None:
    """Raise DatabaseTooNew if the file records migrations or a schema this program lacks."""
    unknown = [name for name in db.engine.applied_steps() if name not in SCHEMA_STEPS]
    if unknown or schema_version(db) > len(SCHEMA_STEPS):
        raise _too_new(db.file, schema_version(db))


def migrate_schema(db: ClinicDB, backup_first: BackupFirst | None = None) -> list[str]:
    """Apply pending numbered migrations; refuse a file from a newer version. Returns names applied.

    A file that already holds applied steps goes to `backup_first` before the pending ones
    touch it; a new, empty file has nothing to lose and is not copied. PostgreSQL: the
    schema's owner upgrades it (pg_schema), in one transaction, without a copy first.
    """
    if db.kind == "postgresql":
        from kinesio_tui.data.engines import postgres

        assert isinstance(db.engine, postgres.PostgresEngine)
        return postgres.prepare_schema(db.engine, create=True, migrate=True)
    _refuse_newer(db)
    pending = pending_migrations(db)
    if not pending:
        return []
    from kinesio_tui.data.migrations import migrations  # sqlite-utils: see the module's doc

    if backup_first is not None and db.engine.applied_steps():
        backup_first(db, pending)
    # All pending steps, their records and the header pragmas commit as one transaction:
    # a failing step (or a power cut) leaves the file exactly as it was, and the claim
    # on the file (application_id) can never be separated from the tables it explains.
    with write_transaction(db):
        if not pending_migrations(db):  # another process migrated while we waited
            return []
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        migrations.apply(db.sqlite_utils())
        db.execute(f"PRAGMA user_version = {len(SCHEMA_STEPS)}")
    return pending


@contextlib.contextmanager
def write_transaction(db: ClinicDB) -> Iterator[ClinicDB]:
    """One atomic write: begin holding the write lock (waits for it), COMMIT, or roll back
    whole. Inside a transaction already, the block is a savepoint: it rolls back alone on
    error."""
    engine = db.engine
    if engine.in_transaction:
        engine.execute("SAVEPOINT kinesio_write")
        try:
            yield db
        except BaseException:
            engine.execute("ROLLBACK TO SAVEPOINT kinesio_write")
            engine.execute("RELEASE SAVEPOINT kinesio_write")
            raise
        engine.execute("RELEASE SAVEPOINT kinesio_write")
        return
    engine.begin_write(db.write_wait_s, db.on_wait)
    try:
        yield db
    except BaseException:
        if engine.in_transaction:
            engine.rollback()
        raise
    engine.commit()
