"""The referring doctor through the workstation: typed in the new-episode form, shown on the
patient screen, changed with `g` (Ctrl+S saves, Esc writes nothing, a stale form is refused)."""

from __future__ import annotations

from pathlib import Path

from test_tui_patient import on_patient, patient_id, text_of
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from kinesio_tui.app import KinesioApp
from kinesio_tui.data.db import connect, open_db
from kinesio_tui.domain.episodes import current_episode
from kinesio_tui.domain.referrer import set_referring_doctor
from kinesio_tui.views.patient_form import EpisodeForm
from kinesio_tui.views.referrer import ReferrerDialog


def referrer(db_path: Path, query: str) -> tuple[str, str] | None:
    with open_db(db_path) as db:
        episode = current_episode(db, patient_id(db_path, query))
    return (episode.referring_doctor, episode.referring_institution) if episode else None


def test_the_new_episode_form_takes_the_referring_doctor(demo_db_path: Path) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await pilot.press("o")
        form = app.screen
        assert isinstance(form, EpisodeForm)
        form.query_one("#condition", Select).value = "sciatica"
        await pilot.pause()
        form.query_one("#subtype", Select).value = "upper"
        form.query_one("#side", Select).value = "L"
        form.query_one("#referrer", Input).value = "Dr [b]Bold[/b] <i>"
        form.query_one("#referrer-institution", Input).value = "Kauno poliklinika"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, EpisodeForm)
        assert "referred by Dr [b]Bold[/b] <i>" in text_of(app, "#patient-header")

    on_patient(demo_db_path, "mockute", script, size=(120, 40))
    assert referrer(demo_db_path, "mockute") == ("Dr [b]Bold[/b] <i>", "Kauno poliklinika")


def test_a_hostile_referrer_in_the_form_is_refused_under_its_field(demo_db_path: Path) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await pilot.press("o")
        form = app.screen
        assert isinstance(form, EpisodeForm)
        form.query_one("#condition", Select).value = "sciatica"
        await pilot.pause()
        form.query_one("#subtype", Select).value = "upper"
        form.query_one("#side", Select).value = "L"
        form.query_one("#referrer", Input).value = "Dr \u202eevil"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        error = str(form.query_one("#error-referrer", Static).content)
        assert "Referring doctor" in error and "control characters" in error

    on_patient(demo_db_path, "mockute", script)
    assert referrer(demo_db_path, "mockute") is None  # no episode opened


def test_g_changes_the_referrer_esc_writes_nothing_and_a_stale_form_is_refused(
    demo_db_path: Path,
) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await pilot.press("g")
        dialog = app.screen
        assert isinstance(dialog, ReferrerDialog)
        dialog.query_one("#referrer-name", Input).value = "Dr Esc"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ReferrerDialog)
        assert referrer(demo_db_path, "petrauskas") == ("", "")
        await pilot.press("g")
        dialog = app.screen
        assert isinstance(dialog, ReferrerDialog)
        dialog.query_one("#referrer-name", Input).value = "Dr Mine"
        with connect(demo_db_path, actor="other") as other:  # another terminal first
            episode = current_episode(other, patient_id(demo_db_path, "petrauskas"))
            assert episode is not None
            set_referring_doctor(other, episode.id, "Dr Theirs")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog
        assert "another terminal" in str(dialog.query_one("#referrer-error", Static).content)
        assert referrer(demo_db_path, "petrauskas") == ("Dr Theirs", "")
        await pilot.press("escape", "g")
        again = app.screen
        assert isinstance(again, ReferrerDialog)
        assert again.query_one("#referrer-name", Input).value == "Dr Theirs"
        again.query_one("#referrer-name", Input).value = "Dr Mine"
        await pilot.press("tab", "enter")  # Enter in the last field saves
        await pilot.pause()
        assert not isinstance(app.screen, ReferrerDialog)
        assert "referred by Dr Mine" in text_of(app, "#patient-header")

    on_patient(demo_db_path, "petrauskas", script, size=(120, 40))
    assert referrer(demo_db_path, "petrauskas") == ("Dr Mine", "")
