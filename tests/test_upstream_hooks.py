"""Each private hook of kinesio_tui/upstream_hooks.py, and the upstream behaviour it relies on.

When one of these fails after an upgrade, the library changed what the hook reaches into:
read upstream_hooks.py and the library's new code before changing the pin.
"""

from __future__ import annotations

import asyncio

import pytest
from rich.text import Text
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations
from textual.app import App

from kinesio_tui.data.db import SCHEMA_STEPS
from kinesio_tui.data.migrations import migrations
from kinesio_tui.upstream_hooks import (
    CalmCrashApp,
    Crashed,
    character_to_key,
    shown_notifications,
    unicode_name_of_key,
    withdraw_notification,
)

SECRET = "Ona Petraitiene, VAS 9"


class Exploding(CalmCrashApp):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Exception] = []

    def on_mount(self) -> None:
        raise ValueError(SECRET)

    def crashed(self, error: Exception) -> Text:
        self.seen.append(error)
        return Text("calm line")


def test_an_unhandled_error_reaches_crashed_and_shows_only_its_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """App._handle_exception still receives every unhandled error and exits through panic."""
    app = Exploding()

    async def run() -> None:
        async with app.run_test() as pilot:
            await pilot.pause()

    with pytest.raises(Crashed) as crashed:
        asyncio.run(run())
    assert [type(error) for error in app.seen] == [ValueError], "Textual no longer calls it"
    assert crashed.value.__cause__ is app.seen[0]
    assert app.return_code == 1
    shown = capsys.readouterr()
    assert "calm line" in shown.err + shown.out
    assert SECRET not in shown.err + shown.out


class Noticing(App[None]):
    pass


def test_a_notification_is_listed_while_shown_and_withdrawn_on_request() -> None:
    """App._notifications holds what is on screen; App._unnotify takes one away."""
    app = Noticing()

    async def run() -> None:
        async with app.run_test() as pilot:
            app.notify("first")
            app.notify("second")
            await pilot.pause()
            shown = shown_notifications(app)
            assert [n.message for n in shown] == ["first", "second"]
            withdraw_notification(app, shown[0])
            await pilot.pause()
            assert [n.message for n in shown_notifications(app)] == ["second"]
            withdraw_notification(app, shown[0])  # already gone: nothing happens

    asyncio.run(run())


def test_pending_on_an_empty_database_lists_every_step_in_registration_order() -> None:
    """The public view data/migrations.py checks its steps' order with (no private list)."""
    steps = Migrations("order")

    @steps(name="0002_second")
    def second(db: Database) -> None:
        db.execute("CREATE TABLE b (id INTEGER)")

    @steps(name="0001_first")
    def first(db: Database) -> None:
        db.execute("CREATE TABLE a (id INTEGER)")

    empty = Database(memory=True, execute_plugins=False)
    assert [step.name for step in steps.pending(empty)] == ["0002_second", "0001_first"]
    assert [step.fn for step in steps.pending(empty)] == [second, first]
    names = [step.name for step in migrations.pending(empty)]
    assert tuple(names) == SCHEMA_STEPS


def test_a_typed_character_becomes_the_key_a_terminal_sends() -> None:
    """How tests/tui_driver.py builds a terminal's key events, as Pilot does."""
    assert character_to_key("?") == "question_mark"
    assert character_to_key("a") == "a"
    assert unicode_name_of_key("question_mark") == "QUESTION MARK"
