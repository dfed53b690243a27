"""Screens and reports read and write through the domain; widgets hold no connection."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from textual.widget import Widget
from visit_harness import TODAY, VisitHarness, clinic, sync

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.views.doctor import DoctorForm
from kinesio_tui.views.visit import VisitScreen

PACKAGE = Path(__file__).parent.parent / "kinesio_tui"
SQL_CALLS = {"execute", "executemany", "executescript"}


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
async def test_no_widget_of_the_doctors_appointment_holds_the_connection(db_path: Path) -> None:
    """The doctor's form shows values and posts what was typed; its screen writes."""
    visit_id = clinic(db_path, "radiculitis", 0)  # the first visit: a doctor's appointment
    app = VisitHarness(db_path, visit_id, TODAY)
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
