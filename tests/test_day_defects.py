"""The working day's defects, each shown on the code that had it: a plan on 25 Dec and 1 Jan,
planned dates that could not move, an in-progress visit's date listed as "Next"."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import DAY
from typer.testing import CliRunner

from kinesio_tui.cli import app
from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.visits import start_visit, visits_of

runner = CliRunner()

pytestmark = pytest.mark.engines("sqlite", "postgresql")


def test_a_plan_started_before_christmas_skips_the_holidays(db: ClinicDB) -> None:
    pid = create_patient(db, NewPatient("Rūta", "Žemaitė", "1988-04-02", "F"), today=DAY)
    eid = open_episode(db, pid, NewEpisode("sciatica", "upper", "L"), start=DAY, today=DAY)
    days = {v.planned_date for v in visits_of(db, eid)}
    assert date(2026, 12, 25) not in days  # Christmas Day, a Friday
    assert date(2027, 1, 1) not in days  # New Year's Day, a Friday
    assert date(2026, 12, 24) not in days  # Christmas Eve, a Thursday: no plan there anyway


def test_a_planned_visit_can_be_moved_from_the_command_line(db_target: str, db: ClinicDB) -> None:
    pid = create_patient(db, NewPatient("Rūta", "Žemaitė", "1988-04-02", "F"), today=DAY)
    eid = open_episode(db, pid, NewEpisode("sciatica", "upper", "L"), start=DAY, today=DAY)
    result = runner.invoke(
        app, ["visit", "move", str(pid), "--visit", "2", "--to", "2026-11-26", "--db", db_target]
    )
    assert result.exit_code == 0, result.stderr
    assert visits_of(db, eid)[1].planned_date == date(2026, 11, 26)


def test_the_list_does_not_show_an_in_progress_visits_date_as_next(
    db_target: str, db: ClinicDB
) -> None:
    pid = create_patient(db, NewPatient("Rūta", "Žemaitė", "1988-04-02", "F"), today=DAY)
    start = date(2026, 11, 23)
    eid = open_episode(db, pid, NewEpisode("sciatica", "upper", "L"), start=start, today=start)
    first = visits_of(db, eid)[0]
    start_visit(db, first.id, today=DAY)  # started today, planned on Monday, not completed
    result = runner.invoke(app, ["patients", "list", "--db", db_target])
    assert result.exit_code == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "Žemaitė" in line)
    assert "2026-11-23" not in row, row
