"""RowTable, the patient list's light table: cursor keys, scrolling, clicks, narrow widths."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any

from textual.app import App, ComposeResult

from kinesio_tui.views.row_table import Column, RowTable

COLUMNS = [Column("name", "Name", shrink=True, min_width=6), Column("n", "No.")]


class TableApp(App[None]):
    def __init__(self, rows: int) -> None:
        super().__init__()
        self.rows = rows
        self.events: list[tuple[str, int, str]] = []

    def compose(self) -> ComposeResult:
        yield RowTable(id="t")

    def on_mount(self) -> None:
        table = self.query_one(RowTable)
        table.set_columns(COLUMNS)
        table.add_rows((f"k{i}", [f"Patient number {i}", str(i)]) for i in range(self.rows))
        table.focus()

    def on_row_table_row_highlighted(self, event: RowTable.RowHighlighted) -> None:
        self.events.append(("highlighted", event.cursor_row, event.row_key))

    def on_row_table_row_selected(self, event: RowTable.RowSelected) -> None:
        self.events.append(("selected", event.cursor_row, event.row_key))


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """A plain test function that runs the async Pilot script (as the other TUI tests do)."""

    @functools.wraps(test)
    def wrapper() -> None:
        asyncio.run(test())

    return wrapper


def screen_lines(app: App[Any]) -> list[str]:
    table = app.query_one(RowTable)
    return [table.render_line(y).text for y in range(table.size.height)]


@run
async def test_keys_move_the_cursor_and_keep_it_on_screen() -> None:
    app = TableApp(100)
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(RowTable)
        lines = screen_lines(app)
        assert lines[0].split() == ["Name", "No."]  # the header
        assert lines[1].startswith(" Patient number 0")
        await pilot.press("down", "down")
        assert table.cursor_row == 2
        assert app.events[-1] == ("highlighted", 2, "k2")
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_row == 99
        lines = screen_lines(app)
        assert lines[0].split() == ["Name", "No."]  # the header stays on top
        assert any("Patient number 99" in line for line in lines)
        await pilot.press("pageup")
        assert table.cursor_row == 99 - (table.scrollable_content_region.height - 2)
        await pilot.press("home", "up")
        await pilot.pause()
        assert table.cursor_row == 0
        assert screen_lines(app)[1].startswith(" Patient number 0")
        await pilot.press("enter")
        assert app.events[-1] == ("selected", 0, "k0")


@run
async def test_a_click_moves_the_cursor_and_a_second_click_selects() -> None:
    app = TableApp(5)
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(RowTable)
        await pilot.click(RowTable, offset=(3, 3))  # row 2 (line 0 is the header)
        assert table.cursor_row == 2
        assert ("selected", 2, "k2") not in app.events
        await pilot.click(RowTable, offset=(3, 3))
        assert app.events[-1] == ("selected", 2, "k2")
        await pilot.click(RowTable, offset=(3, 0))  # the header: nothing
        assert table.cursor_row == 2


@run
async def test_a_narrow_table_cuts_the_shrinking_column_with_an_ellipsis() -> None:
    app = TableApp(3)
    async with app.run_test(size=(16, 8)):
        line = screen_lines(app)[1]
        assert len(line) == 16
        assert "…" in line and line.rstrip().endswith("0")  # the number column survives


@run
async def test_update_row_and_clear() -> None:
    app = TableApp(3)
    async with app.run_test(size=(40, 8)) as pilot:
        table = app.query_one(RowTable)
        table.update_row("k1", ["Renamed patient with a long name", "1"])
        await pilot.pause()
        assert "Renamed patient with a long name" in screen_lines(app)[2]
        assert [str(c) for c in table.get_row_at(1)] == ["Renamed patient with a long name", "1"]
        table.clear()
        assert table.row_count == 0 and table.row_key(0) is None
        await pilot.press("down", "enter")  # nothing to move to or select
        assert not [e for e in app.events if e[0] == "selected"]
