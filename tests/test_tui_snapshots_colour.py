"""The screens where colour could carry meaning, at 80x24, as a monochrome terminal
(NO_COLOR=1) and a 16-colour one (TERM=xterm-16color) show them.

A ticked box, a red flag, a held or missed visit must read the same in each: the glyphs
and words carry the meaning, colour only repeats it. Review the SVG diff before accepting
a change with `--snapshot-update`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from rich.color import ColorSystem
from rich.segment import Segment
from rich.style import Style
from test_tui_snapshots_main import steady
from test_tui_snapshots_visit import doctor, still, therapy
from textual.app import App
from textual.color import Color
from textual.filter import LineFilter
from textual.pilot import Pilot
from visit_harness import press

from kinesio_tui.app import KinesioApp, build_app
from kinesio_tui.data.db import open_db
from kinesio_tui.domain.patients import find_patients

SIZE = (80, 24)
TERMINALS = ["no-color", "16-colour"]
AnyApp = TypeVar("AnyApp", bound=App[Any])


class SixteenColours(LineFilter):
    """What a 16-colour terminal makes of each colour: the nearest of its standard 16.

    Rich does this to the app's output when the terminal says it has 16 colours; the
    screenshot is drawn in true colour, so the test does the same step itself.
    """

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        out = []
        for text, style, control in segments:
            if style is not None and (style.color or style.bgcolor):
                style = style + Style(
                    color=style.color.downgrade(ColorSystem.STANDARD) if style.color else None,
                    bgcolor=(
                        style.bgcolor.downgrade(ColorSystem.STANDARD) if style.bgcolor else None
                    ),
                )
            out.append(Segment(text, style, control))
        return out


def as_terminal(app: AnyApp, terminal: str) -> AnyApp:
    """Set the app up as that terminal would (the environment is read as the app is built)."""
    if terminal == "no-color":
        assert app.no_color
    else:
        assert app.console.color_system == "standard"
        app._filters.append(SixteenColours())
    return app


@pytest.fixture(params=TERMINALS)
def terminal(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.delenv("TEXTUAL_COLOR_SYSTEM", raising=False)
    if request.param == "no-color":
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
        monkeypatch.setenv("TERM", "xterm-16color")
    return str(request.param)


def snap_app(
    snap_compare: Callable[..., bool],
    app: KinesioApp,
    before: Callable[[Pilot[Any]], Awaitable[None]] | None = None,
) -> bool:
    async def run_before(pilot: Pilot[Any]) -> None:
        await steady(pilot)
        if before is not None:
            await before(pilot)
            await steady(pilot)

    return snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_patient_list(snap_compare: Any, demo_db_path: Path, terminal: str) -> None:
    app = as_terminal(build_app(demo_db_path), terminal)
    assert snap_app(snap_compare, app)


def test_patient_screen(snap_compare: Any, demo_db_path: Path, terminal: str) -> None:
    with open_db(demo_db_path) as db:
        (patient,) = find_patients(db, "zemaite")
    app = as_terminal(build_app(demo_db_path), terminal)

    async def open_patient(pilot: Pilot[Any]) -> None:
        app.open_patient(patient.id)

    assert snap_app(snap_compare, app, open_patient)


def test_episode_form_one_flag_ticked(snap_compare: Any, demo_db_path: Path, terminal: str) -> None:
    with open_db(demo_db_path) as db:
        (patient,) = find_patients(db, "mockute")  # registered, no episode yet
    app = as_terminal(build_app(demo_db_path), terminal)

    async def tick_saddle_numbness(pilot: Pilot[Any]) -> None:
        app.open_patient(patient.id)
        await steady(pilot)
        await pilot.press("o")
        await steady(pilot)
        app.screen.query_one("#flags").focus()
        await pilot.press("down", "space")

    assert snap_app(snap_compare, app, tick_saddle_numbness)


def test_therapy_session(snap_compare: Any, db_path: Path, terminal: str) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await press(pilot, "down", "down", "space")

    app = as_terminal(therapy(db_path), terminal)
    assert snap_compare(app, terminal_size=SIZE, run_before=still(before))


def test_doctors_flags_one_ticked(snap_compare: Any, db_path: Path, terminal: str) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        pilot.app.screen.query_one("#flag-saddle_numbness").focus()
        await press(pilot, "space")

    app = as_terminal(doctor(db_path), terminal)
    assert snap_compare(app, terminal_size=SIZE, run_before=still(before))
