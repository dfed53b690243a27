"""The real `kinesio` on a pseudo-terminal, with keys written back to back as a fast typist
(or a script, or a laggy SSH link delivering a burst) sends them.

Pilot waits for the app to be idle after each key; a terminal does not. Keys written in one
`write` reach the app in one read, so every one of them is queued before the first is handled:
that is the case these tests are about. Stdlib only (`os.openpty`), so it runs on a fresh CI
machine without tmux. The output is searched for plain-text markers; what was saved is read
back from the database file, which is the stronger check.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

#: The venv's own `kinesio` (the worktree's editable install), beside the running Python.
KINESIO = Path(sys.executable).parent / "kinesio"

#: Key names -> the bytes a terminal sends (xterm). Escape is left out on purpose: a terminal
#: cannot tell Escape followed by a key from Alt+key, so `press` sends it on its own.
KEYS = {
    "enter": b"\r",
    "tab": b"\t",
    "shift+tab": b"\x1b[Z",
    "backspace": b"\x7f",
    "space": b" ",
    "up": b"\x1b[A",
    "down": b"\x1b[B",
    "right": b"\x1b[C",
    "left": b"\x1b[D",
    "home": b"\x1b[H",
    "end": b"\x1b[F",
    "f2": b"\x1bOQ",
}

#: ANSI control sequences, dropped to search the output as text.
_CONTROL = re.compile(
    rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78NOc])"
)


def ctrl(letter: str) -> bytes:
    """The byte Ctrl+`letter` sends."""
    return bytes([ord(letter.lower()) - ord("a") + 1])


def keys(*parts: str | bytes) -> bytes:
    """Join key names (see KEYS), literal text and raw bytes into one burst."""
    out = bytearray()
    for part in parts:
        if isinstance(part, bytes):
            out += part
        elif part in KEYS:
            out += KEYS[part]
        else:
            out += part.encode()
    return bytes(out)


def _controlling_tty() -> None:  # runs in the child between fork and exec
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PtySession:
    """One `kinesio` process on a fresh pseudo-terminal of `cols` x `rows`."""

    def __init__(self, argv: list[str], env: dict[str, str], cols: int = 80, rows: int = 24):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            preexec_fn=_controlling_tty,
            close_fds=True,
        )
        os.close(slave)
        self.output = bytearray()

    def read(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return b""
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # the child has gone
            return b""
        self.output += chunk
        return chunk

    def text(self, since: int = 0) -> str:
        """The output after byte `since`, control sequences removed."""
        return _CONTROL.sub(b"", bytes(self.output[since:])).decode("utf-8", "replace")

    def wait_for(self, marker: str, *, since: int = 0, timeout: float = 30) -> None:
        """Read until `marker` appears in the text written after byte `since`."""
        deadline = time.monotonic() + timeout
        while marker not in self.text(since):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                tail = self.text(since)[-600:]
                raise AssertionError(f"{marker!r} not on screen; last output: {tail!r}")
            self.read(0.05)

    def settle(self, gap: float = 0.4, limit: float = 15) -> None:
        """Read until the app has written nothing for `gap` seconds."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and self.read(gap):
            pass

    def send(self, data: bytes) -> int:
        """Write `data` in one go (keys back to back); returns the output offset before it."""
        mark = len(self.output)
        os.write(self.master, data)
        return mark

    def press(self, *parts: str | bytes) -> int:
        """Send keys back to back; `escape` is sent alone (see KEYS), then the rest."""
        mark = len(self.output)
        burst: list[str | bytes] = []
        for part in parts:
            if part == "escape":
                if burst:
                    self.send(keys(*burst))
                    burst = []
                self.send(b"\x1b")
                time.sleep(0.15)  # so the terminal parser reads a lone Escape
            else:
                burst.append(part)
        if burst:
            self.send(keys(*burst))
        return mark

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        os.close(self.master)


def kinesio_env() -> dict[str, str]:
    """The test's environment (private XDG folders, a therapist) with a real terminal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTUAL", "COLUMNS", "LINES"))}
    env |= {"TERM": "xterm-256color", "COLORTERM": "truecolor"}
    env.pop("NO_COLOR", None)
    return env


@contextlib.contextmanager
def kinesio_on_pty(db_path: Path, *, cols: int = 80, rows: int = 24) -> Iterator[PtySession]:
    """The workstation on `db_path`, killed at the end whatever happened."""
    session = PtySession([str(KINESIO), "--db", str(db_path)], kinesio_env(), cols, rows)
    try:
        yield session
    finally:
        session.close()
