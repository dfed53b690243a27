"""Snapshots of the Today screen and the attendance and move dialogs on the demo clinic's
day, at 80x24 and 120x40. Review the SVG diff before accepting a change."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_tui_snapshots_main import SIZES, snap
from textual.pilot import Pilot

from kinesio_tui.app import KinesioApp


async def _today(app: KinesioApp, pilot: Pilot[Any]) -> None:
    await pilot.press("ctrl+o")


@pytest.mark.parametrize("size", SIZES)
def test_today(
    snap_compare: Callable[..., bool], demo_db_path: Path, size: tuple[int, int]
) -> None:
    assert snap(snap_compare, demo_db_path, size, _today)


@pytest.mark.parametrize("size", SIZES)
def test_missed_dialog_refuses_an_empty_reason(
    snap_compare: Callable[..., bool], demo_db_path: Path, size: tuple[int, int]
) -> None:
    async def missed(app: KinesioApp, pilot: Pilot[Any]) -> None:
        await pilot.press("ctrl+o")
        await pilot.pause()
        await pilot.press("m")  # the overdue visit, first in the list
        await pilot.pause()
        await pilot.press("enter")
        await app.workers.wait_for_complete()

    assert snap(snap_compare, demo_db_path, size, missed)


@pytest.mark.parametrize("size", SIZES)
def test_move_dialog(
    snap_compare: Callable[..., bool], demo_db_path: Path, size: tuple[int, int]
) -> None:
    async def move(app: KinesioApp, pilot: Pilot[Any]) -> None:
        await pilot.press("ctrl+o")
        await pilot.pause()
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("ctrl+a", "ctrl+k", *"2026-12-25", "enter")  # Christmas: closed
        await app.workers.wait_for_complete()

    assert snap(snap_compare, demo_db_path, size, move)
