"""Opening the clinic's SQLite file: pragmas for durability, private permissions, migrations.

Every write in the domain goes through `write_transaction`, which takes the write lock
up front (BEGIN IMMEDIATE) so two processes wait for each other instead of failing
half-way through a visit.

The domain speaks SQL to the standard library's connection through `ClinicDB`; the schema's
numbered steps are a sqlite-utils migration set (`data/migrations.py`), imported only when a
file has steps pending. Opening an up-to-date file therefore loads nothing of sqlite-utils
(and click, pluggy, dateutil under it): a quarter of the time Textual's own import takes, and
+3.2 MiB, on every start of the workstation (measured with `python -X importtime` and ru_maxrss).
"""

from __future__ import annotations

import contextlib
import errno
import getpass
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from kinesio_tui.errors import DatabaseBusy, DatabaseDamaged, DatabaseTooNew, KinesioError
from kinesio_tui.locations import data_dir, private_dir
from kinesio_tui.private_files import sweep_leftovers

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
    "0006_red_flag_holds",
    "0007_proms",
    "0008_tailored_plan",
    "0009_day",
    "0010_who_treats_and_amendments",
    "0011_discharge_letter",
    "0012_record_uuids",
)
#: sqlite-utils' record of applied steps, and our set's name in it.
MIGRATIONS_TABLE = "_sqlite_migrations"
MIGRATION_SET = "kinesio"

Parameters = Sequence[Any] | Mapping[str, Any]
#: Copies an existing file before its pending schema steps (the names) run.
BackupFirst = Callable[["ClinicDB", list[str]], object]


class _OpenFiles:
    """The database files this process has connections to, by (device, inode).

    SQLite's locks are POSIX locks, which belong to the process: closing ANY descriptor of a
    file releases every lock the process holds on it, including those of connections that
    are still open. SQLite guards its own descriptors against this; a plain `open()` of the
    file is not guarded. So a file this process already has open is never opened outside
    SQLite again: had the workstation's second connection (search reader, export) read the
    header, its main connection would lose its shared lock, the next program to close the
    file would take itself for the last one and delete the -wal and -shm, and every save
    after that would go into a deleted log.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count: dict[tuple[int, int], int] = {}

    def opened(self, key: tuple[int, int]) -> None:
        with self._lock:
            self._count[key] = self._count.get(key, 0) + 1

    def closed(self, key: tuple[int, int]) -> None:
        with self._lock:
            left = self._count.get(key, 0) - 1
            if left > 0:
                self._count[key] = left
            else:
                self._count.pop(key, None)

    def holds(self, key: tuple[int, int]) -> bool:
        with self._lock:
            return key in self._count


_OPEN_FILES = _OpenFiles()


def _file_key(st: os.stat_result) -> tuple[int, int]:
    return (st.st_dev, st.st_ino)


class ClinicDB:
    """The clinic's open database: its connection, its file and who is working (for the audit)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, actor: str) -> None:
        self.conn = conn
        self.path = path
        self.actor = actor
        #: The file this connection holds (see `_OpenFiles`), once `connect` has opened it.
        self._file: tuple[int, int] | None = None
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
        if self._file is not None:
            _OPEN_FILES.closed(self._file)
            self._file = None

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
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def make_private(path: Path) -> None:
    """Take group/other access away from a database file we own, and from its -wal/-shm.

    SQLite creates the -wal and -shm files with the main file's mode, so a file copied in
    with a loose umask would otherwise leak through its companions too. Called only once
    the file is known to be ours (see `inspect_file`).
    """
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(OSError):  # missing, or not ours to change: leave it
            st = file.stat()
            if st.st_uid == os.getuid() and st.st_mode & 0o077 and stat.S_ISREG(st.st_mode):
                os.chmod(file, 0o600)


#: The first bytes of every SQLite database file.
SQLITE_MAGIC = b"SQLite format 3\x00"
#: What is at a database path: nothing, a file with nothing in it yet (0 bytes, or an
#: SQLite file without a single table), or a kinesio-tui database.
FileKind = Literal["missing", "blank", "kinesio"]


def inspect_file(path: Path) -> FileKind:
    """What is at `path`, found out without changing anything there.

    Refuses (KinesioError) a folder, a device, a pipe, a file that is not SQLite, another
    program's database and a file of a newer kinesio-tui. Reads the file's header and, only
    for an SQLite file whose header does not yet say "kinesio-tui", its schema (read-only;
    immutable when no -wal could hold newer pages), so nothing is created beside it.
    """
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    except OSError as error:
        raise path_error(path, error) from None
    if stat.S_ISDIR(st.st_mode):
        raise KinesioError("Not a database file", f"{path} is a folder.")
    if _OPEN_FILES.holds(_file_key(st)):
        return "kinesio"  # inspected when this process first opened it; never reopen it here
    if not stat.S_ISREG(st.st_mode):
        raise KinesioError(
            "Not a database file", f"{path} is a device, pipe or socket, not a file; left as it is."
        )
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
    except OSError as error:
        raise path_error(path, error) from None
    wal = path.with_name(path.name + "-wal")
    wal_pending = wal.is_file() and wal.stat().st_size > 0
    if not header and not wal_pending:
        return "blank"
    if header and (len(header) < 100 or not header.startswith(SQLITE_MAGIC)):
        raise KinesioError("Not a kinesio-tui database", f"{path} is not an SQLite database.")
    app_id = int.from_bytes(header[68:72], "big") if header else 0
    if app_id == APPLICATION_ID:
        _refuse_newer_header(path, int.from_bytes(header[60:64], "big"))
        return "kinesio"
    if app_id:
        raise KinesioError("Not a kinesio-tui database", f"{path} belongs to another program.")
    # The header is not ours (yet): a blank SQLite file, another program's database, or a
    # kinesio-tui file whose creation is still in its -wal (another terminal has it open).
    app_id, tables = _schema_summary(path, immutable=not wal_pending)
    if app_id == APPLICATION_ID:
        return "kinesio"
    if app_id or tables:
        raise KinesioError(
            "Not a kinesio-tui database", f"{path} already holds tables of another program."
        )
    return "blank"


def _schema_summary(path: Path, *, immutable: bool) -> tuple[int, int]:
    """(application_id, number of schema entries), read-only; immutable never makes a -shm."""
    uri = path.absolute().as_uri() + ("?mode=ro&immutable=1" if immutable else "?mode=ro")
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            count = int(conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise explain_sqlite_error(path, error) from None
    return app_id, count


def _refuse_newer_header(path: Path, user_version: int) -> None:
    if user_version > len(SCHEMA_STEPS):
        raise _too_new(path, user_version)


def _too_new(path: Path, version: int) -> DatabaseTooNew:
    return DatabaseTooNew(
        "Database is newer than this program",
        f"{path} was written by a newer kinesio-tui (schema {version}, "
        f"this program knows {len(SCHEMA_STEPS)}). Upgrade kinesio-tui; the file was not changed.",
    )


def path_error(path: Path, error: OSError) -> KinesioError:
    """A path the OS would not let us look at, in one line that says why."""
    if error.errno == errno.ENAMETOOLONG:
        return KinesioError("Path too long", f"{path} is longer than the file system allows.")
    return KinesioError("Cannot open database", f"{path}: {error.strerror or error}.")


def explain_sqlite_error(path: Path, error: sqlite3.Error) -> KinesioError:
    """An SQLite failure on the clinic's file as one line the user can act on."""
    code = getattr(error, "sqlite_errorcode", 0) & 0xFF
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return DatabaseDamaged(
            "Database damaged",
            f"{path} is damaged ({error}). Run `kinesio check`, keep the file, and restore a "
            "backup.",
        )
    if code == sqlite3.SQLITE_FULL:
        return KinesioError(
            "Disk full", f"The disk holding {path} is full; nothing more was saved. Free space."
        )
    if code == sqlite3.SQLITE_READONLY or (
        code == sqlite3.SQLITE_CANTOPEN and path.exists() and not os.access(path.parent, os.W_OK)
    ):
        return KinesioError(
            "Read-only",
            f"{path} or its folder is read-only; kinesio-tui writes beside the file "
            "(its -wal and -shm).",
        )
    if code == sqlite3.SQLITE_IOERR:
        return KinesioError(
            "Cannot read or write", f"{path}: the system reported an input/output error ({error})."
        )
    return KinesioError(
        "Cannot open database", f"{path} is not a readable SQLite database ({error})."
    )


def connect(
    path: Path,
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
    """Open the kinesio-tui database at `path`, upgrade its schema, return it.

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
    path = Path(path)
    kind = inspect_file(path)
    if kind == "missing" and not create:
        raise KinesioError(
            "No database", f"There is no database at {path}. Create it with `kinesio init`."
        )
    if kind == "blank" and not create:
        raise KinesioError(
            "Not a kinesio-tui database",
            f"{path} is empty. Create the database in it with `kinesio init`.",
        )
    try:
        if kind == "missing":
            _create_private_file(path)
        else:
            make_private(path)
    except OSError as error:  # a folder that cannot be created or written: say which
        if error.errno == errno.ENAMETOOLONG:
            raise path_error(path, error) from None
        raise KinesioError(
            "Cannot open database", f"{path} cannot be created ({error.strerror})."
        ) from None
    conn: sqlite3.Connection | None = None
    db: ClinicDB | None = None
    try:
        conn = sqlite3.connect(
            str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=not any_thread
        )
        db = ClinicDB(conn, path, actor or current_user())
        db._file = _file_key(os.stat(path))
        _OPEN_FILES.opened(db._file)
        if write_wait_s is not None:
            db.write_wait_s = write_wait_s
        db.on_wait = on_wait
        _configure(db, cache_kib)
        if migrate:
            migrate_schema(db, backup_first)
    except sqlite3.DatabaseError as error:
        _close_unfinished(conn, db)
        raise explain_sqlite_error(path, error) from None
    except BaseException:
        _close_unfinished(conn, db)
        raise
    if migrate:  # a main connection: sweep what interrupted backups and restores left
        sweep_leftovers(path.parent)
        sweep_leftovers(data_dir() / "backups")
    return db


def _close_unfinished(conn: sqlite3.Connection | None, db: ClinicDB | None) -> None:
    """Close what a failed `connect` opened, and forget the file as open."""
    if db is not None:
        db.close()
    elif conn is not None:
        conn.close()


def _configure(db: ClinicDB, cache_kib: int | None) -> ClinicDB:
    """Check the file is ours and not newer, then set the connection's pragmas."""
    conn, path = db.conn, db.path
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _check_ours(db, path)
    # Before any pragma that writes (journal_mode): a newer file stays byte-for-byte.
    _refuse_newer(db, path)
    conn.execute("PRAGMA foreign_keys = ON")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode.lower() != "wal":
        raise KinesioError("Cannot open database", f"{path} does not support WAL mode.")
    # FULL in WAL mode fsyncs the log on every commit: a record the screen shows as
    # saved survives a power cut (~0.1 ms per commit, measured on a local SSD).
    conn.execute("PRAGMA synchronous = FULL")
    if cache_kib is not None:
        conn.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
    return db


#: Page caches of the workstation's connections. With SQLite's default (2 MiB each) they
#: filled up with the roster index and episode rows of a large clinic, so the workstation's
#: memory grew with the clinic (+2.4 MiB at 100,000 patients). A search reads a few dozen
#: pages and a patient screen ~100, which the OS keeps cached anyway: search p95 and a
#: committed write unchanged (benchmarks/run.py). Halved again (512/256 KiB before): -0.3 MiB
#: resident after typing a search on the 2,000-patient clinic, VmHWM in a pty.
READER_CACHE_KIB = 128
WORKSTATION_CACHE_KIB = 256


def connect_reader(path: Path) -> ClinicDB:
    """A connection for searching in worker threads (one at a time): small cache, no migration."""
    return connect(path, migrate=False, any_thread=True, cache_kib=READER_CACHE_KIB, create=False)


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
        raise _too_new(path, schema_version(db))


def migrate_schema(db: ClinicDB, backup_first: BackupFirst | None = None) -> list[str]:
    """Apply pending numbered migrations; refuse a file from a newer version. Returns names applied.

    A file that already holds applied steps goes to `backup_first` before the pending ones
    touch it; a new, empty file has nothing to lose and is not copied.
    """
    _refuse_newer(db, db.path)
    pending = pending_migrations(db)
    if not pending:
        return []
    from kinesio_tui.data.migrations import migrations  # sqlite-utils: see the module's doc

    if backup_first is not None and applied_migrations(db.conn):
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
