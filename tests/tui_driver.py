"""Driving the real workstation headless: shared by the shell's Pilot tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

from textual.pilot import Pilot

from kinesio_tui.app import KinesioApp, build_app
from kinesio_tui.views.row_table import RowTable

#: The fixed clinic day of every test (a Wednesday).
DAY = date(2026, 11, 25)

Script = Callable[[KinesioApp, Pilot[None]], Awaitable[None]]


def drive(db_path: Path, script: Script, *, size: tuple[int, int] = (80, 24)) -> None:
    """Run the app headless (80x24 by default) and play `script` against it."""

    async def main() -> None:
        app = build_app(db_path, today=DAY)
        async with app.run_test(size=size) as pilot:
            await settle(app, pilot)
            await script(app, pilot)

    asyncio.run(main())


async def settle(app: KinesioApp, pilot: Pilot[None]) -> None:
    """Let search workers finish and their results reach the screen."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def names(app: KinesioApp) -> list[str]:
    """The names in the patient list, top to bottom."""
    table = app.screen.query_one("#patients", RowTable)
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
