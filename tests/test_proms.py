"""Patient-reported outcomes recorded at doctor's appointments: the answers in the database,
their scores over the episode, the entry screen driven by keys, and the reports."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, cast

import pytest
from conftest import DAY, held_episode
from rich.console import Console
from textual.screen import Screen
from textual.widgets import OptionList
from typer.testing import CliRunner
from visit_harness import VisitHarness, clinic, press, sync

from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain import models, visits
from kinesio_tui.domain import outcomes as outcome_facts
from kinesio_tui.domain.proms import prom_answers_of, prom_outcomes, record_prom_answer
from kinesio_tui.errors import KinesioError, StaleRecord, ValidationError
from kinesio_tui.export import render_export
from kinesio_tui.views.help import bindings_table
from kinesio_tui.views.proms import PromScreen

# The domain's reads and writes, on both engines (issue 17).
pytestmark = pytest.mark.engines("sqlite", "postgresql")

START = date(2026, 9, 7)
ALDONA = models.NewPatient("Aldona", "Klausimyte", "1975-02-02", "F")


def episode_with_doctor_visits(
    db: ClinicDB, forms: dict[int, tuple[str, list[int | None]]] | None = None
) -> tuple[int, int, list[int]]:
    """A lumbar radiculitis patient through module 1's control appointment, which is left
    open; `forms` fills a questionnaire at a visit number. Returns the patient, the episode
    and the ids of the intake and control appointments."""

    def answered(visit: models.Visit) -> None:
        if forms and visit.number in forms:
            fill(db, visit.id, *forms[visit.number])

    pid, eid, planned = held_episode(
        db,
        models.NewEpisode("radiculitis", "lumbar", "L"),
        patient=ALDONA,
        start=START,
        held=8,
        at=answered,
        leave_last_open=True,
    )
    return pid, eid, [planned[0].id, planned[7].id]


def fill(db: ClinicDB, visit_id: int, code: str, scores: list[int | None]) -> None:
    for number, score in enumerate(scores, start=1):
        if score is not None:
            record_prom_answer(db, visit_id, code, f"{code}{number:02}", score)


def test_answers_are_recorded_corrected_and_cleared(db: ClinicDB) -> None:
    _pid, _eid, (_intake, control) = episode_with_doctor_visits(db)
    version = record_prom_answer(db, control, "odi", "odi01", 3, expected_version=0)
    assert prom_answers_of(db, control, "odi")["odi01"].score == 3
    with pytest.raises(StaleRecord):  # another terminal's answer is never overwritten
        record_prom_answer(db, control, "odi", "odi01", 4, expected_version=0)
    record_prom_answer(db, control, "odi", "odi01", 4, expected_version=version)
    assert prom_answers_of(db, control, "odi")["odi01"].score == 4
    record_prom_answer(db, control, "odi", "odi01", None)
    assert prom_answers_of(db, control, "odi") == {}


def test_answers_outside_the_form_or_the_appointment_are_refused(db: ClinicDB) -> None:
    _pid, eid, (intake, control) = episode_with_doctor_visits(db)
    therapy = visits.visits_of(db, eid)[1]
    before = db.execute("SELECT count(*) FROM audit_log").fetchone()
    for visit_id, code, item, score in [
        (control, "odi", "odi01", 6),
        (control, "odi", "odi11", 1),
        (control, "ndi", "ndi01", 1),  # the NDI is for cervical radiculitis
        (control, "sf36", "q1", 1),
    ]:
        with pytest.raises(ValidationError):
            record_prom_answer(db, visit_id, code, item, score)
    for visit_id in (therapy.id, intake):  # a therapy session; a completed appointment
        with pytest.raises(KinesioError):
            record_prom_answer(db, visit_id, "odi", "odi01", 1)
    assert db.execute("SELECT count(*) FROM audit_log").fetchone() == before
    assert db.execute("SELECT count(*) FROM prom_answers").fetchone() == (0,)


def test_scores_over_the_episode_and_the_change_by_the_mcid(db: ClinicDB) -> None:
    _pid, eid, _visits = episode_with_doctor_visits(
        db,
        {
            1: ("odi", [3, 3, 3, 3, 3, 3, 3, 3, 3, None]),  # 27/45 = 60 %
            8: ("odi", [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]),  # 40 %
        },
    )
    [odi] = prom_outcomes(db, eid)
    assert [r.score.score for r in odi.results] == [60, 40]
    assert [r.score.band for r in odi.results] == ["severe disability", "moderate disability"]
    assert odi.change is not None and odi.change.important_improvement
    assert odi.change.percent == pytest.approx(-33.333333333)


def test_the_trail_verifies_with_answers_in_it(db_path: Path) -> None:
    from kinesio_tui.maintenance.audit import record_problems

    with connect(db_path, actor="tester") as db:
        _pid, _eid, (_intake, control) = episode_with_doctor_visits(db)
        fill(db, control, "odi", [1] * 10)
        record_prom_answer(db, control, "odi", "odi01", None)
        assert record_problems(db) == []
        db.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        db.conn.execute("UPDATE prom_answers SET score = 5 WHERE item = 'odi02'")
        assert any("prom_answers" in p.what for p in record_problems(db))


def worse_patient(db: ClinicDB) -> tuple[int, int]:
    """Cervical radiculitis, NDI 10/50 at intake and 16/50 at the control appointment."""

    def answered(visit: models.Visit) -> None:
        if visit.number == 1:
            fill(db, visit.id, "ndi", [1, 1, 1, 1, 1, 1, 1, 1, 1, 1])  # 10/50
        if visit.number == 8:
            fill(db, visit.id, "ndi", [2, 2, 2, 2, 2, 2, 1, 1, 1, 1])  # 16/50: 6 worse

    pid, eid, _planned = held_episode(
        db,
        models.NewEpisode("radiculitis", "cervical", "L"),
        patient=ALDONA,
        start=START,
        held=8,
        at=answered,
    )
    return pid, eid


def test_reports_show_the_scores_and_a_worsening(db: ClinicDB) -> None:
    pid, _eid = worse_patient(db)
    md = render_export(db, pid, kind="summary", fmt="md", today=DAY)
    assert "Neck Disability Index" in md
    assert "10/50 (20 %)" in md and "16/50 (32 %)" in md
    assert "mild disability" in md and "moderate disability" in md
    assert "+6 points (+60 %)" in md and "**yes, worse**" in md
    module = render_export(db, pid, kind="module", fmt="html", today=DAY, module=1)
    assert "Neck Disability Index" in module and "16/50" in module


def test_patients_show_says_the_scores(db_path: Path) -> None:
    from kinesio_tui.cli import app as cli_app

    with connect(db_path, actor="tester") as db:
        pid, _eid = worse_patient(db)
    result = CliRunner().invoke(cli_app, ["--db", str(db_path), "patients", "show", str(pid)])
    assert result.exit_code == 0, result.output
    assert "NDI 10/50 -> 16/50: +6 (+60%) clinically important worsening" in result.output


@sync
async def test_the_screen_is_reached_from_the_appointment_and_driven_by_keys(
    db_path: Path,
) -> None:
    with connect(db_path) as db:
        visit_id = clinic(db_path, "radiculitis", held=0)
        assert visits.get_visit(db, visit_id).kind == "doctor"
    app = VisitHarness(db_path, visit_id)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await press(pilot, "escape", "f")  # out of the first field, then the forms
        screen = app.screen
        assert isinstance(screen, PromScreen)
        footer = " ".join(b.binding.description for b in screen.active_bindings.values())
        assert "Mark 0–5" in footer and "Next form" in footer
        await press(pilot, "3", "3", "2")  # items 1-3, moving on after each
        await press(pilot, "delete")  # item 4 unanswered, stays
        await press(pilot, "down", "5", "9")  # 9 is no score: nothing written
        answers = prom_answers_of(app.db, visit_id, "odi")
        assert {k: a.score for k, a in answers.items()} == {
            "odi01": 3,
            "odi02": 3,
            "odi03": 2,
            "odi05": 5,
        }
        said = str(screen.query_one("#prom-score").render())
        assert "4 of 10 answered" in said
        await press(pilot, "tab")  # the RMDQ, 0/1 per statement
        assert screen.form.code == "rmdq"
        assert not screen.check_action("mark", (2,))
        console = Console(width=100, record=True)
        console.print(bindings_table(cast(Screen[object], screen)))  # what `?` shows
        help_text = console.export_text()
        assert "Mark 0–5" in help_text and "Unanswered" in help_text and "Next form" in help_text
        await press(pilot, "escape")
        assert not isinstance(app.screen, PromScreen)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_of_the_questionnaire_screen(
    snap_compare: Any, db_path: Path, size: tuple[int, int]
) -> None:
    with connect(db_path, actor="tester") as db:  # ODI 60 % at intake
        _pid, _eid, (_intake, visit_id) = episode_with_doctor_visits(db, {1: ("odi", [3] * 10)})

    async def before(pilot: Any) -> None:
        await pilot.pause()
        await press(pilot, "escape", "f", "2", "2", "2", "1", "1", "2", "2", "1", "1")
        await pilot.pause()

    assert snap_compare(VisitHarness(db_path, visit_id), terminal_size=size, run_before=before)


def test_the_patient_screen_shows_the_scores_and_the_worsening(db: ClinicDB) -> None:
    from kinesio_tui.views.widgets import results_text

    _pid, eid = worse_patient(db)
    pr = outcome_facts.progress(db, eid, today=DAY)
    said = results_text(pr.results, 60, pr.proms).plain
    assert "NDI 10/50 (20 %) → 16/50 (32 %) (+6 points (+60 %)) ! clinically important" in said


@sync
async def test_the_clinics_wording_is_shown_as_text(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = tmp_path / "licensed.toml"
    texts.write_text(
        '[odi]\ntitle = "Oswestry (licensed)"\n[odi.odi01]\n'
        'text = "Skausmo [b]stiprumas[/b] \\u001b[2J"\n'
        'choices = ["nėra", "silpnas", "vidutinis", "stiprus", "labai stiprus", "nepakeliamas"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("KINESIO_PROM_TEXTS", str(texts))
    with connect(db_path, actor="tester") as db:
        _pid, _eid, (_intake, control) = episode_with_doctor_visits(db)
    app = VisitHarness(db_path, control)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await press(pilot, "escape", "f", "3", "up")
        screen = app.screen
        assert isinstance(screen, PromScreen)
        first = screen.query_one("#prom-items", OptionList).get_option_at_index(0).prompt
        console = Console(width=80, record=True)
        console.print(first)
        shown_text = console.export_text()
        assert "Skausmo [b]stiprumas[/b] \ufffd[2J" in shown_text  # markup and controls inert
        assert "stiprus" in shown_text  # the answer for the score marked, 3
        assert "Oswestry (licensed)" in str(screen.query_one("#prom-title").render())
