"""One clock for the product: the clinic's day and the moment come from kinesio_tui.clock."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import DAY, FakeClock
from typer.testing import CliRunner

from kinesio_tui.app import build_app
from kinesio_tui.cli import app as cli
from kinesio_tui.crash import report_text, write_crash_report
from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.visits import get_visit, start_visit, visits_of
from kinesio_tui.maintenance.backup import backup_name

PACKAGE = Path(__file__).resolve().parents[1] / "kinesio_tui"

# What the clinic stores and says is stamped by the product's clock on either engine (issue
# 17): never by the server's own `now()`.
pytestmark = pytest.mark.engines("sqlite", "postgresql")

#: Calls that read the calendar or the wall clock.
CLOCK_READS = {
    ("date", "today"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
}


def clock_reads(source: str) -> list[int]:
    """Lines of `source` that call date.today(), datetime.now() and the like."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and (node.func.value.id, node.func.attr) in CLOCK_READS
    ]


def test_only_the_clock_module_reads_the_time() -> None:
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "clock.py"
        for line in clock_reads(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_clock_is_read_through_its_module() -> None:
    """`from kinesio_tui.clock import now` would keep the real function a test cannot move."""
    found = [
        str(path.relative_to(PACKAGE.parent))
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.module == "kinesio_tui.clock"
    ]
    assert found == []


def test_the_workstation_turns_the_day_with_the_clock(
    db_target: str, fake_clock: FakeClock
) -> None:
    app = build_app(db_target)
    try:
        assert app.today == DAY
        fake_clock.advance(timedelta(hours=14).total_seconds())  # past midnight
        assert app.today == DAY + timedelta(days=1)
    finally:
        app.db.close()


def test_a_visit_and_a_patient_without_a_day_take_the_clocks_day(db: ClinicDB) -> None:
    patient_id = create_patient(db, NewPatient("Ona", "Dienienė", "1970-01-01", "F"))
    episode_id = open_episode(db, patient_id, NewEpisode("sciatica", "upper", "L"))
    first = visits_of(db, episode_id)[0]
    assert first.planned_date >= DAY
    start_visit(db, first.id)
    assert get_visit(db, first.id).held_on == DAY


def test_records_and_audit_entries_are_stamped_by_the_clock(
    db_target: str, fake_clock: FakeClock
) -> None:
    with connect(db_target, actor="tester") as db:
        create_patient(db, NewPatient("Ona", "Laikrodienė", "1970-01-01", "F"))
        created = db.execute("SELECT created_at FROM patients").fetchone()[0]
        audited = db.execute("SELECT at FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()[0]
    expected = fake_clock.now().astimezone(UTC)
    assert datetime.fromisoformat(created) == expected
    assert datetime.fromisoformat(audited) == expected


def test_backups_and_crash_reports_are_named_by_the_clock(tmp_path: Path) -> None:
    assert backup_name(tmp_path / "clinic.db", "auto") == "clinic.auto-20261125-100000.db"
    assert write_crash_report(RuntimeError()).name.startswith("crash-20261125-100000-")
    assert "time: 2026-11-25T10:00:00" in report_text(RuntimeError())


def test_the_command_line_says_ages_on_the_clocks_day(
    demo_target: str, fake_clock: FakeClock
) -> None:
    said = CliRunner().invoke(cli, ["patients", "show", "1", "--db", demo_target])
    assert said.exit_code == 0, said.output
    age = said.output.split("age ")[1].split(",")[0]
    fake_clock.advance(timedelta(days=3653).total_seconds())  # ten years on
    later = CliRunner().invoke(cli, ["patients", "show", "1", "--db", demo_target])
    assert later.output.split("age ")[1].split(",")[0] == str(int(age) + 10)
