"""A writer killed with SIGKILL at random moments loses nothing it reported saved.

One database is reused across all kills (the file grows as a clinic's would); each child
holds whole visits, each in one transaction, and prints a visit's id only after COMMIT.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kinesio_tui.data.db import connect
from kinesio_tui.domain.visits import checklist_for_visit, get_visit
from kinesio_tui.maintenance.audit import verify_chain

pytestmark = pytest.mark.slow  # real processes: seconds each, a minute when busy

CHILD = Path(__file__).with_name("writer_child.py")
KILLS = 50
NOTE = "child visit"


class ForkServer:
    """tests/writer_child.py's fork server: one Python start-up, then a writer per kill."""

    def __init__(self, db_path: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), "serve", str(db_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert self._answer() == "serving"

    def _answer(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def ask(self, line: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self._answer()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _run_and_kill(server: ForkServer, ack: Path, seed: int, delay: float) -> set[int]:
    """Start a writer, let it work for `delay` seconds, SIGKILL it; the ids it acknowledged."""
    pid = int(server.ask(f"start {seed} {ack}"))
    try:
        deadline = time.monotonic() + 30
        while not (ack.exists() and ack.read_bytes().startswith(b"ready\n")):
            assert time.monotonic() < deadline, "writer never became ready"
            time.sleep(0.001)
        time.sleep(delay)
    finally:
        os.kill(pid, signal.SIGKILL)
        status = int(server.ask(f"reap {pid}"))
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    lines = ack.read_bytes().split(b"\n")[1:]  # after "ready"
    return {int(line) for line in lines[:-1]}  # the last piece may be a cut-off line


def _check_file(db_path: Path, acked: set[int], checked: set[int]) -> None:
    raw = sqlite3.connect(db_path)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
        done = {r[0] for r in raw.execute("SELECT id FROM visits WHERE status = 'done'")}
        missing = acked - done
        assert not missing, f"acknowledged visits lost: {sorted(missing)[:10]}"
        # start_visit and complete_visit share one transaction: nothing may stay in progress
        half = raw.execute(
            "SELECT count(*) FROM visits WHERE started_at IS NOT NULL AND status != 'done'"
        ).fetchone()[0]
        assert half == 0
        for table in ("checklist_ticks", "pir_cycles", "measurements"):
            stray = raw.execute(
                f"SELECT count(*) FROM {table} t JOIN visits v ON v.id = t.visit_id "
                "WHERE v.started_at IS NULL"
            ).fetchone()[0]
            assert stray == 0, f"{table} rows of a visit that never started"
        # every episode was planned whole, and every patient got their episode
        assert raw.execute(
            "SELECT count(*) FROM episodes e WHERE (SELECT count(*) FROM visits v "
            "WHERE v.episode_id = e.id) != 45"
        ).fetchone() == (0,)
        assert raw.execute(
            "SELECT count(*) FROM patients p WHERE NOT EXISTS "
            "(SELECT 1 FROM episodes e WHERE e.patient_id = p.id)"
        ).fetchone() == (0,)
    finally:
        raw.close()
    db = connect(db_path)
    try:
        for visit_id in sorted(done - checked):
            visit = get_visit(db, visit_id)
            ticks = db.execute(
                "SELECT count(*) FROM checklist_ticks WHERE visit_id = ?", [visit_id]
            ).fetchone()[0]
            assert ticks == len(checklist_for_visit(db, visit))
            for table in ("pir_cycles", "measurements"):
                count = db.execute(
                    f"SELECT count(*) FROM {table} WHERE visit_id = ?", [visit_id]
                ).fetchone()[0]
                assert count == 1, (table, visit_id)
            assert visit.note == NOTE
            checked.add(visit_id)
    finally:
        db.close()


def test_sigkill_at_random_points_loses_no_acknowledged_visit(tmp_path: Path) -> None:
    db_path = tmp_path / "killed.db"
    connect(db_path).close()
    rng = random.Random(20261125)
    acked: set[int] = set()
    checked: set[int] = set()
    survived = 0
    server = ForkServer(db_path)
    try:
        for kill in range(KILLS):
            ack = tmp_path / f"ack-{kill}.txt"
            acked |= _run_and_kill(server, ack, kill + 1, rng.uniform(0.0, 0.1))
            _check_file(db_path, acked, checked)
            survived += 1
    finally:
        server.close()
    db = connect(db_path)
    try:
        report = verify_chain(db)
        assert report.ok, report.problems[:5]
    finally:
        db.close()
    assert survived == KILLS
    assert acked  # the children did real work between kills (how much depends on load)
    print(f"kills survived: {survived}; visits acknowledged: {len(acked)}")
