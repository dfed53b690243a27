"""Saving while another program holds the database's write lock: wait visibly, keep working.

The workstation's connection waits only ATTEMPT_WAIT_S for the lock (the screen is still
meanwhile); a write that finds the database busy is retried every RETRY_EVERY_S from a
timer, so the screen keeps answering keys, while a notice says it is waiting. After
GIVE_UP_AFTER_S it stops with one clear message; the screen that asked keeps what was typed.

Writes queue in the order they were made: one that waits holds back the ones after it, so
a tick made during the wait cannot land before the note typed ahead of it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from textual.app import App
from textual.notifications import Notification, Notify

from kinesio_tui.errors import DatabaseBusy, KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.upstream_hooks import withdraw_notification

T = TypeVar("T")

#: How long one attempt may wait for the lock before the screen moves on (seconds).
ATTEMPT_WAIT_S = 0.2
#: Pause between attempts while the database is busy (seconds).
RETRY_EVERY_S = 0.5
#: After this long a waiting write is given up, with a message (seconds).
GIVE_UP_AFTER_S = 30.0


@dataclass
class _Write:
    write: Callable[[], Any]
    saved: Callable[[Any], None]
    failed: Callable[[KinesioError], None]
    started: float = field(default_factory=time.monotonic)


class WriteQueue:
    """The app's writes in order; the first one waits out a busy database for the rest."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.pending: deque[_Write] = deque()
        self.notice: Notification | None = None

    @property
    def waiting(self) -> bool:
        return bool(self.pending)

    def add(self, job: _Write) -> None:
        self.pending.append(job)
        if len(self.pending) == 1:
            self.run()

    def run(self) -> None:
        """Attempt the writes in order until one finds the database busy."""
        while self.pending:
            job = self.pending[0]
            try:
                result = job.write()
            except DatabaseBusy:
                waited = time.monotonic() - job.started
                if waited < GIVE_UP_AFTER_S:
                    self.show_waiting()
                    self.app.set_timer(RETRY_EVERY_S, self.run)
                    return
                self.give_up(waited)
                return
            except KinesioError as error:
                self.pending.popleft()
                job.failed(error)
                continue
            self.pending.popleft()
            job.saved(result)
        self.hide_waiting()

    def give_up(self, waited: float) -> None:
        """Every queued write fails alike (the lock is still held): each keeps its entry."""
        jobs, self.pending = list(self.pending), deque()
        self.hide_waiting()
        for job in jobs:
            job.failed(DatabaseBusy(waited))

    def show_waiting(self) -> None:
        if self.notice is not None:
            return
        self.notice = Notification(
            _(
                "Waiting for the database: another program is writing to it. "
                "What you entered is kept and saved as soon as it is free."
            ),
            _("Waiting for the database"),
            "warning",
            GIVE_UP_AFTER_S + 5,
            markup=False,
        )
        self.app.post_message(Notify(self.notice))

    def hide_waiting(self) -> None:
        notice, self.notice = self.notice, None
        if notice is not None:
            withdraw_notification(self.app, notice)


def write_queue(app: App[Any]) -> WriteQueue:
    """The app's one queue of writes (made on first use)."""
    queue = getattr(app, "_kinesio_write_queue", None)
    if not isinstance(queue, WriteQueue):
        queue = WriteQueue(app)
        app._kinesio_write_queue = queue  # type: ignore[attr-defined]
    return queue


def save_patiently(
    app: App[Any],
    write: Callable[[], T],
    saved: Callable[[T], None],
    failed: Callable[[KinesioError], None],
) -> None:
    """Run `write` now, or once the database is free; then `saved(result)` or `failed(error)`.

    `failed` gets every KinesioError: bad input, StaleRecord (changed in another terminal)
    or DatabaseBusy after the wait. `write` runs when its turn comes, so it should read the
    screen's basis (the version it shows) then, not when it was queued.
    """
    write_queue(app).add(_Write(write, saved, failed))


def say_failed(app: App[Any], error: KinesioError) -> None:
    """The plain way to report a write that did not happen (markup off: user text inside)."""
    app.notify(markup=False, message=error.message, title=error.title, severity="error")
