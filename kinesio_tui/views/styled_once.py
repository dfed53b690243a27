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

from textual import events, messages
from textual._time import get_time
from textual.css.styles import RenderStyles
from textual.dom import DOMNode
from textual.geometry import Size
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


class PartsStyledWhenDrawn(Widget):
    """A widget whose parts (COMPONENT_CLASSES: an Input's cursor, placeholder, suggestion
    and selection) are styled the first time it draws them, not each time it is styled.

    Textual styles every part of a widget with the widget (a style pass each, as costly as
    the widget's own), although most are drawn seldom (a field's selection) or, for a widget
    below the fold, not before it is scrolled into view: the doctor's form had 4 parts per
    field, ~120 passes at every first open. Here a part is styled when it is asked for, as
    Textual styles it (a node of that class under the widget), and again after the widget is
    restyled or its classes or pseudo-classes (focus, hover) change.

    A mixin named last among a widget's bases (see `StyledWhenAttached`)."""

    #: The classes and pseudo-classes the parts were styled for.
    _parts_styled_for: object = None

    @classmethod
    def _get_component_classes(cls) -> frozenset[str]:  # type: ignore[override]
        """None for Textual's stylesheet to style with the widget (see `_parts`)."""
        return frozenset()

    @classmethod
    def _parts(cls) -> frozenset[str]:
        """The widget's parts: its COMPONENT_CLASSES, with its bases' (as Textual reads them)."""
        return DOMNode._get_component_classes.__func__(cls)  # type: ignore[attr-defined,no-any-return]

    def get_component_styles(self, *names: str) -> RenderStyles:
        state = (self.classes, self._pseudo_classes_cache_key)
        if state != self._parts_styled_for:
            self._component_styles.clear()
            self._parts_styled_for = state
        parts = self._parts()
        for name in names:
            if name in parts and name not in self._component_styles:
                part = DOMNode(classes=name)
                part._attach(self)
                self.app.stylesheet.apply(part, animate=False)
                self._component_styles[name] = part.styles
        return super().get_component_styles(*names)

    def notify_style_update(self) -> None:
        self._parts_styled_for = None  # restyled: its parts too, when next drawn
        super().notify_style_update()


class FieldInput(Input, StyledWhenAttached, PartsStyledWhenDrawn):
    """A one-line field (Textual's Input) styled once as it is mounted, its parts (cursor,
    placeholder, selection) when drawn."""


class BuiltScreen(Screen[ScreenResultType]):
    """A screen shown with the styles its widgets were given as they were mounted, laid out
    once for its first frame with its keys and notifications as they will stay."""

    _shown_once = False
    _resized_once = False
    #: When the first layout began (the clock of Textual's messages), or None.
    _first_layout_at: float | None = None
    #: The garbage collector waits for this screen's first frame (see `on_compose`).
    _collector_paused = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        with contextlib.suppress(RuntimeError):  # built outside a running app: its resize adds it
            self.add_class(width_class(self.app.size.width), update=False)

    def _refresh_layout(self, size: Size | None = None, scroll: bool = False) -> None:
        """The first layout of the screen answers every request to lay it out made while it
        was built, and gives every widget its first size; Textual then lays it out again
        at the same sizes (a pass of every widget, and a frame, after the first: ~10% of the
        doctor's appointment's time to settle, traced), for the requests already queued and
        for each widget's new virtual size. Both are dropped (see `_on_layout`), unless that
        first layout showed or hid a scrollbar, which narrows what is inside it: then the
        second pass is needed. Later layouts are Textual's."""
        if self._first_layout_at is not None or scroll or not (size or self.outer_size):
            super()._refresh_layout(size, scroll)
            return
        self._first_layout_at = get_time()
        widgets = list(self.walk_children(Widget, with_self=True))
        scrollbars = [(w.show_vertical_scrollbar, w.show_horizontal_scrollbar) for w in widgets]
        super()._refresh_layout(size, scroll)
        if scrollbars == [
            (w.show_vertical_scrollbar, w.show_horizontal_scrollbar) for w in widgets
        ]:
            for widget in widgets:
                widget._layout_required = False
                for bar in (
                    widget._vertical_scrollbar,
                    widget._horizontal_scrollbar,
                    widget._scrollbar_corner,
                ):
                    if bar is not None:  # not the widget's children: sized with it
                        bar._layout_required = False

    async def _on_layout(self, message: messages.Layout) -> None:
        """A request to lay the screen out that was posted before its first layout began
        was answered by it: Screen._on_layout, next in the MRO, is left out."""
        if self._first_layout_at is not None and message.time < self._first_layout_at:
            message.prevent_default()

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
