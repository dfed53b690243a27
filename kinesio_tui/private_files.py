"""Files written whole or not at all, readable by the owner only, and what interrupted writes
leave behind.

`write_private_file` writes under a hidden temporary name in the target's own folder (private
from its first byte), fsyncs it, and only then gives it its real name: a full disk, a
killed process or a power cut leaves either the whole file or no file, never a 0-byte or
half-written one that a retry would then refuse as "already exists".

The temporary names carry the writer's process id (`.NAME.PID.TOKEN.partial`, backups'
too; earlier versions' backups used `.NAME.PID.partial`), as do the restore's
(`.NAME.restore-PID`), so that
`sweep_leftovers` can remove those a dead process left, and nothing else: only names of
these shapes, only regular files owned by this user, only when that process is gone.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from pathlib import Path

#: Our hidden names: an export or template being written, a backup being copied, a
#: restore's checked copy (with the -journal/-wal/-shm SQLite may give it).
LEFTOVER_NAMES = (
    re.compile(r"^\..+\.(?P<pid>\d+)\.[0-9a-f]{8}\.partial$"),
    re.compile(r"^\..+\.(?P<pid>\d+)\.partial$"),
    re.compile(r"^\..+\.restore-(?P<pid>\d+)(?:-journal|-wal|-shm)?$"),
)

#: Folders already swept by this process (an `export --all` writes hundreds of files into one).
_swept: set[Path] = set()


class TargetExists(FileExistsError):
    """The file to write exists and replacing it was not asked for."""


def partial_name(path: Path) -> Path:
    """A fresh hidden temporary name beside `path`, owned by this process."""
    return path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.partial")


def write_private_file(
    path: Path, data: bytes, *, replace: bool = False, sync_name: bool = True
) -> Path:
    """Write `data` to `path` (0600) atomically; an existing `path` is kept unless `replace`.

    With `sync_name` false the folder is not fsynced here: a caller writing many files into
    one folder syncs it once after the last (`sync_folder`) before it says they are written.

    Raises TargetExists (a FileExistsError) for an existing file, a planted link included,
    and OSError as the OS reports it (ENOSPC, EFBIG, EROFS, ...): no partial file is left.
    """
    path = Path(path)
    sweep_leftovers(path.parent)
    if not replace and os.path.lexists(path):
        raise TargetExists(errno.EEXIST, os.strerror(errno.EEXIST), str(path))
    tmp = partial_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        try:
            os.fchmod(fd, 0o600)  # the umask could only have taken bits away: say it outright
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if replace:
            os.replace(tmp, path)
        else:
            link_new(tmp, path)
        if sync_name:
            sync_folder(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return path


def link_new(tmp: Path, path: Path) -> None:
    """Give `tmp` the name `path` only if nothing has it (a hard link is atomic about that)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise TargetExists(errno.EEXIST, os.strerror(errno.EEXIST), str(path)) from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        # A file system without hard links (FAT, some network shares): check, then rename.
        if os.path.lexists(path):
            raise TargetExists(errno.EEXIST, os.strerror(errno.EEXIST), str(path)) from None
        os.rename(tmp, path)


def sync_folder(folder: Path) -> None:
    """fsync the folder so the new name survives a power cut (where the OS allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0  # someone else's process (alive), or a number no process can have
    return True


def leftover_pid(name: str) -> int | None:
    """The writer's process id if `name` is one of our hidden temporary names, else None."""
    for pattern in LEFTOVER_NAMES:
        match = pattern.match(name)
        if match:
            return int(match["pid"])
    return None


def sweep_leftovers(folder: Path) -> list[Path]:
    """Remove the temporary files that dead processes of this user left in `folder`.

    Only our names (LEFTOVER_NAMES), only regular files (never a link, a folder or a
    device), only the current user's, only when the process named in them is gone. Once
    per folder per process; a folder that cannot be read is left alone. Returns what went.
    """
    folder = Path(folder)
    if folder in _swept:
        return []
    _swept.add(folder)
    removed: list[Path] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        pid = leftover_pid(name)
        if pid is None or _process_alive(pid):
            continue
        path = folder / name
        try:
            st = path.lstat()
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid():
                continue
            path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


def forget_swept() -> None:
    """Sweep folders again on their next use (tests; a long-running workstation)."""
    _swept.clear()
