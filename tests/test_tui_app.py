"""The app shell: help, the command palette, refreshing when another process commits."""

from __future__ import annotations

import io
from pathlib import Path

from conftest import DAY
from rich.console import Console
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Static
from tui_driver import drive, names, settle

from kinesio_tui.app import KinesioApp, build_app
from kinesio_tui.data.db import open_db
from kinesio_tui.domain.patients import archive_patient, find_patients
from kinesio_tui.views.help import HelpScreen
from kinesio_tui.views.patient import PatientScreen
from kinesio_tui.views.patients import PatientsScreen


def test_build_app_keeps_its_contract(demo_db_path: Path) -> None:
    app = build_app(demo_db_path, actor="R. Paupienė")
    assert app.db_path == demo_db_path
    assert app.today == DAY
    assert app.actor == "R. Paupienė"
    assert app.db.path == demo_db_path
    assert KinesioApp.CSS_PATH == "kinesio.tcss"
    app.db.close()


def test_help_lists_the_keys_of_the_screen_and_the_app(demo_db_path: Path) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=120, record=True, file=io.StringIO())
        console.print(app.screen.query_one("#help-keys", Static).content)
        keys = console.export_text()
        for words in ("Add a patient", "Search by name", "Quit", "Command palette"):
            assert words in keys
        await pilot.press("escape")
        assert isinstance(app.screen, PatientsScreen)

    drive(demo_db_path, script)


def test_command_palette_opens_a_patient_and_starts_todays_visit(demo_db_path: Path) -> None:
    from kinesio_tui.views.visit import VisitScreen

    async def palette(app: KinesioApp, pilot: Pilot[None], text: str) -> None:
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*text)
        for _ in range(40):  # the palette searches in the background
            await pilot.pause(0.05)
            if app.screen.query("CommandList Option"):
                break
        await pilot.press("enter")
        await pilot.pause()

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await palette(app, pilot, "zemaite")
        assert isinstance(app.screen, PatientScreen)
        assert "Rūta Žemaitė" in str(app.screen.query_one("#patient-header", Static).content)
        await palette(app, pilot, "start today")
        assert isinstance(app.screen, VisitScreen)

    drive(demo_db_path, script)


def test_list_refreshes_when_another_process_commits(demo_db_path: Path) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        assert "Petrauskas, Tomas" in names(app)
        with open_db(demo_db_path) as other:
            archive_patient(other, find_patients(other, "petrauskas")[0].id)
        app.poll_changes()  # what the 1 s timer does
        await settle(app, pilot)
        assert "Petrauskas, Tomas" not in names(app)

    drive(demo_db_path, script)
