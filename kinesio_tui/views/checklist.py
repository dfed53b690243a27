"""The therapy session's checklist: one line per item, its text wrapped past a tick glyph.

Each item used to be a rich Table (a glyph column and a wrapping text column). The option
list measures an item to lay itself out, again for its lines, renders it for the frame, and
drops all of that at each resize: a Table measured and rendered its two columns every time
(traced: most of the checklist's share of opening a session). A `ChecklistLine` wraps its
text once per width, the way that Table did (the same rich wrapping, the text column as wide
as its longest line or the room past the glyph), and answers height and lines from that.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.text import Text
from textual import events, on
from textual._context import active_app
from textual.binding import Binding
from textual.css.styles import RulesMap
from textual.geometry import Region
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual
from textual.widgets import OptionList

from kinesio_tui.domain.models import Tick
from kinesio_tui.domain.plan import PlanItem
from kinesio_tui.i18n import _

#: The glyph's column ("[x]"), then one blank before the text.
GLYPH_WIDTH = 3
INDENT = GLYPH_WIDTH + 1


class ChecklistLine(Visual):
    """One item as the list draws it: `glyph` in the first three cells, `text` wrapped in
    the cells past it (its explicit line breaks kept), each line padded in the text's style
    to the text's width, as the two-column grid drew it."""

    def __init__(self, glyph: Text, text: Text) -> None:
        self.glyph = glyph
        self.text = text
        #: Unstyled lines (segments) by the width they were wrapped for.
        self._lines: dict[int, list[list[Segment]]] = {}

    def __str__(self) -> str:
        return f"{self.glyph.plain} {self.text.plain}"

    def _text_width(self, width: int) -> int:
        """The text column's width in `width` cells: its longest line, or what is left."""
        longest = max((cell_len(line) for line in self.text.plain.split("\n")), default=0)
        return max(1, min(longest, width - INDENT))

    def lines(self, width: int) -> list[list[Segment]]:
        """The item's lines at `width` cells (wrapped once per width)."""
        if (cached := self._lines.get(width)) is not None:
            return cached
        console = active_app.get().console
        column = self._text_width(width)
        # as a table cell renders a Text: wrapped and padded to the column, joined (each
        # line's style a span), rendered
        wrapped = self.text.wrap(console, column, justify="left", overflow="ellipsis")
        body = Segment.split_lines(Text("\n").join(wrapped).render(console))
        glyph = Text("\n").join(self.glyph.wrap(console, GLYPH_WIDTH, justify="left"))
        head = [*glyph.render(console), Segment(" ")]
        blank = [Segment(" " * INDENT)]
        lines = [(head if index == 0 else blank) + line for index, line in enumerate(body)]
        self._lines[width] = lines
        return lines

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return INDENT + self._text_width(max(container_width, INDENT + 1) * 4)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return len(self.lines(width))

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        base = style.rich_style
        add = base.__add__
        strips = [
            Strip([Segment(text, add(part or RichStyle.null())) for text, part, _ in line])
            for line in self.lines(width)
        ]
        return strips if height is None else strips[:height]


def checklist_prompt(item: PlanItem, tick: Tick | None) -> ChecklistLine:
    """One checklist line: a glyph readable without colour, the label and the doctor's
    target dosage, how the doctor tailored the item, the note under it."""
    text = Text(item.label, style="bold" if tick else "")
    if item.pir:
        text.append(_("  (p: PIR)"), style="italic")
    if item.target:
        text.append(_(" · target {dosage}", dosage=item.target))
    for mark in item.marks():
        text.append("\n✎ " + mark, style="italic dim")
    if tick and tick.note:
        text.append("\n↳ " + tick.note, style="italic")
    return ChecklistLine(Text("[x]" if tick else "[ ]", style="bold" if tick else ""), text)


class Checklist(OptionList):
    """The session's checklist; Space ticks, Enter or `d` edits the item's dosage note."""

    BINDINGS = [
        Binding("space", "toggle_item", _("Tick")),
        Binding("d", "edit_note", _("Dose"), tooltip=_("Dosage / parameter note of the item")),
    ]

    #: The width the option list's caches of the items' lines hold (None: none yet).
    _lines_width: int | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        width = self.scrollable_content_region.width
        if width != self._lines_width:
            # OptionList keys its caches by item, not width: lines made for another width
            # (a scroll bar came or went) are dropped here, before they are drawn
            self._option_render_cache.clear()
            self._line_cache.clear()
            self._lines_width = width
        return super().render_lines(crop)

    @on(events.Resize)
    def keep_lines_at_the_same_width(self, event: events.Resize) -> None:
        """OptionList drops every item's lines at each resize and draws them again; a new
        size at the width they were made for (the first size, which the first frame was
        drawn at) changes none of them."""
        if self.scrollable_content_region.width == self._lines_width:
            event.prevent_default()  # not OptionList._on_resize

    class Toggled(OptionList.OptionMessage):
        """Space on an item."""

    class EditNote(OptionList.OptionMessage):
        """`d` (or Enter) on an item."""

    def action_toggle_item(self) -> None:
        """Tick or untick the highlighted item."""
        index = self.highlighted
        if index is not None:
            self.post_message(self.Toggled(self, self.get_option_at_index(index), index))

    def action_edit_note(self) -> None:
        """Edit the highlighted item's dosage note."""
        index = self.highlighted
        if index is not None:
            self.post_message(self.EditNote(self, self.get_option_at_index(index), index))
