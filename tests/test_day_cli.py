"""`kinesio visit miss | cancel | move`, `kinesio today` and `kinesio closures` through
Typer's CliRunner: what they print, and bad input refused in one line with nothing written."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
from conftest import DAY, stored
from test_cli import assert_refused, kinesio

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.visits import start_visit, visits_of
from kinesio_tui.settings import closures_path

# The visit and day commands run on both engines (issue 17); closures live in a settings
# file, not in the clinic.
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def _clinic(db: ClinicDB) -> tuple[int, int]:
    pid = create_patient(db, NewPatient("Rūta", "Žemaitė", "1988-04-02", "F"), today=DAY)
    eid = open_episode(db, pid, NewEpisode("sciatica", "upper", "L"), start=DAY, today=DAY)
    return pid, eid


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_miss_cancel_and_move(db_target: str, db: ClinicDB) -> None:
    pid, eid = _clinic(db)
    d = ["--db", db_target]
    code, out, err = kinesio("visit", "miss", str(pid), "--reason", "No-show", *d)
    assert code == 0, err
    assert "Visit 1 (1.1) marked missed." in out
    code, out, err = kinesio(
        "visit", "cancel", "Žemaitė", "--visit", "3", "--reason", "Phoned: ill", *d
    )
    assert code == 0, err
    code, out, err = kinesio(
        "visit", "move", str(pid), "--visit", "4", "--to", "2026-12-03", "--time", "9:15",
        "--shift-rest", *d,
    )  # fmt: skip
    assert code == 0, err
    assert "Visit 4 (1.4): 2026-12-02 -> 2026-12-03 09:15" in out
    visits = visits_of(db, eid)
    assert [v.status for v in visits[:4]] == ["missed", "planned", "cancelled", "planned"]
    assert visits[2].absence_reason == "Phoned: ill"
    assert (visits[3].planned_date, visits[3].planned_time) == (date(2026, 12, 3), "09:15")
    assert visits[4].planned_date > date(2026, 12, 3)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["visit", "miss", "1", "--reason", ""], "reason"),
        (["visit", "miss", "1", "--reason", "a\x07b"], "reason"),
        (["visit", "cancel", "1", "--visit", "46", "--reason", "x"], "visit"),
        (["visit", "miss", "1", "--visit", "5", "--reason", "x"], "cancel it instead"),
        (["visit", "move", "1", "--visit", "2", "--to", "2026-12-25"], "date"),
        (["visit", "move", "1", "--visit", "2", "--to", "25.12.2026"], "YYYY-MM-DD"),
        (["visit", "move", "1", "--visit", "2", "--to", "2026-11-26", "--time", "26:00"], "time"),
        (["visit", "move", "1", "--visit", "15", "--to", "2027-01-08"], "module 2's first visit"),
        (["visit", "move", "99", "--to", "2026-11-26"], "99"),
        (["today", "--date", "2026-02-30"], "date"),
        (["today", "--therapist", "a\x1bb"], "therapist"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    db_target: str, db: ClinicDB, args: list[str], words: str
) -> None:
    _clinic(db)
    db.close()
    before = stored(db_target)
    code, out, err = kinesio(*args, "--db", db_target)
    assert_refused(code, out, err, words)
    assert stored(db_target) == before


def test_today_lists_due_in_progress_and_overdue(db_target: str, db: ClinicDB) -> None:
    _pid, eid = _clinic(db)
    other = create_patient(db, NewPatient("Jonas", "Urbonas", "1970-06-01", "M"), today=DAY)
    late = open_episode(
        db, other, NewEpisode("radiculitis", "lumbar", "R"), start=date(2026, 11, 23), today=DAY
    )
    start_visit(db, visits_of(db, eid)[0].id, therapist="Rasa Jonaitė", today=DAY)
    code, out, err = kinesio("today", "--db", db_target)
    assert code == 0, err
    lines = out.splitlines()
    assert "Wednesday 2026-11-25" in lines[0]
    urbonas = next(i for i, line in enumerate(lines) if "Urbonas" in line)
    zemaite = next(i for i, line in enumerate(lines) if "Žemaitė" in line)
    assert urbonas < zemaite  # overdue first
    assert "overdue since Mon 23 Nov" in lines[urbonas]
    assert "in progress" in lines[zemaite] and "Rasa Jonaitė" in lines[zemaite]
    assert "doctor's" in lines[zemaite]
    # another therapist sees the visit no one has started, not Rasa's
    code, out, err = kinesio("today", "--therapist", "Tomas", "--db", db_target)
    assert "Urbonas" in out and "Žemaitė" not in out
    code, out, err = kinesio("today", "--date", "2026-11-27", "--db", db_target)
    assert "Friday 2026-11-27" in out
    assert late


def test_closures_add_list_remove() -> None:
    code, out, err = kinesio("closures", "add", "2026-12-31", "--reason", "Stock-take")
    assert code == 0, err
    code, out, err = kinesio("closures", "list", "--year", "2026")
    assert "2026-12-31  Thu  clinic   Stock-take" in out
    assert "2026-12-25  Fri  holiday  Christmas Day" in out
    assert "2026-04-06  Mon  holiday  Easter Monday" in out
    before = _digest(closures_path())
    for args, words in (
        (["closures", "add", "2026-02-30"], "date"),
        (["closures", "add", "2026-12-30", "--reason", "a\x1b]0;x\x07"], "reason"),
        (["closures", "remove", "2026-12-25"], "date"),
    ):
        assert_refused(*kinesio(*args), words)
        assert _digest(closures_path()) == before
    code, out, err = kinesio("closures", "remove", "2026-12-31")
    assert code == 0, err
    assert "2026-12-31" not in kinesio("closures", "list", "--year", "2026")[1]
