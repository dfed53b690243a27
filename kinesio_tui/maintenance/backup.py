"""Backups with SQLite's online backup API, daily rotation, and a checked restore.

The backup API copies a consistent snapshot while other connections keep working (the TUI
may be open), and includes what is still in the WAL, which a plain file copy would miss.
Every backup is a single self-contained file (rollback-journal mode, no -wal beside it),
created 0600 in a 0700 directory, written under a temporary name and renamed when whole.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kinesio_tui import clock
from kinesio_tui.data.db import (
    APPLICATION_ID,
    BUSY_TIMEOUT_MS,
    ClinicDB,
    connect,
    known_migrations,
)
from kinesio_tui.errors import KinesioError
from kinesio_tui.locations import data_dir, private_dir
from kinesio_tui.maintenance.holders import describe_holders
from kinesio_tui.private_files import TargetExists, link_new, partial_name
from kinesio_tui.settings import load_settings

if TYPE_CHECKING:
    from kinesio_tui.data.engine import Target
    from kinesio_tui.maintenance.transfer import Copied

AUTO = "auto"
MANUAL = "manual"
PRE_MIGRATION = "pre-migration"
REPLACED = "replaced"


def backups_dir() -> Path:
    """The automatic backups' directory under the data directory (0700)."""
    return private_dir(private_dir(data_dir()) / "backups")


def stamp(now: datetime | None = None) -> str:
    """A timestamp for file names that sorts in time order: 20261125-141503."""
    return (now or clock.now()).strftime("%Y%m%d-%H%M%S")


def backup_name(db_path: Path, kind: str, now: datetime | None = None) -> str:
    """`clinic.auto-20261125-141503.db`: the database's stem, the kind, when."""
    return f"{db_path.stem}.{kind}-{stamp(now)}.db"


def _new_private_file(path: Path) -> None:
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)  # the umask could only have removed bits; say it outright


@contextlib.contextmanager
def _raw(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        yield conn
    finally:
        conn.close()


def _writable_destination(dest: Path, replace: bool) -> None:
    """Refuse a DEST that is not a new file or a regular file we were asked to replace."""
    try:
        st = os.stat(dest)  # follows a link: what a write would reach
    except FileNotFoundError:
        if os.path.lexists(dest):  # a link to nowhere
            raise KinesioError(
                "Cannot back up", f"{dest} is a link to a missing file; choose another name."
            ) from None
        return
    if not stat.S_ISREG(st.st_mode):
        raise KinesioError(
            "Cannot back up",
            f"{dest} is not a regular file or a folder; choose a file name or a folder.",
        )
    if not replace:
        raise KinesioError("Cannot back up", f"{dest} already exists; --force replaces it.")


def _copy_into(source: sqlite3.Connection, dest: Path, *, replace: bool = False) -> Path:
    """Snapshot `source` into a private file at `dest` (atomic: temp name, then rename).

    An existing file is replaced only when `replace` is set, and only a regular file; the
    check is repeated at the last step (a hard link never overwrites), so a file that
    appears meanwhile is not lost either.
    """
    dest = Path(dest)
    _writable_destination(dest, replace)
    if not dest.parent.exists():
        private_dir(dest.parent)
    tmp = partial_name(dest)
    _new_private_file(tmp)
    try:
        with _raw(tmp) as target:
            source.backup(target)
            # One self-contained file: a backup must not depend on a -wal beside it.
            target.execute("PRAGMA journal_mode = DELETE")
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        if replace:
            _writable_destination(dest, replace)
            os.replace(tmp, dest)
        else:
            try:
                link_new(tmp, dest)
            except TargetExists:
                raise KinesioError(
                    "Cannot back up", f"{dest} already exists; --force replaces it."
                ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return dest


def backup_database(source: Path | ClinicDB, dest: Path, *, replace: bool = False) -> Path:
    """Copy the clinic database (a path, or an open connection) to `dest`; returns the file.

    `dest` may be a directory: the copy is then a new file in it, named after the database
    and the time. An existing file is refused unless `replace`; anything that is not a
    regular file or a folder (a device, a pipe) is always refused. Safe while the app is
    open in another terminal.
    """
    if isinstance(source, ClinicDB) and source.kind == "postgresql":
        return _portable_copy(source, dest, replace=replace)
    if isinstance(source, ClinicDB):
        src_path = source.path or Path("kinesio.db")
        if dest.is_dir():
            dest = dest / backup_name(src_path, MANUAL)
        return _copy_into(source.conn, dest, replace=replace)
    src_path = Path(source)
    if not src_path.is_file():
        raise KinesioError("Nothing to back up", f"There is no database at {src_path}.")
    if dest.is_dir():
        dest = dest / backup_name(src_path, MANUAL)
    if dest.resolve() == src_path.resolve():
        raise KinesioError("Cannot back up", "The backup cannot replace the database itself.")
    _writable_destination(dest, replace)
    try:
        with _raw(src_path) as conn:
            return _copy_into(conn, dest, replace=replace)
    except sqlite3.DatabaseError as error:
        raise KinesioError("Cannot back up", f"{src_path}: {error}.") from None


def _portable_copy(source: ClinicDB, dest: Path, *, replace: bool) -> Path:
    """A PostgreSQL clinic backed up as a portable kinesio SQLite file: the copier of
    `kinesio migrate --to FILE.db` (one snapshot, rows, head and both trails compared), so
    `restore` and `check` read it as any backup. Named after the database and schema."""
    from kinesio_tui.maintenance.transfer import copy_to_file

    if dest.is_dir():
        dest = dest / backup_name(_server_stem(source.target), MANUAL)
    _writable_destination(dest, replace)
    return Path(copy_to_file(source, dest, actor=source.actor, replace=replace).target)


def _server_stem(target: Target) -> Path:
    """`<database>-<schema>.db`: what a server's clinic's backup files are named after."""
    from urllib.parse import unquote, urlsplit

    database = unquote(urlsplit(target.url or "").path.lstrip("/")) or "kinesio"
    return Path(f"{database}-{target.schema}.db")


def auto_backups(db_path: Path) -> list[Path]:
    """This database's automatic backups, oldest first."""
    folder = data_dir() / "backups"
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{db_path.stem}.{AUTO}-*.db"))


def auto_backup(
    db_path: Path, *, now: datetime | None = None, keep: int | None = None
) -> Path | None:
    """Take today's automatic backup if there is none yet; keep the newest `keep`.

    Called when the workstation opens. Returns the new backup, or None when today's
    already exists, automatic backups are off in settings, or there is no database yet.
    `keep` defaults to the settings file's `backups.keep` (14).
    """
    db_path = Path(db_path)
    settings = load_settings()
    if not settings.automatic_backups or not db_path.is_file():
        return None
    keep = keep or settings.backups_to_keep
    now = now or clock.now()
    today = now.strftime("%Y%m%d")
    existing = auto_backups(db_path)
    made = None
    if not any(p.name.startswith(f"{db_path.stem}.{AUTO}-{today}") for p in existing):
        made = backup_database(db_path, backups_dir() / backup_name(db_path, AUTO, now))
        existing = auto_backups(db_path)
    for old in existing[: max(0, len(existing) - keep)]:
        old.unlink(missing_ok=True)
    return made


def pre_migration_backup(db: ClinicDB, pending: list[str]) -> Path:
    """The copy taken before migrations change an existing file (`connect`'s backup_first)."""
    return backup_database(db, backups_dir() / backup_name(db.file, PRE_MIGRATION), replace=True)


# --- restore ------------------------------------------------------------------------------


def check_backup(path: Path) -> list[str]:
    """Reasons `path` cannot be restored (empty list: it can). Reads a private copy only."""
    path = Path(path)
    if not path.is_file():
        return [f"{path} does not exist or is not a file"]
    problems: list[str] = []
    try:
        with _raw(path) as conn:
            db = ClinicDB(conn, path, actor="restore check")
            if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                return ["it is not a kinesio-tui database"]
            result = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            if result != ["ok"]:
                return [f"it is damaged (integrity check: {len(result)} problem(s))"]
            applied = {
                r[0]
                for r in conn.execute(
                    "SELECT name FROM _sqlite_migrations WHERE migration_set = 'kinesio'"
                ).fetchall()
            }
            known = known_migrations()
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if applied - set(known) or version > len(known):
                problems.append("it was written by a newer kinesio-tui")
            if conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
                problems.append("it has records pointing at missing records")
            has_head = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_head'"
            ).fetchone()
            if not has_head:
                return [
                    *problems,
                    "it has no audit_head (the trail's recorded end), so its audit trail "
                    "cannot be checked",
                ]
            # Deferred: the app imports this module for the daily backup, and the verifier
            # brings the domain's write path (hashlib, hmac, the records): 6 % of the time
            # Textual's own import takes and +1.3 MiB on every start (measured with `python -X importtime` and ru_maxrss).
            from kinesio_tui.maintenance.audit import verify_chain

            report = verify_chain(db)
            problems += [f"audit trail, {p}" for p in report.problems[:5]]
    except sqlite3.DatabaseError as error:
        return [f"it is not a readable SQLite database ({error})"]
    return problems


@dataclass(frozen=True)
class Restored:
    """Where the restored data came from and where the replaced data was kept."""

    source: Path
    kept: Path | None


#: How long restore waits for other connections to finish before it refuses (seconds).
RESTORE_WAIT_S = 10.0


@contextlib.contextmanager
def _exclusively(db_path: Path) -> Iterator[sqlite3.Connection]:
    """The live file held by this connection alone, from now until the block ends.

    In EXCLUSIVE locking mode the connection keeps its lock between statements, and taking
    it fails while any other connection has the file open (each one holds a shared lock for
    as long as it is open). Other programs that try to open the file meanwhile wait.
    """
    conn = sqlite3.connect(str(db_path), timeout=RESTORE_WAIT_S, isolation_level=None)
    try:
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        try:
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("COMMIT")
        except sqlite3.OperationalError:
            raise KinesioError(
                "Database in use",
                f"{db_path} is open in {describe_holders(db_path)}. Close it (quit the "
                "workstation), then restore again; nothing was changed.",
            ) from None
        yield conn
    finally:
        conn.close()


def _checked_copy(backup: Path, candidate: Path) -> None:
    """Copy `backup` to the private file `candidate` and check the copy, so what is restored
    is exactly what passed (a folder-form backup is checked where it is). Refused: nothing
    restored."""
    if backup.is_file():
        _new_private_file(candidate)
        with open(backup, "rb") as src, open(candidate, "wb") as dst:
            shutil.copyfileobj(src, dst)
    problems = check_backup(candidate if backup.is_file() else backup)
    if problems:
        raise KinesioError("Backup refused", f"{backup} was not restored: {'; '.join(problems)}.")


def restore_database(db_path: Path, backup: Path, *, now: datetime | None = None) -> Restored:
    """Replace the database's contents with a checked backup, keeping the current data.

    The backup is copied to a private temporary file and that copy is checked, so what is
    restored is exactly what passed. Then the live file is held exclusively (refused, with
    who has it open, while any other connection has it) for the whole swap: the current
    data is copied to `<name>.replaced-<time>.db` beside the database and the checked copy
    written in, both under the one lock, so no commit can fall between them. Contents go in
    through the backup API rather than by renaming files.
    """
    db_path = Path(db_path)
    backup = Path(backup)
    if backup.is_file() and db_path.exists() and backup.resolve() == db_path.resolve():
        raise KinesioError("Cannot restore", "That file is the database itself.")
    if not db_path.parent.exists():
        private_dir(db_path.parent)
    candidate = db_path.with_name(f".{db_path.name}.restore-{os.getpid()}")
    candidate.unlink(missing_ok=True)
    try:
        _checked_copy(backup, candidate)
        had_data = db_path.exists() and db_path.stat().st_size > 0
        if not db_path.exists():
            _new_private_file(db_path)
        kept = None
        with _exclusively(db_path) as live:
            if had_data:
                kept = _copy_into(live, db_path.with_name(backup_name(db_path, REPLACED, now)))
            with _raw(candidate) as src:
                src.backup(live)
            live.execute("PRAGMA journal_mode = WAL")
        os.chmod(db_path, 0o600)
    finally:
        candidate.unlink(missing_ok=True)
        for suffix in ("-journal", "-wal", "-shm"):
            candidate.with_name(candidate.name + suffix).unlink(missing_ok=True)
    return Restored(source=backup, kept=kept)


@dataclass(frozen=True)
class RestoredOnServer:
    """What went in (rows compared, entries verified) and where the rows it replaced are."""

    copied: Copied
    kept: Path


def restore_to_server(
    target: Target | str,
    backup: Path,
    *,
    actor: str,
    write_wait_s: float | None = None,
    on_wait: Callable[[], None] | None = None,
    now: datetime | None = None,
) -> RestoredOnServer:
    """`kinesio restore --db postgresql://OWNER@...`: the server's clinic replaced in place.

    The backup is copied into a private temporary folder and that copy is checked as any
    backup (`check_backup`: a kinesio-tui file, undamaged, not newer, links whole, its
    trail verifying with this computer's audit key), so what is restored is exactly what
    passed; an older backup is brought up to this program's schema there. Then the
    server's rows are replaced by `transfer.replace_clinic` in one transaction as the
    schema's owner, the rows it replaces first kept in the backups folder as
    `<database>-<schema>.replaced-<time>.db` (a portable file, as `backup` writes). A
    refusal anywhere leaves every row on the server as it was, and no file behind.
    """
    from kinesio_tui.data.engine import parse_target
    from kinesio_tui.maintenance.transfer import replace_clinic

    target = parse_target(target)
    backup = Path(backup)
    with tempfile.TemporaryDirectory(prefix="kinesio-restore-") as folder:  # 0700
        candidate = Path(folder) / "backup.db"
        _checked_copy(backup, candidate)
        source = connect(candidate, actor=actor)  # an older backup: brought up to date here
        try:
            clinic = connect(
                target,
                actor=actor,
                migrate=False,  # a refused restore must not have upgraded anything either
                create=False,
                write_wait_s=write_wait_s,
                on_wait=on_wait,
            )
            try:
                _refuse_pending_steps(clinic)
                kept = backups_dir() / backup_name(_server_stem(target), REPLACED, now)
                return RestoredOnServer(replace_clinic(source, clinic, keep=kept), kept)
            finally:
                clinic.close()
        finally:
            source.close()


def _refuse_pending_steps(clinic: ClinicDB) -> None:
    from kinesio_tui.data.engines.pg_schema import schema_steps  # a server's clinic only

    if set(clinic.engine.applied_steps()) != set(schema_steps()):
        raise KinesioError(
            "Schema not up to date",
            f"{clinic.target.label()} has schema steps pending: bring it up to date first "
            "(`kinesio init` as the owner), then restore. Nothing was changed.",
        )
