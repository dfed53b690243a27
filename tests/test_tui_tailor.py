"""The tailor screen through the real visit screen: `a` at a doctor's appointment, keys only;
Esc writes nothing, Ctrl+S saves all; the sessions then show the patient's own list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import DAY
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static, TextArea
from visit_harness import VisitHarness, clinic, press, sync, type_text

from kinesio_tui.data.db import connect
from kinesio_tui.domain.plan import (
    patient_checklist,
    patient_home_exercises,
    plan_changes_of,
    set_target_dosage,
)
from kinesio_tui.domain.visits import complete_visit, get_visit, next_visit
from kinesio_tui.views.checklist import ChecklistLine
from kinesio_tui.views.help import bindings_table
from kinesio_tui.views.tailor import AddItemDialog, ItemChangeDialog, TailorScreen
from kinesio_tui.views.visit import VisitScreen

SIZES = [(80, 24), (120, 40)]


def _doctor(db_path: Path) -> VisitHarness:
    """Module 1's control appointment of a lumbar radiculitis patient (sessions 2-7 held)."""
    return VisitHarness(db_path, clinic(db_path, "radiculitis", 7))


async def _open_tailor(pilot: Pilot[Any]) -> TailorScreen:
    await pilot.pause()
    assert isinstance(pilot.app.screen, VisitScreen)
    await press(pilot, "escape", "a")  # out of the first field, then the key
    screen = pilot.app.screen
    assert isinstance(screen, TailorScreen)
    return screen


def _episode(app: VisitHarness) -> int:
    return get_visit(app.db, app.visit_id).episode_id


def _text(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


def _help(screen: Any) -> str:
    return " ".join(str(cell) for cell in bindings_table(screen).columns[1]._cells)


def _options(screen: Any, selector: str) -> list[str]:
    listing = screen.query_one(selector, OptionList)
    out = []
    for index in range(listing.option_count):
        prompt = listing.get_option_at_index(index).prompt
        if isinstance(prompt, ChecklistLine):
            out.append(str(prompt))
        else:
            out.append(" ".join(str(cell) for row in prompt.columns for cell in row._cells))
    return out


@sync
async def test_a_at_the_doctors_appointment_opens_the_plan_and_esc_writes_nothing(
    db_path: Path,
) -> None:
    app = _doctor(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_tailor(pilot)
        assert "Module 1" in _text(screen, "#tailor-header")
        assert "sessions 9-14" in _text(screen, "#tailor-hint")
        sessions = _options(screen, "#plan-session")
        assert any("Decompression hangs" in line for line in sessions)
        assert not any("Figure-four" in line for line in sessions)  # sciatica's
        await press(pilot, "a")
        assert isinstance(app.screen, AddItemDialog)
        await type_text(pilot, "figure")  # not a search: the list is picked with the arrows
        await press(pilot, "escape")
        assert isinstance(app.screen, TailorScreen)
        await press(pilot, "d")
        assert isinstance(app.screen, ItemChangeDialog)
        await type_text(pilot, "3 x 30 s")
        await press(pilot, "enter", "enter")  # dosage, then an empty (optional) reason
        assert isinstance(app.screen, TailorScreen)
        assert "Not saved yet (1)" in _text(screen, "#tailor-pending")
        await press(pilot, "escape")
        assert isinstance(app.screen, VisitScreen)
        assert plan_changes_of(app.db, _episode(app)) == []


@sync
async def test_add_remove_and_dose_by_keys_then_ctrl_s_saves_them_all(db_path: Path) -> None:
    app = _doctor(db_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_tailor(pilot)
        # add: the module's items not on the list, any subtype's; pick one with the arrows
        await press(pilot, "a")
        dialog = app.screen
        assert isinstance(dialog, AddItemDialog)
        labels = [c.label for c in dialog.choices]
        target = labels.index("Fascial release: figure-four (piriformis) stretch")
        await press(pilot, *["down"] * target, "enter")
        assert app.screen.focused is not None and app.screen.focused.id == "add-dosage"
        await type_text(pilot, "3 x 30 s")
        await press(pilot, "enter")
        await press(pilot, "enter")  # no reason: refused in the dialog, nothing waits
        assert isinstance(app.screen, AddItemDialog)
        assert "reason" in _text(app.screen, "#plan-error")
        await type_text(pilot, "Piriformis tight on the right")
        await press(pilot, "enter")
        assert isinstance(app.screen, TailorScreen)
        # remove the highlighted (first) item, with why
        first = screen.items("session")[0]
        await press(pilot, "x")
        assert isinstance(app.screen, ItemChangeDialog)
        await type_text(pilot, "Hanging provokes leg pain")
        await press(pilot, "enter")
        # the home list: Tab to it, name an exercise of the doctor's own
        await press(pilot, "tab", "a")
        assert isinstance(app.screen, AddItemDialog) and app.screen.which == "home"
        await press(pilot, "tab")
        await type_text(pilot, "Heel raises at the sink")
        await press(pilot, "enter")
        await type_text(pilot, "2 x 15")
        await press(pilot, "enter")
        await type_text(pilot, "Calf weakness")
        await press(pilot, "enter")
        assert "Not saved yet (3)" in _text(screen, "#tailor-pending")
        assert plan_changes_of(app.db, _episode(app)) == []
        await press(pilot, "ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, VisitScreen)
        eid = _episode(app)
        changes = plan_changes_of(app.db, eid)
        assert [(c.list, c.change, c.item_code) for c in changes] == [
            ("session", "add", "m1_figure_four"),
            ("session", "remove", first.code),
            ("home", "add", "own_1"),
        ]
        assert changes[0].dosage == "3 x 30 s"
        assert changes[0].made_by == "Test Therapist"
        home = {e.label: e for e in patient_home_exercises(app.db, eid, 1)}
        assert home["Heel raises at the sink"].target == "2 x 15"
        assert first.code not in {i.code for i in patient_checklist(app.db, eid, 1)}


@sync
async def test_a_plan_changed_in_another_terminal_is_not_overwritten(db_path: Path) -> None:
    app = _doctor(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_tailor(pilot)
        await press(pilot, "d")
        await type_text(pilot, "5 min")
        await press(pilot, "enter", "enter")
        with connect(db_path, actor="Dr Other") as other:
            set_target_dosage(other, app.visit_id, "m1_pir", "2 x 1 min")
        await press(pilot, "ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen, "a stale save closed the screen"
        [theirs] = plan_changes_of(app.db, _episode(app))
        assert theirs.dosage == "2 x 1 min"
        assert "Not saved yet (1)" in _text(screen, "#tailor-pending")
        assert any("2 x 1 min" in line for line in _options(screen, "#plan-session"))
        await press(pilot, "ctrl+s")  # shown theirs: ours saves on top
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [c.dosage for c in plan_changes_of(app.db, _episode(app))] == [
            "2 x 1 min",
            "5 min",
        ]


@sync
async def test_the_session_shows_the_patients_own_list_with_targets_and_marks(
    db_path: Path,
) -> None:
    hostile = "[red]x\x1b[2J"
    app = _doctor(db_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_tailor(pilot)
        await press(pilot, "d")
        await type_text(pilot, "[bold]3 x 30 s")
        await press(pilot, "enter")
        await type_text(pilot, "[red]load up[/red]")
        await press(pilot, "enter", "a")
        await press(pilot, "tab")
        app.screen.query_one("#add-label", Input).value = hostile  # pasted: ESC is no key
        await press(pilot, "enter", "enter")
        await type_text(pilot, "why")
        await press(pilot, "enter")
        assert isinstance(app.screen, AddItemDialog)
        assert "control characters" in _text(app.screen, "#plan-error")
        await press(pilot, "escape", "ctrl+s")
        await app.workers.wait_for_complete()
    with connect(db_path, actor="tester") as db:
        complete_visit(db, app.visit_id)
        session = next_visit(db, get_visit(db, app.visit_id).episode_id)
        assert session is not None
    therapy = VisitHarness(db_path, session.id)
    async with therapy.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = therapy.screen
        assert isinstance(screen, VisitScreen)
        first = _options(screen, "#checklist")[0]
        assert "target [bold]3 x 30 s" in first
        assert "dosage [bold]3 x 30 s set by Test Therapist on 2026-11-25: [red]load up[/red]" in (
            first
        )
        await press(pilot, "d")  # the dosage dialog starts from the target
        assert screen.app.screen.query_one("#note-input", Input).value == "[bold]3 x 30 s"
    assert DAY.isoformat() == "2026-11-25"


@sync
async def test_the_key_is_in_help_and_only_at_a_doctors_appointment(db_path: Path) -> None:
    app = _doctor(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await press(pilot, "escape")
        screen = app.screen
        assert isinstance(screen, VisitScreen)
        keys = {b.binding.key: b for b in screen.active_bindings.values()}
        assert keys["a"].enabled and keys["a"].binding.show
        assert "Tailor the plan" in _help(screen)
        await press(pilot, "a")
        tailor = app.screen
        assert isinstance(tailor, TailorScreen)
        table = _help(tailor)
        for words in ("Add an item", "Remove the highlighted", "target dosage", "Save", "without"):
            assert words in table
    therapy = VisitHarness(db_path, clinic(db_path, "sciatica", 1))
    async with therapy.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = therapy.screen
        assert isinstance(screen, VisitScreen) and not screen.visit.is_doctor
        keys = {b.binding.key: b for b in screen.active_bindings.values()}
        assert "a" not in keys or not keys["a"].enabled
        await press(pilot, "a")
        assert therapy.screen is screen


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_of_the_tailor_screen(
    snap_compare: Any, db_path: Path, size: tuple[int, int]
) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await _open_tailor(pilot)
        await press(pilot, "a")
        dialog = pilot.app.screen
        assert isinstance(dialog, AddItemDialog)
        target = [c.code for c in dialog.choices].index("m1_figure_four")
        await press(pilot, *["down"] * target, "enter")
        await type_text(pilot, "3 x 30 s")
        await press(pilot, "enter")
        await type_text(pilot, "Buttock pain on sitting, piriformis tight")
        await press(pilot, "enter", "down", "d")
        await type_text(pilot, "3 x 1 min")
        await press(pilot, "enter", "enter")
        for widget in pilot.app.screen.query("Input, TextArea").results():
            assert isinstance(widget, Input | TextArea)
            widget.cursor_blink = False
        await pilot.pause()

    assert snap_compare(_doctor(db_path), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_of_the_add_dialog(
    snap_compare: Any, db_path: Path, size: tuple[int, int]
) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await _open_tailor(pilot)
        await press(pilot, "a", "down", "down")
        for widget in pilot.app.screen.query("Input").results():
            assert isinstance(widget, Input)
            widget.cursor_blink = False
        await pilot.pause()

    assert snap_compare(_doctor(db_path), terminal_size=size, run_before=before)
