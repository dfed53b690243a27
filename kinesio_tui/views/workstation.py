"""What the screens need of the app that runs them, without importing it (app.py imports them).

KinesioApp provides it (mypy checks that in app.py); a screen reaches it with `workstation(self.app)`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Protocol, cast

from textual.app import App

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.data.engine import Target


class Workstation(Protocol):
    """The clinic's open database, who works at it, the clinic day, and moving between screens."""

    db: ClinicDB
    target: Target
    db_path: Path | None
    actor: str

    @property
    def today(self) -> date: ...

    def open_patient(self, patient_id: int) -> None: ...

    def warm_up_visit(self) -> object: ...

    def action_help(self) -> None: ...

    def action_switch_therapist(self) -> None: ...


def workstation(app: App[Any]) -> Workstation:
    """`app` (a screen's or widget's `self.app`) as the workstation it is."""
    return cast(Workstation, app)
