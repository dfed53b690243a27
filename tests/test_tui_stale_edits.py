"""Two terminals on one visit, through the screens: a stale edit is refused, the newer value
shows, and what the person typed is kept (Ctrl+R puts it back).

"The other terminal" is a second connection on the same file, committing between what our
screen showed and our save.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input, Static, TextArea
from visit_harness import VisitHarness, clinic, press, sync, type_text

from kinesio_tui.data.db import connect
from kinesio_tui.domain.episodes import latest_red_flag_screen, raised_red_flags, screen_red_flags
from kinesio_tui.domain.visits import (
    complete_visit,
    get_visit,
    measurements_of,
    record_measurement,
    set_visit_note,
    tick_item,
    ticks_of,
)
from kinesio_tui.upstream_hooks import shown_notifications
from kinesio_tui.views.checklist import Checklist
from kinesio_tui.views.doctor import DoctorForm
from kinesio_tui.views.record_test import RecordTestDialog
from kinesio_tui.views.visit import NoteDialog, VisitScreen


def notes_of(app: VisitHarness) -> list[str]:
    return [f"{n.title}: {n.message}" for n in shown_notifications(app)]


def text_of(widget: Static) -> str:
    return str(widget.render())


def other_terminal_note(path: Path, visit_id: int, text: str) -> None:
    with connect(path, actor="other") as other:
        shown = get_visit(other, visit_id)
        set_visit_note(other, visit_id, text, expected_version=shown.version)


@pytest.fixture(autouse=True)
def _no_typing_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    """The note saves when the test says (leaving the field), not after a pause."""
    monkeypatch.setattr("kinesio_tui.views.visit.NOTE_SAVE_DELAY", 3600)


@sync
async def test_a_stale_visit_note_is_refused_and_the_typed_text_is_kept(db_path: Path) -> None:
    visit_id = clinic(db_path, "sciatica", held=1)
    app = VisitHarness(db_path, visit_id)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await press(pilot, "n")
        await type_text(pilot, "Sat 2 h, worse")
        other_terminal_note(db_path, visit_id, "Doctor: refer for MRI")
        await press(pilot, "escape")  # leaving the field saves the note
        assert get_visit(app.db, visit_id).note == "Doctor: refer for MRI"
        note = app.screen.query_one("#visit-note", TextArea)
        assert note.text == "Doctor: refer for MRI"  # the newer value shows
        kept = app.screen.query_one("#note-kept", Static)
        assert kept.display and "Sat 2 h, worse" in text_of(kept)
        assert any("changed in another terminal" in n for n in notes_of(app))

        await press(pilot, "ctrl+r")  # put my text back, after theirs
        assert note.text == "Doctor: refer for MRI\nSat 2 h, worse"
        assert not kept.display
        await press(pilot, "escape")
        assert get_visit(app.db, visit_id).note == "Doctor: refer for MRI\nSat 2 h, worse"


@sync
async def test_a_stale_doctors_field_is_refused_the_newer_value_shows_and_mine_is_kept(
    db_path: Path,
) -> None:
    visit_id = clinic(db_path, "radiculitis", held=0)
    app = VisitHarness(db_path, visit_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        form = app.screen.query_one(DoctorForm)
        vas = form.query_one("#f-vas-x", Input)
        assert app.focused is vas
        with connect(db_path, actor="other") as other:  # both screens showed no VAS yet
            record_measurement(other, visit_id, "vas", 5, expected_version=0)
        await press(pilot, "7", "enter")
        [saved] = measurements_of(app.db, visit_id)
        assert saved.value == 5.0  # theirs stays
        assert vas.value == "5"  # and shows
        line = text_of(form.query_one("#err-vas", Static))
        assert "changed in another terminal" in line and "7" in line

        await press(pilot, "ctrl+r")  # mine back in the field
        assert vas.value == "7"
        await press(pilot, "enter")  # and saved over theirs, knowingly
        [saved] = measurements_of(app.db, visit_id)
        assert saved.value == 7.0


@sync
async def test_a_stale_red_flag_screen_is_refused_and_shows_the_newer_flags(
    db_path: Path,
) -> None:
    visit_id = clinic(db_path, "radiculitis", held=0)
    app = VisitHarness(db_path, visit_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        form = app.screen.query_one(DoctorForm)
        episode_id = get_visit(app.db, visit_id).episode_id
        with connect(db_path, actor="other") as other:
            shown, _flags = latest_red_flag_screen(other, episode_id)
            screen_red_flags(
                other, episode_id, ["saddle_numbness"], visit_id=visit_id, expected_version=shown
            )
        form.query_one("#flag-bladder_bowel", Checkbox).value = True
        await pilot.pause()
        assert raised_red_flags(app.db, episode_id) == ["saddle_numbness"]
        assert form.query_one("#flag-saddle_numbness", Checkbox).value is True
        assert form.query_one("#flag-bladder_bowel", Checkbox).value is False
        assert any("changed in another terminal" in n for n in notes_of(app))
        assert app.screen.query_one("#visit-alarm").has_class("-raised")


@sync
async def test_space_on_an_item_ticked_in_another_terminal_does_not_untick_it(
    db_path: Path,
) -> None:
    visit_id = clinic(db_path, "sciatica", held=1)
    app = VisitHarness(db_path, visit_id)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, VisitScreen)
        first = screen.items[0].code
        with connect(db_path, actor="other") as other:
            tick_item(other, visit_id, first, "3 x 10", expected_version=0)
        await press(pilot, "space")  # our screen showed it unticked: tick, not untick
        assert ticks_of(app.db, visit_id)[first].note == "3 x 10"
        assert any("changed in another terminal" in n for n in notes_of(app))
        prompt = screen.query_one(Checklist).get_option_at_index(0).prompt
        assert "3 x 10" in str(prompt)


@sync
async def test_a_stale_dosage_keeps_the_typed_dosage_in_the_dialog(db_path: Path) -> None:
    visit_id = clinic(db_path, "sciatica", held=1)
    app = VisitHarness(db_path, visit_id)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, VisitScreen)
        first = screen.items[0].code
        await press(pilot, "d")
        assert isinstance(app.screen, NoteDialog)
        await type_text(pilot, "2 x 15")
        with connect(db_path, actor="other") as other:
            tick_item(other, visit_id, first, "3 x 10", expected_version=0)
        await press(pilot, "enter")
        assert ticks_of(app.db, visit_id)[first].note == "3 x 10"
        dialog = app.screen
        assert isinstance(dialog, NoteDialog)  # open again, with what I typed
        assert dialog.query_one("#note-input", Input).value == "2 x 15"
        assert "3 x 10" in text_of(dialog.query_one("#note-conflict", Static))
        await press(pilot, "enter")  # saved over theirs, knowingly
        assert ticks_of(app.db, visit_id)[first].note == "2 x 15"


@sync
async def test_a_stale_test_result_keeps_the_dialog_open_with_the_typed_value(
    db_path: Path,
) -> None:
    visit_id = clinic(db_path, "sciatica", held=1)
    app = VisitHarness(db_path, visit_id)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await press(pilot, "t")
        dialog = app.screen
        assert isinstance(dialog, RecordTestDialog) and dialog.test.code == "vas"
        await type_text(pilot, "4")
        with connect(db_path, actor="other") as other:
            record_measurement(other, visit_id, "vas", 6, expected_version=0)
        await press(pilot, "enter")
        assert [m.value for m in measurements_of(app.db, visit_id)] == [6.0]
        assert app.screen is dialog
        assert dialog.query_one("#value-input", Input).value == "4"
        assert (
            "changed in another terminal"
            in text_of(dialog.query_one("#value-error", Static)).lower()
        )
        assert "6" in text_of(dialog.query_one("#last-value", Static))
        await press(pilot, "enter")
        assert [m.value for m in measurements_of(app.db, visit_id)] == [4.0]
        assert app.screen is not dialog


@sync
async def test_completing_a_visit_changed_in_another_terminal_is_refused(db_path: Path) -> None:
    visit_id = clinic(db_path, "sciatica", held=1)
    app = VisitHarness(db_path, visit_id)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        with connect(db_path, actor="other") as other:
            complete_visit(other, visit_id)
        await press(pilot, "c", "y")
        assert app.results == []  # our screen is still open, told why
        assert any("changed in another terminal" in n for n in notes_of(app))
