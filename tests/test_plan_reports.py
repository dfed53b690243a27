"""What the doctor tailored, where it is read: the module report and summary (strict HTML,
Markdown), `kinesio patients show` and `kinesio plan show`, and the demo's tailored cases."""

from __future__ import annotations

import pytest
from conftest import DAY
from test_export_render import md_to_html, parse_html
from typer.testing import CliRunner

from kinesio_tui.cli import app
from kinesio_tui.data.db import ClinicDB, connect, write_transaction
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient
from kinesio_tui.domain.patients import create_patient, find_patients
from kinesio_tui.domain.plan import (
    PlanEdit,
    patient_checklist,
    patient_home_exercises,
    plan_changes_of,
    tailor_checklist,
)
from kinesio_tui.domain.visits import complete_visit, next_visit, start_visit, visits_of
from kinesio_tui.export import render_export

runner = CliRunner()
# The tailored plan read back and printed from either engine (issue 17).
pytestmark = pytest.mark.engines("sqlite", "postgresql")
HOSTILE = "<script>alert(1)</script> [red]x[/red] **b**"


def _tailored_patient(db: ClinicDB) -> int:
    """A sciatica patient whose module 1 the doctor tailored at the control appointment, with
    hostile text in the dosage and reason, and the control appointment held."""
    pid = create_patient(db, NewPatient("Rasa", "Testaitė", "1984-06-07", "F"), today=DAY)
    eid = open_episode(db, pid, NewEpisode("sciatica", "upper", "L"), start=DAY, today=DAY)
    for visit in visits_of(db, eid)[:8]:
        start_visit(db, visit.id, today=DAY)
        if visit.number == 8:
            tailor_checklist(
                db,
                visit.id,
                [
                    PlanEdit("session", "add", "m1_cat_cow", dosage="10 reps", reason=HOSTILE),
                    PlanEdit("session", "remove", "m1_pelvic_traction", reason="No relief"),
                    PlanEdit("home", "dosage", "h1_figure_four", dosage=HOSTILE),
                ],
            )
        complete_visit(db, visit.id)
    return pid


def test_the_module_report_and_summary_say_what_was_tailored(db: ClinicDB) -> None:
    pid = _tailored_patient(db)
    for kind in ("module", "summary"):
        html = render_export(db, pid, kind=kind, fmt="html", today=DAY)
        tree = parse_html(html)
        assert tree.find(".//script") is None
        rows = [
            ["".join(cell.itertext()).strip() for cell in row.findall("td")]
            for table in tree.iter("table")
            if table.get("class") == "data"
            and [th.text for th in table.iter("th")][:4] == ["Module", "List", "Item", "Change"]
            for row in table.iter("tr")
            if row.findall("td")
        ]
        assert rows == [
            [
                "1",
                "sessions",
                "Fascial release: cat-cow with correction",
                "added",
                "10 reps",
                "tester",
                "25 Nov 2026 (v8)",
                HOSTILE,
            ],
            [
                "1",
                "sessions",
                "Pelvic traction",
                "removed",
                "",
                "tester",
                "25 Nov 2026 (v8)",
                "No relief",
            ],
            [
                "1",
                "home exercises",
                "Figure-four (piriformis) stretch",
                "target dosage",
                HOSTILE,
                "tester",
                "25 Nov 2026 (v8)",
                "",
            ],
        ], kind
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        md = render_export(db, pid, kind=kind, fmt="md", today=DAY)
        rendered = md_to_html(md)
        assert "Tailored plan" in md and "<script" not in rendered
        assert "Pelvic traction | removed" in md


def test_a_report_of_an_untailored_plan_says_so(db: ClinicDB) -> None:
    pid = create_patient(db, NewPatient("Ona", "Paprasta", "1970-01-01", "F"), today=DAY)
    open_episode(db, pid, NewEpisode("radiculitis", "lumbar", "R"), start=DAY, today=DAY)
    html = render_export(db, pid, kind="summary", fmt="html", today=DAY)
    assert "Not tailored: the programme's checklist and home exercises" in html
    parse_html(html)


def test_checklist_completion_counts_each_sessions_own_list(db: ClinicDB) -> None:
    """A session after the doctor removed an item is due one item fewer."""
    pid = create_patient(db, NewPatient("Ona", "Skaičiuoja", "1970-01-01", "F"), today=DAY)
    eid = open_episode(db, pid, NewEpisode("sciatica", "upper", "L"), start=DAY, today=DAY)
    doctor = visits_of(db, eid)[0]
    start_visit(db, doctor.id, today=DAY)
    due = len(patient_checklist(db, eid, 1))
    tailor_checklist(db, doctor.id, [PlanEdit("session", "remove", "m1_pir", reason="Acute")])
    complete_visit(db, doctor.id)
    session = next_visit(db, eid)
    assert session is not None
    start_visit(db, session.id, today=DAY)
    complete_visit(db, session.id)
    md = render_export(db, pid, kind="summary", fmt="md", today=DAY)
    assert "| **All modules** | | | 2 | 0 | 0 | 43 | 0\u00a0% |" in md
    from kinesio_tui.export.context import summary_context

    context = summary_context(db, pid, DAY)
    assert context["checklist"]["due"] == due - 1


def test_patients_show_and_plan_show_list_the_tailoring(db_target: str) -> None:
    with connect(db_target, actor="tester") as db:
        pid = _tailored_patient(db)
    result = runner.invoke(app, ["patients", "show", str(pid), "--db", db_target])
    assert result.exit_code == 0, result.output
    assert "Tailored by the doctor" in result.stdout
    assert (
        "Module 1, sessions: Pelvic traction removed by tester on 2026-11-25: No relief"
        in result.stdout
    )
    assert HOSTILE in result.stdout  # text, as typed: the CLI prints no markup
    plan = runner.invoke(app, ["plan", "show", str(pid), "--module", "1", "--db", db_target])
    assert plan.exit_code == 0, plan.output
    lines = plan.stdout.splitlines()
    assert "Sessions 9-14 (not started yet):" in lines
    assert "  - Fascial release: cat-cow with correction · target 10 reps" in lines
    assert not any("Pelvic traction" in line for line in lines)
    assert "Home exercises:" in lines
    refused = runner.invoke(app, ["plan", "show", str(pid), "--module", "4", "--db", db_target])
    assert refused.exit_code == 2 and "module" in refused.stderr


def test_a_control_character_in_the_file_is_printed_safely(db_target: str) -> None:
    """Text a hand edit left in the clinic with an escape is shown without it."""
    with connect(db_target, actor="tester") as db:
        pid = _tailored_patient(db)
        with write_transaction(db):  # by hand, past the domain's checks
            db.execute("UPDATE plan_changes SET reason = 'a\x1b[2Jb' WHERE change = 'remove'")
    result = runner.invoke(app, ["patients", "show", str(pid), "--db", db_target])
    assert "\x1b" not in result.stdout and "a�[2Jb" in result.stdout


def test_the_demo_has_believable_tailored_plans(demo_db: ClinicDB) -> None:
    [driver] = find_patients(demo_db, "Petrauskas")
    [retired] = find_patients(demo_db, "Šimkus")
    by_patient = {
        patient.id: plan_changes_of(
            demo_db,
            demo_db.execute(
                "SELECT id FROM episodes WHERE patient_id = ?", [patient.id]
            ).fetchone()[0],
        )
        for patient in (driver, retired)
    }
    driving = [c for c in by_patient[driver.id] if c.own]
    assert [c.item_label for c in driving] == [
        "Simulated driving: sitting in a van seat, self-correcting posture"
    ]
    assert driving[0].module == 3 and driving[0].reason
    assert all(c.reason or c.change == "dosage" for cs in by_patient.values() for c in cs)
    episode = demo_db.execute(
        "SELECT id FROM episodes WHERE patient_id = ?", [retired.id]
    ).fetchone()[0]
    # the retired man's module 1: gentle table traction, no hanging, from his first session on
    for seq in (2, 14):
        codes = {i.code for i in patient_checklist(demo_db, episode, 1, at_seq=seq)}
        assert "m1_decompression_hangs" not in codes and "m1_orthopaedic_table" in codes
    home = {e.code for e in patient_home_exercises(demo_db, episode, 1)}
    assert "h1_prone_press_up" in home
