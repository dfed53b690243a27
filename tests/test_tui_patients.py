"""The patient list: type-ahead search, opening a patient, adding one, the empty database."""

from __future__ import annotations

from pathlib import Path

from conftest import DAY
from textual.pilot import Pilot
from textual.widgets import Input, Select, SelectionList, Static
from tui_driver import drive, names, settle

from kinesio_tui.app import KinesioApp
from kinesio_tui.data.db import open_db
from kinesio_tui.domain.episodes import current_episode
from kinesio_tui.domain.patients import count_patients, find_patients
from kinesio_tui.domain.visits import visits_of
from kinesio_tui.views.patient import PatientScreen
from kinesio_tui.views.patient_form import EpisodeForm, PatientForm
from kinesio_tui.views.patients import PatientsScreen
from kinesio_tui.views.row_table import RowTable
from kinesio_tui.views.widgets import ProgrammePanel


def text_of(app: KinesioApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


def programme_part(app: KinesioApp, name: str) -> str:
    """One piece of the programme block as shown: timeline, standing, legend or vas."""
    return app.screen.query_one(ProgrammePanel).parts[name].plain


def test_type_ahead_ignores_case_and_diacritics(demo_db_path: Path) -> None:
    with open_db(demo_db_path) as db:
        year = str(find_patients(db, "petrauskas")[0].birth_date.year)

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        assert len(names(app)) == 40  # every active patient of the demo clinic
        await pilot.press(*"petr")  # typed straight on the list: goes to the search box
        await settle(app, pilot)
        assert names(app) == ["Petrauskas, Tomas"]
        await pilot.press("escape", *"ZEMAITE")  # the A (Archived on the list) stays text
        await settle(app, pilot)
        assert names(app) == ["Žemaitė, Rūta"]
        search = app.screen.query_one("#search", Input)
        search.value = "simkus"  # one query, not one per key: the keys are covered above
        await settle(app, pilot)
        assert names(app) == ["Šimkus, Algirdas"]
        search.value = year  # birth year
        await settle(app, pilot)
        assert "Petrauskas, Tomas" in names(app)
        await pilot.press("escape", "slash", *"qan")  # Quit, New: plain letters in the search
        await settle(app, pilot)
        assert app.is_running and isinstance(app.screen, PatientsScreen)
        assert names(app) == []
        assert "No patient matches" in text_of(app, "#list-empty")

    drive(demo_db_path, script)


def test_enter_opens_the_patient_screen(demo_db_path: Path) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await pilot.press(*"petr")
        await settle(app, pilot)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, PatientScreen)
        assert "Tomas Petrauskas" in text_of(app, "#patient-header")
        assert "Module 3 · visit 4/15" in programme_part(app, "standing")
        timeline = programme_part(app, "timeline").splitlines()
        assert [line[:2] for line in timeline] == ["M1", "M2", "M3"]
        assert "◎" in timeline[2]  # today's session
        assert "clinically important" in programme_part(app, "vas")
        await pilot.press("escape")
        assert isinstance(app.screen, PatientsScreen)

    drive(demo_db_path, script)


def test_typing_then_enter_opens_the_top_match_among_several(demo_db_path: Path) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await pilot.press("slash", *"zukausk")
        await settle(app, pilot)
        assert names(app) == ["Žukauskas, Darius", "Žukauskienė, Anna"]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PatientScreen)
        assert "Darius Žukauskas" in text_of(app, "#patient-header")

    drive(demo_db_path, script)


def test_bad_new_patient_shows_messages_by_the_fields_and_writes_nothing(
    demo_db_path: Path,
) -> None:
    with open_db(demo_db_path) as db:
        before = count_patients(db)

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await pilot.press("ctrl+n")
        assert isinstance(app.screen, PatientForm)
        await pilot.press(*"Ona", "tab", "tab", *"2031-01-01", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, PatientForm)
        assert "Last name is required" in text_of(app, "#error-last-name")
        assert "cannot be in the future" in text_of(app, "#error-birth-date")
        assert "Sex should be one of" in text_of(app, "#error-sex")
        assert text_of(app, "#error-first-name") == ""
        assert app.screen.query_one("#row-last-name").has_class("-invalid")
        await pilot.press("escape")
        assert isinstance(app.screen, PatientsScreen)

    drive(demo_db_path, script)
    with open_db(demo_db_path) as db:
        assert count_patients(db) == before


def test_new_patient_and_episode_are_written_and_opened(demo_db_path: Path) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await pilot.press("ctrl+n", *"Ona", "tab", *"Kairytė", "tab", *"1980-02-03")
        app.screen.query_one("#sex", Select).value = "F"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, EpisodeForm)
        await pilot.press("ctrl+s")  # nothing chosen yet
        await pilot.pause()
        assert "Condition should be chosen: Radiculitis" in text_of(app, "#error-condition")
        app.screen.query_one("#condition", Select).value = "sciatica"
        await pilot.pause()
        app.screen.query_one("#subtype", Select).value = "upper"
        app.screen.query_one("#side", Select).value = "L"
        app.screen.query_one("#flags", SelectionList).select("saddle_numbness")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, PatientScreen)
        assert "Ona Kairytė" in text_of(app, "#patient-header")
        assert "refer to a doctor now" in text_of(app, "#red-flags")
        assert app.screen.query_one("#red-flags").display

    drive(demo_db_path, script)
    with open_db(demo_db_path) as db:
        (patient,) = find_patients(db, "kairyte")
        episode = current_episode(db, patient.id)
        assert episode is not None and episode.condition == "sciatica"
        assert len(visits_of(db, episode.id)) == 45


def test_empty_database_says_what_to_do(db_path: Path) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        message = text_of(app, "#list-empty")
        assert "Press Ctrl+N to add a patient" in message
        assert "kinesio demo" in message
        assert app.screen.query_one("#list-empty").display

    drive(db_path, script)


def test_list_pages_instead_of_loading_everyone(db_path: Path) -> None:
    from kinesio_tui.domain.models import NewPatient
    from kinesio_tui.domain.patients import create_patient
    from kinesio_tui.views import patients as patients_view

    with open_db(db_path) as db:
        for i in range(30):
            create_patient(
                db, NewPatient(f"P{i:02}", f"Surname{i:02}", "1970-01-01", "F"), today=DAY
            )
    old_page, old_prefetch = patients_view.PAGE, patients_view.PREFETCH
    patients_view.PAGE, patients_view.PREFETCH = 10, 3
    try:

        async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
            table = app.screen.query_one("#patients", RowTable)
            assert table.row_count == 10
            await pilot.press(*["down"] * 8)
            await settle(app, pilot)
            assert table.row_count == 20
            assert names(app)[10] == "Surname10, P10"

        drive(db_path, script)
    finally:
        patients_view.PAGE, patients_view.PREFETCH = old_page, old_prefetch


def test_the_condition_column_reads_as_words_at_any_width() -> None:
    """Wide: "Sciatica upper L+R", not the stored codes "sciatica upper both"."""
    from datetime import date

    from kinesio_tui.domain.roster import RosterRow
    from kinesio_tui.views.patients import condition_cell

    row = RosterRow(
        patient_id=1,
        name="Nowak, Maria",
        birth_date=date(1984, 1, 1),
        phone="",
        condition="sciatica",
        subtype="upper",
        side="both",
        episode_status="active",
        module=1,
        number=1,
        next_planned=None,
        last_vas=None,
        red_flags=False,
    )
    assert condition_cell(row, narrow=False) == "Sciatica upper L+R"
    assert condition_cell(row, narrow=True) == "Sci. upper L+R"
