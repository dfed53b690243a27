"""The key hints at the bottom of every screen.

A module of its own so the patient list, the first screen, loads without the programme
widgets (timeline, sparkline, results) and the protocol they read.
"""

from __future__ import annotations

import asyncio
from typing import Any

from textual.screen import Screen
from textual.widgets import Footer

from kinesio_tui.upstream_hooks import mark_footer_ready

#: How long a new screen waits for its footer's keys before its first layout (seconds).
SHOW_KEYS_WAIT_S = 0.5


class KeyFooter(Footer):
    """The Footer, rebuilt only when the keys it shows change, and at most once per refresh.

    Textual's Footer recomposes on every bindings refresh (each focus change, each
    refresh_bindings), restyling every key: profiled, about 15 % of opening a patient
    screen went to rebuilding identical key lists. And each refresh queues a rebuild of its
    own: a new screen refreshes its bindings three times before its first paint (mounted,
    focused, data loaded), so three rebuilds of ~25 ms each ran after it, all reading the same
    final keys. One rebuild is queued at a time, and it compares the keys when it runs.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple[tuple[str, str, bool], ...] | None = None
        self._rebuild_queued = False

    @staticmethod
    def _keys(screen: Screen[Any]) -> tuple[tuple[str, str, bool], ...]:
        return tuple(
            (binding.key, binding.description, enabled)
            for (_node, binding, enabled, _tooltip) in screen.active_bindings.values()
            if binding.show
        )

    def bindings_changed(self, screen: Screen[Any]) -> None:
        """Queue one rebuild (as Footer does), unless one is already queued."""
        mark_footer_ready(self)
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_queued:
            self._rebuild_queued = True
            self.call_after_refresh(self._rebuild)

    async def show_keys(self) -> None:
        """Build the keys of the screen's focus now, before its first layout (a new screen's
        first resume, views/styled_once.py): else they are mounted after its first frame,
        and laying the screen out again for them was a second layout pass of every widget.

        The footer builds them itself (Textual binds each key to the footer being composed),
        next in its own queue; this waits for that, a moment at most."""
        built = asyncio.get_running_loop().create_future()

        def done() -> None:
            built.set_result(None)

        async def build() -> None:
            try:
                mark_footer_ready(self)
                await self._rebuild()
            finally:
                # after what mounting the keys queued behind this (Textual lays out the
                # footer's screen again once they are mounted): before the first layout too
                self.call_next(done)

        self.call_next(build)
        await asyncio.wait({built}, timeout=SHOW_KEYS_WAIT_S)

    async def _rebuild(self) -> None:
        """Recompose for a different set of keys, descriptions or enabled states."""
        self._rebuild_queued = False
        if not self.is_attached:
            return
        keys = self._keys(self.screen)
        if keys != self._shown:
            self._shown = keys
            await self.recompose()
