"""A light table for long lists: one line per row, drawn with Textual's line API.

Textual's DataTable lays every cell out through Rich (Padding, Styled, render_lines):
~0.4 ms a cell, so the patient list's first screenful took ~60 ms to draw, and as long
again a moment later, when focus arrived and restyled it (profiled at 80x24).
Here each row is one `Text`, cut to the column widths and turned into a Strip: a screenful
costs a few milliseconds, a cursor move redraws two lines, and nothing is cached but the
lines on screen.

What it offers is what the patient list and the patient screen's visit list use: a fixed
header, a row cursor (keys, mouse, page keys), zebra stripes, columns as wide as their
widest cell (one column may be cut with an ellipsis when the table is narrower than its
rows), and two messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from kinesio_tui.i18n import _

Cell = str | Text

#: Blank columns on each side of a cell (as DataTable's cell_padding).
PAD = 1


def _texts(cells: Sequence[Cell]) -> list[Text]:
    return [cell if isinstance(cell, Text) else Text(cell) for cell in cells]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    #: A fixed width, or None: as wide as the widest cell and the label.
    width: int | None = None
    #: This column gives up width (down to `min_width`, then an ellipsis) when rows are
    #: wider than the table; at most one column should.
    shrink: bool = False
    min_width: int = 8


class RowTable(ScrollView, can_focus=True, inherit_bindings=False):
    """Rows of cells with a row cursor; Enter (or a click on the cursor row) selects."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", _("Select"), show=False),
        Binding("up", "cursor_up", _("Cursor up"), show=False),
        Binding("down", "cursor_down", _("Cursor down"), show=False),
        Binding("pageup", "page_up", _("Page up"), show=False),
        Binding("pagedown", "page_down", _("Page down"), show=False),
        Binding("home,ctrl+home", "first", _("First row"), show=False),
        Binding("end,ctrl+end", "last", _("Last row"), show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "row-table--header",
        "row-table--cursor",
        "row-table--even-row",
        "row-table--odd-row",
    }

    # The look of Textual's DataTable, so the list reads as before.
    DEFAULT_CSS = """
    RowTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        overflow-x: hidden;
        overflow-y: auto;
        &:focus {
            background-tint: $foreground 5%;
            & > .row-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .row-table--header {
                background-tint: $foreground 5%;
            }
        }
        &:dark > .row-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .row-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .row-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .row-table--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .row-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    class RowHighlighted(Message):
        """The cursor moved to another row."""

        def __init__(self, table: RowTable, cursor_row: int, row_key: str) -> None:
            super().__init__()
            self.table = table
            self.cursor_row = cursor_row
            self.row_key = row_key

        @property
        def control(self) -> RowTable:
            return self.table

    class RowSelected(RowHighlighted):
        """Enter on a row, or a click on the cursor's row."""

    def __init__(
        self,
        *,
        zebra_stripes: bool = True,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.zebra_stripes = zebra_stripes
        self.columns: list[Column] = []
        self._keys: list[str] = []
        self._cells: list[list[Text]] = []
        self._index: dict[str, int] = {}
        self._widest: list[int] = []  # per column: the widest cell or label seen
        self._cursor = 0
        self._lines: dict[tuple[int, bool], Strip] = {}  # drawn rows (index, has cursor)
        self._header: Strip | None = None
        self._widths: tuple[int, list[int]] | None = None  # (table width, column widths)
        self._styles: dict[str | None, Style] = {}

    # --- data ----------------------------------------------------------------------------

    def set_columns(self, columns: Sequence[Column]) -> None:
        """Replace the columns (and drop every row)."""
        self.columns = list(columns)
        self.clear()

    def clear(self) -> None:
        """Drop every row; the cursor goes back to the top."""
        self._keys, self._cells, self._index = [], [], {}
        self._widest = [col.width or len(col.label) for col in self.columns]
        self._cursor = 0
        if self.is_mounted:
            self.scroll_to(y=0, animate=False, immediate=True)
        self._changed()

    def add_rows(self, rows: Iterable[tuple[str, Sequence[Cell]]]) -> None:
        """Append rows given as (key, cells), one cell per column."""
        for key, cells in rows:
            texts = _texts(cells)
            if len(texts) != len(self.columns):
                raise ValueError(
                    f"row {key!r} has {len(texts)} cells for {len(self.columns)} columns"
                )
            self._index[key] = len(self._keys)
            self._keys.append(key)
            self._cells.append(texts)
            self._grow(texts)
        self._changed()

    def update_row(self, key: str, cells: Sequence[Cell]) -> None:
        """Replace one row's cells in place (a refresh that changed this row only)."""
        index = self._index[key]
        texts = _texts(cells)
        self._cells[index] = texts
        if self._grow(texts):
            self._changed()
            return
        self._lines.pop((index, False), None)
        self._lines.pop((index, True), None)
        self._refresh_row(index)

    def _grow(self, texts: list[Text]) -> bool:
        grew = False
        for i, (text, col) in enumerate(zip(texts, self.columns, strict=True)):
            if col.width is None and text.cell_len > self._widest[i]:
                self._widest[i] = text.cell_len
                grew = True
        return grew

    def _changed(self) -> None:
        """Rows or columns changed: forget drawn lines, resize the scrollable area, redraw."""
        self._lines.clear()
        self._header = None
        self._widths = None
        self._cursor = min(self._cursor, max(0, len(self._keys) - 1))
        # Only the height: rows are cut to the table's width, never scrolled sideways, and a
        # width here changed at every resize, a layout pass of the whole screen each time.
        self.virtual_size = Size(0, len(self._keys) + 1)
        self.refresh()

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    def row_key(self, index: int) -> str | None:
        return self._keys[index] if 0 <= index < len(self._keys) else None

    def get_row_at(self, index: int) -> list[Text]:
        """The cells of the row at `index`."""
        return list(self._cells[index])

    def get_row_index(self, key: str) -> int:
        return self._index[key]

    def has_row(self, key: str) -> bool:
        return key in self._index

    # --- cursor --------------------------------------------------------------------------

    def move_cursor(self, row: int) -> None:
        """Put the cursor on `row` (clamped), scroll it into view, say so."""
        if not self._keys:
            return
        row = max(0, min(row, len(self._keys) - 1))
        old, self._cursor = self._cursor, row
        if old != row:
            self._refresh_row(old)
            self._refresh_row(row)
        self._scroll_to_cursor()
        self.post_message(self.RowHighlighted(self, row, self._keys[row]))

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 2)

    def _scroll_to_cursor(self) -> None:
        rows_shown = max(1, self.scrollable_content_region.height - 1)  # below the header
        top = round(self.scroll_offset.y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False)
        elif self._cursor >= top + rows_shown:
            self.scroll_to(y=self._cursor - rows_shown + 1, animate=False)

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self._cursor - self._page())

    def action_page_down(self) -> None:
        self.move_cursor(self._cursor + self._page())

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._keys) - 1)

    def action_select_cursor(self) -> None:
        if self._keys:
            self.post_message(self.RowSelected(self, self._cursor, self._keys[self._cursor]))

    def on_click(self, event: events.Click) -> None:
        """A click moves the cursor to that row; a click on the cursor's row selects it."""
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return
        index = round(self.scroll_offset.y) + offset.y - 1
        if not 0 <= index < len(self._keys):
            return
        if index == self._cursor:
            self.action_select_cursor()
        else:
            self.move_cursor(index)

    # --- drawing -------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()
        self._header = None
        self._styles.clear()

    def _style(self, component: str | None = None) -> Style:
        """The table's style, or a component's on top of it; computed once per restyle.

        (Textual's rich_style walks every ancestor: ~0.2 ms, once per drawn line before.)
        """
        style = self._styles.get(component)
        if style is None:
            style = self.rich_style
            if component is not None:
                style += self.get_component_rich_style(component)
            self._styles[component] = style
        return style

    def on_resize(self, event: events.Resize) -> None:
        self._changed()
        self._scroll_to_cursor()

    def _refresh_row(self, index: int) -> None:
        y = index - round(self.scroll_offset.y) + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def _column_widths(self) -> tuple[int, list[int]]:
        """(table width, widths of the columns' text) for the current size and rows.

        Rows wider than the table first take width from a `shrink` column; what is still
        too wide is cut at the right edge (there is no sideways scrolling).
        """
        width = self.scrollable_content_region.width
        if self._widths is not None and self._widths[0] == width:
            return self._widths
        widths = list(self._widest)
        spare = width - sum(w + 2 * PAD for w in widths)
        for i, col in enumerate(self.columns):
            if spare < 0 and col.shrink:
                cut = min(-spare, widths[i] - min(col.min_width, widths[i]))
                widths[i] -= cut
                spare += cut
        self._widths = (width, widths)
        return self._widths

    def _draw(self, cells: Sequence[Text], base: Style, post: Style | None) -> Strip:
        content_width, widths = self._column_widths()
        line = Text(no_wrap=True, end="")
        for text, width in zip(cells, widths, strict=True):
            piece = text.copy()
            piece.truncate(width, overflow="ellipsis", pad=True)
            line.append(" " * PAD)
            line.append_text(piece)
            line.append(" " * PAD)
        line.pad_right(max(0, content_width - line.cell_len))  # the row's colours, edge to edge
        segments = Segment.apply_style(line.render(self.app.console), base, post)
        return Strip(segments, line.cell_len).crop(0, content_width)

    def render_line(self, y: int) -> Strip:
        if y == 0:
            if self._header is None:
                style = self._style("row-table--header")
                labels = [Text(col.label) for col in self.columns]
                self._header = self._draw(labels, style, None)
            return self._header
        index = round(self.scroll_offset.y) + y - 1
        if index >= len(self._keys):
            return Strip.blank(self.scrollable_content_region.width, self._style())
        cursor = index == self._cursor
        key = (index, cursor)
        strip = self._lines.get(key)
        if strip is None:
            base = self._style()
            if self.zebra_stripes:
                base = self._style("row-table--odd-row" if index % 2 else "row-table--even-row")
            post = self.get_component_rich_style("row-table--cursor") if cursor else None
            strip = self._draw(self._cells[index], base, post)
            if len(self._lines) > 4 * max(self.size.height, 1):
                self._lines.clear()  # only what is on screen (and near it) stays drawn
            self._lines[key] = strip
        return strip
