"""A module of the workstation that cannot be imported fails loudly, never as "not available".

The screens once caught ImportError and said "not available yet": a broken install looked
like a missing feature. Now the crash handler reports it (scrubbed) and the app stops.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from textual.pilot import Pilot

from kinesio_tui.app import KinesioApp, build_app
from kinesio_tui.data.db import open_db
from kinesio_tui.domain.patients import find_patients
from kinesio_tui.upstream_hooks import Crashed
from kinesio_tui.views.patient import PatientScreen


def crash_of(db_path: Path, keys: tuple[str, ...]) -> BaseException | None:
    """Press `keys` on Petrauskas's screen; the error the app stopped with, if any."""
    with open_db(db_path) as db:
        (patient,) = find_patients(db, "petrauskas")

    async def main(app: KinesioApp) -> None:
        pilot: Pilot[None]
        async with app.run_test() as pilot:
            await pilot.pause()
            app.open_patient(patient.id)
            await pilot.pause()
            assert isinstance(app.screen, PatientScreen)
            await pilot.press(*keys)
            await pilot.pause()

    try:
        asyncio.run(main(build_app(db_path)))
    except Crashed as crashed:
        return crashed.__cause__
    return None


@pytest.mark.parametrize(
    ("module", "keys"),
    [
        ("kinesio_tui.views.visit", ("enter",)),  # start today's visit
        ("kinesio_tui.export", ("e",)),  # the export dialog
    ],
)
def test_a_module_that_cannot_be_imported_stops_the_app(
    demo_db_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, keys: tuple[str, ...]
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # importing it raises ImportError
    for loaded in [m for m in sys.modules if m.startswith("kinesio_tui.views.export_dialog")]:
        monkeypatch.delitem(sys.modules, loaded)
    assert isinstance(crash_of(demo_db_path, keys), ImportError)
