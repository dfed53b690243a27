"""A new screen's first layout is its last: no second pass and no repaint after its first frame.

Textual lays a pushed screen out once for its first frame, then again at the next idle, and
repaints all of it (traced on the therapy session and the PIR recorder: a second layout of
every widget and a second full frame, ~10 ms of the UI thread and as many bytes again to the
terminal as the first frame). Nothing had changed; the second pass answered requests that the
first one had already met:

- every widget's layout or repaint asked for while it was built and filled (a Static's
  update, a text area's size, the footer's keys): each widget sends its request to the
  screen when its own queue is idle, and those requests wait in the screen's queue behind
  the first layout, which laid out and drew everything as it then was;
- each widget's virtual size, set by that layout from its own result (a reactive that asks
  for a layout when it changes);
- the screen's own repaint, which Textual asks for right after laying a resumed screen out;
- the screen's layout Textual asks for once the widgets it was built with are mounted (the
  await of its compose's mount, run after the first layout when nothing delayed it): the
  first such request, if no widget was added since the first layout.

So after the first layout of a screen these requests are dropped, unless that layout changed
the room inside a widget (a scroll bar shown or hidden): then everything goes on as Textual
wants. Requests made after the first frame (a key, a resize, a notification, a widget's
answer to its first size) are Textual's as usual.
"""

from __future__ import annotations

from textual import messages
from textual._time import get_time
from textual.geometry import Size, Spacing
from textual.screen import Screen, ScreenResultType
from textual.widget import Widget


def scroll_bar_room(widgets: list[Widget]) -> list[Spacing]:
    """The cells each widget's scroll bars take."""
    return [widget.scrollbar_gutter for widget in widgets]


class LaidOutOnce(Screen[ScreenResultType]):
    """A screen whose first layout (and its frame) stands until something changes."""

    #: When the first layout and its frame were done (Textual's clock); None: not yet.
    _laid_out_at: float | None = None
    #: The repaint Textual asks for right after the first layout is not needed.
    _painted = False
    #: How many widgets the first layout laid out, until the layout asked for once they are
    #: all mounted has been answered (None: answered, or not laid out yet).
    _built_with: int | None = None

    def lay_out_as_textual_does(self) -> None:
        """Keep Textual's passes after the first frame (a screen not checked without them)."""
        self._laid_out_at = float("-inf")

    def _refresh_layout(self, size: Size | None = None, scroll: bool = False) -> None:
        first = self._laid_out_at is None and self.is_current and bool(size or self.outer_size)
        if not first:
            super()._refresh_layout(size, scroll)
            return
        widgets = list(self.walk_children(Widget))
        room = scroll_bar_room(widgets)
        super()._refresh_layout(size, scroll)
        self._laid_out_at = get_time()
        if scroll_bar_room(widgets) != room:
            self._laid_out_at = float("-inf")  # laid out again, as Textual does
            return
        for widget in [self, *widgets]:
            widget._layout_required = False
            widget._repaint_required = False
        self._painted = True
        self._built_with = len(widgets)
        self.call_next(self._frame_out)

    def _frame_out(self) -> None:
        self._painted = False

    def _met_by_first_layout(self, message: messages.Layout | messages.Update) -> bool:
        """A request sent before the first layout was done (that layout met it)."""
        return self._laid_out_at is not None and message.time <= self._laid_out_at

    async def _on_layout(self, message: messages.Layout) -> None:
        if self._met_by_first_layout(message):
            message.stop()
            message.prevent_default()  # not Screen._on_layout

    async def _on_update(self, message: messages.Update) -> None:
        if self._met_by_first_layout(message):
            message.stop()
            message.prevent_default()  # not Screen._on_update

    def refresh(
        self,
        *regions: object,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> LaidOutOnce[ScreenResultType]:
        if self._painted and not (regions or layout or recompose):
            self._painted = False  # the first frame is this repaint
            return self
        if layout and self._built_with is not None and not (regions or recompose):
            built_with, self._built_with = self._built_with, None
            if len(self.walk_children(Widget)) == built_with:
                return self  # its widgets, all laid out by the first layout, are mounted
        super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)  # type: ignore[arg-type]
        return self
