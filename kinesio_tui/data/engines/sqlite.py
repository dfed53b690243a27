"""SQLite, the embedded engine: the clinic's file, its pragmas, its locks and its errors.

What is specific to SQLite lives here: the file's identity (header, application_id,
user_version), private permissions of the file and its -wal/-shm, the pragmas that make
commits durable, BEGIN IMMEDIATE as the write lock, and sqlite3's exceptions turned into the
neutral errors of `kinesio_tui.errors`. `data/db.py` opens a file through `open_file` and
holds the `SqliteEngine`; the standard library's sqlite3 is all this imports.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from kinesio_tui.data.engine import WAIT_NOTICE_S, Parameters, Target
from kinesio_tui.errors import (
    DatabaseBusy,
    DatabaseDamaged,
    DatabaseGone,
    DatabaseTooNew,
    KinesioError,
    RecordRefused,
    RefusalKind,
)
from kinesio_tui.locations import private_dir

#: Identifies a kinesio-tui file (PRAGMA application_id), "KNSO".
APPLICATION_ID = 0x4B4E534F
BUSY_TIMEOUT_MS = 10_000
#: sqlite-utils' record of applied steps, and our set's name in it.
MIGRATIONS_TABLE = "_sqlite_migrations"
MIGRATION_SET = "kinesio"


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


class SqliteEngine:
    """One sqlite3 connection to the clinic's file (see `kinesio_tui.data.engine.Engine`)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self.target = Target("sqlite", path=path)
        #: The file this connection holds (see `_OpenFiles`), once `open_file` has opened it.
        self._file: tuple[int, int] | None = None

    @property
    def in_transaction(self) -> bool:
        try:
            return self.conn.in_transaction
        except sqlite3.ProgrammingError:  # closed: the next statement says DatabaseGone
            return False

    def execute(self, sql: str, parameters: Parameters | None = None) -> sqlite3.Cursor:
        """Run one statement (parameters bound, never formatted in); neutral errors out."""
        try:
            if parameters is None:
                return self.conn.execute(sql)
            return self.conn.execute(sql, parameters)
        except sqlite3.IntegrityError as error:
            # SQLite's message names constraints, columns and triggers, never a value
            raise RecordRefused(refusal_kind(str(error)), str(error)) from None
        except sqlite3.ProgrammingError as error:
            if "closed database" in str(error):
                raise DatabaseGone(self.target.label()) from None
            raise

    def begin_write(self, wait_s: float, on_wait: Callable[[], None] | None) -> None:
        try:
            begin_immediate(self.conn, wait_s, on_wait)
        except sqlite3.ProgrammingError as error:
            if "closed database" in str(error):
                raise DatabaseGone(self.target.label()) from None
            raise

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        self.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()
        if self._file is not None:
            _OPEN_FILES.closed(self._file)
            self._file = None

    def table_names(self) -> list[str]:
        """The file's ordinary tables (and virtual ones), by name."""
        rows = self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return [row[0] for row in rows]

    def applied_steps(self) -> list[str]:
        return applied_migrations(self.conn)

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])


def refusal_kind(message: str) -> RefusalKind:
    """What an sqlite3.IntegrityError's message says was refused."""
    if "FOREIGN KEY" in message:
        return "link"
    if "UNIQUE" in message:
        return "duplicate"
    return "check"


def open_file(
    path: Path, *, any_thread: bool = False, create: bool = True, known_steps: int
) -> SqliteEngine:
    """Open the kinesio-tui file at `path` (creating a missing or blank one with `create`).

    Refuses, before anything at the path is created or changed, what is not a kinesio-tui
    file and a file whose header says a newer kinesio-tui (more than `known_steps` steps).
    The connection comes back with only its busy timeout set: the caller checks the steps
    the file records, then calls `configure` (whose journal_mode pragma writes).
    """
    kind = inspect_file(path, known_steps)
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
    conn = sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=not any_thread
    )
    engine = SqliteEngine(conn, path)
    try:
        engine._file = _file_key(os.stat(path))
        _OPEN_FILES.opened(engine._file)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _check_ours(engine, path)
    except BaseException:
        engine.close()
        raise
    return engine


def configure(engine: SqliteEngine, cache_kib: int | None) -> None:
    """Set the connection's pragmas: foreign keys, WAL, durable commits, its page cache."""
    conn, path = engine.conn, engine.path
    conn.execute("PRAGMA foreign_keys = ON")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode.lower() != "wal":
        raise KinesioError("Cannot open database", f"{path} does not support WAL mode.")
    # FULL in WAL mode fsyncs the log on every commit: a record the screen shows as
    # saved survives a power cut (~0.1 ms per commit, measured on a local SSD).
    conn.execute("PRAGMA synchronous = FULL")
    if cache_kib is not None:
        conn.execute(f"PRAGMA cache_size = -{int(cache_kib)}")


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


def inspect_file(path: Path, known_steps: int) -> FileKind:
    """What is at `path`, found out without changing anything there.

    Refuses (KinesioError) a folder, a device, a pipe, a file that is not SQLite, another
    program's database and a file of a newer kinesio-tui (more than `known_steps` steps). Reads the file's header and, only
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
        version = int.from_bytes(header[60:64], "big")
        if version > known_steps:
            raise too_new(path, version, known_steps)
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


def too_new(path: Path, version: int, known_steps: int) -> DatabaseTooNew:
    return DatabaseTooNew(
        "Database is newer than this program",
        f"{path} was written by a newer kinesio-tui (schema {version}, "
        f"this program knows {known_steps}). Upgrade kinesio-tui; the file was not changed.",
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


def _check_ours(engine: SqliteEngine, path: Path) -> None:
    app_id = engine.execute("PRAGMA application_id").fetchone()[0]
    if app_id not in (0, APPLICATION_ID):
        raise KinesioError("Not a kinesio-tui database", f"{path} belongs to another program.")
    if app_id == 0 and engine.table_names():
        raise KinesioError(
            "Not a kinesio-tui database", f"{path} already holds tables of another program."
        )


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


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def begin_immediate(
    conn: sqlite3.Connection, wait_s: float, on_wait: Callable[[], None] | None
) -> None:
    """Take the write lock, waiting up to `wait_s` for another program to let go; `on_wait`
    is told once the wait has lasted WAIT_NOTICE_S.

    Once held, nothing in the transaction waits again (WAL: readers never block a writer),
    so a lock that stays taken means nothing is written: DatabaseBusy, never a half write.
    """
    limit = max(0.0, wait_s)
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
            if not told and on_wait is not None:
                on_wait()
            told = True
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
