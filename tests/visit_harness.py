"""A tiny host app for the visit screens: what the real app provides, nothing else."""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Static

from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.views.visit import VisitScreen


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class VisitHarness(App[None]):
    """Opens one visit screen on a real database file, as the patient screen would."""

    def __init__(
        self,
        db_path: Path,
        visit_id: int,
        today: date,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__()
        self.db_path = db_path
        self.db: ClinicDB = connect(db_path, actor="Test Therapist")
        self.today = today
        self.actor = "Test Therapist"
        self.visit_id = visit_id
        self.clock = clock or FakeClock()
        self.results: list[bool | None] = []
        self.ticks = itertools.count()

    def compose(self) -> ComposeResult:
        yield Static("patient screen", id="host")

    def on_mount(self) -> None:
        self.push_screen(VisitScreen(self.visit_id, pir_clock=self.clock), self.results.append)

    def on_unmount(self) -> None:
        self.db.close()


def sync(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async pilot test with asyncio.run (the suite has no async pytest plugin)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


async def press(pilot: Pilot[Any], *keys: str) -> None:
    """Press keys one by one, letting the messages each one posts be handled."""
    for key in keys:
        await pilot.press(key)
        await pilot.pause()
