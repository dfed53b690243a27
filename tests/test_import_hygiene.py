"""The domain and the CLI never load Textual; `kinesio --help` doesn't load Jinja2 either.

Checked from `sys.modules` in a fresh interpreter, as harlequin's test_import_hygiene does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, sys
{body}
print("MODULES=" + json.dumps(sorted(m.split(".")[0] for m in sys.modules)))
"""

RUN_CLI = """
from kinesio_tui.cli import app
try:
    app({args!r}, prog_name="kinesio")
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
"""


def loaded(body: str, tmp_path: Path) -> set[str]:
    env = {
        "KINESIO_DB": str(tmp_path / "clinic.db"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(body=body)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("MODULES="))
    return set(json.loads(line.removeprefix("MODULES=")))


def test_the_probe_sees_textual_when_it_is_imported(tmp_path: Path) -> None:
    assert "textual" in loaded("import textual.app", tmp_path)


@pytest.mark.parametrize(
    "body",
    [
        "import kinesio_tui.domain",
        "import kinesio_tui.protocol, kinesio_tui.data.db, kinesio_tui.demo",
    ],
)
def test_the_domain_imports_no_textual(body: str, tmp_path: Path) -> None:
    modules = loaded(body, tmp_path)
    assert "kinesio_tui" in modules
    assert "textual" not in modules


def test_kinesio_help_loads_neither_textual_nor_jinja(tmp_path: Path) -> None:
    modules = loaded(RUN_CLI.format(args=["--help"]), tmp_path)
    assert "typer" in modules
    assert "textual" not in modules
    assert "jinja2" not in modules


def test_kinesio_patients_list_loads_no_textual(tmp_path: Path) -> None:
    # `init` makes the database (only it, demo and the workstation create one), then the list
    modules = loaded(
        RUN_CLI.format(args=["init"]) + RUN_CLI.format(args=["patients", "list"]), tmp_path
    )
    assert "sqlite_utils" in modules  # it really opened the database
    assert "textual" not in modules
    assert (tmp_path / "clinic.db").exists()
