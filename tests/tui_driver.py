"""Driving the real workstation headless: shared by the shell's Pilot tests."""

from __future__ import annotations

import asyncio
import contextlib
import unicodedata
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App
from textual.keys import REPLACED_KEYS
from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from kinesio_tui.app import KinesioApp, build_app
from kinesio_tui.upstream_hooks import character_to_key, unicode_name_of_key
from kinesio_tui.views.row_table import RowTable

Script = Callable[[KinesioApp, Pilot[None]], Awaitable[None]]


def drive(db_path: Path, script: Script, *, size: tuple[int, int] = (80, 24)) -> None:
    """Run the app headless (80x24 by default) and play `script` against it."""

    async def main() -> None:
        app = build_app(db_path)
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


def key_event(key: str) -> events.Key:
    """The Key event a terminal read produces for `key` (a key name or one character)."""
    if len(key) == 1 and not key.isalnum():
        key = character_to_key(key)
    try:
        char: str | None = unicodedata.lookup(unicode_name_of_key(REPLACED_KEYS.get(key, key)))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


async def burst(app: App[Any], pilot: Pilot[None], *keys: str) -> None:
    """Queue `keys` back to back, as one terminal read delivers a fast typist's burst.

    Pilot's `press` waits for the app to be idle after every key, which hides every ordering
    bug; here all keys are queued before the first is handled. Then let the app settle.
    """
    for key in keys:
        app.post_message(key_event(key))
    gate = getattr(app, "_keys", None)
    for _ in range(500):  # until every held key has been let through (at most 10 s)
        await pilot.pause(0.02)
        if gate is None or gate.idle:
            break
    for _ in range(3):
        await pilot.pause(0.05)
        with contextlib.suppress(WorkerCancelled):  # a newer search replaced it
            await app.workers.wait_for_complete()
    await pilot.pause()
