"""The benchmark scripts run end to end on a tiny clinic (no timings asserted: they rot else)."""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest
from pg_cluster import PgCluster

from kinesio_tui.data.db import connect
from kinesio_tui.domain.outcomes import progress
from kinesio_tui.domain.patients import find_patients, search_text_for

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def load(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))  # run.py imports generate as a sibling module
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_generator_builds_a_valid_clinic(tmp_path: Path) -> None:
    generate = load("generate")
    path = tmp_path / "tiny.db"
    counts = generate.generate(path, 200)
    assert counts["patients"] == 200 and counts["visits"] == 45 * counts["episodes"]
    db = connect(path)
    try:
        # search_text exactly as the domain writes it, and the search indexes filled
        row = db.execute(
            "SELECT first_name, last_name, phone, birth_date, search_text FROM patients LIMIT 1"
        ).fetchone()
        assert row[4] == search_text_for(row[0], row[1], row[2], date.fromisoformat(row[3]))
        surname = row[1]
        assert any(p.last_name == surname for p in find_patients(db, surname, limit=500))
        # every episode has the programme's 45 visits in order, and progress can read one
        seqs = db.execute(
            "SELECT min(seq), max(seq), count(*) FROM visits GROUP BY episode_id LIMIT 1"
        ).fetchone()
        assert seqs == (1, 45, 45)
        episode_id = db.execute("SELECT id FROM episodes LIMIT 1").fetchone()[0]
        progress(db, episode_id, today=generate.TODAY)
    finally:
        db.close()
    assert generate.generate(tmp_path / "again.db", 200) == counts  # deterministic


def test_search_and_write_benchmarks_run(tmp_path: Path, demo_db_path: Path) -> None:
    generate = load("generate")
    run = load("run")
    path = tmp_path / "tiny.db"
    generate.generate(path, 200)
    result = run.bench_search(path, rounds=1)
    assert result["queries"] > 50 and result["roster"]["n"] == result["queries"]
    writes = run.bench_writes(demo_db_path, n=3)
    assert writes["record_measurement"]["n"] == 3
    table = run.render_table({"search": result, "writes": writes})
    assert "search per keystroke" in table and "record one measurement" in table


def test_the_search_benchmark_asks_for_the_lists_page() -> None:
    from kinesio_tui.views.patients import PAGE

    assert load("run").LIST_LIMIT == PAGE + 1


def test_the_export_benchmark_reports_home_exercise_sheets(demo_db_path: Path) -> None:
    bench = load("export_throughput")
    with connect(demo_db_path) as db:
        ids = [p.id for p in find_patients(db, "", limit=50)]
        sheets = bench.exercise_sheets(db, ids, 1)
    # the demo's patients on hold, closed early or without a programme get no sheet
    assert 0 < sheets["patients"] < len(ids)
    assert sheets["html"]["per_s"] > 0 and sheets["md"]["cpu_per_s"] > 0


def test_the_export_benchmark_reports_fhir_bundles(demo_db_path: Path) -> None:
    bench = load("export_throughput")
    with connect(demo_db_path) as db:
        ids = [p.id for p in find_patients(db, "", limit=5)]
        bundles = bench.fhir_bundles(db, ids, 1)
    assert bundles["patients"] == len(ids) == 5
    assert bundles["end_to_end"]["per_s"] > 0 and bundles["build_only"]["cpu_per_s"] > 0


@pytest.mark.slow
def test_the_screen_and_command_line_benchmarks_run(demo_db_path: Path) -> None:
    """Each pty row (doctor's appointment, session, PIR, the bare app's screen) and the
    command line's start beside its import-only baseline: measured once, and in the table."""
    run = load("run")
    screens = run.bench_screens(demo_db_path, rounds=1)
    for name in (
        "bare_one_line_screen",
        "doctors_appointment",
        "therapy_session",
        "pir_first_open",
    ):
        assert screens[name]["settled_ms"]["n"] == 1
        assert screens[name]["settled_ms"]["median"] >= screens[name]["to_text_ms"]["median"]
    cli = run.bench_cli(demo_db_path, rounds=1)
    assert cli["patients_show"]["n"] == cli["import_baseline"]["n"] == 1
    table = run.render_table({"screens": screens, "cli": cli})
    for row in ("doctor's appointment", "therapy session", "PIR recorder", "patients show 1"):
        assert row in table


def test_the_export_all_benchmark_row_runs(demo_db_path: Path) -> None:
    """`kinesio export --all` measured once on the demo clinic, beside the template-only
    rendering of the same summaries, and in the table."""
    bench = load("export_throughput")
    result = bench.export_all(demo_db_path, runs=1, template_sample=5)
    assert result["written"] == result["patients"] - 1 > 30  # one demo patient has no episode
    assert result["per_s"] > 0 and result["cpu_per_s"] > 0
    assert result["template_only_per_s"] > 0 and result["template_only_cpu_per_s"] > 0
    table = load("run").render_table({"export": {"html": {}, "export_all": result}})
    assert "`kinesio export --all` (HTML)" in table and "template-only rendering" in table


def test_the_postgresql_rows_run_beside_sqlite(demo_db_path: Path, pg_cluster: PgCluster) -> None:
    """Issue 17's rows: search, a patient's screen, a committed write and HTML summaries,
    each on PostgreSQL beside SQLite in the same run, on a copy of the same clinic."""
    rows = load("postgres_rows")
    result = rows.bench_postgres(
        demo_db_path, rounds=1, writes=2, exports=3, export_runs=1, cluster=pg_cluster
    )
    assert result["copied_rows"] > 1000
    for key in ("search", "open_patient", "write"):
        assert result[key]["postgresql"]["n"] == result[key]["sqlite"]["n"] > 0, key
    assert result["export"]["patients"] == 3 and result["export"]["postgresql_per_s"] > 0
    table = load("run").render_table({"postgres": result})
    for row in ("PostgreSQL search", "open a patient", "committed write", "HTML summaries"):
        assert row in table
