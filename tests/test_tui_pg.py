"""The workstation itself on PostgreSQL: `kinesio --db postgresql://...` as a clinician sees it.

The screens reach the database only through the domain (which the engine-parametrised tests
cover); these check the workstation's own wiring on a real server: the list and its search
(the reader connection), another room's commit showing, no daily file backup.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from conftest import DAY
from pg_cluster import PgDatabase
from textual.pilot import Pilot
from tui_driver import Script, names, settle

from kinesio_tui.app import KinesioApp, build_app
from kinesio_tui.data.db import open_db
from kinesio_tui.data.engine import Target, parse_target
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import archive_patient, create_patient, find_patients


@pytest.fixture
def clinic(pg_clinic: PgDatabase) -> Iterator[Target]:
    """Two patients in a clinic made by its owner; the workstation connects as the app."""
    target = parse_target(pg_clinic.app_url)
    with open_db(target, actor="reception") as db:
        create_patient(db, NewPatient("Tomas", "Petrauskas", "1970-03-04", "M"), today=DAY)
        create_patient(db, NewPatient("Ona", "Žemaitė", "1985-06-07", "F"), today=DAY)
    yield target


def drive(target: Target, script: Script) -> None:
    async def main() -> None:
        app = build_app(target, actor="R. Paupienė", daily_backup=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await script(app, pilot)

    asyncio.run(main())


def test_the_list_searches_and_follows_another_rooms_commit(clinic: Target) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        assert app.db.kind == "postgresql" and app.db_path is None
        assert names(app) == ["Petrauskas, Tomas", "Žemaitė, Ona"]
        await pilot.press("slash", *"zema")
        await settle(app, pilot)
        await pilot.pause(0.3)
        await settle(app, pilot)
        assert names(app) == ["Žemaitė, Ona"]  # diacritics folded, through the reader
        await pilot.press("escape")
        await settle(app, pilot)
        with open_db(clinic, actor="room 2") as other:
            archive_patient(other, find_patients(other, "petrauskas")[0].id)
        for _ in range(20):  # the 1 s timer's look, as soon as the notification is in
            app.poll_changes()
            await settle(app, pilot)
            if "Petrauskas, Tomas" not in names(app):
                break
            await pilot.pause(0.05)
        assert "Petrauskas, Tomas" not in names(app)

    drive(clinic, script)
