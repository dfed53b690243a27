"""The key footer rebuilds when the keys change, and only then."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from tui_driver import drive, settle

from kinesio_tui.app import KinesioApp
from kinesio_tui.domain.patients import find_patients
from kinesio_tui.upstream_hooks import FooterKey
from kinesio_tui.views.footer import KeyFooter


def footer_keys(app: KinesioApp) -> list[FooterKey]:
    return list(app.screen.query_one(KeyFooter).query(FooterKey))


def test_footer_follows_the_keys_but_skips_identical_rebuilds(demo_db_path: Path) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        before = footer_keys(app)
        assert "Search" in " ".join(key.description for key in before)
        app.screen.refresh_bindings()  # same keys: nothing to rebuild
        await settle(app, pilot)
        assert footer_keys(app) == before
        (patient,) = find_patients(app.db, "petrauskas")
        app.open_patient(patient.id)
        await settle(app, pilot)
        shown = " ".join(key.description for key in footer_keys(app))
        assert "Export" in shown and "Search" not in shown

    drive(demo_db_path, script)


def test_a_new_screen_builds_its_footer_once(
    demo_db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mounted, focused, data loaded: three bindings refreshes, one rebuild with the last keys."""
    rebuilt: list[str] = []
    recompose = KeyFooter.recompose

    async def counting(self: KeyFooter) -> None:
        rebuilt.append(type(self.screen).__name__)
        await recompose(self)

    monkeypatch.setattr(KeyFooter, "recompose", counting)

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        (patient,) = find_patients(app.db, "petrauskas")
        rebuilt.clear()
        app.open_patient(patient.id)
        await settle(app, pilot)
        assert rebuilt == ["PatientScreen"]
        shown = [(key.key, key.description) for key in footer_keys(app)]
        assert ("enter", "Start") in shown and ("e", "Export") in shown

    drive(demo_db_path, script)
