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

from kinesio_tui.app import build_app


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
