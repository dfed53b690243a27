"""Snapshots of the visit screens at 80x24 and 120x40 (fixed day, fake clock, no blinking)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, TextArea
from visit_harness import VisitHarness, clinic, press, type_text

from kinesio_tui.views.pir import PirScreen

SIZES = [(80, 24), (120, 40)]


def therapy(db_path: Path) -> VisitHarness:
    """Module 2, session 2 of a sciatica patient."""
    return VisitHarness(db_path, clinic(db_path, "sciatica", 16))


def doctor(db_path: Path) -> VisitHarness:
    """Module 1's control appointment of a radiculitis patient (intake values to compare)."""
    return VisitHarness(db_path, clinic(db_path, "radiculitis", 7))


def still(before: Callable[[Pilot[Any]], Awaitable[None]] | None = None) -> Any:
    """Run `before`, then stop every cursor blinking so the picture is stable."""

    async def run(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        if before is not None:
            await before(pilot)
        for widget in pilot.app.screen.query("Input, TextArea").results():
            assert isinstance(widget, Input | TextArea)
            widget.cursor_blink = False
        await pilot.pause()

    return run


@pytest.mark.parametrize("size", SIZES)
def test_therapy_session(snap_compare: Any, db_path: Path, size: tuple[int, int]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await press(pilot, "down", "down", "space", "d")
        await type_text(pilot, "3 x 10")
        await press(pilot, "enter")

    app = therapy(db_path)
    assert snap_compare(app, terminal_size=size, run_before=still(before))


@pytest.mark.parametrize("size", SIZES)
def test_doctors_appointment(snap_compare: Any, db_path: Path, size: tuple[int, int]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await press(pilot, "1", "1", "tab")  # VAS 11: refused, the reason next to the field

    app = doctor(db_path)
    assert snap_compare(app, terminal_size=size, run_before=still(before))


@pytest.mark.parametrize("size", SIZES)
def test_doctors_appointment_worse_than_baseline(
    snap_compare: Any, db_path: Path, size: tuple[int, int]
) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await press(pilot, "9", "enter")  # VAS 7 at intake: 2 points worse, said as saved

    app = doctor(db_path)
    assert snap_compare(app, terminal_size=size, run_before=still(before))


@pytest.mark.parametrize("size", SIZES)
def test_pir_mid_countdown(snap_compare: Any, db_path: Path, size: tuple[int, int]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, VisitHarness)
        await press(pilot, "p")
        pir = app.screen
        assert isinstance(pir, PirScreen)
        pir.query_one("#muscle", Select).value = "piriformis"
        pir.query_one("#side", Select).value = "L"
        await press(pilot, "ctrl+s")
        app.clock.advance(7 + 15 + 3 + 2.4)  # cycle 2, tension, 4.6 s left
        pir.tick()

    app = therapy(db_path)
    assert snap_compare(app, terminal_size=size, run_before=still(before))


@pytest.mark.parametrize("size", SIZES)
def test_record_test_dialog(snap_compare: Any, db_path: Path, size: tuple[int, int]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await press(pilot, "t")
        pilot.app.screen.query_one("#test-select", Select).value = "slr_angle"
        await pilot.pause()
        pilot.app.screen.query_one("#value-input", Input).focus()
        await press(pilot, "-", "5", "enter")  # refused: the reason next to the field

    app = therapy(db_path)
    assert snap_compare(app, terminal_size=size, run_before=still(before))
