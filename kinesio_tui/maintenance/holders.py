"""Which other programs have the database open: named, as well as this system allows.

Read from /proc (Linux): every process of ours with the file, its -wal or its -shm open.
Only the program's short name and process id are shown, never its command line (which may
hold a patient's name typed as an argument). Elsewhere, or when /proc says nothing, the
answer is the general "another program".
"""

from __future__ import annotations

import os
from pathlib import Path


def holders(db_path: Path) -> list[tuple[int, str]]:
    """(process id, program name) of every other process with the database open."""
    try:
        wanted = {os.path.realpath(f"{db_path}{suffix}") for suffix in ("", "-wal", "-shm")}
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []
    found = []
    for pid in pids:
        if pid == os.getpid():
            continue
        try:
            links = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
            if not links & wanted:
                continue
            with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as comm:
                name = comm.read().strip()
        except OSError:  # gone meanwhile, or not ours to look at
            continue
        printable = "".join(c for c in name if c.isprintable()) or "unknown"
        found.append((pid, printable))
    return found


def describe_holders(db_path: Path) -> str:
    """`kinesio (process 1234)`, a list of those, or "another program"."""
    found = holders(db_path)
    if not found:
        return "another program"
    return ", ".join(f"{name} (process {pid})" for pid, name in found)
