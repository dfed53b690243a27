"""A choice field (Textual's Select) drawn with fewer widgets.

Textual's Select shows its value with four widgets (a row holding the value and two
arrows); a doctor's form has a dozen choices, and every widget a screen holds costs its
first open (styling and layout, traced). `Choice` shows the same line with one: the value
(dim while nothing is chosen), a space, and the arrow. Keys, messages and the list that
opens are Textual's own.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.content import Content
from textual.widgets import Select
from textual.widgets._select import NoSelection, SelectCurrent, SelectOverlay, SelectType


class ChoiceValue(SelectCurrent):
    """The chosen value and the arrow, drawn by one widget."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"choice-value--label", "choice-value--arrow"}
    DEFAULT_CSS = """
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

    def compose(self) -> ComposeResult:
        return iter(())

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
        width = max(0, self.content_size.width - 2)  # the arrow and the space before it
        expanded = isinstance(self.parent, Select) and self.parent.expanded
        text = text.truncate(width).stylize(self.get_visual_style("choice-value--label"))
        return Content.assemble(
            text,
            " " * (width - text.cell_length + 1),
            ("▲" if expanded else "▼", self.get_visual_style("choice-value--arrow")),
        )


class Choice(Select[SelectType]):
    """Textual's Select with its value drawn by one widget (see `ChoiceValue`)."""

    def compose(self) -> ComposeResult:
        yield ChoiceValue(self.prompt)
        yield SelectOverlay(type_to_search=self._type_to_search).data_bind(compact=Select.compact)

    def _watch_expanded(self, expanded: bool) -> None:
        super()._watch_expanded(expanded)
        for current in self.query(ChoiceValue):
            current.refresh()
