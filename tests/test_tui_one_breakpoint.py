"""One width breakpoint for every screen: the `-wide` class Textual sets and the Python
layout of each screen switch at the same column."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static
from tui_driver import drive, settle

from kinesio_tui.app import KinesioApp
from kinesio_tui.views import layout
from kinesio_tui.views.patient import PatientScreen
from kinesio_tui.views.patients import PatientsScreen
from kinesio_tui.views.row_table import RowTable
from kinesio_tui.views.visit import VisitScreen

VIEWS = Path(__file__).parent.parent / "kinesio_tui" / "views"


@pytest.mark.parametrize("width", [layout.WIDE_FROM - 1, layout.WIDE_FROM])
def test_every_screen_goes_wide_at_the_one_breakpoint(demo_db_path: Path, width: int) -> None:
    wide = width >= layout.WIDE_FROM

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        screen = app.screen
        assert isinstance(screen, PatientsScreen)
        assert screen.has_class("-wide") is wide
        columns = [col.key for col in screen.query_one("#patients", RowTable).columns]
        assert ("phone" in columns) is wide  # the list's own wide layout

        await pilot.press(*"zemaite", "enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, PatientScreen)
        assert screen.has_class("-wide") is wide
        header = str(screen.query_one("#patient-header", Static).render())
        assert ("+370" in header) is wide  # the phone, only when there is room

        await pilot.press("enter")  # her session under way today
        await settle(app, pilot)
        assert isinstance(app.screen, VisitScreen)
        assert app.screen.has_class("-wide") is wide

    drive(demo_db_path, script, size=(width, 40))


def test_the_breakpoint_is_written_once() -> None:
    """No screen compares its width with a number of its own."""
    found = []
    for path in VIEWS.glob("*.py"):
        if path.name == "layout.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value == layout.WIDE_FROM:
                found.append(f"{path.name}:{node.lineno}")
    assert found == []
