"""kinesio-tui at clinic scale: the benchmark table, each figure next to its baseline.

    .venv/bin/python benchmarks/run.py            # 100,000 patients (`make bench`)
    .venv/bin/python benchmarks/run.py --quick    # 2,000 patients, fewer rounds (smoke test)

Builds (once, cached in benchmarks/.cache/) the synthetic clinic of `generate.py`, measures
every figure several times in one run, interleaved with its baseline, prints a table, writes
benchmarks/results.json and, for a full run, benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import importlib.util
import json
import os
import platform
import select
import shutil
import signal
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as dt_time
from pathlib import Path
from typing import Any
from unittest import mock

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import TODAY, build_facts, cached_db  # noqa: E402

from kinesio_tui.data.db import connect, connect_reader  # noqa: E402
from kinesio_tui.domain.roster import roster  # noqa: E402
from kinesio_tui.domain.search import _match_sql, fold  # noqa: E402

#: Every part of the run, in order (`--only` picks some).
STEPS = ("tty", "search", "open", "export", "writes", "screens", "cli", "postgres")
#: The page the patient list asks for (views/patients.py PAGE + 1 to know there is more).
LIST_LIMIT = 61
#: The page the list asked for before it shrank (the "before" baseline keeps it).
LEGACY_LIMIT = 201
DOWN = b"\x1b[B"
#: The first visit's row on the patient screen ("M1·1"): its data is on screen.
OPENED_MARKER = "M1·1 ".encode()


# --- statistics ------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def summary(values: list[float], digits: int = 2) -> dict[str, Any]:
    return {
        "n": len(values),
        "median": round(statistics.median(values), digits),
        "p95": round(pct(values, 95), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def timed_cpu(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU (this thread) milliseconds: CPU time hides other processes' load."""
    started, cpu = time.perf_counter(), time.thread_time()
    fn()
    return (time.perf_counter() - started) * 1000, (time.thread_time() - cpu) * 1000


# --- 2. search as you type ------------------------------------------------------------------


def typed(text: str) -> list[str]:
    """Every prefix of `text`, as the search box holds it key by key."""
    return [text[:i] for i in range(1, len(text) + 1) if text[:i].strip()]


def search_queries(db_path: Path) -> list[str]:
    """Keystroke queries: real surnames with and without diacritics, names, phone fragments."""
    db = connect(db_path, migrate=False)
    try:
        surnames = ["Jankauskienė", "Šimkus", "Žemaitė", "Müller", "O'Brien", "Ąžuolas"]
        queries: list[str] = []
        for name in surnames:
            queries += typed(name)
            if fold(name) != name.lower():
                queries += typed(fold(name))
        queries += typed("ruta zem") + typed("Tomas Petr")
        phones = [
            row[0]
            for row in db.execute(
                "SELECT phone FROM patients WHERE phone != '' ORDER BY id LIMIT 3 OFFSET 5000"
            )
        ]
        for phone in phones:
            digits = "".join(ch for ch in phone if ch.isdigit())
            queries += typed(digits[-7:])  # the part people remember
        queries += typed("1985")
    finally:
        db.close()
    return queries


def legacy_find(db: Any, query: str, limit: int) -> list[Any]:
    """The LIKE-only search before the FTS5 indexes (no index can serve '% word%'): the baseline."""
    match, params = _match_sql(fold(query).split())  # the exact rule, with no index to help
    where = ["archived_at IS NULL", *match]
    sql = f"SELECT * FROM patients WHERE {' AND '.join(where)} ORDER BY search_text, id LIMIT ?"
    return list(db.execute(sql, [*params, limit]).fetchall())


def bench_search(db_path: Path, rounds: int = 5) -> dict[str, Any]:
    """Per-keystroke latency of the list's query, as the list's worker runs it.

    `tui_worker`: roster(query, limit=LIST_LIMIT) on the list's long-lived reader connection,
    taken under its lock (what views/patients.py does per keystroke); `roster`: the query
    alone on another open connection; `before`: the LIKE-only search of patients alone with
    the old 201-row page (the code this replaced), same queries, interleaved.
    """
    queries = search_queries(db_path)
    db = connect(db_path, migrate=False)
    samples: dict[str, list[float]] = {
        "tui_worker": [],
        "roster": [],
        "before": [],
        "roster_cpu": [],
        "before_cpu": [],
    }
    worst: dict[str, float] = {}

    reader = connect_reader(db_path)  # as the list opens it
    lock = threading.Lock()

    def worker(query: str) -> None:
        with lock:
            roster(reader, query, limit=LIST_LIMIT)

    try:
        for _ in range(rounds):
            for query in queries:
                samples["tui_worker"].append(timed(lambda q=query: worker(q)))  # type: ignore[misc]
                ms, cpu = timed_cpu(lambda q=query: roster(db, q, limit=LIST_LIMIT))  # type: ignore[misc]
                samples["roster"].append(ms)
                samples["roster_cpu"].append(cpu)
                worst[query] = max(worst.get(query, 0.0), ms)
                ms, cpu = timed_cpu(lambda q=query: legacy_find(db, q, LEGACY_LIMIT))  # type: ignore[misc]
                samples["before"].append(ms)
                samples["before_cpu"].append(cpu)
    finally:
        db.close()
        reader.close()
    slowest = sorted(worst.items(), key=lambda kv: -kv[1])[:5]
    return {
        "queries": len(queries),
        **{name: summary(values) for name, values in samples.items()},
        "slowest_roster_queries_ms": {q: round(ms, 2) for q, ms in slowest},
    }


# --- 7. durable writes ----------------------------------------------------------------------


def bench_writes(db_path: Path, n: int = 200) -> dict[str, Any]:
    """record_measurement (validated, audited, committed) vs a bare INSERT + COMMIT, same file.

    Runs on a copy of `db_path` holding a visit in progress (the demo clinic has Rūta's).
    Each recorded value is deleted again outside the timing, so every sample is an insert.
    """
    from kinesio_tui.domain.visits import record_measurement

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "writes.db"
        shutil.copyfile(db_path, path)
        db = connect(path, actor="benchmark")
        visit = db.execute(
            "SELECT id FROM visits WHERE started_at IS NOT NULL AND status = 'planned' LIMIT 1"
        ).fetchone()
        if visit is None:
            db.close()
            return {"error": "no visit in progress in this file"}
        db.execute("CREATE TABLE IF NOT EXISTS bench_baseline (id INTEGER PRIMARY KEY, v REAL)")
        conn = db.conn
        conn.commit()
        samples: dict[str, list[float]] = {"record_measurement": [], "bare_insert_commit": []}
        for i in range(n):
            value = float(i % 11)

            def record(v: float = value) -> None:
                record_measurement(db, visit[0], "nrs", v)

            samples["record_measurement"].append(timed(record))
            conn.execute("DELETE FROM measurements WHERE visit_id = ? AND test_code = 'nrs'", visit)
            conn.commit()

            def bare(v: float = value) -> None:
                conn.execute("INSERT INTO bench_baseline (v) VALUES (?)", [v])
                conn.commit()

            samples["bare_insert_commit"].append(timed(bare))
        db.close()
    out: dict[str, Any] = {name: summary(values, 3) for name, values in samples.items()}
    out["ratio_median"] = round(
        out["record_measurement"]["median"] / out["bare_insert_commit"]["median"], 1
    )
    return out


# --- 6. export ------------------------------------------------------------------------------


def bench_export(db_path: Path, n: int, *, runs: int = 2) -> dict[str, Any]:
    """HTML and Markdown summaries per second, by the export engineer's export_throughput.py;
    and `kinesio export --all` on the benchmark clinic `db_path`, the whole process, beside
    the template-only rendering of the same summaries (`export_all`)."""
    script = HERE / "export_throughput.py"
    if not script.exists():
        return {"status": "not available"}
    spec = importlib.util.spec_from_file_location("export_throughput", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        # export_patient refuses a patient with no episode, and most of the synthetic clinic
        # has none: use the export engineer's own clinic (built through the domain) if offered.
        clinic = (
            module.cached_clinic(n, verbose=False) if hasattr(module, "cached_clinic") else db_path
        )
        result = dict(module.measure(clinic, n))
        if hasattr(module, "export_all"):
            result["export_all"] = module.export_all(db_path, runs=runs)
    except Exception as error:  # report, don't hide the other figures
        return {"status": f"failed: {type(error).__name__}: {error}"}
    return result


# --- 3. opening a patient -------------------------------------------------------------------


def full_history_patient(db_path: Path) -> tuple[int, int]:
    """A patient (and episode) with all 45 visits held: the heaviest patient screen."""
    db = connect(db_path, migrate=False)
    try:
        row = db.execute(
            "SELECT e.patient_id, e.id FROM episodes e JOIN patients p ON p.id = e.patient_id"
            " WHERE p.archived_at IS NULL AND e.status = 'completed' AND"
            " (SELECT count(*) FROM visits v WHERE v.episode_id = e.id AND v.status = 'done') = 45"
            " ORDER BY e.id LIMIT 1"
        ).fetchone()
        if row is None:
            row = db.execute(
                "SELECT e.patient_id, e.id FROM episodes e ORDER BY"
                " (SELECT count(*) FROM visits v WHERE v.episode_id = e.id AND"
                " v.status = 'done') DESC LIMIT 1"
            ).fetchone()
    finally:
        db.close()
    return int(row[0]), int(row[1])


def patient_query(db_path: Path) -> str:
    """Search words that find exactly the full-history patient: surname, first name, phone."""
    pid, _episode = full_history_patient(db_path)
    db = connect(db_path, migrate=False)
    try:
        first, last, phone = db.execute(
            "SELECT first_name, last_name, phone FROM patients WHERE id = ?", [pid]
        ).fetchone()
    finally:
        db.close()
    digits = "".join(ch for ch in phone if ch.isdigit())[-6:]
    return f"{fold(last)} {fold(first)} {digits}".strip()


def bench_open_patient(db_path: Path, rounds: int = 10) -> dict[str, Any]:
    """Push the patient screen in a headless app at 80x24 until its 45 visits are on screen.

    Baseline: pushing a screen holding one Static, same app, interleaved. `domain` is the
    screen's queries alone (patient, episode, progress with visits, tests and PIR).
    """
    from textual.screen import Screen
    from textual.widgets import Static

    from kinesio_tui import clock
    from kinesio_tui.app import build_app
    from kinesio_tui.domain.episodes import current_episode
    from kinesio_tui.domain.outcomes import progress
    from kinesio_tui.domain.patients import get_patient
    from kinesio_tui.views.row_table import RowTable

    pid, _episode = full_history_patient(db_path)
    clinic_moment = datetime.combine(TODAY, dt_time(10)).astimezone()

    class OneLine(Screen[None]):
        def compose(self) -> Any:
            yield Static("one line")

    samples: dict[str, list[float]] = {"patient_screen": [], "one_line_screen": [], "domain": []}
    rows_seen: list[int] = []

    async def run() -> None:
        app = build_app(db_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            for _ in range(rounds):
                started = time.perf_counter()
                app.open_patient(pid)
                await pilot.pause()
                table = app.screen.query_one("#visits", RowTable)
                samples["patient_screen"].append((time.perf_counter() - started) * 1000)
                rows_seen.append(table.row_count)
                app.pop_screen()
                await pilot.pause()
                await app.workers.wait_for_complete()  # the list reloads when shown again
                await pilot.pause()
                started = time.perf_counter()
                await app.push_screen(OneLine())
                await pilot.pause()
                samples["one_line_screen"].append((time.perf_counter() - started) * 1000)
                app.pop_screen()
                await pilot.pause()

                def domain() -> None:
                    get_patient(app.db, pid)
                    episode = current_episode(app.db, pid)
                    assert episode is not None
                    progress(app.db, episode.id, today=TODAY)

                samples["domain"].append(timed(domain))

    # the screen shows the generated clinic on the day it was generated for
    with mock.patch.object(clock, "now", lambda: clinic_moment):
        asyncio.run(run())
    out: dict[str, Any] = {name: summary(values) for name, values in samples.items()}
    out["visit_rows_shown"] = max(rows_seen) if rows_seen else 0
    return out


# --- 1, 4, 5: the real app in a pseudo-terminal ----------------------------------------------


@dataclass
class TtyRun:
    first_frame_ms: float
    first_frame_bytes: int
    peak_rss_kib: int
    move_bytes: list[int] = field(default_factory=list)
    repaint_bytes: int = 0
    key_to_update_ms: list[float] = field(default_factory=list)
    open_patient_ms: float | None = None
    #: Enter until the output stops for SETTLE_S (the last byte's time: the screen settled).
    open_patient_settled_ms: float | None = None
    reopen_patient_ms: float | None = None
    open_patient_bytes: int = 0


def _set_size(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _controlling_tty() -> None:  # runs in the child between fork and exec
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Tty:
    """A child process on a fresh pseudo-terminal; every byte it writes is counted."""

    def __init__(self, argv: list[str], env: dict[str, str], cols: int = 80, rows: int = 24):
        self.master, slave = os.openpty()
        _set_size(slave, cols, rows)
        self.started = time.perf_counter()
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

    def wait_for(self, marker: bytes, timeout: float, *, since: int = 0) -> float:
        """Milliseconds from spawn until `marker` has appeared in the output (after `since`)."""
        deadline = time.perf_counter() + timeout
        while self.output.find(marker, since) < 0:
            if time.perf_counter() > deadline or self.proc.poll() is not None:
                tail = bytes(self.output[-400:])
                raise RuntimeError(f"{marker!r} not seen; last output: {tail!r}")
            self.read(0.05)
        return (time.perf_counter() - self.started) * 1000

    def quiet(self, gap: float = 0.25, limit: float = 10.0) -> int:
        """Read until nothing comes for `gap` seconds; returns the bytes read."""
        total = 0
        deadline = time.perf_counter() + limit
        while time.perf_counter() < deadline:
            chunk = self.read(gap)
            if not chunk:
                break
            total += len(chunk)
        return total

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def enter_until(self, marker: bytes) -> float:
        """Press Enter; milliseconds until `marker` is written after it."""
        since = len(self.output)
        sent = time.perf_counter()
        self.send(b"\r")
        self.wait_for(marker, 30, since=since)
        return (time.perf_counter() - sent) * 1000

    def peak_rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        os.close(self.master)


def tty_env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TEXTUAL", "KINESIO", "XDG_", "COLUMNS", "LINES"))
        # as installed: bytecode cached (with it off, every start recompiles edited modules)
        and k != "PYTHONDONTWRITEBYTECODE"
    }
    env |= {
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "KINESIO_THERAPIST": "Benchmark",
    }
    return env


def first_row_marker(db_path: Path) -> bytes:
    """The surname on the list's first row: seeing it means the list is on screen."""
    db = connect(db_path, migrate=False)
    try:
        first = roster(db, "", limit=1)[0]
    finally:
        db.close()
    return first.name.split(",")[0][:12].encode()


@contextlib.contextmanager
def tty(argv: list[str], env: dict[str, str]) -> Iterator[Tty]:
    session = Tty(argv, env)
    try:
        yield session
    finally:
        session.close()


def run_in_tty(
    argv: list[str], env: dict[str, str], marker: bytes, *, moves: int, open_query: str = ""
) -> TtyRun:
    """Start, wait for `marker`, let the frame settle, then count what keys and a repaint cost.

    With `open_query` (matching one patient), also type it, press Enter and time the patient
    screen: Enter until the first visit's row is on screen; and the bytes that screen cost.
    """
    with tty(argv, env) as t:
        first_ms = t.wait_for(marker, timeout=60)
        t.quiet()
        run = TtyRun(first_ms, len(t.output), 0)
        bare_rss = 0
        if marker == b"bare app ready":  # the baseline for opening a screen: one line
            t.quiet(1.0)
            bare_rss = t.peak_rss_kib()  # its memory as it starts, before the extra screen
            run.open_patient_ms, run.open_patient_settled_ms = key_until_settled(
                t, b"\r", b"one-line screen"
            )
            t.quiet(0.3)
        for _ in range(moves):
            t.send(DOWN)
            run.move_bytes.append(t.quiet(0.15))
        if moves:
            _set_size(t.master, 100, 30)
            t.quiet(0.3)
            _set_size(t.master, 80, 24)
            run.repaint_bytes = t.quiet(0.3)
            for key in b"jankausk":
                sent = time.perf_counter()
                t.send(bytes([key]))
                while not t.read(2.0):
                    if time.perf_counter() - sent > 2:
                        break
                run.key_to_update_ms.append((time.perf_counter() - sent) * 1000)
                t.quiet(0.1)
        if open_query:
            t.quiet(1.0)  # the list's count arrives after the first frame
            # Pasted (bracketed paste), not typed: keys typed 50 ms apart on a loaded machine
            # sometimes land out of order in the search box (reported to the lead).
            for attempt in range(3):
                t.send(b"/")  # focus the search box
                t.quiet(0.5)
                since = len(t.output)
                t.send(b"\x1b[200~" + open_query.encode() + b"\x1b[201~")
                try:
                    t.wait_for(b"(1)", 10, since=since)  # the list's title: one match
                    break
                except RuntimeError:
                    if attempt == 2:
                        raise
                    t.send(b"\x1b")  # Esc clears the search; try again
                    t.quiet(0.5)
            t.quiet(0.3)
            since = len(t.output)
            run.open_patient_ms, run.open_patient_settled_ms = key_until_settled(
                t, b"\r", OPENED_MARKER
            )
            t.quiet(0.2)
            run.open_patient_bytes = len(t.output) - since
            # Back to the list (the search stays) and Enter again: later patients in a
            # session reuse the patient screen the first one built.
            t.send(b"\x1b")
            t.quiet(0.5)
            run.reopen_patient_ms = t.enter_until(OPENED_MARKER)
        run.peak_rss_kib = bare_rss or t.peak_rss_kib()
    return run


def bench_tty(large: Path, demo: Path, rounds: int, moves: int = 10) -> dict[str, Any]:
    """Cold start, peak memory and terminal bytes: bare app, app on demo, app on large DB."""
    kinesio = Path(sys.executable).with_name("kinesio")
    runs: dict[str, list[TtyRun]] = {"bare": [], "app_demo": [], "app_large": []}
    opened: list[TtyRun] = []
    with tempfile.TemporaryDirectory() as home:
        env = tty_env(Path(home))
        cases = {
            "bare": ([sys.executable, str(HERE / "bare_app.py")], b"bare app ready", 0),
            "app_demo": ([str(kinesio), "--db", str(demo)], first_row_marker(demo), moves),
            "app_large": ([str(kinesio), "--db", str(large)], first_row_marker(large), moves),
        }
        open_query = patient_query(large)
        with tty(*cases["bare"][:1], env) as warm:  # fill the OS cache: time starts, not disk
            warm.wait_for(b"bare app ready", 60)
        for name, (argv, marker, _) in cases.items():
            if name != "bare":
                run_in_tty(argv, env, marker, moves=0)
        for _ in range(rounds):
            for name, (argv, marker, n_moves) in cases.items():
                runs[name].append(run_in_tty(argv, env, marker, moves=n_moves))
            # a session of its own: typing, then Enter on the one match
            argv, marker, _ = cases["app_large"]
            opened.append(run_in_tty(argv, env, marker, moves=0, open_query=open_query))
    out: dict[str, Any] = {}
    for name, items in runs.items():
        out[name] = {
            "first_frame_ms": summary([r.first_frame_ms for r in items], 1),
            "first_frame_bytes": summary([float(r.first_frame_bytes) for r in items], 0),
            "peak_rss_mib": summary([r.peak_rss_kib / 1024 for r in items], 1),
        }
        moves_all = [float(b) for r in items for b in r.move_bytes]
        if moves_all:
            out[name]["bytes_per_down_key"] = summary(moves_all, 0)
            out[name]["full_repaint_bytes"] = summary([float(r.repaint_bytes) for r in items], 0)
            keys = [ms for r in items for ms in r.key_to_update_ms]
            out[name]["typing_key_to_update_ms"] = summary(keys, 1)
    times = [r.open_patient_ms for r in opened if r.open_patient_ms is not None]
    if times:
        out["app_large"]["open_patient_enter_to_last_byte_ms"] = summary(times, 1)
        out["app_large"]["open_patient_settled_ms"] = summary(
            [r.open_patient_settled_ms for r in opened if r.open_patient_settled_ms is not None], 1
        )
        out["app_large"]["open_patient_bytes"] = summary(
            [float(r.open_patient_bytes) for r in opened], 0
        )
        again = [r.reopen_patient_ms for r in opened if r.reopen_patient_ms is not None]
        out["app_large"]["reopen_patient_ms"] = summary(again, 1)
    bare = out["bare"]
    screens = [r.open_patient_ms for r in runs["bare"] if r.open_patient_ms is not None]
    if screens:
        bare["open_one_line_screen_ms"] = summary(screens, 1)
        bare["open_one_line_screen_settled_ms"] = summary(
            [r.open_patient_settled_ms for r in runs["bare"] if r.open_patient_settled_ms], 1
        )
    for name in ("app_demo", "app_large"):
        out[name]["start_ratio_to_bare"] = round(
            out[name]["first_frame_ms"]["median"] / bare["first_frame_ms"]["median"], 2
        )
        out[name]["rss_ratio_to_bare"] = round(
            out[name]["peak_rss_mib"]["median"] / bare["peak_rss_mib"]["median"], 2
        )
    out["rss_large_over_demo"] = round(
        out["app_large"]["peak_rss_mib"]["median"] / out["app_demo"]["peak_rss_mib"]["median"], 2
    )
    return out


# --- 8. screens after a key, in a pseudo-terminal -----------------------------------------

#: Output idle this long after the screen's text: the screen has settled.
SETTLE_S = 0.15
#: Key -> (what the screen says first, its name in the results).
DOCTOR_MARKER = b"Doctor's checks"
SESSION_MARKER = b"Checklist "
PIR_MARKER = b"Post-isometric relaxation"
BARE_SCREEN_MARKER = b"one-line screen"
#: The patient screen is on (its visit list's first row).
PATIENT_MARKER = OPENED_MARKER


def key_until_settled(t: Tty, key: bytes, marker: bytes) -> tuple[float, float]:
    """Press `key`: milliseconds until `marker` is written, and until output then stops for
    SETTLE_S (the last byte's time: the screen settled)."""
    since = len(t.output)
    sent = time.perf_counter()
    t.send(key)
    t.wait_for(marker, 30, since=since)
    seen = time.perf_counter()
    last = seen
    while t.read(SETTLE_S):
        last = time.perf_counter()
    return (seen - sent) * 1000, (last - sent) * 1000


def current_visit_patients(db_path: Path) -> dict[str, str]:
    """Search words for the patient whose current visit is a doctor's appointment, and for
    one whose current visit is a therapy session: each in the latest module there is (the
    most earlier values on the form, the longest last session)."""
    from kinesio_tui.protocol import protocol

    doctor = {slot.number for slot in protocol().cycle if slot.kind == "doctor"}
    db = connect(db_path, migrate=False)
    try:
        rows = [
            r
            for r in roster(db, "", limit=10_000)
            if r.episode_status == "active" and r.module and r.number and not r.on_hold
            and not r.next_started and not r.red_flags
        ]  # fmt: skip
        found: dict[str, str] = {}
        for kind, wanted in (("doctor", True), ("session", False)):
            fitting = [r for r in rows if (r.number in doctor) == wanted]
            best = max(fitting, key=lambda r: (r.module, r.number, -r.patient_id))
            last, first = best.name.split(", ", 1)
            digits = "".join(ch for ch in best.phone if ch.isdigit())[-6:]
            found[kind] = f"{fold(last)} {fold(first)} {digits}".strip()
            found[kind + "_visit"] = f"M{best.module} {best.number}/{best.module_visits or 15}"
    finally:
        db.close()
    return found


def open_screens(
    argv: list[str],
    env: dict[str, str],
    marker: bytes,
    query: str,
    steps: list[tuple[str, bytes, bytes]],
) -> dict[str, tuple[float, float]]:
    """Start the workstation, open the patient `query` finds, then press each step's key and
    time it to its screen's text and to the screen settled."""
    out: dict[str, tuple[float, float]] = {}
    with tty(argv, env) as t:
        t.wait_for(marker, timeout=60)
        t.quiet(1.0)  # the list's count and the warm-up behind the first frame
        t.send(b"/")
        t.quiet(0.3)
        since = len(t.output)
        t.send(b"\x1b[200~" + query.encode() + b"\x1b[201~")
        t.wait_for(b"(1)", 10, since=since)
        t.quiet(0.3)
        out["patient"] = key_until_settled(t, b"\r", PATIENT_MARKER)
        t.quiet(1.0)  # what the patient screen warms up behind itself
        for name, key, screen_marker in steps:
            out[name] = key_until_settled(t, key, screen_marker)
            t.quiet(0.5)
    return out


def bench_screens(demo: Path, rounds: int) -> dict[str, Any]:
    """Enter -> each screen's text, and -> settled, in a real pty at 80x24 on the demo clinic,
    interleaved with the bare app's Enter -> a one-line screen (the baseline, same run).

    Each session opens a fresh copy of the demo (starting a visit writes to it).
    """
    kinesio = Path(sys.executable).with_name("kinesio")
    who = current_visit_patients(demo)
    samples: dict[str, list[tuple[float, float]]] = {
        "bare_one_line_screen": [],
        "doctors_appointment": [],
        "therapy_session": [],
        "pir_first_open": [],
    }
    with tempfile.TemporaryDirectory() as home:
        env = tty_env(Path(home))
        marker = first_row_marker(demo)
        bare = [sys.executable, str(HERE / "bare_app.py")]

        def session(query: str, steps: list[tuple[str, bytes, bytes]]) -> dict[str, Any]:
            copy = Path(home) / "screens.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{copy}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(demo, copy)
            return open_screens([str(kinesio), "--db", str(copy)], env, marker, query, steps)

        doctor_steps = [("doctors_appointment", b"\r", DOCTOR_MARKER)]
        session_steps = [
            ("therapy_session", b"\r", SESSION_MARKER),
            ("pir_first_open", b"p", PIR_MARKER),
        ]
        session(who["doctor"], doctor_steps)  # once unmeasured: bytecode and OS caches
        for _ in range(rounds):
            with tty(bare, env) as t:
                t.wait_for(b"bare app ready", 60)
                t.quiet(0.5)
                samples["bare_one_line_screen"].append(
                    key_until_settled(t, b"\r", BARE_SCREEN_MARKER)
                )
            for name, value in session(who["doctor"], doctor_steps).items():
                if name in samples:
                    samples[name].append(value)
            for name, value in session(who["session"], session_steps).items():
                if name in samples:
                    samples[name].append(value)
    out: dict[str, Any] = {"patients": {k: v for k, v in who.items() if k.endswith("_visit")}}
    for name, values in samples.items():
        out[name] = {
            "to_text_ms": summary([v[0] for v in values], 1),
            "settled_ms": summary([v[1] for v in values], 1),
        }
    base = out["bare_one_line_screen"]["settled_ms"]["median"]
    for name in ("doctors_appointment", "therapy_session", "pir_first_open"):
        out[name]["settled_ratio_to_bare"] = round(out[name]["settled_ms"]["median"] / base, 1)
    return out


# --- 9. the command line's own start ------------------------------------------------------

#: What a command's process had to import before it imported only what it needs: the baseline.
CLI_BASELINE = "import typer, jinja2, sqlite_utils"


def bench_cli(demo: Path, rounds: int) -> dict[str, Any]:
    """`kinesio patients show 1` on the demo clinic, the whole process, beside
    `python -c "import typer, jinja2, sqlite_utils"`, interleaved (wall ms, median)."""
    kinesio = Path(sys.executable).with_name("kinesio")
    with tempfile.TemporaryDirectory() as home:
        env = tty_env(Path(home))
        commands = {
            "patients_show": [str(kinesio), "--db", str(demo), "patients", "show", "1"],
            "import_baseline": [sys.executable, "-c", CLI_BASELINE],
        }
        samples: dict[str, list[float]] = {name: [] for name in commands}

        def run(argv: list[str]) -> float:
            started = time.perf_counter()
            subprocess.run(argv, env=env, capture_output=True, check=True, timeout=60)
            return (time.perf_counter() - started) * 1000

        for argv in commands.values():  # bytecode and OS caches
            run(argv)
        for _ in range(rounds):
            for name, argv in commands.items():
                samples[name].append(run(argv))
    out: dict[str, Any] = {name: summary(values, 1) for name, values in samples.items()}
    out["ratio_median"] = round(
        out["patients_show"]["median"] / out["import_baseline"]["median"], 2
    )
    return out


# --- the run --------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    import textual

    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "textual": textual.__version__,
        "os": platform.platform(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_1_5_15": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def demo_db(directory: Path) -> Path:
    from kinesio_tui.demo import build_demo

    return Path(build_demo(directory / "demo.db", today=TODAY))


def bench_postgres_rows(large: Path, *, quick: bool) -> dict[str, Any]:
    """PostgreSQL beside SQLite on the same clinic (benchmarks/postgres_rows.py)."""
    from postgres_rows import bench_postgres

    return bench_postgres(
        large,
        rounds=2 if quick else 5,
        writes=20 if quick else 200,
        exports=20 if quick else 200,
        export_runs=1 if quick else 3,
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="kinesio-tui benchmarks")
    parser.add_argument("--quick", action="store_true", help="2,000 patients, fewer rounds")
    parser.add_argument("--patients", type=int, help="size of the synthetic clinic")
    parser.add_argument("--rounds", type=int, help="pty sessions per case")
    parser.add_argument(
        "--only", help="comma-separated: tty,search,open,export,writes,screens,cli,postgres"
    )
    parser.add_argument("--json", type=Path, default=HERE / "results.json")
    args = parser.parse_args(argv)
    patients = args.patients or (2_000 if args.quick else 100_000)
    rounds = args.rounds or (2 if args.quick else 5)
    only = set((args.only or ",".join(STEPS)).split(","))

    started = time.perf_counter()
    large = cached_db(patients)
    results: dict[str, Any] = {
        "command": "make bench" if not args.quick else "benchmarks/run.py --quick",
        "machine": machine(),
        "database": {
            "patients": patients,
            "size_mib": round(large.stat().st_size / 2**20),
            **build_facts(large),
        },
    }
    with tempfile.TemporaryDirectory() as tmp:
        demo = demo_db(Path(tmp))
        steps: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            ("tty", lambda: bench_tty(large, demo, rounds)),
            ("search", lambda: bench_search(large, rounds=3 if args.quick else 5)),
            ("open", lambda: bench_open_patient(large, rounds=5 if args.quick else 20)),
            (
                "export",
                lambda: bench_export(large, 20 if args.quick else 200, runs=1 if args.quick else 2),
            ),
            ("writes", lambda: bench_writes(demo, 30 if args.quick else 300)),
            ("screens", lambda: bench_screens(demo, rounds)),
            ("cli", lambda: bench_cli(demo, 5 if args.quick else 15)),
            ("postgres", lambda: bench_postgres_rows(large, quick=args.quick)),
        ]
        for name, step in steps:
            if name in only:
                print(f"measuring {name} ...", file=sys.stderr, flush=True)
                try:
                    results[name] = step()
                except Exception as error:  # one broken figure must not lose the others
                    results[name] = {"error": f"{type(error).__name__}: {error}"}
                    print(f"{name} failed: {error}", file=sys.stderr)
    results["elapsed_s"] = round(time.perf_counter() - started, 1)
    args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    table = render_table(results)
    print(table)
    failed = [name for name in only if "error" in results.get(name, {})]
    for name in failed:
        print(f"{name}: {results[name]['error']}", file=sys.stderr)
    if not args.quick and not failed and only >= set(STEPS):
        results_md = HERE / "RESULTS.md"
        # Hand-written notes (from the first "## " heading on) survive a new run.
        old = results_md.read_text() if results_md.exists() else ""
        notes = old[old.index("\n## ") :] if "\n## " in old else ""
        results_md.write_text(render_markdown(results, table).rstrip() + "\n" + notes)
    return results


def _get(results: dict[str, Any], *keys: str) -> Any:
    node: Any = results
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _fmt(stat: Any, unit: str = "") -> str:
    if not isinstance(stat, dict):
        return "-"
    return f"{stat['median']:g}{unit} (p95 {stat['p95']:g}, max {stat['max']:g})"


def render_table(r: dict[str, Any]) -> str:
    """The results as a Markdown table: measure, result, baseline/ratio, target."""
    rows: list[tuple[str, str, str, str]] = []
    t = r.get("tty", {})
    if t and "error" not in t:
        rows += [
            (
                "1. cold start to patient list, 80x24 pty (large DB)",
                _fmt(_get(t, "app_large", "first_frame_ms"), " ms"),
                f"bare app {_fmt(_get(t, 'bare', 'first_frame_ms'), ' ms')}; "
                f"ratio {_get(t, 'app_large', 'start_ratio_to_bare')}x",
                "<= 1.3x bare",
            ),
            (
                "1. cold start, demo DB",
                _fmt(_get(t, "app_demo", "first_frame_ms"), " ms"),
                f"ratio {_get(t, 'app_demo', 'start_ratio_to_bare')}x",
                "",
            ),
            (
                "4. peak RSS, large DB",
                _fmt(_get(t, "app_large", "peak_rss_mib"), " MiB"),
                f"bare {_fmt(_get(t, 'bare', 'peak_rss_mib'), ' MiB')}; "
                f"ratio {_get(t, 'app_large', 'rss_ratio_to_bare')}x",
                "<= 1.3x bare",
            ),
            (
                "4. peak RSS, demo DB",
                _fmt(_get(t, "app_demo", "peak_rss_mib"), " MiB"),
                f"large/demo {_get(t, 'rss_large_over_demo')}x",
                "large = demo",
            ),
            (
                "5. bytes per Down key in the list",
                _fmt(_get(t, "app_large", "bytes_per_down_key"), " B"),
                "",
                "<= 2048 B",
            ),
            (
                "5. bytes for a full repaint at 80x24",
                _fmt(_get(t, "app_large", "full_repaint_bytes"), " B"),
                f"bare app first frame {_fmt(_get(t, 'bare', 'first_frame_bytes'), ' B')}",
                "",
            ),
            (
                "2b. typing in the list: key to first screen update",
                _fmt(_get(t, "app_large", "typing_key_to_update_ms"), " ms"),
                "query runs in a worker thread",
                "never blocks",
            ),
        ]
    s = r.get("search", {})
    if s and "error" not in s:
        rows += [
            (
                f"2. search per keystroke ({s['queries']} queries), as the list's worker",
                _fmt(s.get("tui_worker"), " ms"),
                f"query alone {_fmt(s.get('roster'), ' ms')}; "
                f"before (LIKE scan) {_fmt(s.get('before'), ' ms')}",
                "p95 <= 10 ms",
            ),
            (
                "2. the same queries, CPU time of the query (load-independent)",
                _fmt(s.get("roster_cpu"), " ms"),
                f"before (LIKE scan) {_fmt(s.get('before_cpu'), ' ms')}",
                "",
            ),
        ]
    if _get(t, "app_large", "open_patient_enter_to_last_byte_ms"):
        rows.append(
            (
                "3. open a patient with 45 visits, pty: Enter to its visits on screen",
                _fmt(_get(t, "app_large", "open_patient_enter_to_last_byte_ms"), " ms"),
                f"bare app, Enter to a one-line screen "
                f"{_fmt(_get(t, 'bare', 'open_one_line_screen_ms'), ' ms')}; "
                f"{_fmt(_get(t, 'app_large', 'open_patient_bytes'), ' B')} written",
                "<= 50 ms",
            )
        )
    if _get(t, "app_large", "open_patient_settled_ms"):
        rows.append(
            (
                "3. the same, first in a session: Enter to the screen settled (output idle 150 ms)",
                _fmt(_get(t, "app_large", "open_patient_settled_ms"), " ms"),
                f"bare app, Enter to its one-line screen settled "
                f"{_fmt(_get(t, 'bare', 'open_one_line_screen_settled_ms'), ' ms')}",
                "<= 50 ms",
            )
        )
    if _get(t, "app_large", "reopen_patient_ms"):
        rows.append(
            (
                "3. the same, later in the session (the patient screen is reused)",
                _fmt(_get(t, "app_large", "reopen_patient_ms"), " ms"),
                "first open in the session: the row above",
                "<= 50 ms",
            )
        )
    o = r.get("open", {})
    if o and "error" not in o:
        rows.append(
            (
                "3. open a patient with 45 visits (headless 80x24: push until the app is idle again)",
                _fmt(o.get("patient_screen"), " ms"),
                f"one-line screen {_fmt(o.get('one_line_screen'), ' ms')}; "
                f"queries alone {_fmt(o.get('domain'), ' ms')}",
                "<= 50 ms",
            )
        )
    e = r.get("export")
    if e is not None:
        if "status" in e and len(e) == 1:
            rows.append(("6. export summaries per second", e["status"], "", ">= 200 HTML/s"))
        else:
            rows.append(
                (
                    "6. export summaries per second",
                    ", ".join(f"{k} {v}" for k, v in e.items() if k != "export_all"),
                    "",
                    ">= 200 HTML/s",
                )
            )
        a = e.get("export_all")
        if a:
            rows.append(
                (
                    f"6. `kinesio export --all` (HTML), the whole process: {a['written']} "
                    f"summaries of {a['patients']} patients",
                    f"{a['per_s']:g}/s (per CPU second {a['cpu_per_s']:g}; median of {a['runs']})",
                    f"template-only rendering {a['template_only_per_s']:g}/s "
                    f"(per CPU second {a['template_only_cpu_per_s']:g})",
                    ">= 1,000/s",
                )
            )
    w = r.get("writes", {})
    if w and "error" not in w:
        rows.append(
            (
                "7. record one measurement, committed",
                _fmt(w.get("record_measurement"), " ms"),
                f"bare insert+commit {_fmt(w.get('bare_insert_commit'), ' ms')}; "
                f"ratio {w.get('ratio_median')}x",
                "<= 5 ms median",
            )
        )
    sc = r.get("screens", {})
    if sc and "error" not in sc:
        bare = _get(sc, "bare_one_line_screen", "settled_ms")
        seen = sc.get("patients", {})
        for name, label, target in (
            ("doctors_appointment", f"doctor's appointment ({seen.get('doctor_visit')})", 100),
            ("therapy_session", f"therapy session ({seen.get('session_visit')})", 100),
            ("pir_first_open", "PIR recorder, first open (p)", 100),
        ):
            rows.append(
                (
                    f"8. {label}, pty 80x24 demo: key -> settled (-> its text)",
                    f"{_fmt(_get(sc, name, 'settled_ms'), ' ms')} "
                    f"(text {_get(sc, name, 'to_text_ms', 'median')} ms)",
                    f"bare app Enter -> one-line screen settled {_fmt(bare, ' ms')}; "
                    f"ratio {_get(sc, name, 'settled_ratio_to_bare')}x",
                    f"<= {target} ms settled",
                )
            )
    c = r.get("cli", {})
    if c and "error" not in c:
        rows.append(
            (
                "9. `kinesio patients show 1` (demo), the whole process",
                _fmt(c.get("patients_show"), " ms"),
                f'`python -c "{CLI_BASELINE}"` {_fmt(c.get("import_baseline"), " ms")}; '
                f"ratio {c.get('ratio_median')}x",
                "<= 1.2x",
            )
        )
    pgr = r.get("postgres", {})
    if pgr and "error" not in pgr and "status" not in pgr:
        for pg_label, pg_key, pg_goal in (
            ("17. PostgreSQL search per keystroke", "search", "p95 <= 10 ms"),
            ("17. PostgreSQL: open a patient with 45 visits (its queries)", "open_patient", ""),
            ("17. PostgreSQL: a committed write (record_measurement)", "write", ""),
        ):
            pair = pgr.get(pg_key, {})
            if "postgresql" in pair:
                rows.append(
                    (
                        pg_label,
                        _fmt(pair["postgresql"], " ms"),
                        f"SQLite, same run {_fmt(pair['sqlite'], ' ms')}; "
                        f"ratio {pair['ratio_median']}x",
                        pg_goal,
                    )
                )
        cpu = pgr.get("search", {}).get("cpu", {})
        if "postgresql" in cpu:
            rows.append(
                (
                    "17. the same, CPU time (client + server process; load-independent)",
                    _fmt(cpu["postgresql"], " ms"),
                    f"SQLite, same run {_fmt(cpu['sqlite'], ' ms')}; ratio {cpu['ratio_median']}x",
                    "",
                )
            )
        x = pgr.get("export", {})
        if "postgresql_per_s" in x:
            rows.append(
                (
                    f"17. PostgreSQL: HTML summaries per second ({x['patients']} patients, one process)",
                    f"{x['postgresql_per_s']:g}/s",
                    f"SQLite, same run {x['sqlite_per_s']:g}/s; ratio {x['ratio']}x",
                    "",
                )
            )
    elif pgr:
        rows.append(("17. PostgreSQL rows", str(pgr.get("error") or pgr.get("status")), "", ""))
    lines = [
        "| Measure | Result: median (p95, max) | Baseline, same run | Target |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def render_markdown(r: dict[str, Any], table: str) -> str:
    m = r["machine"]
    d = r["database"]
    return f"""# Benchmark results

Command: `make bench` (= `.venv/bin/python benchmarks/run.py`; `--quick` for a 2,000-patient
smoke run). Raw figures: `benchmarks/results.json` (not committed).

Machine: {m["nproc"]} CPUs, {m["cpu"]}; Python {m["python"]}, SQLite {m["sqlite"]},
textual {m["textual"]}; {m["os"]}; run {m["date"]}, {r["elapsed_s"]} s in all;
load average at the start {m.get("load_average_1_5_15", "?")} (the machine is shared).

Database: {d["patients"]:,} synthetic patients, {d.get("episodes", "?")} episodes,
{d.get("visits", "?")} visits, {d.get("ticks", "?")} checklist ticks,
{d.get("pir_cycles", "?")} PIR cycles, {d.get("measurements", "?")} measurements;
{d["size_mib"]} MiB, generated in {d.get("build_s", "?")} s (`benchmarks/generate.py`,
seeded, cached in `benchmarks/.cache/`; no audit trail is generated for synthetic rows).

{table}

Each figure is several measurements in one run, interleaved with its baseline; the machine
is shared and noisy, so compare ratios within a run rather than absolute times across runs.
"""


if __name__ == "__main__":
    main()
