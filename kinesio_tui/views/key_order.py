"""Keys in the order typed, each handled where the person meant it.

Textual routes a key when it takes it off the app's queue: to whichever widget has focus at
that moment. A fast typist, a script or a laggy SSH link delivers keys in one burst, so every
key of the burst is routed before the first has had its effect: the letters after `p` (open
the PIR recorder) or Tab (next field) went to the field or screen that was current before,
or were lost, or ran that screen's commands. So one key is let through at a time: the next
is held until everything the last one set off has run (its handlers, the screen it pushed
being built, the focus it moved), exactly as if it had been typed slowly.

"Everything has run" is read from Textual's message queues: the key, and all it causes,
travels as messages (a key to its widget and up to the screen and app, a pushed screen's
compose and mount, a focus change as a callback on the app's queue). When every queue of the
app and of the screens on its stack is empty, every screen on the stack is mounted and the
app is not inside a key's handler, the last key has done all it will do. The handler counts:
an action that awaits (a choice's list mounted the first time it opens) leaves every queue
empty while it waits, and the key let through then reached the field that had the focus
before the action moved it (a letter typed into the list was dropped on the choice). A worker thread's result (the patient list's search) is
not waited for: the list checks that itself before Enter opens anyone.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from textual import events

if TYPE_CHECKING:
    from textual.app import App
    from textual.widget import Widget

#: Widgets where a person picks rather than types: a letter typed there is dropped, never
#: passed up as the screen's command (a doctor typing "neg" into a scale field must not
#: open the visit note and the PIR recorder). By class name, so nothing more is imported.
CHOICE_FIELDS = frozenset({"Select", "ToggleButton", "SelectionList", "RadioSet"})
#: Turns of the event loop that must pass with nothing left to run before the next key.
QUIET_TURNS = 2
#: The longest a key is held if the app never goes quiet (a widget that animates without
#: pause): after this the held keys go on, rather than the keyboard seeming dead. Building
#: the doctor's form took 2.4 s on a loaded two-core machine: well under this.
MAX_HOLD_S = 10.0


def is_choice_field(widget: Widget | None) -> bool:
    return widget is not None and any(cls.__name__ in CHOICE_FIELDS for cls in type(widget).__mro__)


def is_typed_letter(event: events.Key) -> bool:
    """A printable character typed without Ctrl or Alt, other than Space (which ticks)."""
    character = event.character
    return (
        character is not None
        and len(character) == 1
        and character.isprintable()
        and character != " "
        and event.key not in ("question_mark",)  # help is a key a field never takes
    )


class KeyGate:
    """Lets one key (or paste) at a time into `app`; the rest wait, in order."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.held: deque[events.Event] = deque()
        self._busy = False
        self._released: events.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._handling = 0

    @contextmanager
    def handling(self) -> Iterator[None]:
        """The app is inside a key's (or paste's) handler: no key is let through meanwhile."""
        self._handling += 1
        try:
            yield
        finally:
            self._handling -= 1

    @property
    def idle(self) -> bool:
        """No key waiting, none in flight."""
        return not self._busy

    def admit(self, event: events.Event) -> bool:
        """True: handle `event` now. False: it is held until the keys before it are done."""
        if event is self._released:
            self._released = None
            return True
        if self._busy:
            self.held.append(event)
            return False
        self._busy = True
        self._task = asyncio.create_task(self._let_through())
        return True

    def quiet(self) -> bool:
        """Nothing queued anywhere that the last key could have set off, all screens built."""
        app = self.app
        if self._handling or app.message_queue_size:
            return False
        for screen in app.screen_stack:
            if not screen.is_mounted:
                return False
            for node in screen.walk_children(with_self=True):
                if node.message_queue_size:
                    return False
        return True

    async def _settled(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MAX_HOLD_S
        turns = quiet = 0
        while quiet < QUIET_TURNS and loop.time() < deadline:
            # yield to the loop; when a screen takes long to build, poll less often
            await asyncio.sleep(0 if turns < 20 else 0.001 if turns < 100 else 0.005)
            turns += 1
            quiet = quiet + 1 if self.quiet() else 0

    async def _let_through(self) -> None:
        try:
            while True:
                await self._settled()
                if not self.held or not self.app.is_running:
                    break
                event = self.held.popleft()
                self._released = event
                self.app.post_message(event)
        finally:
            self._busy = False
