"""Every place kinesio-tui reaches into a library's private internals, and only those.

Textual 8.2 offers no public way to do these things; each is kept here, small, so an
upgrade has one file to read, and tests/test_upstream_hooks.py fails by name when Textual
changes what a hook relies on. The tests also find here the private names they read: the
notifications' widget (Toast) and how a terminal's character becomes a key name
(character_to_key, unicode_name_of_key), as Pilot does it. (sqlite-utils needs none: its public `Migrations.pending`
lists the registered steps.) Checked against the versions in constraints.txt.
"""

from __future__ import annotations

import functools
from typing import Any

from rich.console import RenderableType
from textual import screen as textual_screen
from textual.app import App
from textual.keys import _character_to_key as character_to_key
from textual.keys import _get_unicode_name_from_key as unicode_name_of_key
from textual.keys import key_to_character as textual_key_character
from textual.notifications import Notification
from textual.widgets._toast import Toast

__all__ = [
    "KEY_CHARACTERS",
    "CalmCrashApp",
    "Crashed",
    "Toast",
    "character_to_key",
    "key_character",
    "keys_without_name_lookups",
    "shown_notifications",
    "unicode_name_of_key",
    "withdraw_notification",
]

if not callable(getattr(App, "_handle_exception", None)):  # without it, tracebacks show locals
    raise RuntimeError("textual.app.App._handle_exception is gone: see upstream_hooks.py")


class Crashed(Exception):
    """An unexpected error, as the app reports it: only `shown` reaches the screen.

    The original error is the `__cause__` (Pilot re-raises this in tests, with it).
    """

    def __init__(self, shown: RenderableType) -> None:
        super().__init__("the app stopped after an unexpected error")
        self.shown = shown

    def __rich__(self) -> RenderableType:
        return self.shown


class CalmCrashApp(App[None]):
    """An app whose unexpected errors go to `crashed` instead of Textual's traceback.

    Textual prints an unhandled error as a traceback with local variables (patient records,
    here). Its private `_handle_exception` is the one place every such error passes; giving
    it an error that renders itself (`__rich__`) makes Textual show only that, set the
    return code to 1 and leave, through its public `panic`.
    """

    def crashed(self, error: Exception) -> RenderableType:
        """What to show instead of the traceback (and whatever else to do first)."""
        raise NotImplementedError

    def _handle_exception(self, error: Exception) -> None:
        calm = Crashed(self.crashed(error))
        calm.__cause__ = error
        super()._handle_exception(calm)


def shown_notifications(app: App[Any]) -> list[Notification]:
    """The notifications on screen now (Textual keeps them in a private collection)."""
    return list(app._notifications)


def withdraw_notification(app: App[Any], notification: Notification) -> None:
    """Take one notification off the screen before its timeout, if it is still shown."""
    if notification in app._notifications:
        app._unnotify(notification)


#: What Textual's key_to_character answers for the named keys the workstation's screens and
#: Textual's own widgets bind (tests/test_upstream_hooks.py checks each against it).
KEY_CHARACTERS: dict[str, str | None] = {
    "backspace": "\x08",
    "delete": "\x7f",
    "down": None,
    "end": None,
    "enter": None,
    "escape": "\x1b",
    "home": None,
    "insert": None,
    "left": None,
    "pagedown": None,
    "pageup": None,
    "question_mark": "?",
    "right": None,
    "slash": None,
    "space": " ",
    "tab": "\t",
    "up": None,
}


@functools.lru_cache(maxsize=1024)  # as Textual's
def key_character(key: str) -> str | None:
    """Textual's key_to_character (the character a bound key types), from KEY_CHARACTERS
    for the keys it holds instead of the Unicode name database.

    Textual asks it for every key bound above the focused widget whenever a screen's keys
    are read (Screen._binding_chain). Each first lookup of a name (a miss too: "SLASH",
    "UP") reads pages of unicodedata's name tables: ~0.8 MiB of the workstation's memory
    on the patient list (smaps), where a bare app reads none."""
    _modifiers, plus, name = key.rpartition("+")
    if plus:
        return None  # as Textual: a key with a modifier types no character
    if len(name) == 1:
        return name
    if name in KEY_CHARACTERS:
        return KEY_CHARACTERS[name]
    return textual_key_character(key)


def keys_without_name_lookups() -> None:
    """Let Textual's screens find the character of a bound key through `key_character`
    (textual.screen calls the key_to_character it imported, by its module-global name)."""
    vars(textual_screen)["key_to_character"] = key_character
