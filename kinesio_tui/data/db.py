"""Opening the clinic's SQLite file: pragmas for durability, private permissions, migrations.

Every write in the domain goes through `write_transaction`, which takes the write lock
up front (BEGIN IMMEDIATE) so two processes wait for each other instead of failing
half-way through a visit.

The domain speaks SQL to the standard library's connection through `ClinicDB`; the schema's
numbered steps are a sqlite-utils migration set (`data/migrations.py`), imported only when a
file has steps pending. Opening an up-to-date file therefore loads nothing of sqlite-utils
(and click, pluggy, dateutil under it): ~70 ms and ~10 MiB of every start of the workstation
(issue 7, benchmarks/RESULTS.md).
"""

from __future__ import annotations

import contextlib
import getpass
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kinesio_tui.errors import DatabaseBusy, DatabaseTooNew, KinesioError
from kinesio_tui.locations import private_dir

if TYPE_CHECKING:
    from sqlite_utils import Database

#: Identifies a kinesio-tui file (PRAGMA application_id), "KNSO".
APPLICATION_ID = 0x4B4E534F
BUSY_TIMEOUT_MS = 10_000
#: How long a write waits for another program's write lock (a second terminal mid-visit is
#: milliseconds; a `sqlite3` shell left in a transaction is forever) before it gives up with
#: DatabaseBusy, writing nothing. The workstation waits less per attempt and retries.
WRITE_WAIT_S = 30.0
#: After this long waiting for the lock, `ClinicDB.on_wait` is told (the CLI says so).
WAIT_NOTICE_S = 1.0

#: The schema's numbered steps, in order (their code is in data/migrations.py, which checks
#: that it registers exactly these). PRAGMA user_version is their count.
SCHEMA_STEPS: tuple[str, ...] = (
    "0001_initial",
    "0002_audit_log",
    "0003_search_index",
    "0004_audit_guard",
    "0005_keyed_audit",
)
#: sqlite-utils' record of applied steps, and our set's name in it.
MIGRATIONS_TABLE = "_sqlite_migrations"
MIGRATION_SET = "kinesio"

Parameters = Sequence[Any] | Mapping[str, Any]


class ClinicDB:
    """The clinic's open database: its connection, its file and who is working (for the audit)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, actor: str) -> None:
        self.conn = conn
        self.path = path
        self.actor = actor
        #: How long `write_transaction` waits for another program's write lock (seconds).
        self.write_wait_s = WRITE_WAIT_S
        #: Called once when a write has waited WAIT_NOTICE_S for the lock (e.g. to say so).
        self.on_wait: Callable[[], None] | None = None

    def execute(self, sql: str, parameters: Parameters | None = None) -> sqlite3.Cursor:
        """Run one statement on the connection (parameters bound, never formatted in)."""
        if parameters is None:
            return self.conn.execute(sql)
        return self.conn.execute(sql, parameters)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ClinicDB:
        return self

    def __exit__(self, *exc: object) -> None:
        """`with connect(path) as db:` closes the connection at the end of the block."""
        self.close()

    def table_names(self) -> list[str]:
        """The file's ordinary tables (and virtual ones), by name."""
        rows = self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return [row[0] for row in rows]

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
    path: Path,
    *,
    actor: str | None = None,
    migrate: bool = True,
    any_thread: bool = False,
    cache_kib: int | None = None,
    write_wait_s: float | None = None,
    on_wait: Callable[[], None] | None = None,
) -> ClinicDB:
    """Open (creating if needed) the database at `path`, upgrade its schema, return it.

    A file written by a newer kinesio-tui, or a file that is not ours, is refused untouched.
    `any_thread` lets one reader connection serve successive worker threads; the caller
    must serialise its use (sqlite3 itself is built thread-safe). `cache_kib` caps the
    connection's page cache (SQLite's default is 2 MiB). `write_wait_s` (default
    WRITE_WAIT_S) is how long a write waits for another program's lock; `on_wait` is told
    once a write has waited WAIT_NOTICE_S (also while migrating on open).
    """
    path = Path(path)
    try:
        if not path.exists():
            _create_private_file(path)
        else:
            make_private(path)
    except OSError as error:  # a folder that cannot be created or written: say which
        raise KinesioError(
            "Cannot open database", f"{path} cannot be created ({error.strerror})."
        ) from None
    try:
        conn = sqlite3.connect(
            str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=not any_thread
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db = ClinicDB(conn, path, actor or current_user())
        if write_wait_s is not None:
            db.write_wait_s = write_wait_s
        db.on_wait = on_wait
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
        if cache_kib is not None:
            conn.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
    except sqlite3.DatabaseError as error:
        raise KinesioError(
            "Cannot open database", f"{path} is not a readable SQLite database ({error})."
        ) from None
    if migrate:
        migrate_schema(db)
    return db


#: Page caches of the workstation's connections. With SQLite's default (2 MiB each) they
#: filled up with the roster index and episode rows of a large clinic, so the workstation's
#: memory grew with the clinic (+2.4 MiB at 100,000 patients). A search reads a few dozen
#: pages and a patient screen ~100, which the OS keeps cached anyway: search p95 and a
#: committed write unchanged (issue 7, benchmarks/run.py).
READER_CACHE_KIB = 256
WORKSTATION_CACHE_KIB = 512


def connect_reader(path: Path) -> ClinicDB:
    """A connection for searching in worker threads (one at a time): small cache, no migration."""
    return connect(path, migrate=False, any_thread=True, cache_kib=READER_CACHE_KIB)


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


def schema_version(db: ClinicDB) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def known_migrations() -> list[str]:
    return list(SCHEMA_STEPS)


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    """The steps recorded as applied in this file, in the order they were applied."""
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [MIGRATIONS_TABLE]
    ).fetchone()
    if not has_table:
        return []
    rows = conn.execute(
        f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY rowid",
        [MIGRATION_SET],
    )
    return [row[0] for row in rows]


def pending_migrations(db: ClinicDB) -> list[str]:
    applied = set(applied_migrations(db.conn))
    return [name for name in SCHEMA_STEPS if name not in applied]


def _refuse_newer(db: ClinicDB, path: Path) -> None:
    """Raise DatabaseTooNew if the file records migrations or a schema this program lacks."""
    unknown = [name for name in applied_migrations(db.conn) if name not in SCHEMA_STEPS]
    if unknown or schema_version(db) > len(SCHEMA_STEPS):
        raise DatabaseTooNew(
            "Database is newer than this program",
            f"{path} was written by a newer kinesio-tui (schema {schema_version(db)}, "
            f"this program knows {len(SCHEMA_STEPS)}). Upgrade kinesio-tui; the file was not changed.",
        )


def migrate_schema(db: ClinicDB) -> list[str]:
    """Apply pending numbered migrations; refuse a file from a newer version. Returns names applied."""
    _refuse_newer(db, db.path)
    pending = pending_migrations(db)
    if not pending:
        return []
    from kinesio_tui.data.migrations import migrations

    before_migration(db, pending)
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


def before_migration(db: ClinicDB, pending: list[str]) -> None:
    """Hook run before pending migrations touch an existing file (automatic backup).

    A file that already holds applied migrations is copied (online backup API) into the
    backups directory first; a new, empty file has nothing to lose and is not copied.
    """
    if not applied_migrations(db.conn):
        return
    from kinesio_tui.maintenance.backup import pre_migration_backup  # avoids an import cycle

    pre_migration_backup(db, pending)


@contextlib.contextmanager
def write_transaction(db: ClinicDB) -> Iterator[ClinicDB]:
    """One atomic write: BEGIN IMMEDIATE (waits for the lock), COMMIT, or roll back whole.

    Inside a transaction already, the block is a savepoint: it rolls back alone on error.
    """
    conn = db.conn
    if conn.in_transaction:
        conn.execute("SAVEPOINT kinesio_write")
        try:
            yield db
        except BaseException:
            conn.execute("ROLLBACK TO SAVEPOINT kinesio_write")
            conn.execute("RELEASE SAVEPOINT kinesio_write")
            raise
        conn.execute("RELEASE SAVEPOINT kinesio_write")
        return
    begin_immediate(db)
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def begin_immediate(db: ClinicDB) -> None:
    """Take the write lock, waiting up to `db.write_wait_s` for another program to let go.

    Once held, nothing in the transaction waits again (WAL: readers never block a writer),
    so a lock that stays taken means nothing is written: DatabaseBusy, never a half write.
    """
    conn = db.conn
    limit = max(0.0, db.write_wait_s)
    started = time.monotonic()
    told = False
    try:
        while True:
            waited = time.monotonic() - started
            # SQLite's own wait, in slices: the first ends when the wait is worth saying
            step = min(limit - waited, WAIT_NOTICE_S if not told else limit)
            conn.execute(f"PRAGMA busy_timeout = {max(0, int(step * 1000))}")
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error):
                    raise
            waited = time.monotonic() - started
            if waited >= limit:
                raise DatabaseBusy(waited)
            if not told and db.on_wait is not None:
                db.on_wait()
            told = True
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
