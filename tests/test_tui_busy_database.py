"""The workstation while another program holds the write lock: it waits visibly, keeps
answering keys, keeps what was typed, and saves once the database is free (or says it
gave up). The lock is held by a real second connection; the waits are shortened here."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input, Static, TextArea
from visit_harness import VisitHarness, clinic, press, sync, type_text

from kinesio_tui.data import db as db_module
from kinesio_tui.domain.patients import find_patients
from kinesio_tui.domain.visits import get_visit, measurements_of
from kinesio_tui.upstream_hooks import shown_notifications
from kinesio_tui.views import db_wait
from kinesio_tui.views.doctor import DoctorForm
from kinesio_tui.views.visit import VisitScreen


@pytest.fixture(autouse=True)
def _short_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_wait, "ATTEMPT_WAIT_S", 0.05, raising=False)
    monkeypatch.setattr(db_wait, "RETRY_EVERY_S", 0.1, raising=False)
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 100)  # what today's code waits
    monkeypatch.setattr("kinesio_tui.views.visit.NOTE_SAVE_DELAY", 3600)


class OtherProgram:
    """A second connection that takes the write lock and keeps it until let go."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)

    def lock(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def let_go(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


@pytest.fixture
def other(db_path: Path) -> Iterator[OtherProgram]:
    program = OtherProgram(db_path)
    yield program
    program.let_go()
    program.conn.close()


def messages(app: VisitHarness) -> list[str]:
    return [f"{n.title}: {n.message}" for n in shown_notifications(app)]


@sync
async def test_a_note_saved_while_the_database_is_locked_waits_then_saves(
    db_path: Path, other: OtherProgram
) -> None:
    visit_id = clinic(db_path, "sciatica", held=1)
    app = VisitHarness(db_path, visit_id)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await press(pilot, "n")
        await type_text(pilot, "Slept badly")
        other.lock()
        await press(pilot, "escape")  # leaving the field saves: the database is busy
        assert any("Waiting for the database" in m for m in messages(app))
        assert app.screen.query_one("#visit-note", TextArea).text == "Slept badly"
        await press(pilot, "down")  # the screen still answers keys
        assert get_visit(app.db, visit_id).note == ""
        other.let_go()
        await pilot.pause(0.4)
        assert get_visit(app.db, visit_id).note == "Slept badly"
        assert not any("Waiting for the database" in m for m in messages(app))


@sync
async def test_a_note_that_waited_too_long_is_kept_and_saved_later(
    db_path: Path, other: OtherProgram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_wait, "GIVE_UP_AFTER_S", 0.3, raising=False)
    visit_id = clinic(db_path, "sciatica", held=1)
    app = VisitHarness(db_path, visit_id)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await press(pilot, "n")
        await type_text(pilot, "Slept badly")
        other.lock()
        await press(pilot, "escape")
        await pilot.pause(0.6)
        assert any(m.startswith("Database busy: ") for m in messages(app))
        assert not any("Waiting for the database" in m for m in messages(app))
        assert app.screen.query_one("#visit-note", TextArea).text == "Slept badly"
        assert get_visit(app.db, visit_id).note == ""
        await press(pilot, "escape")  # leaving now would lose the note: refused, said
        assert app.results == []
        other.let_go()
        await press(pilot, "n", "escape")
        assert get_visit(app.db, visit_id).note == "Slept badly"


@sync
async def test_a_doctors_value_that_waited_too_long_stays_in_its_field(
    db_path: Path, other: OtherProgram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_wait, "GIVE_UP_AFTER_S", 0.3, raising=False)
    visit_id = clinic(db_path, "radiculitis", held=0)
    app = VisitHarness(db_path, visit_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        form = app.screen.query_one(DoctorForm)
        vas = form.query_one("#f-vas-x", Input)
        other.lock()
        await press(pilot, "7", "enter")
        await pilot.pause(0.6)
        assert vas.value == "7"
        assert "not saved" in str(form.query_one("#err-vas", Static).render())
        assert measurements_of(app.db, visit_id) == []
        other.let_go()
        await press(pilot, "enter")
        assert [m.value for m in measurements_of(app.db, visit_id)] == [7.0]


@sync
async def test_quitting_while_the_note_waits_for_the_database_asks_first(
    db_path: Path, other: OtherProgram
) -> None:
    from kinesio_tui.app import build_app

    visit_id = clinic(db_path, "sciatica", held=1)
    app = build_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.open_patient(find_patients(app.db, "bandomoji")[0].id)
        await pilot.pause()
        await press(pilot, "enter")  # the current visit
        assert isinstance(app.screen, VisitScreen) and app.screen.visit_id == visit_id
        await press(pilot, "n")
        await type_text(pilot, "Slept badly")
        other.lock()
        await press(pilot, "ctrl+q")  # the note is saved first: the database is busy
        assert app.is_running
        assert any("Quit again" in n.message for n in shown_notifications(app))
        other.let_go()
        await pilot.pause(0.4)
        assert get_visit(app.db, visit_id).note == "Slept badly"
        await press(pilot, "ctrl+q")
        assert not app.is_running
