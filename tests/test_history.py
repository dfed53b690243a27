"""History: a held visit read back (read-only), reopening one completed by mistake, and
correcting or removing a recorded value with a reason kept on the audit trail.

The domain and command-line tests run on both engines (`db_target`); the screens' tests stay
on SQLite (they reach the database only through the same domain calls)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import DAY
from real_cli import run
from screen_text import screen_text
from textual.pilot import Pilot
from textual.widgets import Input
from visit_harness import press, sync, type_text

from kinesio_tui.app import KinesioApp, build_app
from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain.amendments import (
    amendments_of,
    correct_dosage,
    correct_measurement,
    remove_measurement,
    reopen_visit,
)
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient, PirCycle, Visit
from kinesio_tui.domain.outcomes import latest_results
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.visits import (
    complete_visit,
    get_visit,
    measurements_of,
    next_visit,
    record_measurement,
    record_pir_cycle,
    set_visit_note,
    start_visit,
    tick_item,
    visits_of,
)
from kinesio_tui.errors import KinesioError, StaleRecord, ValidationError
from kinesio_tui.views.asked import AskDialog
from kinesio_tui.views.patient import PatientScreen, VisitTable
from kinesio_tui.views.visit import VisitScreen
from kinesio_tui.views.visit_record import VisitRecordScreen

pytestmark = pytest.mark.engines("sqlite", "postgresql")

HOSTILE = "[red]x\x1b[2J" + "ž" * 10


def audit_count(db: ClinicDB) -> int:
    return int(db.execute("SELECT count(*) FROM audit_log").fetchone()[0])


def held_session(db_path: Path | str) -> tuple[int, Visit]:
    """A new lumbar patient whose first appointment (visit 1) and first session (visit 2)
    are held: the session with a tick and dosage, a PIR set, a test result and a note."""
    with connect(db_path, actor="Rūta Paupienė") as db:
        pid = create_patient(db, NewPatient("Jonas", "Testas", "1980-03-04", "M"), today=DAY)
        episode_id = open_episode(db, pid, NewEpisode("radiculitis", "lumbar", "R"), today=DAY)
        first = next_visit(db, episode_id)
        assert first is not None
        start_visit(db, first.id, today=DAY)
        record_measurement(db, first.id, "vas", 7)
        complete_visit(db, first.id)
        session = next_visit(db, episode_id)
        assert session is not None
        start_visit(db, session.id, today=DAY)
        tick_item(db, session.id, "m1_decompression_hangs", "3 × 30 s")
        record_pir_cycle(db, session.id, PirCycle("piriformis", "R", 7, 30, 10, 3, 30, 45, 6, 4))
        record_measurement(db, session.id, "vas", 6)
        set_visit_note(db, session.id, "Felt better after the hangs.")
        complete_visit(db, session.id)
        return pid, get_visit(db, session.id)


async def open_held(app: KinesioApp, pilot: Pilot[Any], pid: int, visit: Visit) -> None:
    app.open_patient(pid)
    await pilot.pause()
    assert isinstance(app.screen, PatientScreen)
    table = app.screen.query_one(VisitTable)
    table.move_cursor(table.get_row_index(str(visit.id)))
    table.focus()
    await press(pilot, "enter")


@sync
async def test_enter_on_a_done_visit_opens_it_read_only(db_path: Path) -> None:
    pid, visit = held_session(db_path)
    app = build_app(db_path, actor="Ona Kita")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_held(app, pilot, pid, visit)
        assert isinstance(app.screen, VisitRecordScreen)
        text = screen_text(app)
        for shown in [
            "read-only",
            "Held by Rūta Paupienė.",
            "Held on 2026-11-25",
            "[x] Decompression",
            "3 × 30 s",
            "piriformis R ×3",
            "VAS pain 6/10",
            "Felt better after the hangs.",
        ]:
            assert shown in text, shown
        before = audit_count(app.db)
        # every key that writes on the visit screen is absent here or refused
        for key in [*"dptncfhrwlDPTNC", "space", "enter", "ctrl+z", "ctrl+r", "ctrl+s"]:
            await press(pilot, key)
            assert isinstance(app.screen, VisitRecordScreen), key
        assert audit_count(app.db) == before
        # the amending keys ask first; Esc leaves without a write
        for key in ["x", "delete", "o"]:
            await press(pilot, key)
            assert isinstance(app.screen, AskDialog), key
            await press(pilot, "escape")
            if isinstance(app.screen, AskDialog):  # the reason after the value
                await press(pilot, "escape")
            assert isinstance(app.screen, VisitRecordScreen), key
        assert audit_count(app.db) == before
        assert get_visit(app.db, visit.id).status == "done"


@sync
async def test_reopen_from_the_read_only_view_asks_why(db_path: Path) -> None:
    pid, visit = held_session(db_path)
    app = build_app(db_path, actor="Ona Kita")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await open_held(app, pilot, pid, visit)
        await press(pilot, "o")
        dialog = app.screen
        assert isinstance(dialog, AskDialog)
        await press(pilot, "enter")  # no reason: refused, in one line naming the field
        assert app.screen is dialog and "reason: is required" in screen_text(app)
        dialog.query_one(Input).value = HOSTILE
        await press(pilot, "enter")
        assert "reason: contains control characters" in screen_text(app)
        dialog.query_one(Input).value = ""
        await type_text(pilot, "[b]completed by mistake[/b]")
        await press(pilot, "enter")
        assert isinstance(app.screen, PatientScreen)
        reopened = get_visit(app.db, visit.id)
        assert reopened.in_progress
        (amendment,) = amendments_of(app.db, visit.id)
        assert amendment.kind == "reopen" and amendment.reason == "[b]completed by mistake[/b]"
        assert amendment.amended_by == "Ona Kita"
        await press(pilot, "enter")  # the cursor is on the visit in progress: it continues
        assert isinstance(app.screen, VisitScreen) and app.screen.visit_id == visit.id


def test_reopen_only_while_the_next_visit_has_not_started(db_target: str) -> None:
    pid, visit = held_session(db_target)
    with connect(db_target, actor="Ona Kita") as db:
        first = visits_of(db, visit.episode_id)[0]
        with pytest.raises(KinesioError, match="Visit 2 has already started"):
            reopen_visit(db, first.id, "wrong patient")
        with pytest.raises(ValidationError, match="reason"):
            reopen_visit(db, visit.id, "  ")
        nxt = next_visit(db, visit.episode_id)
        assert nxt is not None
        start_visit(db, nxt.id, today=DAY)
        with pytest.raises(KinesioError, match="Visit 3 has already started"):
            reopen_visit(db, visit.id, "completed by mistake")
        assert get_visit(db, visit.id).status == "done"
        assert amendments_of(db, visit.id) == []
    del pid


def test_a_doctors_appointment_completed_by_mistake_is_reopened_from_the_cli(
    db_target: str,
) -> None:
    with connect(db_target, actor="Dr. Ona") as db:
        pid = create_patient(db, NewPatient("Jonas", "Testas", "1980-03-04", "M"), today=DAY)
        episode_id = open_episode(db, pid, NewEpisode("radiculitis", "lumbar", "R"), today=DAY)
        first = next_visit(db, episode_id)
        assert first is not None and first.kind == "doctor"
        start_visit(db, first.id, today=DAY)
        complete_visit(db, first.id)
    refused = run("--db", db_target, "visit", "reopen", str(pid), "--visit", "1", "--reason", "")
    assert refused.code == 2 and refused.err_lines == ["Invalid input: reason: is required"]
    done = run(
        "--db", db_target, "--therapist", "Dr. Ona", "visit", "reopen", str(pid),
        "--visit", "1", "--reason", "completed before the neuro screen",
    )  # fmt: skip
    assert done.code == 0, done
    assert "Visit 1 of Jonas Testas reopened" in done.out
    with connect(db_target) as db:
        assert get_visit(db, first.id).in_progress
        row = db.execute(
            "SELECT actor, action, old, new FROM audit_log WHERE table_name = 'visits' "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
        assert row[0] == "Dr. Ona" and row[1] == "reopen"
        assert json.loads(row[2])["status"] == "done" and json.loads(row[3])["status"] == "planned"
        complete_visit(db, first.id)
        second = next_visit(db, episode_id)
        assert second is not None
        start_visit(db, second.id, today=DAY)
    late = run("--db", db_target, "visit", "reopen", str(pid), "--visit", "1", "--reason", "x")
    assert late.code == 2
    assert late.err_lines == [
        "Cannot reopen: Visit 2 has already started: visit 1 can no longer be reopened "
        "(correct its values instead)."
    ]


@sync
async def test_a_wrong_test_result_is_corrected_then_removed_with_reasons(db_path: Path) -> None:
    pid, visit = held_session(db_path)
    app = build_app(db_path, actor="Ona Kita")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await open_held(app, pilot, pid, visit)
        screen = app.screen
        assert isinstance(screen, VisitRecordScreen)
        index = next(i for i, e in enumerate(screen.entries) if e and e.kind == "test")
        screen.query_one("#record-list").highlighted = index  # type: ignore[attr-defined]
        await press(pilot, "x")
        value = app.screen
        assert isinstance(value, AskDialog)
        value.query_one(Input).value = "11"
        await press(pilot, "enter")  # out of range: refused before the reason
        assert app.screen is value and "should be a number from 0 to 10" in screen_text(app)
        value.query_one(Input).value = "4"
        await press(pilot, "enter")
        assert isinstance(app.screen, AskDialog) and "Was: 6 · now: 4" in screen_text(app)
        await type_text(pilot, "typed the wrong digit")
        await press(pilot, "enter")
        assert app.screen_stack[-1] is screen
        (m,) = measurements_of(app.db, visit.id)
        assert m.value == 4.0
        assert "Corrected VAS pain (6/10 → 4/10) by Ona Kita" in screen_text(app), screen_text(app)[
            :400
        ]
        # shown everywhere as corrected: the patient screen's latest results
        vas = next(r for r in latest_results(app.db, visit.episode_id) if r.code == "vas")
        assert vas.value == 4.0
        shown = run("--db", db_path, "patients", "show", str(pid))
        assert shown.code == 0 and "VAS 7 -> 4: -3" in shown.out, shown.out
        await press(pilot, "delete")
        await type_text(pilot, "measured on the wrong patient")
        await press(pilot, "enter")
        assert measurements_of(app.db, visit.id) == []
        kinds = [a.kind for a in amendments_of(app.db, visit.id)]
        assert kinds == ["correct", "remove"]
    with connect(db_path) as db:
        rows = db.execute(
            "SELECT action, old, new FROM audit_log WHERE table_name = 'measurements' "
            "AND record_id = ? ORDER BY id",
            [m.id],
        ).fetchall()
    assert [r[0] for r in rows] == ["create", "correct", "delete"]
    assert json.loads(rows[1][1])["value_num"] == 6 and json.loads(rows[1][2])["value_num"] == 4
    assert json.loads(rows[2][1])["value_num"] == 4  # the removed value is kept


def test_a_stale_correction_from_another_terminal_is_refused(db_target: str) -> None:
    pid, visit = held_session(db_target)
    one = connect(db_target, actor="Ona")
    two = connect(db_target, actor="Rūta")
    try:
        (m,) = measurements_of(one, visit.id)  # both terminals show version m.version
        correct_measurement(two, m.id, 5, "misread", expected_version=m.version)
        with pytest.raises(StaleRecord):
            correct_measurement(one, m.id, 3, "misheard", expected_version=m.version)
        with pytest.raises(StaleRecord):
            remove_measurement(one, m.id, "wrong", expected_version=m.version)
        assert measurements_of(one, visit.id)[0].value == 5.0
        assert [a.reason for a in amendments_of(one, visit.id)] == ["misread"]
        tick = one.execute(
            "SELECT version FROM checklist_ticks WHERE visit_id = ?", [visit.id]
        ).fetchone()[0]
        correct_dosage(
            two, visit.id, "m1_decompression_hangs", "3 × 40 s", "typo", expected_version=tick
        )
        with pytest.raises(StaleRecord):
            correct_dosage(
                one, visit.id, "m1_decompression_hangs", "x", "typo", expected_version=tick
            )
    finally:
        one.close()
        two.close()
    del pid


def test_corrected_values_show_in_reports(db_target: str) -> None:
    from kinesio_tui.export.context import build_context
    from kinesio_tui.export.render import render

    pid, visit = held_session(db_target)
    with connect(db_target, actor="Ona") as db:
        (m,) = measurements_of(db, visit.id)
        correct_measurement(db, m.id, 2, "misread", expected_version=m.version)
        correct_dosage(db, visit.id, "m1_decompression_hangs", "<b>4 × 30 s</b>", "typo")
        note = render(
            "visit", "md", build_context(db, pid, kind="visit", visit_id=visit.id, today=DAY)
        )
        assert "4 × 30 s" in note and "3 × 30 s" not in note
        assert "| VAS" in note and "| 2" in note
        html = render(
            "visit", "html", build_context(db, pid, kind="visit", visit_id=visit.id, today=DAY)
        )
        assert "&lt;b&gt;4 × 30 s&lt;/b&gt;" in html


@sync
async def test_a_finished_programmes_visits_open_read_only(demo_db_path: Path) -> None:
    from kinesio_tui.domain.patients import find_patients

    app = build_app(demo_db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        (done,) = find_patients(app.db, "algirdas")
        app.open_patient(done.id)
        await pilot.pause()
        app.screen.query_one(VisitTable).focus()
        await press(pilot, "enter")
        assert isinstance(app.screen, VisitRecordScreen)
        assert "read-only" in screen_text(app)
