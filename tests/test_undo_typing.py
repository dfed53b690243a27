"""Ctrl+Z does what a person expects: inside a text field it takes back typing in that field;
outside, the last recorded change of this visit, saying what it undid."""

from __future__ import annotations

import pytest
from conftest import DAY
from textual.widgets import Input, TextArea
from visit_harness import VisitHarness, press, sync, type_text

from kinesio_tui.data.db import connect
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.visits import measurements_of, next_visit, start_visit
from kinesio_tui.upstream_hooks import shown_notifications
from kinesio_tui.views.visit import VisitScreen

# The check saved as the field is left, and the undo that takes it back, on both engines.
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def notices(app: object) -> list[str]:
    return [n.message for n in shown_notifications(app)]  # type: ignore[arg-type]


def doctors_visit(db_target: str) -> int:
    with connect(db_target, actor="tester") as db:
        pid = create_patient(db, NewPatient("Jonas", "Testas", "1980-03-04", "M"), today=DAY)
        episode_id = open_episode(db, pid, NewEpisode("radiculitis", "lumbar", "R"), today=DAY)
        visit = next_visit(db, episode_id)
        assert visit is not None
        start_visit(db, visit.id, today=DAY)
        return visit.id


@sync
async def test_ctrl_z_in_a_field_takes_back_typing_not_a_saved_check(db_target: str) -> None:
    visit_id = doctors_visit(db_target)
    app = VisitHarness(db_target, visit_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, VisitScreen)
        first = screen.focused
        assert isinstance(first, Input)
        await type_text(pilot, "7")
        await press(pilot, "tab")  # saved as the field is left; the next field has the focus
        assert [m.value for m in measurements_of(app.db, visit_id)] == [7.0]
        second = screen.focused
        assert isinstance(second, Input) and second is not first
        await type_text(pilot, "45")
        await press(pilot, "ctrl+z")
        assert second.value == "4"  # the typing, one step
        assert [m.value for m in measurements_of(app.db, visit_id)] == [7.0]  # the check stays
        await press(pilot, "ctrl+z", "ctrl+z")
        assert second.value == ""
        assert "Nothing typed to undo in this field." in notices(app)
        assert [m.value for m in measurements_of(app.db, visit_id)] == [7.0]
        await press(pilot, "escape")  # out of the field: Ctrl+Z takes back the saved check
        await press(pilot, "ctrl+z")
        assert measurements_of(app.db, visit_id) == []
        assert any(n.startswith("Undone: VAS") for n in notices(app)), notices(app)


@sync
async def test_ctrl_z_in_the_note_takes_back_typing_only(db_target: str) -> None:
    visit_id = doctors_visit(db_target)
    app = VisitHarness(db_target, visit_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await type_text(pilot, "7")
        await press(pilot, "enter")
        await press(pilot, "escape", "n")
        note = app.screen.focused
        assert isinstance(note, TextArea)
        await type_text(pilot, "Slept badly")
        await press(pilot, "ctrl+z")
        assert note.text == ""
        assert [m.value for m in measurements_of(app.db, visit_id)] == [7.0]
