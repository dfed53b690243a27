"""A choice field (Textual's Select) drawn with fewer widgets.

Textual's Select shows its value with four widgets (a row holding the value and two
arrows) and holds the list that opens (an OptionList, filled as it is mounted) from the
start; a doctor's form has a dozen choices, and every widget a screen holds costs its first
open (styling and layout, traced). `Choice` shows the same line with one widget: the value
(dim while nothing is chosen), a space, and the arrow; its list is built the first time it
opens. Keys, messages and the list are Textual's own.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult, RenderResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import Select
from textual.widgets._select import NoSelection, SelectCurrent, SelectOverlay, SelectType

from kinesio_tui.views.styled_once import StyledWhenAttached


class ChoiceValue(SelectCurrent, StyledWhenAttached):
    """The chosen value and the arrow, drawn by one widget."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"choice-value--label", "choice-value--arrow"}
    DEFAULT_CSS = """
    ChoiceValue {
        height: 1;
    }
    ChoiceValue > .choice-value--label {
        color: $foreground 50%;
    }
    ChoiceValue.-has-value > .choice-value--label {
        color: $foreground;
    }
    ChoiceValue > .choice-value--arrow {
        color: $foreground 50%;
    }
    """

    class Clicked(Message):
        """A click on the value: open (or close) the list."""

    def compose(self) -> ComposeResult:
        return iter(())

    @on(events.Click)
    def clicked(self, event: events.Click) -> None:
        event.stop()
        event.prevent_default()  # not SelectCurrent's: its Toggle finds no list yet
        self.post_message(self.Clicked())

    @property
    def is_container(self) -> bool:
        """Not a row of widgets: its height is the line it draws."""
        return False

    @property
    def is_scrollable(self) -> bool:
        return False

    def update(self, label: RenderableType | NoSelection) -> None:
        """Show `label` (the placeholder for no value)."""
        self.label = label
        self.has_value = label is not Select.NULL
        self.refresh()

    def render(self) -> RenderResult:
        label = self.label
        shown = self.placeholder if isinstance(label, NoSelection) else label
        text = (
            Content.from_rich_text(shown) if isinstance(shown, str | Text) else Content(str(shown))
        )
        # The width it was laid out at: asking for its region (content_size) mid-layout made
        # the compositor map every widget of the screen once per choice (traced: ~60 ms of
        # each of the doctor's form's layout passes).
        inner = self.outer_size.width - self.styles.gutter.width
        width = max(0, inner - 2)  # the arrow and the space before it
        expanded = isinstance(self.parent, Select) and self.parent.expanded
        text = text.truncate(width).stylize(self.get_visual_style("choice-value--label"))
        return Content.assemble(
            text,
            " " * (width - text.cell_length + 1),
            ("▲" if expanded else "▼", self.get_visual_style("choice-value--arrow")),
        )


class Choice(Select[SelectType], StyledWhenAttached):
    """Textual's Select with its value drawn by one widget (see `ChoiceValue`) and its list
    mounted the first time it opens."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,down,space,up", "open_list", "Show menu", show=False)
    ]
    # A compact choice is its one line (its list opens over the screen): said, so that
    # laying it out does not arrange its value to learn its height (traced: a third of the
    # doctor's form's box-model time).
    DEFAULT_CSS = """
    Choice.-textual-compact {
        height: 1;
    }
    """

    def compose(self) -> ComposeResult:
        yield ChoiceValue(self.prompt)

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
        current = next(iter(self.query_children(ChoiceValue).results(ChoiceValue)), None)
        if current is None:
            return
        if value == self.NULL:
            current.update(self.NULL)
        else:
            for prompt, option in self._options:
                if option == value:
                    current.update(prompt)
                    break
            overlay = self._overlay()
            if overlay is not None:
                self._highlight_value(overlay)
        self.post_message(self.Changed(self, value))

    async def action_open_list(self) -> None:
        """Select's keys (Enter, Space, Up, Down): the list, built if need be, opens."""
        await self._ensure_overlay()
        self.action_show_overlay()

    async def on_choice_value_clicked(self, event: ChoiceValue.Clicked) -> None:
        """Open or close the list, as Select does on a click."""
        event.stop()
        await self._ensure_overlay()
        self.expanded = not self.expanded

    def _watch_expanded(self, expanded: bool) -> None:
        super()._watch_expanded(expanded)
        for current in self.query(ChoiceValue):
            current.refresh()
