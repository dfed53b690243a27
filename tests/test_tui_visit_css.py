"""The visit screens' stylesheet, widgets' default CSS included, is ready before Enter
(views/visit_css.py): opening a therapy session and its PIR recorder parses no CSS."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_patient import on_patient, visits_warmed_up
from textual.css.stylesheet import Stylesheet
from textual.pilot import Pilot

from kinesio_tui.app import KinesioApp
from kinesio_tui.views.pir import PirScreen
from kinesio_tui.views.visit import VisitScreen


def test_a_therapy_session_and_its_pir_recorder_open_without_parsing_css(
    demo_db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[int] = []
    parse = Stylesheet.parse

    def counted(sheet: Stylesheet) -> None:
        parsed.append(len(sheet.source))
        parse(sheet)

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await visits_warmed_up(app, pilot)
        sources = dict(app.stylesheet.source)
        monkeypatch.setattr(Stylesheet, "parse", counted)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, VisitScreen) and not app.screen.visit.is_doctor
        await pilot.press("p")
        await pilot.pause(0.3)
        assert isinstance(app.screen, PirScreen)
        assert parsed == []
        assert set(app.stylesheet.source) == set(sources)

    on_patient(demo_db_path, "petrauskas", script)
