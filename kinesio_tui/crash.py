"""Crash reports that hold no patient data, and a calm message instead of a traceback.

An unexpected exception's *message* may quote anything the code was handling (a name, a
note, a value), and its frames' locals certainly do. A report therefore keeps only the
exception's type, and for each frame the file, line number and function name; the message
is kept only for a KinesioError, whose title and message are written never to hold
patient data (errors.py).

For the TUI: call `write_crash_report(error)` from the app's exception handler and show
`calm_message(path)` (e.g. in an ErrorDialog or `notify`); the report's path is the one
thing the clinician needs to pass on.
"""

from __future__ import annotations

import contextlib
import errno
import os
import platform
import sqlite3
import sys
import traceback
from pathlib import Path
from typing import NoReturn

import platformdirs

from kinesio_tui import clock
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.locations import APP_NAME, private_dir
from kinesio_tui.say import say_error


def crash_dir() -> Path:
    """Private (0700) directory for crash reports, under the user's state directory."""
    return private_dir(platformdirs.user_state_path(APP_NAME) / "crash-reports")


def _version(package: str) -> str:
    # Deferred: importlib.metadata (and the email package under it) is 5 % of the time
    # Textual's own import takes and +1.6 MiB (measured with `python -X importtime` and ru_maxrss), for a
    # report that is rarely written.
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _describe(exc: BaseException) -> list[str]:
    kind = type(exc)
    lines = [f"{kind.__module__}.{kind.__qualname__}"]
    if isinstance(exc, KinesioError):
        lines[0] += f": {exc.title}"
    frames = traceback.extract_tb(exc.__traceback__)
    lines += [f'  File "{f.filename}", line {f.lineno}, in {f.name}' for f in frames]
    return lines


def report_text(exc: BaseException) -> str:
    """The report for `exc`: versions, and the scrubbed chain of exceptions (no messages)."""
    lines = [
        "kinesio-tui crash report",
        f"time: {clock.now().isoformat(timespec='seconds')}",
        f"kinesio-tui: {_version('kinesio-tui')}",
        f"python: {platform.python_version()} ({platform.python_implementation()})",
        f"textual: {_version('textual')}",
        f"sqlite-utils: {_version('sqlite-utils')}",
        f"platform: {platform.system()} {platform.release()}",
        "",
        "Exception messages and variable values are left out on purpose: they may hold",
        "patient data. Types, files, lines and function names are enough to find the fault.",
        "",
    ]
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(chain) < 10:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    for position, item in enumerate(reversed(chain)):
        if position:
            lines += ["", "which led to:"]
        lines += _describe(item)
    return "\n".join(lines) + "\n"


def write_crash_report(exc: BaseException) -> Path:
    """Write a scrubbed report of `exc` to a new private (0600) file; return its path."""
    folder = crash_dir()
    name = f"crash-{clock.now().strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    path = folder / f"{name}.txt"
    serial = 1
    while path.exists():
        serial += 1
        path = folder / f"{name}-{serial}.txt"
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(report_text(exc))
    os.chmod(path, 0o600)
    return path


def calm_message(path: Path | None) -> str:
    """One line for the user after an unexpected error."""
    if path is None:
        return _("Something went wrong inside kinesio-tui. Saved records are safe.")
    return _(
        "Something went wrong inside kinesio-tui. Saved records are safe. "
        "A report without patient data is at {path}",
        path=path,
    )


#: What the operating system says about a file in the user's hands (a full disk, a
#: read-only mount, a path too long): not a fault in kinesio-tui, so no crash report.
_OS_TITLES = {
    errno.ENOSPC: "Disk full",
    errno.EDQUOT: "Disk quota exceeded",
    errno.EFBIG: "File too large",
    errno.EROFS: "Read-only",
    errno.EACCES: "Permission denied",
    errno.EPERM: "Not permitted",
    errno.ENAMETOOLONG: "Path too long",
    errno.EIO: "Cannot read or write",
}
_SQLITE_TITLES = {
    sqlite3.SQLITE_CORRUPT: "Database damaged",
    sqlite3.SQLITE_NOTADB: "Database damaged",
    sqlite3.SQLITE_FULL: "Disk full",
    sqlite3.SQLITE_READONLY: "Read-only",
    sqlite3.SQLITE_IOERR: "Cannot read or write",
}


def known_failure(exc: BaseException) -> KinesioError | None:
    """The user's side of an error that needs a clear line, not a report (None: a fault)."""
    if isinstance(exc, OSError) and exc.errno in _OS_TITLES:
        where = f": {exc.filename}" if exc.filename else ""
        return KinesioError(_OS_TITLES[exc.errno], f"{exc.strerror or exc}{where}.")
    psycopg = sys.modules.get("psycopg")  # loaded only for a PostgreSQL database
    if psycopg is not None and isinstance(exc, psycopg.OperationalError):
        return KinesioError(
            "Database connection lost",
            "the connection to the PostgreSQL server was lost; what was not saved yet is not "
            "in the database. Start kinesio again once the server is back.",
        )
    if isinstance(exc, sqlite3.DatabaseError):
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code in _SQLITE_TITLES:
            advice = " Run `kinesio check`." if _SQLITE_TITLES[code] == "Database damaged" else ""
            return KinesioError(_SQLITE_TITLES[code], f"The database reports: {exc}.{advice}")
    return None


def report_and_exit(exc: BaseException) -> NoReturn:
    """For the CLI: write the report, print one calm line on stderr, exit 1 (no traceback).

    An error of the user's files (full disk, read-only, damaged) is one line and exit 2.
    """
    known = known_failure(exc)
    if known is not None:
        say_error(known)
        raise SystemExit(2)
    try:
        path: Path | None = write_crash_report(exc)
    except OSError:
        path = None
    print(calm_message(path), file=sys.stderr)
    raise SystemExit(1)


def install_cli_excepthook() -> None:
    """Route uncaught exceptions (outside Typer's own handling) through `report_and_exit`."""

    def hook(kind: type[BaseException], exc: BaseException, tb: object) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, exc.__traceback__)
            return
        with contextlib.suppress(SystemExit):
            report_and_exit(exc)

    sys.excepthook = hook
