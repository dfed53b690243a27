"""Screens and reports read and write through the domain; widgets hold no connection."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import DAY
from textual.app import App
from textual.widget import Widget
from visit_harness import VisitHarness, clinic, sync

from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain.episodes import get_episode
from kinesio_tui.domain.patients import find_patients, get_patient
from kinesio_tui.domain.visits import get_visit, set_visit_note, start_visit
from kinesio_tui.views.doctor import DoctorForm
from kinesio_tui.views.layout import BREAKPOINTS
from kinesio_tui.views.visit import VisitScreen

PACKAGE = Path(__file__).parent.parent / "kinesio_tui"
SQL_CALLS = {"execute", "executemany", "executescript"}

# The screens' own writes (and the writes they must not make) on both engines (issue 17);
# the source scans take no clinic and run once.
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def sql_calls(folder: str) -> list[str]:
    """Every `.execute(...)` (and its kin) in the modules of one folder of the package."""
    found = []
    for path in sorted((PACKAGE / folder).glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in SQL_CALLS
            ):
                found.append(f"{folder}/{path.name}:{node.lineno}")
    return found


@pytest.mark.parametrize("folder", ["views", "export"])
def test_no_sql_outside_the_domain(folder: str) -> None:
    assert sql_calls(folder) == []


def test_the_scan_finds_sql_where_there_is_some() -> None:
    """The check above can fail: the domain itself is full of it."""
    assert len(sql_calls("domain")) > 10


@sync
async def test_no_widget_of_the_doctors_appointment_holds_the_connection(db_target: str) -> None:
    """The doctor's form shows values and posts what was typed; its screen writes."""
    visit_id = clinic(db_target, "radiculitis", 0)  # the first visit: a doctor's appointment
    app = VisitHarness(db_target, visit_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, VisitScreen)
        assert screen.query(DoctorForm)  # the form is there
        holders = [
            type(widget).__name__
            for widget in screen.walk_children(Widget)
            if any(isinstance(value, ClinicDB) for value in vars(widget).values())
        ]
        assert holders == []


def test_one_way_to_say_an_error() -> None:
    """An error is shown by one helper (its title and message, never as markup), not by
    a copy of its notify call in each screen."""
    copies = []
    for path in sorted((PACKAGE / "views").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef) or function.name == "say_failed":
                continue
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "notify"
                    and any(
                        isinstance(k.value, ast.Attribute) and k.value.attr == "title"
                        for k in node.keywords
                    )
                ):
                    copies.append(f"{path.name}:{node.lineno}")
    assert copies == []


def audit_entries(db_target: str) -> int:
    with connect(db_target) as db:
        return int(db.execute("SELECT count(*) FROM audit_log").fetchone()[0])


class VisitOnly(App[None]):
    """Shows one visit screen built on a visit already started, and nothing else."""

    HORIZONTAL_BREAKPOINTS = BREAKPOINTS

    def __init__(self, db_target: str, visit_id: int) -> None:
        super().__init__()
        self.db = connect(db_target, actor="Test Therapist")
        self.today = DAY
        self.actor = "Test Therapist"
        visit = get_visit(self.db, visit_id)
        episode = get_episode(self.db, visit.episode_id)
        self.screen_to_show = VisitScreen(visit, episode, get_patient(self.db, episode.patient_id))

    def on_mount(self) -> None:
        self.push_screen(self.screen_to_show)

    def on_unmount(self) -> None:
        self.db.close()


@pytest.mark.parametrize(("condition", "held"), [("sciatica", 1), ("radiculitis", 0)])
@sync
async def test_building_the_visit_screen_writes_nothing(
    db_target: str, condition: str, held: int
) -> None:
    """Starting is the opening action's write; the screen built on it only reads."""
    visit_id = clinic(db_target, condition, held)
    with connect(db_target, actor="tester") as db:
        start_visit(db, visit_id, today=DAY)
    before = audit_entries(db_target)
    app = VisitOnly(db_target, visit_id)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, VisitScreen)
        assert audit_entries(db_target) == before


@sync
async def test_enter_starts_the_visit_before_its_screen_is_built(
    db_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The patient screen's Enter writes the start; a visit another terminal changed first
    is not started and no visit screen opens, the patient screen says why."""
    from kinesio_tui import app as workstation
    from kinesio_tui.app import build_app

    # the other terminal's change is not seen until the refused start reloads the screen
    monkeypatch.setattr(workstation, "POLL_SECONDS", 3600.0)
    visit_id = clinic(db_target, "sciatica", 1)
    app = build_app(db_target)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.open_patient(find_patients(app.db, "bandomoji")[0].id)
        await pilot.pause()
        with connect(db_target, actor="other") as other:  # a second terminal reschedules it
            set_visit_note(other, visit_id, "moved", expected_version=None)
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, VisitScreen)
        assert get_visit(app.db, visit_id).started_at is None
        assert any("another terminal" in n.message for n in app._notifications)
        await pilot.press("enter")  # the patient screen has reloaded the visit
        await pilot.pause()
        assert isinstance(app.screen, VisitScreen) and app.screen.visit_id == visit_id
        assert get_visit(app.db, visit_id).started_at is not None
