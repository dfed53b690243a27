"""The Today screen and the attendance and move dialogs, driven through Textual's Pilot on
real database files: what they show, what Enter and the keys do, what is written."""

from __future__ import annotations

import asyncio
import io
from datetime import date
from pathlib import Path
from typing import Any

from conftest import DAY
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static

from kinesio_tui.app import KinesioApp, build_app
from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain.episodes import open_episode, screen_red_flags
from kinesio_tui.domain.models import NewEpisode, NewPatient
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.schedule import move_visit, record_absence
from kinesio_tui.domain.visits import complete_visit, start_visit, visits_of
from kinesio_tui.settings import settings_path
from kinesio_tui.views.attendance import AbsenceDialog, MoveDialog
from kinesio_tui.views.help import HelpScreen
from kinesio_tui.views.patient import PatientScreen
from kinesio_tui.views.patients import PatientsScreen
from kinesio_tui.views.today import DayTable, TodayScreen
from kinesio_tui.views.visit import VisitScreen


def _clinic(db: ClinicDB) -> dict[str, int]:
    """Three patients: one due today at 09:00, one overdue since Monday, one on hold."""
    ids = {}
    for first, last, start in (
        ("Rūta", "Žemaitė", DAY),
        ("Jonas", "Urbonas", date(2026, 11, 23)),
        ("Ona", "Petraitienė", DAY),
    ):
        pid = create_patient(db, NewPatient(first, last, "1970-06-01", "F"), today=DAY)
        ids[last] = open_episode(
            db, pid, NewEpisode("sciatica", "upper", "L"), start=start, today=DAY
        )
    nine = visits_of(db, ids["Žemaitė"])[0]
    move_visit(db, nine.id, DAY, time="09:00", today=DAY)
    screen_red_flags(db, ids["Petraitienė"], ["progressive_weakness"], today=DAY)
    return ids


async def _on(pilot: Pilot[Any], kind: type) -> None:
    """Wait until the screen on top is `kind` and has mounted what it composed (a pushed
    screen is on top before its widgets are: under load a query in between found none)."""
    for _frame in range(100):  # 5 s at most: a busy machine is slow to push a screen
        screen = pilot.app.screen
        if isinstance(screen, kind) and screen.is_mounted and screen.children:
            return
        await pilot.pause(0.05)


async def _today(pilot: Pilot[Any]) -> TodayScreen:
    await pilot.app.workers.wait_for_complete()
    await pilot.press("ctrl+o")
    await _on(pilot, TodayScreen)
    screen = pilot.app.screen
    assert isinstance(screen, TodayScreen)
    return screen


def test_today_lists_the_day_in_order_and_is_one_key_from_the_list(
    db_path: Path, db: ClinicDB
) -> None:
    async def main() -> None:
        _clinic(db)
        async with build_app(db_path).run_test(size=(120, 40)) as pilot:
            screen = await _today(pilot)
            assert [r.patient for r in screen.rows] == [
                "Urbonas, Jonas",  # overdue first
                "Žemaitė, Rūta",  # 09:00
                "Petraitienė, Ona",  # untimed
            ]
            assert [r.status for r in screen.rows] == ["overdue", "due", "due"]
            assert screen.rows[2].on_hold
            await pilot.press("ctrl+o")
            await _on(pilot, PatientsScreen)
            assert isinstance(pilot.app.screen, PatientsScreen)
            await pilot.press("ctrl+o")
            await _on(pilot, TodayScreen)
            assert isinstance(pilot.app.screen, TodayScreen)
            await pilot.press("escape")
            await _on(pilot, PatientsScreen)
            assert isinstance(pilot.app.screen, PatientsScreen)

    asyncio.run(main())


def test_enter_starts_the_visit_as_the_patient_screen_does(db_path: Path, db: ClinicDB) -> None:
    async def main() -> None:
        ids = _clinic(db)
        async with build_app(db_path).run_test(size=(80, 24)) as pilot:
            await _today(pilot)
            await pilot.press("down", "enter")  # Žemaitė, 09:00
            await pilot.pause()
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(pilot.app.screen, VisitScreen)
        visit = visits_of(db, ids["Žemaitė"])[0]
        assert visit.in_progress

    asyncio.run(main())


def test_enter_on_a_held_session_asks_the_hold_override(db_path: Path, db: ClinicDB) -> None:
    _clinic(db)
    pid = create_patient(db, NewPatient("Aldona", "Kairienė", "1960-02-02", "F"), today=DAY)
    friday = date(2026, 11, 20)
    eid = open_episode(db, pid, NewEpisode("sciatica", "upper", "L"), start=friday, today=friday)
    first = visits_of(db, eid)[0]
    start_visit(db, first.id, today=friday)  # the doctor's appointment
    complete_visit(db, first.id)
    screen_red_flags(db, eid, ["progressive_weakness"], today=DAY)  # therapy on hold

    async def main() -> None:
        async with build_app(db_path).run_test(size=(120, 40)) as pilot:
            screen = await _today(pilot)
            held = next(i for i, r in enumerate(screen.rows) if r.patient.startswith("Kair"))
            assert (screen.rows[held].status, screen.rows[held].on_hold) == ("overdue", True)
            for _step in range(held):
                await pilot.press("down")
            await pilot.press("enter")
            await pilot.pause()
            assert type(pilot.app.screen).__name__ == "OverrideDialog"
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(pilot.app.screen, TodayScreen)

    asyncio.run(main())
    assert not visits_of(db, eid)[1].in_progress  # nothing started without a reason


def test_mark_missed_from_today_needs_a_reason(db_path: Path, db: ClinicDB) -> None:
    async def main() -> None:
        ids = _clinic(db)
        async with build_app(db_path).run_test(size=(80, 24)) as pilot:
            await _today(pilot)
            await pilot.press("m")  # Urbonas, overdue
            await pilot.pause()
            dialog = pilot.app.screen
            assert isinstance(dialog, AbsenceDialog)
            await pilot.press("enter")  # no reason
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            assert pilot.app.screen is dialog
            assert "reason" in str(dialog.query_one("#day-error").render())
            await pilot.press(*"No-show", "enter")
            await pilot.pause()
            await pilot.pause()
            screen = pilot.app.screen
            assert isinstance(screen, TodayScreen)
            # the programme goes on: his next visit, planned today, is the one due now
            urbonas = [r for r in screen.rows if r.patient.startswith("Urbonas")]
            assert [(r.visit.seq, r.status) for r in urbonas] == [(2, "due")]
        missed = visits_of(db, ids["Urbonas"])[0]
        assert (missed.status, missed.absence_reason) == ("missed", "No-show")
        assert visits_of(db, ids["Urbonas"])[1].status == "planned"

    asyncio.run(main())


def test_move_from_the_patient_screen_and_a_stale_plan_is_refused(
    db_path: Path, db: ClinicDB
) -> None:
    async def main() -> None:
        ids = _clinic(db)
        pid = db.execute(
            "SELECT patient_id FROM episodes WHERE id = ?", [ids["Žemaitė"]]
        ).fetchone()[0]
        app: KinesioApp = build_app(db_path)
        async with app.run_test(size=(120, 40)) as pilot:
            app.open_patient(pid)
            await pilot.pause()
            assert isinstance(app.screen, PatientScreen)
            await pilot.press("down", "v")  # visit 2, Fri 27 Nov
            await pilot.pause()
            dialog = app.screen
            assert isinstance(dialog, MoveDialog)
            assert dialog.visit.seq == 2
            # meanwhile another terminal moves the same plan
            other = connect(db_path, actor="Other")
            move_visit(other, visits_of(other, ids["Žemaitė"])[2].id, "2026-12-01", today=DAY)
            other.close()
            await pilot.press("ctrl+a", "ctrl+k", *"2026-11-26", "tab", *"14:30", "enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.screen is dialog  # refused: stays open with what was typed
            assert "another terminal" in str(dialog.query_one("#day-error").render())
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("down", "v")  # the list shows the newer plan, cursor on visit 1
            await pilot.pause()
            assert isinstance(app.screen, MoveDialog) and app.screen.visit.seq == 2
            await pilot.press("ctrl+a", "ctrl+k", *"2026-11-26", "tab", *"14:30", "enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, PatientScreen)
        moved = visits_of(db, ids["Žemaitė"])[1]
        assert (moved.planned_date, moved.planned_time) == (date(2026, 11, 26), "14:30")

    asyncio.run(main())


def test_cancel_from_the_patient_screen(db_path: Path, db: ClinicDB) -> None:
    async def main() -> None:
        ids = _clinic(db)
        pid = db.execute(
            "SELECT patient_id FROM episodes WHERE id = ?", [ids["Urbonas"]]
        ).fetchone()[0]
        app: KinesioApp = build_app(db_path)
        async with app.run_test(size=(80, 24)) as pilot:
            app.open_patient(pid)
            await pilot.pause()
            await pilot.press("x")
            await pilot.pause()
            assert isinstance(app.screen, AbsenceDialog)
            await pilot.press(*"Phoned: ill", "enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, PatientScreen)
        cancelled = visits_of(db, ids["Urbonas"])[0]
        assert (cancelled.status, cancelled.absence_reason) == ("cancelled", "Phoned: ill")

    asyncio.run(main())


def test_the_setting_opens_on_today_and_help_names_the_keys(db_path: Path, db: ClinicDB) -> None:
    async def main() -> None:
        _clinic(db)
        path = settings_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('[workstation]\nopens_on = "today"\n', encoding="utf-8")
        async with build_app(db_path).run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert isinstance(pilot.app.screen, TodayScreen)
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(pilot.app.screen, HelpScreen)
            console = Console(width=120, record=True, file=io.StringIO())
            console.print(pilot.app.screen.query_one("#help-keys", Static).content)
            text = console.export_text()
            for words in ("missed", "Call this visit off", "Move this visit", "patient list"):
                assert words in text, words

    asyncio.run(main())


def test_the_missed_dialog_can_cancel_instead(db_path: Path, db: ClinicDB) -> None:
    ids = _clinic(db)

    async def main() -> None:
        async with build_app(db_path).run_test(size=(80, 24)) as pilot:
            await _today(pilot)
            await pilot.press("m")  # Urbonas, overdue: offered as missed
            await _on(pilot, AbsenceDialog)
            await pilot.press("shift+tab", "down", "space", "tab", *"Phoned on Monday", "enter")
            await pilot.app.workers.wait_for_complete()
            await _on(pilot, TodayScreen)
            assert isinstance(pilot.app.screen, TodayScreen)

    asyncio.run(main())
    visit = visits_of(db, ids["Urbonas"])[0]
    assert (visit.status, visit.absence_reason) == ("cancelled", "Phoned on Monday")


def test_namesakes_keep_their_whole_names_on_a_narrow_screen(db_path: Path, db: ClinicDB) -> None:
    """At 80 columns the status gives way before the name: "Vasiliauskienė, A…" would be
    either of two patients."""

    async def main() -> None:
        for first in ("Agnė", "Aldona"):
            pid = create_patient(
                db, NewPatient(first, "Vasiliauskienė", "1970-06-01", "F"), today=DAY
            )
            episode = open_episode(
                db, pid, NewEpisode("sciatica", "upper", "L"), start=DAY, today=DAY
            )
        first_visit = visits_of(db, episode)[0]
        record_absence(
            db,
            first_visit.id,
            "missed",
            "No-show; did not answer the phone twice, a message left with her daughter",
            today=DAY,
        )
        async with build_app(db_path).run_test(size=(80, 24)) as pilot:
            screen = await _today(pilot)
            await pilot.pause()
            table = screen.query_one(DayTable)
            lines = [table.render_line(y).text for y in range(1, 3)]
            assert any("Vasiliauskienė, Agnė" in line for line in lines), lines
            assert any("Vasiliauskienė, Aldona" in line for line in lines), lines

    asyncio.run(main())
