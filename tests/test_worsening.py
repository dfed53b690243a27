"""A clinically important worsening is flagged wherever an improvement is, by the rule of
each kind of scale the catalog declares (pain points, ratio percent, ordinal grades,
nominal changed-or-not)."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import DAY, held_episode
from typer.testing import CliRunner
from visit_harness import VisitHarness, clinic, press, sync, type_text

from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain import models, visits
from kinesio_tui.domain import outcomes as outcome_facts
from kinesio_tui.domain.outcomes import change_for_test, latest_results
from kinesio_tui.export import render_export
from kinesio_tui.protocol import ClinicalTest, protocol
from kinesio_tui.views.doctor import DoctorForm
from kinesio_tui.views.record_test import RecordTestDialog
from kinesio_tui.views.widgets import results_text, vas_text

START = date(2026, 9, 7)

# What is recorded, read back and judged runs on both engines (issue 17); the rules alone
# take no clinic and run once.
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def catalog_test(code: str) -> ClinicalTest:
    found = protocol().test(code)
    assert found is not None
    return found


# --- the rules, per kind of scale -----------------------------------------------------------


def test_vas_5_to_7_is_a_clinically_important_worsening() -> None:
    change = change_for_test(catalog_test("vas"), [5, 7])
    assert change is not None
    assert change.important and not change.improved


def test_slr_80_to_55_is_a_clinically_important_worsening() -> None:
    change = change_for_test(catalog_test("slr_angle"), [80, 55])
    assert change is not None
    assert change.important and not change.improved


@pytest.mark.parametrize(
    ("values", "important"),
    [
        ([1.0, 0.7], False),  # 30 % of a small number is not important
        ([3, 2], False),  # 1 point, though 33 %
        ([8, 6], True),  # 2 points, 25 %
        ([2, 4], True),  # 2 points worse
        ([6, 7.5], False),  # 1.5 points worse
    ],
)
def test_pain_is_judged_by_points_and_the_percentage_only_shown(
    values: list[float], important: bool
) -> None:
    change = change_for_test(catalog_test("vas"), values)
    assert change is not None and change.important is important
    assert change.percent is not None  # shown beside the points


def test_a_ratio_measure_uses_30_percent_or_the_catalogs_own_threshold() -> None:
    slr = catalog_test("slr_angle")
    assert change_for_test(slr, [40, 52]).important  # type: ignore[union-attr]
    assert not change_for_test(slr, [40, 50]).important  # type: ignore[union-attr]
    from dataclasses import replace

    with_own = replace(slr, important_change=10.0)
    assert change_for_test(with_own, [40, 50]).important  # type: ignore[union-attr]
    assert change_for_test(with_own, [80, 70]).important  # type: ignore[union-attr]


def test_mrc_is_grades_never_a_percentage() -> None:
    from kinesio_tui.domain.change_rules import change_words, judge_change

    mrc = catalog_test("strength_mrc")
    judged = judge_change(mrc, 5.0, 4.0, protocol().change_rules)
    assert judged is not None
    assert judged.important_worsening and judged.percent is None
    assert change_words(mrc, judged) == "one grade weaker"


def test_a_sign_that_turned_is_important() -> None:
    from kinesio_tui.domain.change_rules import change_words, judge_change

    sign = catalog_test("slr_sign")
    judged = judge_change(sign, "negative", "positive", protocol().change_rules)
    assert judged is not None and judged.important_worsening
    assert change_words(sign, judged) == "turned positive"
    judged = judge_change(sign, "positive", "negative", protocol().change_rules)
    assert judged is not None and judged.important_improvement


def test_a_nominal_finding_is_changed_or_not_never_steps() -> None:
    from kinesio_tui.domain.change_rules import change_words, judge_change

    rules = protocol().change_rules
    pelvis = catalog_test("pelvic_position")
    judged = judge_change(pelvis, "level", "rotated", rules)
    assert judged is not None and judged.important_worsening
    assert change_words(pelvis, judged) == "changed: level → rotated"
    sideways = judge_change(pelvis, "left side high", "rotated", rules)
    assert sideways is not None and sideways.direction == "changed"
    assert not sideways.important_worsening and not sideways.important_improvement
    same = judge_change(pelvis, "rotated", "rotated", rules)
    assert same is not None and not same.important


# --- where it shows -------------------------------------------------------------------------


def worsening_patient(db: ClinicDB) -> tuple[int, int]:
    """A lumbar radiculitis patient through module 1's control appointment, worse at it:
    VAS 5 -> 7, SLR right 80 -> 55, MRC right 5 -> 4, Lasegue sign turned positive."""

    def recorded(visit: models.Visit) -> None:
        if visit.seq == 1:
            for code, side, value in [
                ("vas", None, 5),
                ("slr_angle", "L", 80),
                ("slr_angle", "R", 80),
                ("strength_mrc", "L", 5),
                ("strength_mrc", "R", 5),
                ("slr_sign", "R", "negative"),
                ("schober", None, 2.5),
            ]:
                visits.record_measurement(db, visit.id, code, value, side)
        if visit.seq == 8:
            for code, side, value in [
                ("vas", None, 7),
                ("slr_angle", "R", 55),
                ("strength_mrc", "R", 4),
                ("slr_sign", "R", "positive"),
            ]:
                visits.record_measurement(db, visit.id, code, value, side)

    pid, eid, _planned = held_episode(
        db,
        models.NewEpisode("radiculitis", "lumbar", "R"),
        patient=models.NewPatient("Rimas", "Blogesnis", "1970-05-05", "M"),
        start=START,
        held=8,
        at=recorded,
    )
    return pid, eid


def test_the_patient_screen_flags_the_worsening(db: ClinicDB) -> None:
    _pid, eid = worsening_patient(db)
    pr = outcome_facts.progress(db, eid, today=DAY)
    line = vas_text(pr.vas, pr.vas_change).plain
    assert "clinically important worsening" in line
    table = results_text(latest_results(db, eid), 36).plain
    said = " ".join(table.split("Latest test")[0].split())  # wrapped above the table
    assert "! Worse since baseline, clinically important:" in said
    assert "Lasegue angle R" in said and "MRC strength R" in said and "Lasegue sign R" in said
    mrc = next(row for row in table.splitlines() if row.startswith("MRC strength"))
    assert "%" not in mrc and "1 gr" in mrc  # one grade apart, never 20 %


def test_the_module_report_flags_the_worsening(db: ClinicDB) -> None:
    pid, _eid = worsening_patient(db)
    text = render_export(db, pid, kind="module", fmt="md", today=DAY, module=1)
    rows = {
        line.split("|")[1].strip() + line.split("|")[2].strip(): line
        for line in text.splitlines()
        if line.startswith("| ")
    }
    assert "**yes, worse**" in rows["VAS pain"]
    assert "+2\u00a0points (+40\u00a0%) worse" in rows["VAS pain"]
    assert "**yes, worse**" in rows["Straight-leg raise (Lasegue) angleright"]
    assert "turned positive" in rows["Lasegue signright"]
    assert "step" not in text


def test_the_discharge_letter_flags_the_worsening_and_schobers_exact_threshold(
    db: ClinicDB,
) -> None:
    pid, _eid = worsening_patient(db)
    html = render_export(db, pid, kind="summary", fmt="html", today=DAY)
    assert "a clinically important worsening" in html
    assert "yes, worse" in html
    md = render_export(db, pid, kind="summary", fmt="md", today=DAY)
    lines = md.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("| Strength (MRC)"))
    mrc = lines[at : at + 2]  # left, then right
    assert any("one grade weaker" in line and "**yes, worse**" in line for line in mrc)
    assert not any("%" in line for line in mrc)  # never a percentage or asymmetry % of grades
    assert "clinically important change (30 %): 3.25\u00a0cm" in md  # 2.5 cm + 30 %, not 3.2


@sync
async def test_the_doctors_screen_flags_it_as_the_value_is_recorded(db_target: str) -> None:
    with connect(db_target) as db:
        visit = visits.get_visit(db, clinic(db_target, "radiculitis", held=7))
    app = VisitHarness(db_target, visit.id)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        form = app.screen.query_one(DoctorForm)
        form.query_one("#f-vas-x").focus()
        await type_text(pilot, "9")  # baseline 7
        await press(pilot, "enter")
        await pilot.pause()
        said = str(form.query_one("#err-vas").render())
        assert "2 points worse" in said and "clinically important worsening" in said
        form.query_one("#f-slr_angle-R").focus()
        await type_text(pilot, "45")  # baseline 70
        await press(pilot, "enter")
        await pilot.pause()
        said = str(form.query_one("#err-slr_angle").render())
        assert "clinically important worsening" in said
        assert form.query_one("#err-slr_angle").has_class("-worse")  # in the error colour


@sync
async def test_a_therapy_session_says_it_as_the_value_is_recorded(db_target: str) -> None:
    with connect(db_target) as db:
        visit = visits.get_visit(db, clinic(db_target, "radiculitis", held=1))
    assert visit.kind == "therapy"
    app = VisitHarness(db_target, visit.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await press(pilot, "t")
        dialog = app.screen
        assert isinstance(dialog, RecordTestDialog) and dialog.test.code == "vas"
        await press(pilot, "9", "enter")  # 7 at intake
        assert app.screen is not dialog
        said = [n for n in app._notifications if "Recorded" in n.message]
        assert said and said[-1].severity == "warning"
        assert "2 points worse (+29 %) since baseline: clinically important worsening" in (
            said[-1].message
        )


def test_patients_show_says_worse(db_target: str) -> None:
    from kinesio_tui.cli import app as cli_app

    with connect(db_target, actor="tester") as db:
        pid, _eid = worsening_patient(db)
    result = CliRunner().invoke(cli_app, ["--db", db_target, "patients", "show", str(pid)])
    assert result.exit_code == 0, result.output
    assert "clinically important worsening" in result.output


def test_every_mrc_graded_test_is_judged_in_grades_and_reflexes_as_findings() -> None:
    """A /5 muscle grade is ordinal (never an L/R %); a reflex (normal/reduced/absent/brisk) is
    a finding that changed or not, since 'brisk' is no step beyond 'absent'."""
    from kinesio_tui.protocol import protocol

    tests = protocol().tests
    graded = [t.code for t in tests if t.unit == "/5"]
    reflexes = [t.code for t in tests if t.code.startswith("reflex_")]
    assert graded and reflexes
    assert {t.code: t.scale for t in tests if t.code in graded} == dict.fromkeys(graded, "ordinal")
    assert {t.code: t.scale for t in tests if t.code in reflexes} == dict.fromkeys(
        reflexes, "nominal"
    )
