"""Keys and commands are offered only where they can work."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import OptionList
from tui_driver import drive, settle

from kinesio_tui.app import KinesioApp
from kinesio_tui.domain.patients import find_patients
from kinesio_tui.views.footer import KeyFooter


def footer_words(app: KinesioApp) -> list[str]:
    return [key.description for key in app.screen.query_one(KeyFooter).keys_shown]


async def palette_commands(app: KinesioApp, pilot: Pilot[None]) -> list[str]:
    """What the command palette offers before anything is typed."""
    await pilot.press("ctrl+p")
    assert isinstance(app.screen, CommandPalette)
    for _ in range(40):  # the palette gathers its commands in the background
        await pilot.pause(0.05)
        if app.screen.query("CommandList Option"):
            break
    await pilot.pause(0.2)
    options = app.screen.query_one("CommandList", OptionList)
    words = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
    await pilot.press("escape")
    await settle(app, pilot)
    return words


def test_a_completed_programme_offers_no_visit_to_start(demo_db_path: Path) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        (done,) = find_patients(app.db, "algirdas")
        app.open_patient(done.id)
        await settle(app, pilot)
        assert "Start" not in footer_words(app)
        offered = await palette_commands(app, pilot)
        assert any("Export" in words for words in offered), offered
        assert not any("Start today's visit" in words for words in offered), offered

        await pilot.press("escape")
        await settle(app, pilot)
        (active,) = find_patients(app.db, "zemaite")
        app.open_patient(active.id)
        await settle(app, pilot)
        assert "Start" in footer_words(app)
        assert any("Start today's visit" in w for w in await palette_commands(app, pilot))

    drive(demo_db_path, script)


def test_the_list_says_a_started_visit_is_under_way_not_its_planned_day(
    demo_db_path: Path,
) -> None:
    from textual.widgets import Input

    from kinesio_tui.views.row_table import RowTable

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        # her session was started (today) and not finished
        app.screen.query_one("#search", Input).value = "zemaite"
        await settle(app, pilot)
        table = app.screen.query_one("#patients", RowTable)
        assert table.row_count == 1
        cells = [str(cell) for cell in table.get_row_at(0)]
        assert any("in progress" in cell or "started" in cell for cell in cells), cells
        assert "today" not in cells, cells

    drive(demo_db_path, script)
