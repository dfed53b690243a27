"""Who treats: the workstation asks for the therapist, remembers the name per OS user, puts
it on every visit, audit entry and report; a doctor's appointment names the doctor."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from conftest import DAY
from pty_session import KINESIO, PtySession, ctrl, keys, kinesio_env
from screen_text import screen_text
from textual.widgets import Input
from visit_harness import press, sync, type_text

from kinesio_tui.app import build_app
from kinesio_tui.data.db import connect, current_user
from kinesio_tui.domain.episodes import current_episode, open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient
from kinesio_tui.domain.patients import create_patient, find_patients
from kinesio_tui.domain.therapist import remembered_name, who_treats
from kinesio_tui.domain.visits import get_visit, next_visit, set_visit_doctor, start_visit
from kinesio_tui.errors import KinesioError, ValidationError
from kinesio_tui.export.context import build_context
from kinesio_tui.export.render import render
from kinesio_tui.settings import remember_therapist, remembered_path
from kinesio_tui.views.asked import AskDialog
from kinesio_tui.views.visit import VisitScreen

HOSTILE = "[red]Rūta[/] P."

# Who signs what, on both engines (issue 17): the workstation and a command on one clinic,
# the names on visits and in the audit trail read back.
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def audit_actors(db_target: str) -> list[str]:
    with connect(db_target) as db:
        return [row[0] for row in db.execute("SELECT actor FROM audit_log ORDER BY id")]


def first_visit_patient(db_target: str) -> int:
    """A new lumbar radiculitis patient; their first visit (a doctor's appointment) is today."""
    with connect(db_target, actor="registrar") as db:
        pid = create_patient(db, NewPatient("Jonas", "Testas", "1980-03-04", "M"), today=DAY)
        open_episode(db, pid, NewEpisode("radiculitis", "lumbar", "R"), today=DAY)
        return pid


@pytest.mark.slow
def test_the_workstation_asks_who_treats_and_commands_sign_with_it(
    db_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KINESIO_THERAPIST")
    env = kinesio_env()
    session = PtySession([str(KINESIO), "--db", db_target], env)
    try:
        session.wait_for("Who is treating?")
        session.send(keys("Rūta Paupienė", "enter"))
        session.wait_for("Who is treating: Rūta Paupienė")
        session.press("escape")
        session.send(ctrl("q"))
        deadline = time.monotonic() + 30
        while session.alive() and time.monotonic() < deadline:
            session.read(0.2)
        assert not session.alive()
    finally:
        session.close()
    # a command without --therapist signs with the name the workstation was given
    added = subprocess.run(
        [str(KINESIO), "--db", db_target, "patients", "add", "--first", "Ona", "--last",
         "Testaitė", "--born", "1970-01-02", "--sex", "F"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert audit_actors(db_target)[-1] == "Rūta Paupienė"
    # and the next start does not ask again
    session = PtySession([str(KINESIO), "--db", db_target], env)
    try:
        session.wait_for("Patients (")
        assert "Who is treating?" not in session.text()
    finally:
        session.close()


def test_a_command_without_a_name_signs_with_the_os_user() -> None:
    assert who_treats(None) is None  # nothing remembered: the OS user, as before
    remember_therapist(current_user(), "bad\x1b]0;title\x07")  # a hand-edited file
    assert remembered_name() is None  # asked again, never used
    remember_therapist(current_user(), "Ona Gydytoja")
    assert who_treats(None) == "Ona Gydytoja"
    assert who_treats("Kitas") == "Kitas"  # --therapist wins
    assert remembered_path().stat().st_mode & 0o777 == 0o600


@sync
async def test_the_first_screen_asks_and_refuses_hostile_names(db_target: str) -> None:
    pid = first_visit_patient(db_target)
    app = build_app(db_target, ask_therapist=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, AskDialog) and dialog.id == "who-treats"
        await press(pilot, "escape")  # no way round it at the first start
        assert app.screen is dialog
        field = dialog.query_one(Input)
        for bad, why in [
            ("", "therapist: is required"),
            ("Ona\x1b[31mRed", "therapist: contains control characters"),
            ("x" * 81, "therapist: is too long (at most 80 characters)"),
        ]:
            field.value = bad
            await press(pilot, "enter")
            assert app.screen is dialog
            assert why in screen_text(app), bad
        field.value = HOSTILE
        await press(pilot, "enter")
        assert not isinstance(app.screen, AskDialog)
        assert app.actor == HOSTILE and app.db.actor == HOSTILE
        assert remembered_name() == HOSTILE
        app.open_patient(pid)
        await pilot.pause()
        await press(pilot, "enter")  # starts the doctor's appointment
        screen = app.screen
        assert isinstance(screen, VisitScreen)
        assert f"Doctor {HOSTILE}." in screen_text(app)  # shown as typed, not as markup
        visit = get_visit(app.db, screen.visit_id)
        assert visit.therapist == HOSTILE and visit.doctor == HOSTILE
    assert audit_actors(db_target)[-1] == HOSTILE


@sync
async def test_ctrl_t_switches_who_signs(demo_target: str) -> None:
    app = build_app(demo_target, actor="Rūta Paupienė")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await press(pilot, "ctrl+t")
        dialog = app.screen
        assert isinstance(dialog, AskDialog)
        assert dialog.query_one(Input).value == "Rūta Paupienė"
        dialog.query_one(Input).value = ""
        await type_text(pilot, "Jonas Kitas")
        await press(pilot, "enter")
        assert app.actor == "Jonas Kitas"
        patient = find_patients(app.db, "petrauskas")[0]
        app.open_patient(patient.id)
        await pilot.pause()
        await press(pilot, "enter")
        screen = app.screen
        assert isinstance(screen, VisitScreen)
        assert "Held by Jonas Kitas." in screen_text(app)
        await press(pilot, "space")
    assert audit_actors(demo_target)[-1] == "Jonas Kitas"


@sync
async def test_the_doctor_is_named_at_the_appointment(db_target: str) -> None:
    pid = first_visit_patient(db_target)
    app = build_app(db_target, actor="Registratorė")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.open_patient(pid)
        await pilot.pause()
        await press(pilot, "enter")
        screen = app.screen
        assert isinstance(screen, VisitScreen)
        await press(pilot, "escape")  # out of the first field
        await press(pilot, "w")
        assert isinstance(app.screen, AskDialog)
        await type_text(pilot, "Dr. Ona Gydytoja")
        await press(pilot, "enter")
        assert "Doctor Dr. Ona Gydytoja (typed by Registratorė)." in screen_text(app)
        visit = get_visit(app.db, screen.visit_id)
        assert visit.doctor == "Dr. Ona Gydytoja" and visit.therapist == "Registratorė"
    with connect(db_target) as db:
        changed = db.execute(
            "SELECT actor, new FROM audit_log WHERE table_name = 'visits' ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert changed[0] == "Registratorė" and json.loads(changed[1])["doctor"] == "Dr. Ona Gydytoja"


def test_reports_name_who_treated(db_target: str) -> None:
    pid = first_visit_patient(db_target)
    with connect(db_target, actor="Registratorė") as db:
        episode = current_episode(db, pid)
        assert episode is not None
        visit = next_visit(db, episode.id)
        assert visit is not None
        start_visit(db, visit.id, today=DAY)
        with pytest.raises(ValidationError, match="doctor"):
            set_visit_doctor(db, visit.id, "x\x1b[2J")
        set_visit_doctor(db, visit.id, "<b>Dr. Ona</b>")
        context = build_context(db, pid, kind="visit", visit_id=visit.id, today=DAY)
        note = render("visit", "html", context)
        assert "&lt;b&gt;Dr. Ona&lt;/b&gt;" in note and "Registratorė" in note
        with pytest.raises(KinesioError):
            set_visit_doctor(db, 10**6, "Dr. Ona")
