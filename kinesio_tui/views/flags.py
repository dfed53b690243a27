"""Boxes that read the same without colour: "[x]" ticked, "[ ]" not; "(•)" chosen, "( )" not.

Textual's checkbox and selection list draw one glyph ("X") for both states and tell them
apart by colour only; in a monochrome terminal, with NO_COLOR or as plain text every box
looked ticked. The checklist of a session uses the same two marks.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.strip import Strip
from textual.widgets import Checkbox, OptionList, RadioButton, SelectionList

from kinesio_tui.views.styled_once import PartsStyledWhenDrawn, StyledWhenAttached

TICKED = "[x]"
UNTICKED = "[ ]"


def mark(on: bool) -> str:
    return TICKED if on else UNTICKED


class FlagBox(Checkbox, StyledWhenAttached, PartsStyledWhenDrawn):
    """One red flag on the doctor's form."""

    DEFAULT_CSS = """
    FlagBox > .toggle--button, FlagBox.-on > .toggle--button {
        color: $foreground;
        background: transparent;
    }
    FlagBox.-on > .toggle--button {
        color: $text-error;
        text-style: bold;
    }
    """

    @property
    def _button(self) -> Content:
        """The mark in place of Textual's colour-only button."""
        return Content.assemble((mark(self.value), self.get_visual_style("toggle--button")), " ")


class FlagList(SelectionList[str]):
    """The red-flag screen of the episode form (Space ticks the highlighted flag)."""

    def render_line(self, y: int) -> Strip:
        """The option's line after the mark, in place of the colour-only button.

        The mark takes the 4 cells (3 + a space) the list keeps for its button.
        """
        line = OptionList.render_line(self, y)
        index = self.scroll_offset.y + y
        if not 0 <= index < self.option_count:
            return line
        value = self.get_option_at_index(index).value
        base = next(iter(line)).style if line.cell_length else None
        on = value in self.selected
        style = (base or Style()) + Style(bold=on, meta={"option": index})
        return Strip([Segment(mark(on) + " ", style), *line])


class ChoiceButton(RadioButton):
    """One choice of a set (the export dialog's report and format)."""

    DEFAULT_CSS = """
    RadioSet > ChoiceButton > .toggle--button, RadioSet > ChoiceButton.-on .toggle--button {
        color: $foreground;
        background: transparent;
    }
    RadioSet > ChoiceButton.-on .toggle--button {
        text-style: bold;
    }
    """

    @property
    def _button(self) -> Content:
        """ "(•)" or "( )" in place of Textual's colour-only button."""
        return Content.assemble(
            ("(•)" if self.value else "( )", self.get_visual_style("toggle--button")), " "
        )
