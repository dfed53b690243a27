"""A tiny host app for the visit screens: what the real app provides, nothing else."""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any

from conftest import DAY, FakeClock
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Static

from kinesio_tui import clock as product_clock
from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient, Visit
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.visits import (
    checklist_for_visit,
    complete_visit,
    next_visit,
    record_measurement,
    start_visit,
    tick_item,
    visits_of,
)
from kinesio_tui.errors import KinesioError
from kinesio_tui.views import db_wait
from kinesio_tui.views.layout import BREAKPOINTS
from kinesio_tui.views.visit import begin_visit


class VisitHarness(App[None]):
    """Opens one visit screen on a real clinic (a SQLite file's path or a PostgreSQL URL,
    as `--db` takes it), as the patient screen would."""

    HORIZONTAL_BREAKPOINTS = BREAKPOINTS

    def __init__(
        self,
        db_path: Path | str,
        visit_id: int,
        clock: FakeClock | None = None,
    ) -> None:
        super().__init__()
        self.db_path = db_path
        self.db: ClinicDB = connect(
            db_path, actor="Test Therapist", write_wait_s=db_wait.ATTEMPT_WAIT_S
        )
        self.actor = "Test Therapist"
        self.visit_id = visit_id
        self.clock = clock or FakeClock()
        self.results: list[bool | None] = []
        self.ticks = itertools.count()

    @property
    def today(self) -> date:
        """The clinic day, from the product's clock, as the real app reads it."""
        return product_clock.today()

    def compose(self) -> ComposeResult:
        yield Static("patient screen", id="host")

    def on_mount(self) -> None:
        try:  # as Enter on the visit does: start it, then show it
            screen = begin_visit(self, self.visit_id, pir_clock=self.clock)
        except KinesioError as error:  # not started: said, and no visit screen
            db_wait.say_failed(self, error)
            self.results.append(False)
            return
        self.push_screen(screen, self.results.append)

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


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Type into the focused field: characters need no pause between them."""
    await pilot.press(*text)
    await pilot.pause()


def hold(db: ClinicDB, visit: Visit) -> None:
    """Hold one visit today, with what a therapist or doctor would record there."""
    start_visit(db, visit.id, today=DAY)
    if visit.kind == "doctor" and visit.number == 1:
        for code, side, value in [
            ("vas", None, 7),
            ("slr_angle", "L", 40),
            ("slr_angle", "R", 70),
            ("slr_sign", "L", "positive"),
            ("palpation_tone", "L", "spasm"),
            ("schober", None, 3.5),
            ("sitting_tolerance", None, 20),
        ]:
            record_measurement(db, visit.id, code, value, side)
    elif visit.kind == "therapy":
        for item in checklist_for_visit(db, visit):
            if not item.pir:
                tick_item(db, visit.id, item.code, f"{visit.number} x 10")
        record_measurement(db, visit.id, "vas", max(0, 7 - visit.seq // 3))
    complete_visit(db, visit.id)


def clinic(db_path: Path | str, condition: str, held: int) -> int:
    """A clinic of one patient who has held `held` visits; returns the next visit's id.

    Built here through the domain (not the demo) so the pictures change only with the screens.
    """
    with connect(db_path, actor="tester") as db:
        patient_id = create_patient(
            db, NewPatient("Eglė", "Bandomoji", "1981-02-03", "F"), today=DAY
        )
        subtype = "lumbar" if condition == "radiculitis" else "upper"
        episode_id = open_episode(db, patient_id, NewEpisode(condition, subtype, "L"), today=DAY)
        for visit in visits_of(db, episode_id)[:held]:
            hold(db, visit)
        upcoming = next_visit(db, episode_id)
        assert upcoming is not None
        return upcoming.id
