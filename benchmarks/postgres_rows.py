"""PostgreSQL beside SQLite, on the same clinic, in the same run (issue 17).

A throwaway PostgreSQL 15 server (the test suite's `tests/pg_cluster.py`, with fsync,
synchronous_commit and full_page_writes turned back on, as a clinic's server runs) receives
a copy of the benchmark's SQLite clinic through `kinesio migrate --to`'s own copier. Then,
interleaved key by key or patient by patient so both engines see the same machine load:

- search: the patient list's query (`roster`) per keystroke, the same queries as row 2;
- open a patient: the patient screen's queries (patient, episode, progress with 45 visits);
- a committed write: `record_measurement` (validated, audited, committed), each value
  removed again outside the timing;
- export: HTML summaries written per second, one patient after another.

The server is on this machine (the unix socket), so the PostgreSQL figures hold no network;
a room PC on a LAN adds its round trip (~0.2-0.5 ms) to every statement.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from pg_cluster import OWNER, PgCluster, installed  # noqa: E402

from kinesio_tui.data.db import ClinicDB, connect  # noqa: E402


def _ms(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered), 2),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
        "max": round(ordered[-1], 2),
        "n": len(ordered),
    }


def _pair(lite: list[float], pg: list[float]) -> dict[str, Any]:
    out: dict[str, Any] = {"sqlite": _stats(lite), "postgresql": _stats(pg)}
    out["ratio_median"] = round(out["postgresql"]["median"] / out["sqlite"]["median"], 2)
    return out


#: A clinic's server, not a test's: durable commits and PostgreSQL's default cache.
DURABLE = ("fsync=on", "synchronous_commit=on", "full_page_writes=on", "shared_buffers=128MB")


def _durable(cluster: PgCluster) -> None:
    """The test cluster runs without fsync (tests need no durability); a benchmark of a
    committed write must pay for it, as a clinic's server does. The test settings are on the
    server's command line, which outranks ALTER SYSTEM, so the server is restarted with
    these after them, and checked."""
    cluster.pause()
    cluster.resume(*DURABLE)
    for setting in DURABLE:
        name, wanted = setting.split("=")
        [(now,)] = cluster.psql(f"SHOW {name}")
        if now != wanted:
            raise RuntimeError(f"the benchmark's server runs with {name}={now}, not {wanted}")


def _search(lite: ClinicDB, pg: ClinicDB, queries: list[str], rounds: int) -> dict[str, Any]:
    from run import LIST_LIMIT

    from kinesio_tui.domain.roster import roster

    backend = Path(f"/proc/{pg.engine.conn.info.backend_pid}/schedstat")  # type: ignore[attr-defined]

    def server_ms() -> float:  # the server process's CPU time (ns resolution), this machine
        return int(backend.read_text().split()[0]) / 1e6

    a: list[float] = []
    b: list[float] = []
    a_cpu: list[float] = []
    b_cpu: list[float] = []
    for _ in range(rounds):
        for query in queries:
            cpu = time.process_time()
            a.append(_ms(lambda q=query: roster(lite, q, limit=LIST_LIMIT)))  # type: ignore[misc]
            a_cpu.append((time.process_time() - cpu) * 1000)
            cpu, served = time.process_time(), server_ms()
            b.append(_ms(lambda q=query: roster(pg, q, limit=LIST_LIMIT)))  # type: ignore[misc]
            b_cpu.append((time.process_time() - cpu) * 1000 + server_ms() - served)
    # CPU time (PostgreSQL's: client plus server process) does not grow with the machine's
    # load the way wall time does: the figure to compare on a shared machine.
    return {"queries": len(queries), **_pair(a, b), "cpu": _pair(a_cpu, b_cpu)}


def _open_patient(lite: ClinicDB, pg: ClinicDB, pid: int, rounds: int) -> dict[str, Any]:
    from generate import TODAY

    from kinesio_tui.domain.episodes import current_episode
    from kinesio_tui.domain.outcomes import progress
    from kinesio_tui.domain.patients import get_patient

    def screen(db: ClinicDB) -> None:
        get_patient(db, pid)
        episode = current_episode(db, pid)
        assert episode is not None
        progress(db, episode.id, today=TODAY)

    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):
        a.append(_ms(lambda: screen(lite)))
        b.append(_ms(lambda: screen(pg)))
    return _pair(a, b)


def _visit_in_progress(db: ClinicDB) -> int | None:
    row = db.execute(
        "SELECT id FROM visits WHERE started_at IS NOT NULL AND status = 'planned' "
        "ORDER BY id LIMIT 1"
    ).fetchone()
    return int(row[0]) if row else None


def _next_visit(db: ClinicDB) -> int | None:
    """The next visit of the first active episode not on hold (the same on both copies)."""
    row = db.execute(
        "SELECT (SELECT id FROM visits v WHERE v.episode_id = e.id AND v.status = 'planned' "
        "ORDER BY v.seq LIMIT 1) FROM episodes e WHERE e.status = 'active' AND NOT EXISTS "
        "(SELECT 1 FROM episode_holds h WHERE h.episode_id = e.id AND h.cleared_on IS NULL) "
        "ORDER BY e.id LIMIT 1"
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def _writes(lite: ClinicDB, pg: ClinicDB, n: int) -> dict[str, Any]:
    from kinesio_tui.domain.visits import record_measurement, start_visit

    if _visit_in_progress(lite) is None and (planned := _next_visit(lite)) is not None:
        for db in (lite, pg):  # the synthetic clinic has none under way: begin one on both
            start_visit(db, planned, therapist="Benchmark")
    visit = _visit_in_progress(lite)
    if visit is None or _visit_in_progress(pg) != visit:
        return {"error": "no visit in progress in this clinic"}
    a: list[float] = []
    b: list[float] = []
    for i in range(n):
        for db, samples in ((lite, a), (pg, b)):
            samples.append(
                _ms(lambda d=db, v=float(i % 11): record_measurement(d, visit, "nrs", v))  # type: ignore[misc]
            )
            db.execute("DELETE FROM measurements WHERE visit_id = ? AND test_code = 'nrs'", [visit])
            if db.kind == "sqlite":
                db.conn.commit()
    return _pair(a, b)


def _exports(lite: ClinicDB, pg: ClinicDB, n: int, runs: int) -> dict[str, Any]:
    from generate import TODAY

    from kinesio_tui.export import export_patient

    ids = [
        int(row[0])
        for row in lite.execute(
            "SELECT DISTINCT patient_id FROM episodes ORDER BY patient_id LIMIT ?", [n]
        ).fetchall()
    ]
    rates: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
    for _ in range(runs):
        for db in (lite, pg):
            out = Path(tempfile.mkdtemp(prefix="kinesio-pg-bench-"))
            try:
                started = time.perf_counter()
                for pid in ids:
                    export_patient(db, pid, kind="summary", fmt="html", out_dir=out, today=TODAY)
                rates[db.kind].append(len(ids) / (time.perf_counter() - started))
            finally:
                shutil.rmtree(out)
    lite_rate = statistics.median(rates["sqlite"])
    pg_rate = statistics.median(rates["postgresql"])
    return {
        "patients": len(ids),
        "sqlite_per_s": round(lite_rate, 1),
        "postgresql_per_s": round(pg_rate, 1),
        "ratio": round(pg_rate / lite_rate, 2),
    }


def _copy(lite: ClinicDB, url: str) -> int:
    """The clinic copied into the empty database at `url` by `kinesio migrate --to`'s own
    copier, rows compared by their SHA-256; but the synthetic clinic is written in bulk,
    past the audit trail, so the trail's verification (which `migrate` insists on, and which
    would refuse this clinic) is left out here."""
    from kinesio_tui.data.db import write_transaction
    from kinesio_tui.maintenance.transfer import _compare, _fill, fingerprint

    expected = fingerprint(lite)
    pg = connect(url, actor="benchmark")  # the owner: the schema is made at the current step
    try:
        with write_transaction(pg):
            _fill(lite, pg)
            _compare(expected, pg, "the benchmark's copy")
    finally:
        pg.close()
    return sum(expected.counts.values())


def bench_postgres(
    large: Path,
    *,
    rounds: int,
    writes: int,
    exports: int,
    export_runs: int,
    cluster: PgCluster | None = None,
) -> dict[str, Any]:
    """Every PostgreSQL row beside SQLite's, on a copy of `large` (see the module's text).

    Starts (and stops) a durable server of its own, or uses `cluster` as it is (the smoke
    test passes the suite's, whose figures mean nothing)."""
    from run import full_history_patient, search_queries

    if cluster is None and not installed():
        return {"status": "not available: PostgreSQL 15 is not installed"}
    own = cluster is None
    cluster = cluster or PgCluster.start()
    saved = os.environ.get("PGPASSFILE")
    os.environ["PGPASSFILE"] = str(cluster.passfile)
    try:
        if own:
            _durable(cluster)
        name = cluster.new_name("bench")
        cluster.create_database(name)
        url = cluster.url(name, OWNER)
        with tempfile.TemporaryDirectory() as tmp:
            # Writes change the clinic: both engines write to copies of the cached file.
            path = Path(tmp) / "clinic.db"
            shutil.copyfile(large, path)
            lite = connect(path, actor="benchmark")
            started = time.perf_counter()
            copied_rows = _copy(lite, url)
            copy_s = time.perf_counter() - started
            cluster.psql("VACUUM ANALYZE", dbname=name)
            pg = connect(url, actor="benchmark")
            try:
                pid, _episode = full_history_patient(path)
                result: dict[str, Any] = {
                    "server": cluster.psql("SHOW server_version")[0][0],
                    "copy_s": round(copy_s, 1),
                    "copied_rows": copied_rows,
                    "search": _search(lite, pg, search_queries(path), rounds),
                    "open_patient": _open_patient(lite, pg, pid, rounds * 4),
                    "write": _writes(lite, pg, writes),
                    "export": _exports(lite, pg, exports, export_runs),
                }
            finally:
                pg.close()
                lite.close()
        return result
    finally:
        if saved is None:
            os.environ.pop("PGPASSFILE", None)
        else:
            os.environ["PGPASSFILE"] = saved
        if own:
            cluster.stop()
