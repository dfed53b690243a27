"""Keys go where the person meant: on the list only search, and at machine speed in order.

`burst` queues every key before the first is handled, as one terminal read of a fast typist
does; the same keys pressed one at a time (Pilot's `press`) must leave the same records.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import sqlite3
from pathlib import Path
from typing import ClassVar

import pytest
from rich.console import Console
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Static
from tui_driver import burst, drive, names, settle

from kinesio_tui.app import KinesioApp, build_app
from kinesio_tui.data.db import open_db
from kinesio_tui.domain.patients import find_patients
from kinesio_tui.upstream_hooks import shown_notifications
from kinesio_tui.views.footer import KeyFooter
from kinesio_tui.views.help import HelpScreen
from kinesio_tui.views.patient import PatientScreen
from kinesio_tui.views.patient_form import PatientForm
from kinesio_tui.views.patients import PatientsScreen


def header(app: KinesioApp) -> str:
    return str(app.screen.query_one("#patient-header", Static).content)


def search_box(app: KinesioApp) -> Input:
    return app.screen.query_one("#search", Input)


# --- the patient list -------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["petr", "PETR", "petra"])
def test_enter_straight_after_typing_opens_a_match_of_the_text_typed(
    demo_db_path: Path, query: str
) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await burst(app, pilot, *query, "enter")
        assert isinstance(app.screen, PatientScreen)
        assert "Tomas Petrauskas" in header(app)

    drive(demo_db_path, script)


def test_enter_on_a_refined_query_never_opens_the_earlier_querys_row(demo_db_path: Path) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await pilot.press(*"zuk")
        await settle(app, pilot)
        assert names(app)[0] == "Žukauskas, Darius"
        await burst(app, pilot, *"auskie", "enter")  # now only Žukauskienė matches
        assert isinstance(app.screen, PatientScreen)
        assert "Anna Žukauskienė" in header(app)

    drive(demo_db_path, script)


def test_enter_with_no_match_opens_nothing_and_says_so(demo_db_path: Path) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await burst(app, pilot, *"xyzzy", "enter")
        assert isinstance(app.screen, PatientsScreen)
        assert names(app) == []
        empty = app.screen.query_one("#list-empty", Static)
        assert empty.display and "No patient matches “xyzzy”" in str(empty.content)
        notes = [str(n.message) for n in shown_notifications(app)]
        assert any("No patient matches" in note for note in notes)

    drive(demo_db_path, script)


@pytest.mark.parametrize("letter", ["n", "a", "q", "N", "A", "Q", "d", "e", "o", "p", "t", "c"])
def test_every_letter_typed_on_the_list_only_searches(demo_db_path: Path, letter: str) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await pilot.press(letter)
        await settle(app, pilot)
        assert app.is_running
        assert isinstance(app.screen, PatientsScreen)
        assert not app.screen.archived
        assert search_box(app).value == letter
        assert app.focused is search_box(app)

    drive(demo_db_path, script)


def test_list_commands_are_on_keys_no_name_contains(demo_db_path: Path) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        footer = {key for key, _text, _on in KeyFooter._keys(app.screen)}
        assert {"ctrl+n", "ctrl+r", "ctrl+q"} <= footer
        assert not any(len(key) == 1 and key.isalpha() for key in footer)
        await pilot.press("ctrl+n")
        assert isinstance(app.screen, PatientForm)
        await pilot.press("escape")
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert isinstance(app.screen, PatientsScreen) and app.screen.archived
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert not app.screen.archived
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=120, record=True, file=io.StringIO())
        console.print(app.screen.query_one("#help-keys", Static).content)
        helped = console.export_text()
        for line in ("^n", "^r", "^q"):
            assert line in helped
        await pilot.press("escape", "ctrl+q")
        await pilot.pause()
        assert not app.is_running

    drive(demo_db_path, script)


@pytest.mark.parametrize("start", [["slash"], []])
def test_a_search_after_coming_back_from_a_patient_starts_afresh(
    demo_db_path: Path, start: list[str]
) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await pilot.press(*"petr", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PatientScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, PatientsScreen)
        await pilot.press(*start, *"zemai")
        await settle(app, pilot)
        assert search_box(app).value == "zemai"
        assert names(app) == ["Žemaitė, Rūta"]

    drive(demo_db_path, script)


# --- every form at machine speed --------------------------------------------------------------

#: What a slow and a fast typist must leave alike (timestamps aside).
STATE = {
    "patients": "first_name, last_name, birth_date, sex, phone, occupation, notes",
    "episodes": "patient_id, condition, subtype, side, course, onset_date, pain_medication",
    "red_flag_screens": "episode_id, flags",
    "checklist_ticks": "visit_id, item_code, note",
    "measurements": "visit_id, test_code, side, value_num, value_text",
    "pir_cycles": "visit_id, muscle, side, effort_pct, tension_s, relaxation_s, cycles, "
    "rom_before, pain_before",
    "visits": "id, status, note, started_at IS NOT NULL",
}


def clinical_state(path: Path) -> dict[str, list[tuple[object, ...]]]:
    raw = sqlite3.connect(path)
    try:
        columns = {t: {r[1] for r in raw.execute(f"PRAGMA table_info({t})")} for t in STATE}
        out = {}
        for table, wanted in STATE.items():
            picked = ", ".join(c for c in wanted.split(", ") if c.split()[0] in columns[table])
            out[table] = raw.execute(f"SELECT {picked} FROM {table} ORDER BY rowid").fetchall()
        return out
    finally:
        raw.close()


def patient_id(path: Path, query: str) -> int:
    with open_db(path) as db:
        return find_patients(db, query)[0].id


def typed_slowly_and_fast(
    demo_db_path: Path, tmp_path: Path, keys: list[str], *, open_query: str | None = None
) -> tuple[dict[str, list[tuple[object, ...]]], dict[str, list[tuple[object, ...]]]]:
    """Play `keys` once pressed one by one and once as a burst, each on its own copy of
    the clinic (from the list, or from `open_query`'s patient screen); both states after."""
    states = []
    for fast in (False, True):
        path = tmp_path / f"{'fast' if fast else 'slow'}.db"
        shutil.copyfile(demo_db_path, path)
        opened = patient_id(path, open_query) if open_query else None

        async def main(path: Path = path, fast: bool = fast, opened: int | None = opened) -> None:
            app = build_app(path)
            async with app.run_test(size=(80, 24)) as pilot:
                await settle(app, pilot)
                if opened is not None:
                    app.open_patient(opened)
                    await settle(app, pilot)
                if fast:
                    await burst(app, pilot, *keys)
                else:
                    for key in keys:
                        await pilot.press(key)
                    await settle(app, pilot)
                await pilot.pause(0.3)  # the visit note saves shortly after typing stops

        asyncio.run(main())
        states.append(clinical_state(path))
    return states[0], states[1]


def test_new_patient_and_episode_forms_at_machine_speed(demo_db_path: Path, tmp_path: Path) -> None:
    keys = [
        "ctrl+n", *"Ona", "tab", *"Kairytė", "tab", *"1980-02-03", "tab",
        "enter", "F", "enter", "tab", *"+37061234567", "ctrl+s",
        # the episode form: condition, subtype, side; onset and pain medication typed
        "enter", "s", "enter", "tab", "enter", "down", "enter", "tab", "enter", "L", "enter",
        "tab", "tab", *"2026-11-01", "tab", *"ibuprofen 400", "ctrl+s",
    ]  # fmt: skip
    slow, fast = typed_slowly_and_fast(demo_db_path, tmp_path, keys)
    assert slow["patients"][-1] == ("Ona", "Kairytė", "1980-02-03", "F", "+37061234567", "", "")
    assert slow["episodes"][-1][1:] == ("sciatica", "upper", "L", "acute", "2026-11-01",
                                        "ibuprofen 400")  # fmt: skip
    assert fast == slow


def test_visit_dosage_note_and_test_at_machine_speed(demo_db_path: Path, tmp_path: Path) -> None:
    keys = [
        "enter",  # start today's visit
        "d", *"3 x 10, 20 kg", "enter",  # the first item's dosage, which ticks it
        "down", "space",  # tick the second
        "t", *"4.5", "enter",  # record a test result: VAS, the first of the catalog
        "n", *"tolerated well, calm",  # the visit note
    ]  # fmt: skip
    slow, fast = typed_slowly_and_fast(demo_db_path, tmp_path, keys, open_query="petrauskas")
    assert [tick[2] for tick in slow["checklist_ticks"][-2:]] == ["3 x 10, 20 kg", ""]
    assert slow["measurements"][-1][1:4] == ("vas", None, 4.5)
    assert any(visit[2] == "tolerated well, calm" for visit in slow["visits"])
    assert fast == slow


def test_pir_recorder_at_machine_speed(demo_db_path: Path, tmp_path: Path) -> None:
    from textual.widgets import Input as TextInput

    keys = [
        "enter", "p",  # start the visit, open the PIR recorder
        "tab", "tab", *"25", "tab", *"7", "tab", *"12", "tab", *"4", "tab", *"40", "tab", *"5",
    ]  # fmt: skip
    values = []
    for fast in (False, True):
        path = tmp_path / f"pir-{fast}.db"
        shutil.copyfile(demo_db_path, path)
        opened = patient_id(path, "petrauskas")

        async def main(path: Path = path, fast: bool = fast, opened: int = opened) -> None:
            app = build_app(path)
            async with app.run_test(size=(80, 24)) as pilot:
                await settle(app, pilot)
                app.open_patient(opened)
                await settle(app, pilot)
                if fast:
                    await burst(app, pilot, *keys)
                else:
                    for key in keys:
                        await pilot.press(key)
                fields = ("effort", "tension", "relaxation", "cycles", "rom-before", "pain-before")
                values.append([app.screen.query_one(f"#{f}", TextInput).value for f in fields])

        asyncio.run(main())
    assert values[0] == ["25", "7", "12", "4", "40", "5"]
    assert values[1] == values[0]


def test_doctors_form_at_machine_speed(demo_db_path: Path, tmp_path: Path) -> None:
    keys = ["enter", *"6", "tab", *"70", "tab", *"65", "tab"]  # VAS, straight-leg raise L and R
    slow, fast = typed_slowly_and_fast(demo_db_path, tmp_path, keys, open_query="zukauskiene")
    before = len(clinical_state(demo_db_path)["measurements"])
    added = [row[1:4] for row in slow["measurements"][before:]]
    assert added == [("vas", None, 6.0), ("slr_angle", "L", 70.0), ("slr_angle", "R", 65.0)]
    assert fast == slow


def test_q_on_a_visit_is_no_way_out(demo_db_path: Path) -> None:
    """Quit is Ctrl+Q on every screen: a stray q on a visit's checklist leaves the app open."""
    from kinesio_tui.views.visit import VisitScreen

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await burst(app, pilot, *"petr", "enter")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, VisitScreen)
        await pilot.press("q")
        await settle(app, pilot)
        assert app.is_running
        assert isinstance(app.screen, VisitScreen)

    drive(demo_db_path, script)


class SlowToOpen(Screen[None]):
    """A key whose action takes a while (awaiting work elsewhere, every queue empty), then
    moves the focus: as a choice's list is built and focused the first time it opens."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("x", "open_slowly", "Open")]

    def compose(self) -> ComposeResult:
        yield Static("before", id="before")
        yield Input(id="after")

    def on_mount(self) -> None:
        self.query_one("#before", Static).can_focus = True
        self.query_one("#before", Static).focus()

    async def action_open_slowly(self) -> None:
        await asyncio.sleep(0.1)
        self.query_one("#after", Input).focus()


def test_keys_wait_for_a_key_whose_action_is_still_running(demo_db_path: Path) -> None:
    """The keys after one whose handler awaits (with no message queued anywhere meanwhile)
    land where that handler moves the focus, not where the focus was while it ran."""

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await app.push_screen(SlowToOpen())
        await settle(app, pilot)
        await burst(app, pilot, "x", *"ab")
        assert app.screen.query_one("#after", Input).value == "ab"

    drive(demo_db_path, script)
