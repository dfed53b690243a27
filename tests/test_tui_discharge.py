"""The discharge dialog at a module's final appointment, driven through Pilot on a real file:
`D` opens it (only there), Ctrl+S saves every field at once, Esc writes nothing, a form
based on what another terminal has since changed is refused; and its picture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import DAY
from test_tui_snapshots_visit import SIZES, still
from textual.pilot import Pilot
from textual.widgets import Input, Select
from visit_harness import VisitHarness, clinic, press, sync, type_text

from kinesio_tui.data.db import connect
from kinesio_tui.domain.discharge import DischargeText, discharge_of, record_discharge
from kinesio_tui.domain.visits import get_visit
from kinesio_tui.views.discharge import DischargeDialog


def final(db_path: Path) -> VisitHarness:
    """Module 1's final appointment (visit 15) of a radiculitis patient, in progress."""
    return VisitHarness(db_path, clinic(db_path, "radiculitis", 14))


def recorded(db_path: Path, visit_id: int) -> tuple[object, ...] | None:
    with connect(db_path) as db:
        found = discharge_of(db, get_visit(db, visit_id).episode_id)
    if found is None:
        return None
    return (
        found.medication,
        found.work_status,
        found.work_note,
        found.recommendations,
        found.follow_up,
        found.review_date,
        found.version,
    )


async def open_dialog(pilot: Pilot[Any]) -> DischargeDialog:
    await press(pilot, "escape", "D")  # out of the doctor's field, then the key
    screen = pilot.app.screen
    assert isinstance(screen, DischargeDialog)
    return screen


@sync
async def test_the_doctor_types_the_discharge_and_ctrl_s_saves_it(db_path: Path) -> None:
    app = final(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await open_dialog(pilot)
        await type_text(pilot, "none")
        dialog.query_one("#discharge-work", Select).value = "modified"
        await press(pilot, "tab", "tab")
        await type_text(pilot, "no lifting for 4 weeks")
        await press(pilot, "tab")
        await type_text(pilot, "Home exercises daily")
        await press(pilot, "enter")  # a second line: recommendations take several
        await type_text(pilot, "<b>walk</b> [red]30 min[/]")
        await press(pilot, "tab")
        await type_text(pilot, "GP review in 3 months")
        await press(pilot, "tab")
        await type_text(pilot, "2027-02-25")
        await press(pilot, "ctrl+s")
        assert not isinstance(app.screen, DischargeDialog)
    assert recorded(db_path, app.visit_id) == (
        "none",
        "modified",
        "no lifting for 4 weeks",
        "Home exercises daily\n<b>walk</b> [red]30 min[/]",
        "GP review in 3 months",
        DAY.replace(year=2027, month=2, day=25),
        1,
    )


@sync
async def test_esc_leaves_and_writes_nothing(db_path: Path) -> None:
    app = final(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dialog(pilot)
        await type_text(pilot, "something typed")
        await press(pilot, "escape")
        assert not isinstance(app.screen, DischargeDialog)
    assert recorded(db_path, app.visit_id) is None


@sync
async def test_a_field_refused_keeps_the_dialog_open_and_writes_nothing(db_path: Path) -> None:
    app = final(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await open_dialog(pilot)
        dialog.query_one("#discharge-review", Input).value = "2020-01-01"
        await press(pilot, "ctrl+s")
        assert app.screen is dialog
        error = str(dialog.query_one("#discharge-error").render())
        assert "Review date" in error and "past" in error
    assert recorded(db_path, app.visit_id) is None


@sync
async def test_a_second_terminals_discharge_is_not_overwritten_unseen(db_path: Path) -> None:
    app = final(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await open_dialog(pilot)
        await type_text(pilot, "mine")
        with connect(db_path, actor="other") as other:  # meanwhile, another terminal saves
            record_discharge(other, app.visit_id, DischargeText(medication="theirs"), today=DAY)
        await press(pilot, "ctrl+s")
        assert app.screen is dialog  # refused: nothing written, what was typed kept
        assert "another terminal" in str(dialog.query_one("#discharge-error").render())
        assert recorded(db_path, app.visit_id) == ("theirs", "", "", "", "", None, 1)
        await press(pilot, "ctrl+s")  # saved over theirs, now that it was said
        assert not isinstance(app.screen, DischargeDialog)
    found = recorded(db_path, app.visit_id)
    assert found is not None and found[0] == "mine" and found[-1] == 2


@sync
async def test_the_key_is_offered_at_a_final_appointment_only(db_path: Path) -> None:
    control = VisitHarness(db_path, clinic(db_path, "radiculitis", 7))
    async with control.run_test(size=(120, 40)) as pilot:
        await press(pilot, "escape")
        assert "Complete" in offered(control)  # the screen's own keys are the ones offered
        assert "Discharge" not in offered(control)
        await press(pilot, "D")
        assert not isinstance(control.screen, DischargeDialog)
    app = final(db_path.with_name("final.db"))
    async with app.run_test(size=(120, 40)) as pilot:
        await press(pilot, "escape")  # out of the doctor's field: the screen's keys
        assert "Discharge" in offered(app)


def offered(app: VisitHarness) -> list[str]:
    """The keys the visit screen offers now (its footer and help list these)."""
    return [b.binding.description for b in app.screen.active_bindings.values() if b.enabled]


@pytest.mark.parametrize("size", SIZES)
def test_discharge_dialog(snap_compare: Any, db_path: Path, size: tuple[int, int]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await press(pilot, "escape", "D")
        await type_text(pilot, "none")
        await press(pilot, "tab", "tab", "tab")
        await type_text(pilot, "Home exercises of module 3 daily; keep the self-correction.")

    app = final(db_path)
    assert snap_compare(app, terminal_size=size, run_before=still(before))


@sync
async def test_the_discharge_key_shows_whole_in_the_footer_at_80_columns(db_path: Path) -> None:
    from test_tui_nothing_cut import keys_cut

    from kinesio_tui.views.footer import KeyFooter

    app = final(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "escape")
        footer = " ".join(
            f"{k.key_display} {k.description}" for k in app.screen.query_one(KeyFooter).keys_shown
        )
        assert "D Discharge" in footer, footer
        assert keys_cut(app) == []
