"""The real `kinesio` process, and what it left on disk.

`run` starts this worktree's `.venv/bin/kinesio` (never an in-process CliRunner), with the
test's private XDG folders; `files_state` records every file and folder under a root (type,
mode, size, mtime, owner, device number, and a hash of the bytes) so a test can say "this
refused command changed nothing, created nothing and removed nothing".
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import resource
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

KINESIO = Path(sys.executable).parent / "kinesio"

Arg = str | bytes | os.PathLike[str]


@dataclass(frozen=True)
class Ran:
    """A finished `kinesio` process."""

    args: tuple[str, ...]
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.strip().splitlines()

    def __str__(self) -> str:
        return (
            f"kinesio {' '.join(self.args)} -> {self.code}\nstdout: {self.out}\nstderr: {self.err}"
        )


def run(
    *args: Arg,
    umask: int = -1,
    file_size_limit: int | None = None,
    stdin: str | None = None,
    cwd: Path | None = None,
) -> Ran:
    """Run `kinesio ARGS` as a process and wait for it (60 s at most).

    `file_size_limit` sets RLIMIT_FSIZE in the child: the OS then refuses (EFBIG) any write
    past that size, as a full disk would.
    """
    preexec: Callable[[], None] | None = None
    if file_size_limit is not None:
        limit = file_size_limit

        def preexec() -> None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(
        [KINESIO, *args],
        input=(stdin or "").encode(),
        capture_output=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        umask=umask,
        preexec_fn=preexec,
        cwd=cwd,
        check=False,
    )
    shown = tuple(os.fsdecode(a) if not isinstance(a, str) else a for a in args)
    return Ran(
        shown,
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )


def assert_one_line_refusal(ran: Ran, code: int = 2) -> None:
    """The exit code, one line on stderr, no traceback and no crash report."""
    assert ran.code == code, ran
    assert len(ran.err_lines) == 1, ran
    assert "Traceback" not in ran.out + ran.err, ran
    assert "Something went wrong" not in ran.err, ran


FileState = tuple[str, int, int, int, int, int, str]


def files_state(root: Path, *, folder_mtimes: bool = True) -> dict[str, FileState]:
    """Every entry under `root` (not following links): kind, mode, size, mtime, owner, rdev, hash.

    Without `folder_mtimes` a folder's mtime is left out: it changes when anything is
    created in it and removed again (SQLite's -wal and -shm while a database is open).
    """
    state: dict[str, FileState] = {}
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            path = Path(folder) / name
            st = path.lstat()
            digest = ""
            if stat.S_ISREG(st.st_mode):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                digest = os.readlink(path)
            state[str(path.relative_to(root))] = (
                _kind(st.st_mode),
                stat.S_IMODE(st.st_mode),
                st.st_size if not stat.S_ISDIR(st.st_mode) else 0,
                0 if stat.S_ISDIR(st.st_mode) and not folder_mtimes else st.st_mtime_ns,
                st.st_uid,
                st.st_rdev,
                digest,
            )
    return state


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISREG, "file"),
        (stat.S_ISDIR, "folder"),
        (stat.S_ISLNK, "link"),
        (stat.S_ISFIFO, "fifo"),
        (stat.S_ISCHR, "char-device"),
        (stat.S_ISBLK, "block-device"),
        (stat.S_ISSOCK, "socket"),
    ):
        if test(mode):
            return name
    return "other"


def assert_unchanged(
    before: dict[str, FileState], root: Path, ran: Ran, *, folder_mtimes: bool = True
) -> None:
    """Nothing under `root` was created, removed or changed (bytes, mode, mtime, owner)."""
    after = files_state(root, folder_mtimes=folder_mtimes)
    created = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    assert (created, removed, changed) == ([], [], []), (
        f"{ran}\ncreated {created}, removed {removed}, changed "
        + ", ".join(f"{k}: {before[k][:5]} -> {after[k][:5]}" for k in changed)
    )


# --- odd files --------------------------------------------------------------------------------


def foreign_sqlite(path: Path, *, wal: bool = False, application_id: int = 0) -> Path:
    """Another program's SQLite database (a table of its own), left 0644."""
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
    if application_id:
        conn.execute(f"PRAGMA application_id = {application_id}")
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('their data')")
    conn.commit()
    conn.close()
    os.chmod(path, 0o644)
    return path


def damage_pages(path: Path, *, keep_first: int = 1) -> Path:
    """Overwrite every page after the first `keep_first` with garbage (a torn, damaged file)."""
    conn = sqlite3.connect(path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.seek(page_size * keep_first)
        handle.write(b"\xa5" * (size - page_size * keep_first))
    return path


def char_device(path: Path) -> Path | None:
    """A device node like /dev/null (1, 3) at `path`; None when not allowed (not root)."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        return None
    os.chmod(path, 0o666)
    return path


@contextlib.contextmanager
def small_disk(folder: Path, size_kib: int) -> Iterator[bool]:
    """Mount a `size_kib` tmpfs on `folder` (root only); yields False when not allowed."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = _mount(["-t", "tmpfs", "-o", f"size={size_kib}k,mode=0700", "tmpfs", str(folder)])
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True)


def remount_read_only(folder: Path) -> bool:
    return _mount(["-o", "remount,ro", str(folder)])


def _mount(args: Sequence[str]) -> bool:
    if os.geteuid() != 0:
        return False
    try:
        done = subprocess.run(["mount", *args], check=False, capture_output=True, timeout=30)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def fill_up(folder: Path) -> Path:
    """Fill the file system holding `folder` to the last byte; returns the filler file."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        for block in (65536, 4096, 1):
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * block):
                    pass
    finally:
        os.close(fd)
    return filler
