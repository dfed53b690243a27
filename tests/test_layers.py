"""The import contracts in pyproject.toml hold, and each one fails when an import breaks it.

Each case copies the package to a temporary folder, adds one import the contract forbids
and runs the real `lint-imports` on the copy (it comes first on PYTHONPATH).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

LAYERS = "Layers: app, screens, exports and maintenance, domain, data"
NO_TEXTUAL_BELOW = "Below the screens, no Textual, app or screen"
DATA_ALONE = "The data layer imports nothing of ours above it"
HELPERS = "Shared helpers import none of the layers"
CLI_ON_TOP = "Only the command line imports the command line"
FHIR_MODELS = "The FHIR models are the tests' (a dev dependency), never the program's"
PSYCOPG_IN_ITS_ENGINE = "Only the PostgreSQL engine imports psycopg"
CONTRACTS = (
    LAYERS,
    NO_TEXTUAL_BELOW,
    DATA_ALONE,
    HELPERS,
    CLI_ON_TOP,
    FHIR_MODELS,
    PSYCOPG_IN_ITS_ENGINE,
)


def lint(root: Path) -> dict[str, str]:
    """Each contract's verdict ("KEPT" or "BROKEN") for the package under `root`."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        capture_output=True, text=True, env=env, cwd=root, timeout=300, check=False,
    )  # fmt: skip
    verdicts = {}
    for line in proc.stdout.splitlines():
        # "NAME KEPT", or "NAME KEPT (1 ignored import)" where pyproject.toml names a seam
        verdict_line = re.fullmatch(r"(.+) (KEPT|BROKEN)(?: \(\d+ ignored imports?\))?", line)
        if verdict_line and verdict_line[1] in CONTRACTS:
            verdicts[verdict_line[1]] = verdict_line[2]
    assert set(verdicts) == set(CONTRACTS), proc.stdout + proc.stderr
    assert proc.returncode == (1 if "BROKEN" in verdicts.values() else 0), proc.stdout
    return verdicts


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The package and its contracts, copied where an edit cannot touch the repository."""
    shutil.copytree(
        REPO / "kinesio_tui",
        tmp_path / "kinesio_tui",
        ignore=shutil.ignore_patterns("__pycache__", "*.tcss", "*.toml", "templates"),
    )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_package_keeps_every_contract(copy: Path) -> None:
    assert lint(copy) == dict.fromkeys(CONTRACTS, "KEPT")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("domain/outcomes.py", "from kinesio_tui.export import fmt", LAYERS),
        ("data/db.py", "from kinesio_tui.domain import roster", LAYERS),
        ("views/help.py", "import kinesio_tui.app", LAYERS),
        ("domain/outcomes.py", "import textual.app", NO_TEXTUAL_BELOW),
        ("export/context.py", "import textual.app", NO_TEXTUAL_BELOW),
        ("maintenance/audit.py", "import textual.app", NO_TEXTUAL_BELOW),
        ("data/db.py", "from kinesio_tui import crash", DATA_ALONE),
        ("errors.py", "from kinesio_tui.data import db", HELPERS),
        ("maintenance/erase.py", "import kinesio_tui.launch", CLI_ON_TOP),
        ("export/fhir.py", "from fhir.resources.R4B import bundle", FHIR_MODELS),
        ("data/engines/sqlite.py", "import psycopg", PSYCOPG_IN_ITS_ENGINE),
        ("domain/store.py", "from psycopg import errors", PSYCOPG_IN_ITS_ENGINE),
        ("cli/database.py", "import psycopg.conninfo", PSYCOPG_IN_ITS_ENGINE),
    ],
)
def test_one_forbidden_import_breaks_its_contract(
    copy: Path, module: str, line: str, broken: str
) -> None:
    source = copy / "kinesio_tui" / module
    source.write_text(source.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    verdicts = lint(copy)
    assert verdicts[broken] == "BROKEN", verdicts
