"""What the workstation imports on its way to the patient list (`python -X importtime`).

Each module below is deferred on purpose, at one seam whose measured cost is in a comment
there; none of them may reach the start path again through a plain import elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kinesio_tui.data.db import connect

#: Deferred module -> where the seam is.
DEFERRED = {
    "typer": "launch.py: only commands and --help load the CLI",
    "click": "under typer (and sqlite_utils)",
    "sqlite_utils": "data/db.py: only pending migrations load it",
    "jinja2": "export/render.py: only rendering a report loads it",
    "markupsafe": "the export's context and templates",
    "importlib.metadata": "crash.py: only a crash report reads versions",
    "kinesio_tui.views.visit": "views/patient.py: opened with a visit",
    "kinesio_tui.views.export_dialog": "views/patient.py: opened with the export dialog",
    "kinesio_tui.export": "views/patient.py: behind the export dialog",
    "_hashlib": "audit_key.py, domain/store.py: hashlib and hmac load OpenSSL at the first write",
    "hmac": "audit_key.py: the first signature",
    "secrets": "audit_key.py: only creating the key",
    "importlib.resources": "holidays.py reads its file beside the protocol's",
    "kinesio_tui.views.attendance": "views/patient.py: opened with m, x or v (day_keys.py holds the keys)",
    "kinesio_tui.views.patient_form": "views/patient.py: opened with d or o",
    "kinesio_tui.views.visit_start": "views/patient.py: Enter on a visit",
    "kinesio_tui.domain.schedule": "views/attendance.py: moving a visit",
    "textual.widgets._radio_set": "the dialogs' choice fields",
    "textual.widgets._selection_list": "the patient form's flags",
    "psycopg": "data/db.py: only a postgresql:// target loads the PostgreSQL engine",
    "kinesio_tui.data.engines.postgres": "data/db.py: only for a postgresql:// target",
    "kinesio_tui.data.engines.paramstyle": "the PostgreSQL engine's translation of ? and :name",
}

#: The workstation as `kinesio --db FILE` opens it, headless: its patient list, the warm-up
#: and the day's backup behind the first frame, then quit.
START = """
import sys
from pathlib import Path

WAIT_FOR_WARM_UP = True
{extra}
from kinesio_tui.launch import workstation_options
from kinesio_tui.app import build_app

assert workstation_options(["--db", sys.argv[1]]) is not None

async def look_then_quit(pilot):
    for _ in range(100):  # until the warm-up behind the first frame has run (at most 10 s)
        await pilot.pause(0.1)
        await pilot.app.workers.wait_for_complete()
        if not WAIT_FOR_WARM_UP or "kinesio_tui.views.patient" in sys.modules:  # it has begun
            break
    await pilot.app.workers.wait_for_complete()
    pilot.app.exit()

build_app(Path(sys.argv[1]), daily_backup=True).run(headless=True, auto_pilot=look_then_quit)
print("MODULES", *sorted(sys.modules))
"""


def imported_on_start(db_path: Path, tmp_path: Path, extra: str = "") -> set[str]:
    """Every module the workstation loaded while it started on `db_path`.

    `-X importtime` names each `import` statement's module (with its cost, for a failure's
    message); the final sys.modules adds those loaded through importlib (the warm-up).
    """
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", START.format(extra=extra), str(db_path)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    timed = {
        line.rpartition("|")[2].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    (modules,) = [
        line.split()[1:] for line in proc.stdout.splitlines() if line.startswith("MODULES")
    ]
    assert "textual.app" in timed
    return timed | set(modules)


#: Loaded behind the list's first frame (the warm-up), never before it.
BEHIND_THE_FIRST_FRAME = {
    "kinesio_tui.views.patient": "app.py: the warm-up",
    "kinesio_tui.protocol": "app.py: the warm-up reads it",
    "kinesio_tui.domain.store": "views/commands.py: the palette's search; maintenance/backup.py",
    "kinesio_tui.maintenance.audit": "maintenance/backup.py: only checking a backup",
}
#: The workstation with its warm-up switched off: what its first frame alone needs.
FIRST_FRAME_ONLY = """
from kinesio_tui.app import KinesioApp
KinesioApp.warm_up = lambda self: None
WAIT_FOR_WARM_UP = False
"""


def leaks(loaded: set[str], deferred: dict[str, str] = DEFERRED) -> dict[str, str]:
    return {name: seam for name, seam in deferred.items() if name in loaded}


@pytest.fixture
def clinic(tmp_path: Path) -> Path:
    """An up-to-date clinic file (a new one would load sqlite-utils to migrate)."""
    path = tmp_path / "clinic.db"
    connect(path).close()
    return path


def test_the_start_path_loads_none_of_the_deferred_modules(clinic: Path, tmp_path: Path) -> None:
    loaded = imported_on_start(clinic, tmp_path)
    assert {"textual.app", "kinesio_tui.views.patients", "kinesio_tui.views.patient"} <= loaded
    assert leaks(loaded) == {}


def test_the_first_frame_loads_neither_the_records_nor_the_protocol(
    clinic: Path, tmp_path: Path
) -> None:
    loaded = imported_on_start(clinic, tmp_path, extra=FIRST_FRAME_ONLY)
    assert "kinesio_tui.views.patients" in loaded
    assert leaks(loaded, DEFERRED | BEHIND_THE_FIRST_FRAME) == {}


@pytest.mark.parametrize(
    "heavy", ["typer", "sqlite_utils", "jinja2", "kinesio_tui.views.visit", "hmac", "psycopg"]
)
def test_a_heavy_module_on_the_start_path_is_caught(
    clinic: Path, tmp_path: Path, heavy: str
) -> None:
    """As if one plain import had pulled it in: the check above would name it."""
    assert heavy in leaks(imported_on_start(clinic, tmp_path, extra=f"import {heavy}"))
