"""Snapshots of who treats, a held visit read back, and the dialogs that reopen a visit or
correct a recorded value, at 80x24 and 120x40 on the demo clinic, on a fixed day.

Review the SVG diff before accepting a change with `--snapshot-update`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_tui_snapshots_main import SIZES, steady
from textual.pilot import Pilot
from textual.widgets import Input

from kinesio_tui.app import KinesioApp, build_app


@pytest.mark.parametrize("size", SIZES)
def test_who_is_treating_first_screen(
    snap_compare: Callable[..., bool], demo_db_path: Path, size: tuple[int, int]
) -> None:
    app = build_app(demo_db_path, ask_therapist=True)

    async def before(pilot: Pilot[Any]) -> None:
        await steady(pilot)
        app.screen.query_one(Input).value = "x\x1b[31m"
        await pilot.press("enter")
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


def held_visit_app(db_path: Path) -> tuple[KinesioApp, int, int]:
    """The app on a patient whose first session is held (test_history's patient)."""
    from test_history import held_session

    pid, visit = held_session(db_path)
    return build_app(db_path, actor="Ona Kita"), pid, visit.id


async def open_held_visit(app: KinesioApp, pilot: Pilot[Any], pid: int, visit_id: int) -> None:
    from kinesio_tui.views.patient import VisitTable

    await steady(pilot)
    app.open_patient(pid)
    await steady(pilot)
    table = app.screen.query_one(VisitTable)
    table.move_cursor(table.get_row_index(str(visit_id)))
    table.focus()
    await pilot.press("enter")
    await steady(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_held_visit_read_only(
    snap_compare: Callable[..., bool], db_path: Path, size: tuple[int, int]
) -> None:
    app, pid, visit_id = held_visit_app(db_path)

    async def before(pilot: Pilot[Any]) -> None:
        await open_held_visit(app, pilot, pid, visit_id)

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_reopen_dialog(
    snap_compare: Callable[..., bool], db_path: Path, size: tuple[int, int]
) -> None:
    app, pid, visit_id = held_visit_app(db_path)

    async def before(pilot: Pilot[Any]) -> None:
        await open_held_visit(app, pilot, pid, visit_id)
        await pilot.press("o")
        await steady(pilot)
        app.screen.query_one(Input).value = "[red]x" + "y" * 600
        await pilot.press("enter")
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_correction_dialog(
    snap_compare: Callable[..., bool], db_path: Path, size: tuple[int, int]
) -> None:
    app, pid, visit_id = held_visit_app(db_path)

    async def before(pilot: Pilot[Any]) -> None:
        await open_held_visit(app, pilot, pid, visit_id)
        screen = app.screen
        entries = getattr(screen, "entries")  # noqa: B009
        index = next(i for i, e in enumerate(entries) if e and e.kind == "test")
        screen.query_one("#record-list").highlighted = index  # type: ignore[attr-defined]
        await pilot.press("x")
        await steady(pilot)
        app.screen.query_one(Input).value = "4"
        await pilot.press("enter")
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)
