"""At 80x24 nothing a clinician needs is cut: goals, messages, test names, key hints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.cells import cell_len
from screen_text import screen_text
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static
from tui_driver import drive, settle
from visit_harness import VisitHarness, clinic, press, sync

from kinesio_tui.app import KinesioApp
from kinesio_tui.domain.patients import find_patients
from kinesio_tui.protocol import protocol
from kinesio_tui.views.doctor import CheckSheet
from kinesio_tui.views.footer import KeyFooter


def keys_cut(app: Any) -> list[str]:
    """The footer's key hints that do not show whole (key and words) left of the palette key."""
    footers = list(app.screen.query(KeyFooter))
    if not footers:
        return []
    return [
        f"{placed.key.key_display} {placed.key.description}".strip()
        for placed in footers[0].placed_keys()
        if not placed.key.palette and not placed.whole
    ]


@sync
async def test_the_modules_goal_is_whole(db_path: Path) -> None:
    app = VisitHarness(db_path, clinic(db_path, "sciatica", 16))  # module 2
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert protocol().module(2).goal in screen_text(app)
        assert keys_cut(app) == []


@sync
async def test_a_pir_message_is_whole(db_path: Path) -> None:
    app = VisitHarness(db_path, clinic(db_path, "sciatica", 16))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await press(pilot, "p")
        app.screen.query_one("#effort", Input).value = "3"
        await press(pilot, "ctrl+s")
        assert "✖ should be a whole number from 5 to 100 %" in screen_text(app)
        assert keys_cut(app) == []


@sync
async def test_the_doctors_form_labels_fit_their_column(db_path: Path) -> None:
    app = VisitHarness(db_path, clinic(db_path, "radiculitis", 7))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        rows = app.screen.query_one(CheckSheet).rows
        assert rows
        too_long = [  # each name whole, in its column (the sheet draws it: views/doctor.py)
            row.check_name
            for row in rows
            if any(cell_len(line.plain) > row.name_width() for line in row.name_lines())
            or " ".join(line.plain.strip() for line in row.name_lines()) != row.check_name
        ]
        assert too_long == []
        assert "…" not in screen_text(app)  # Textual's mark of a cut line
        app.screen.query_one("#doctor-form").scroll_end(animate=False)
        await pilot.pause()
        assert "…" not in screen_text(app)
        assert keys_cut(app) == []


def test_the_patient_screen_names_each_test_whole(demo_db_path: Path) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        (driver,) = find_patients(app.db, "petrauskas")
        app.open_patient(driver.id)
        await settle(app, pilot)
        results = str(app.screen.query_one("#results", Static).render())
        assert "…" not in results, results
        assert keys_cut(app) == []

    drive(demo_db_path, script)


def test_every_key_hint_is_whole(demo_db_path: Path) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        seen: dict[str, list[str]] = {"list": keys_cut(app)}
        for name in ("algirdas", "zemaite", "mockute", "jankauskiene"):
            (patient,) = find_patients(app.db, name)
            app.open_patient(patient.id)
            await settle(app, pilot)
            seen[name] = keys_cut(app)
            await pilot.press("e")
            await settle(app, pilot)
            seen[name + " export"] = keys_cut(app)
            await pilot.press("escape")
            await settle(app, pilot)
            await pilot.press("question_mark")
            await settle(app, pilot)
            seen[name + " help"] = keys_cut(app)
            await pilot.press("escape")
            await settle(app, pilot)
            await pilot.press("d")
            await settle(app, pilot)
            seen[name + " details"] = keys_cut(app)
            await pilot.press("escape")
            await settle(app, pilot)
            await pilot.press("escape")
            await settle(app, pilot)
        assert {where: cut for where, cut in seen.items() if cut} == {}

    drive(demo_db_path, script)


@sync
async def test_the_record_test_dialog_keys_are_whole(db_path: Path) -> None:
    app = VisitHarness(db_path, clinic(db_path, "sciatica", 16))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await press(pilot, "t")
        app.screen.query_one("#test-select", Select).value = "slr_angle"
        await pilot.pause()
        assert keys_cut(app) == []


@sync
async def test_the_last_session_is_a_key_away_at_80x24(db_path: Path) -> None:
    app = VisitHarness(db_path, clinic(db_path, "sciatica", 16))  # M2 visit 2
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        assert "Last session" in shown and "l: its dosages" in shown, shown
        assert "14 x 10" not in shown  # the dosages are one key away, not crowding the list
        await press(pilot, "l")
        shown = screen_text(app)
        assert "Last session: visit 14/15 of module 1" in shown, shown
        assert "14 x 10" in shown  # the dosage to progress from
        await press(pilot, "l")  # the same key closes it
        assert "14 x 10" not in screen_text(app)
        assert keys_cut(app) == []


def test_every_key_hint_of_a_visit_is_whole(demo_db_path: Path) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        seen: dict[str, list[str]] = {}
        (patient,) = find_patients(app.db, "zemaite")  # her session is under way
        app.open_patient(patient.id)
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        seen["session"] = keys_cut(app)
        for key, where in (("l", "last session"), ("p", "PIR"), ("t", "record a test")):
            await pilot.press(key)
            await settle(app, pilot)
            seen[where] = keys_cut(app)
            await pilot.press("escape")
            await settle(app, pilot)
        assert {where: cut for where, cut in seen.items() if cut} == {}

    drive(demo_db_path, script)


def test_the_lists_key_hints_are_whole_while_searching(demo_db_path: Path) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        app.screen.query_one("#search", Input).value = "nowak"
        await settle(app, pilot)
        app.screen.query_one("#patients").focus()  # on the rows: Esc clears the search
        await settle(app, pilot)
        footer = app.screen.query_one(KeyFooter)
        assert any("Clear" in k.description for k in footer.keys_shown)
        assert keys_cut(app) == []

    drive(demo_db_path, script)
