"""A choice field (Textual's Select) drawn by one widget.

Textual's Select shows its value with four widgets (a row holding the value and two
arrows) and holds the list that opens (an OptionList, filled as it is mounted) from the
start; a doctor's form has a dozen choices, and every widget a screen holds costs its first
open (mounting, styling and layout, traced). `Choice` draws the same line itself: the value
(dim while nothing is chosen), a space, and the arrow; its list is built the first time it
opens. Keys, messages and the list are Textual's own.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult, RenderResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Select
from textual.widgets._select import NoSelection, SelectOverlay, SelectType

from kinesio_tui.views.styled_once import PartsStyledWhenDrawn, StyledWhenAttached


class Choice(Select[SelectType], StyledWhenAttached, PartsStyledWhenDrawn):
    """Textual's Select with its value drawn by the choice itself (one widget, not a row of
    four: the line Select's `SelectCurrent` draws, in its colours) and its list mounted the
    first time it opens."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,down,space,up", "open_list", "Show menu", show=False)
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "choice--placeholder",
        "choice--value",
        "choice--arrow",
    }
    # A compact choice is its one line (its list opens over the screen, on the line below,
    # as wide as the choice): said, so that laying it out does not arrange anything to learn
    # its height. Its colours are those Select gives its compact `SelectCurrent` (background,
    # the tint when focused, the dim placeholder and arrow, the terminal's own colours under
    # `ansi`).
    DEFAULT_CSS = """
    Choice.-textual-compact {
        height: 1;
        background: $surface;
        pointer: pointer;
        &:focus {
            background-tint: $foreground 5%;
        }
        &:ansi {
            color: ansi_default;
            background: ansi_default;
        }
    }
    Choice > SelectOverlay {
        offset-y: 1;
    }
    Choice > .choice--placeholder {
        color: $foreground 50%;
        background: transparent;
    }
    Choice > .choice--value {
        color: $foreground;
        background: transparent;
    }
    Choice > .choice--arrow {
        color: $foreground 50%;
        background: transparent;
    }
    """

    #: Composed: its value is shown and its changes are posted (as Select does once its
    #: row of widgets is there).
    _drawn = False

    def compose(self) -> ComposeResult:
        self._drawn = True
        return iter(())

    def _prompt_of_value(self) -> object:
        """The chosen option's prompt, or NULL when nothing is chosen."""
        value = self.value
        if value != self.NULL:
            for prompt, option in self._options:
                if option == value:
                    return prompt
        return self.NULL

    def render(self) -> RenderResult:
        """The value (or the placeholder), padded to the arrow: Select's line."""
        shown = self._prompt_of_value()
        chosen = not isinstance(shown, NoSelection)
        label = shown if chosen else self.prompt
        text = (
            Content.from_rich_text(label) if isinstance(label, str | Text) else Content(str(label))
        )
        # The width it was laid out at: asking for its region (content_size) mid-layout made
        # the compositor map every widget of the screen once per choice (traced: ~60 ms of
        # each of the doctor's form's layout passes).
        inner = self.outer_size.width - self.styles.gutter.width
        width = max(0, inner - 3)  # the space before the arrow, the arrow, a space after it
        style = self.get_visual_style("choice--value" if chosen else "choice--placeholder")
        text = text.truncate(width).stylize(style)
        return Content.assemble(
            text,
            " " * (width - text.cell_length + 1),
            ("▲" if self.expanded else "▼", self.get_visual_style("choice--arrow")),
            " ",
        )

    def _overlay(self) -> SelectOverlay | None:
        """The list, once it has been opened."""
        return next(iter(self.query_children(SelectOverlay).results(SelectOverlay)), None)

    async def _ensure_overlay(self) -> SelectOverlay:
        """The list, built (as Select builds it on mount) the first time it is needed."""
        overlay = self._overlay()
        if overlay is None:
            overlay = SelectOverlay(type_to_search=self._type_to_search)
            overlay.compact = self.compact  # Select binds it; a choice's never changes
            await self.mount(overlay)
            self._setup_options_renderables()
            self._highlight_value(overlay)
        return overlay

    def _setup_options_renderables(self) -> None:
        if self._overlay() is not None:  # else built when the list first opens
            super()._setup_options_renderables()

    def _highlight_value(self, overlay: SelectOverlay) -> None:
        for index, (_prompt, value) in enumerate(self._options):
            if value == self.value and value != self.NULL:
                overlay.highlighted = index
                return

    def _watch_value(self, value: SelectType | NoSelection) -> None:
        """Show the new value (Select's watcher, without a list to highlight it in)."""
        self._value = value
        if not self._drawn:
            return
        overlay = self._overlay()
        if overlay is not None and value != self.NULL:
            self._highlight_value(overlay)
        self.refresh()
        self.post_message(self.Changed(self, value))

    def _watch_prompt(self, prompt: str) -> None:
        """A new placeholder: drawn on the line, and named in the list once it is built
        (Select's watcher, without its row of widgets)."""
        overlay = self._overlay()
        if overlay is not None and self._allow_blank:
            overlay.replace_option_prompt_at_index(0, Text(prompt, style="dim"))
        self.refresh()

    async def action_open_list(self) -> None:
        """Select's keys (Enter, Space, Up, Down): the list, built if need be, opens."""
        await self._ensure_overlay()
        self.action_show_overlay()

    def action_show_overlay(self) -> None:
        """Select's, without its row of widgets: the list opens on the first option if
        nothing was highlighted."""
        self.expanded = True
        overlay = self._overlay()
        if overlay is not None and overlay.highlighted is None:
            overlay.action_first()

    async def on_click(self, event: events.Click) -> None:
        """A click on the line opens or closes the list, as a click on Select's row does
        (a click in the open list is the list's)."""
        if event.widget is not self:
            return
        event.stop()
        await self._ensure_overlay()
        self.expanded = not self.expanded

    def _watch_expanded(self, expanded: bool) -> None:
        """Show or hide the list (Select's watcher, without its row of widgets): it takes the
        focus on the chosen option; the arrow turns."""
        self.set_class(expanded, "-expanded")
        overlay = self._overlay()
        if expanded and overlay is not None:
            overlay.focus(scroll_visible=False)
            if self.value == self.NULL:
                overlay.select(None)
            else:
                for index, (_prompt, value) in enumerate(self._options):
                    if value == self.value:
                        overlay.select(index)
                        break
        self.refresh()
