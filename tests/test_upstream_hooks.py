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
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.keys import key_to_character as textual_key_to_character
from textual.screen import Screen
from textual.widgets import Input

from kinesio_tui.data.db import SCHEMA_STEPS
from kinesio_tui.data.migrations import migrations
from kinesio_tui.upstream_hooks import (
    KEY_CHARACTERS,
    CalmCrashApp,
    Crashed,
    character_to_key,
    key_character,
    keys_without_name_lookups,
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


@pytest.mark.parametrize("key", sorted(KEY_CHARACTERS))
def test_key_character_answers_as_textual_does(key: str) -> None:
    """Each key KEY_CHARACTERS answers for, with and without modifiers, as Textual's own."""
    for bound in (key, f"ctrl+{key}", f"shift+{key}"):
        assert key_character(bound) == textual_key_to_character(bound), bound


def test_key_character_asks_textual_for_any_other_key() -> None:
    for key in ("a", "Z", "5", "f1", "ctrl+x", "exclamation_mark", "circumflex_accent"):
        assert key_character(key) == textual_key_to_character(key), key


class TypingApp(App[None]):
    BINDINGS = [Binding("slash", "search", "Search"), Binding("question_mark", "help", "Help")]

    def compose(self) -> ComposeResult:
        yield Input()


def test_screens_read_the_character_of_a_bound_key_through_the_hook() -> None:
    """Screen._binding_chain still calls textual.screen's module-global key_to_character;
    with the hook installed, reading a screen's keys (an Input focused: Textual asks which
    keys it would type) never asks Textual's lookup for the keys KEY_CHARACTERS holds."""
    assert "key_to_character" in Screen._binding_chain.fget.__code__.co_names  # type: ignore[attr-defined]
    keys_without_name_lookups()
    textual_key_to_character.cache_clear()
    app = TypingApp()
    shown: list[str] = []

    async def run() -> None:
        async with app.run_test() as pilot:
            await pilot.pause()
            shown.extend(app.screen.active_bindings)

    asyncio.run(run())
    assert "slash" in shown and "question_mark" not in shown  # the Input types "?"
    asked = textual_key_to_character.cache_info()
    assert asked.misses == 0, asked
