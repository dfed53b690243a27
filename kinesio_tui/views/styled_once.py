"""Screens and fields styled and laid out once as they are built, not again after.

Textual styles every widget as it is mounted (App._register) and lays a new screen out as it
is first shown. Traced on the doctor's appointment, it then did most of that work again:

- A class set on a widget before it is mounted (`compact=True` sets one through a reactive,
  `add_class` another) restyled that widget there and then, although nothing was shown and
  mounting styles it anyway: a style pass per class change, ~70 per doctor's form.
- A pushed screen's first ScreenResume restyled the whole screen it had just built (108
  widgets, a third of the doctor's appointment's time to its first frame). Later resumes
  (back from a dialog or the PIR recorder) restyle as Textual wants.
- Its first Resize (its size as just laid out) laid it and every screen under it out again
  at the same size, and added its width class (restyling every widget) after the first
  frame; the class is now given as it is built.
- The cyclic garbage collector ran a dozen times while the screen was built (a full
  collection among them: ~25 ms of the UI thread's ~140 to the doctor's form's first frame,
  traced), walking objects that all live as long as the screen. It waits until the first
  frame is out; what it then finds is collected as usual, after the person sees the screen.
- After the first frame, two more layout passes of every widget: one for the key footer,
  whose keys were mounted only then, one for the notifications' rack, whose `display` was
  set (to what its CSS already said) only then.

What the person sees is the same: the styles each widget is given at mount are the ones the
second pass gave it again, and the first frame now has the keys the next one added.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Any

from textual import events
from textual.screen import Screen, ScreenResultType
from textual.widget import Widget
from textual.widgets import Input

from kinesio_tui.views.layout import width_class

#: The id Textual gives each screen's notifications rack (Screen._extend_compose).
TOAST_RACK_ID = "textual-toastrack"


class StyledWhenAttached(Widget):
    """A widget whose class changes restyle it only once it is in the app (before that,
    mounting styles it with its classes as they are then).

    A mixin named last among a widget's bases (`class FieldInput(Input, StyledWhenAttached)`):
    Textual takes a widget's CSS (type names, DEFAULT_CSS, component classes) from the line
    of its first base; placed last, it still comes before Widget in the MRO."""

    def update_node_styles(self, animate: bool = True) -> None:
        if self.is_attached:
            super().update_node_styles(animate=animate)


class FieldInput(Input, StyledWhenAttached):
    """A one-line field (Textual's Input) styled once as it is mounted."""


class BuiltScreen(Screen[ScreenResultType]):
    """A screen shown with the styles its widgets were given as they were mounted, laid out
    once for its first frame with its keys and notifications as they will stay."""

    _shown_once = False
    _resized_once = False
    #: The garbage collector waits for this screen's first frame (see `on_compose`).
    _collector_paused = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        with contextlib.suppress(RuntimeError):  # built outside a running app: its resize adds it
            self.add_class(width_class(self.app.size.width), update=False)

    async def _on_resize(self, event: events.Resize) -> None:
        """Textual answers a new screen's first Resize (its size as just laid out) by laying
        out this screen and every screen under it again at the same size (traced: two of the
        doctor's form's layout passes); its width class is set as it is built (width_class).
        Any other resize goes on to Textual's handler (Screen._on_resize, next in the MRO)."""
        if self._resized_once:
            return
        self._resized_once = True
        if event.size == self.size and self.has_class(width_class(event.size.width)):
            event.prevent_default()
            event.stop()

    def on_compose(self) -> None:
        """Building starts: the collector waits until the first frame is out (resume_collector)."""
        if gc.isenabled():
            gc.disable()
            self._collector_paused = True

    def resume_collector(self) -> None:
        """Let the garbage collector run again (after the first frame, or as the screen goes)."""
        if self._collector_paused:
            self._collector_paused = False
            gc.enable()

    def on_unmount(self) -> None:
        self.resume_collector()

    async def on_screen_resume(self, event: events.ScreenResume) -> None:
        """The first resume (the screen pushed, just built) leaves styles as they are and
        settles the footer and the notifications' rack; Screen._on_screen_resume, next in
        the MRO, then lays the screen out."""
        if self._shown_once:
            return
        self._shown_once = True
        self.call_after_refresh(self.resume_collector)  # after the layout below and its frame
        event.refresh_styles = False
        for rack in self.query_children(f"#{TOAST_RACK_ID}"):
            # hidden by its CSS; set as Textual sets it when no notification is shown, so
            # that setting it after the first frame changes nothing (a notification still
            # shows it, and lays the screen out, as before)
            rack.display = False
        from kinesio_tui.views.footer import KeyFooter

        for footer in self.query_children(KeyFooter):
            await footer.show_keys()
