"""Snapshots of the main screens at 80x24 and 120x40 on the demo clinic, on a fixed day.

Review the SVG diff before accepting a change with `--snapshot-update`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from kinesio_tui.app import KinesioApp, build_app
from kinesio_tui.data.db import open_db
from kinesio_tui.domain.patients import find_patients

SIZES = [(80, 24), (120, 40)]


async def steady(pilot: Pilot[Any]) -> None:
    """Let workers finish; stop cursor blinking so nothing depends on the clock."""
    app = pilot.app
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    for field in app.screen.query(Input):
        field.cursor_blink = False


def snap(
    snap_compare: Callable[..., bool],
    db_path: Path,
    size: tuple[int, int],
    before: Callable[[KinesioApp, Pilot[Any]], Awaitable[None]] | None = None,
) -> bool:
    app = build_app(db_path)

    async def run_before(pilot: Pilot[Any]) -> None:
        await steady(pilot)
        if before is not None:
            await before(app, pilot)
            await steady(pilot)

    return snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_patient_list(
    snap_compare: Callable[..., bool], demo_db_path: Path, size: tuple[int, int]
) -> None:
    assert snap(snap_compare, demo_db_path, size)


@pytest.mark.parametrize("size", SIZES)
def test_patient_screen_driver_case(
    snap_compare: Callable[..., bool], demo_db_path: Path, size: tuple[int, int]
) -> None:
    with open_db(demo_db_path) as db:
        (driver,) = find_patients(db, "petrauskas")

    async def open_driver(app: KinesioApp, pilot: Pilot[Any]) -> None:
        app.open_patient(driver.id)

    assert snap(snap_compare, demo_db_path, size, open_driver)


@pytest.mark.parametrize("size", SIZES)
def test_new_patient_form_with_messages(
    snap_compare: Callable[..., bool], demo_db_path: Path, size: tuple[int, int]
) -> None:
    async def bad_form(app: KinesioApp, pilot: Pilot[Any]) -> None:
        await pilot.press("ctrl+n")
        await pilot.press(*"Ona", "tab", "tab", *"2031-01-01", "ctrl+s")

    assert snap(snap_compare, demo_db_path, size, bad_form)


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(
    snap_compare: Callable[..., bool], demo_db_path: Path, size: tuple[int, int]
) -> None:
    async def help_on_list(app: KinesioApp, pilot: Pilot[Any]) -> None:
        await pilot.press("question_mark")

    assert snap(snap_compare, demo_db_path, size, help_on_list)


@pytest.mark.parametrize("size", SIZES)
def test_export_dialog(
    snap_compare: Callable[..., bool],
    demo_db_path: Path,
    size: tuple[int, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the dialog shows the export folder: a fixed one keeps the snapshot stable
    monkeypatch.setenv("XDG_DATA_HOME", "/tmp/kinesio-snapshot-home/data")
    with open_db(demo_db_path) as db:
        (patient,) = find_patients(db, "zemaite")

    async def export_from_patient(app: KinesioApp, pilot: Pilot[Any]) -> None:
        app.open_patient(patient.id)
        await steady(pilot)
        await pilot.press("e")

    assert snap(snap_compare, demo_db_path, size, export_from_patient)


@pytest.mark.parametrize("size", SIZES)
def test_episode_form(
    snap_compare: Callable[..., bool], demo_db_path: Path, size: tuple[int, int]
) -> None:
    with open_db(demo_db_path) as db:
        (patient,) = find_patients(db, "mockute")  # registered, no episode yet

    async def open_episode_form(app: KinesioApp, pilot: Pilot[Any]) -> None:
        app.open_patient(patient.id)
        await steady(pilot)
        await pilot.press("o")

    assert snap(snap_compare, demo_db_path, size, open_episode_form)


@pytest.mark.parametrize("size", SIZES)
def test_first_run_on_an_empty_database(
    snap_compare: Callable[..., bool], tmp_path: Path, size: tuple[int, int]
) -> None:
    assert snap(snap_compare, tmp_path / "new.db", size)


def test_patient_screen_on_hold(snap_compare: Callable[..., bool], demo_db_path: Path) -> None:
    """The demo's patient referred for a red flag: therapy on hold, the referral, the `r` key."""
    with open_db(demo_db_path) as db:
        (pid,) = db.execute(
            "SELECT e.patient_id FROM episode_holds h JOIN episodes e ON e.id = h.episode_id "
            "WHERE h.cleared_on IS NULL"
        ).fetchone()

    async def open_held(app: KinesioApp, pilot: Pilot[Any]) -> None:
        app.open_patient(pid)

    assert snap(snap_compare, demo_db_path, (80, 24), open_held)
