"""The therapy session and the PIR recorder open in one layout and one frame
(views/laid_out_once.py), and what changes afterwards is still drawn."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.geometry import Size
from textual.pilot import Pilot
from textual.screen import Screen
from visit_harness import VisitHarness, clinic, press, sync

from kinesio_tui.views.checklist import Checklist
from kinesio_tui.views.pir import PirScreen
from kinesio_tui.views.visit import VisitScreen, begin_visit


class Later(VisitHarness):
    """The visit opened once the app has settled, as Enter on the patient screen opens it
    (the harness opens it as the app mounts, before the terminal's first size arrives)."""

    def on_mount(self) -> None:
        pass

    async def open_visit(self, pilot: Pilot[Any]) -> VisitScreen:
        await pilot.pause(0.2)
        screen = begin_visit(self, self.visit_id, pir_clock=self.clock)
        self.push_screen(screen)
        await pilot.pause(0.3)
        assert self.screen is screen
        return screen


class Passes:
    """Layout passes and frames (compositor updates) each kind of screen made on its own, at
    an idle moment: what a widget's request for a layout or a repaint leads to (a resize of
    the terminal, a screen pushed or resumed, lay out and draw from their own handlers)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.layouts: Counter[str] = Counter()
        self.frames: Counter[str] = Counter()
        idle, layout, display = Screen._on_timer_update, Screen._refresh_layout, App._display
        passes = self
        at_idle: list[bool] = []

        def counted_idle(screen: Screen[Any]) -> None:
            at_idle.append(True)
            try:
                idle(screen)
            finally:
                at_idle.pop()

        def counted_layout(
            screen: Screen[Any], size: Size | None = None, scroll: bool = False
        ) -> None:
            if at_idle:
                passes.layouts[type(screen).__name__] += 1
            layout(screen, size, scroll)

        def counted_display(app: App[Any], screen: Screen[Any], update: Any) -> None:
            if at_idle and update is not None:
                passes.frames[type(screen).__name__] += 1
            display(app, screen, update)

        monkeypatch.setattr(Screen, "_on_timer_update", counted_idle)
        monkeypatch.setattr(Screen, "_refresh_layout", counted_layout)
        monkeypatch.setattr(App, "_display", counted_display)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
@sync
async def test_a_therapy_session_and_its_pir_recorder_skip_textuals_second_pass(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    """Each screen opened twice in one app, once keeping Textual's passes after the first
    frame (lay_out_as_textual_does) and once not: without them it lays itself out fewer
    times and draws fewer frames at idle (what the footer or a widget asks for after the
    first frame is Textual's either way)."""
    app = Later(db_path, clinic(db_path, "sciatica", 16))
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.2)
        made: dict[bool, tuple[int, int]] = {}
        for textuals in (True, False):
            passes = Passes(monkeypatch)
            screen = begin_visit(app, app.visit_id, pir_clock=app.clock)
            if textuals:
                screen.lay_out_as_textual_does()
            app.push_screen(screen)
            await pilot.pause(0.4)
            assert app.screen is screen
            pir = PirScreen(app.visit_id, clock=app.clock)
            if textuals:
                pir.lay_out_as_textual_does()
            app.push_screen(pir)
            await pilot.pause(0.4)
            assert isinstance(app.screen, PirScreen)
            made[textuals] = (
                passes.layouts["VisitScreen"] + passes.frames["VisitScreen"],
                passes.layouts["PirScreen"] + passes.frames["PirScreen"],
            )
            monkeypatch.undo()
            pir.dismiss(None)
            await pilot.pause(0.2)
            screen.dismiss(False)
            await pilot.pause(0.3)
        assert made[False][0] < made[True][0] and made[False][1] < made[True][1], made


@sync
async def test_what_changes_after_the_first_frame_is_drawn(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    passes = Passes(monkeypatch)
    app = Later(db_path, clinic(db_path, "sciatica", 16))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await app.open_visit(pilot)
        checklist = screen.query_one(Checklist)
        drawn = passes.frames["VisitScreen"]
        await press(pilot, "space")
        await pilot.pause(0.3)
        assert passes.frames["VisitScreen"] > drawn
        assert "[x]" in checklist.render_line(0).text


@sync
async def test_a_scroll_bar_the_first_layout_shows_is_laid_out_as_textual_does(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """80x14: the checklist cannot show all its items; the first layout gives it a scroll
    bar, which takes room from the items: the screen is laid out again for it."""
    passes = Passes(monkeypatch)
    app = Later(db_path, clinic(db_path, "sciatica", 16))
    async with app.run_test(size=(80, 14)) as pilot:
        screen = await app.open_visit(pilot)
        checklist = screen.query_one(Checklist)
        assert checklist.show_vertical_scrollbar
        assert passes.layouts["VisitScreen"] >= 1
        # its items were laid out again for the room the scroll bar leaves them
        assert checklist.virtual_size.width == checklist.scrollable_content_region.width


@sync
async def test_the_items_are_drawn_again_when_the_scroll_bar_goes(db_path: Path) -> None:
    """The checklist's lines are made for the room they have: made with a scroll bar
    (80x14), then drawn without one (80x30), the highlight still spans the whole row."""
    app = Later(db_path, clinic(db_path, "sciatica", 16))
    async with app.run_test(size=(80, 14)) as pilot:
        screen = await app.open_visit(pilot)
        checklist = screen.query_one(Checklist)
        assert checklist.show_vertical_scrollbar
        await pilot.resize_terminal(80, 30)
        await pilot.pause(0.3)
        assert not checklist.show_vertical_scrollbar
        row = list(checklist.render_line(0))  # the highlighted item
        assert sum(s.cell_length for s in row) == checklist.scrollable_content_region.width
        assert row[0].style is not None and row[-1].style is not None
        assert row[-1].style.bgcolor == row[0].style.bgcolor
