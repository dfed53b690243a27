"""An export from a regular (non-editable) install: the templates travel as package data.

The package is built from a copy of the project, as a fresh clone would build it, and
installed into a new environment of its own (`--no-deps --no-build-isolation`: the test
environment's dependencies and setuptools are made visible to it instead of downloaded
and installed again). Only the installed copy of kinesio_tui can be imported there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _installed(tmp_path: Path) -> Path:
    """A venv holding a regular install of this project; returns its bin folder."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(
        ROOT / "kinesio_tui",
        project / "kinesio_tui",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    # The test environment's packages, appended after the venv's own: a path added by a
    # .pth line has its own .pth files (this worktree's editable install) left unread.
    (site / "test-environment.pth").write_text(sysconfig.get_path("purelib") + "\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "--quiet", "--no-deps", "--no-build-isolation", "--no-compile", str(project)],
        capture_output=True, text=True, timeout=300, check=False, env=_env(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    shutil.rmtree(project)  # nothing left to import from but the install
    return venv / "bin"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return env | {"COLUMNS": "200", "NO_COLOR": "1", "XDG_CONFIG_HOME": str(tmp_path / "cfg")}


@pytest.mark.slow
def test_an_export_from_a_regular_install(tmp_path: Path, demo_db_path: Path) -> None:
    bin_dir = _installed(tmp_path)

    def kinesio(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(bin_dir / "kinesio"), *args],
            capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
            env=_env(tmp_path),
        )  # fmt: skip

    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "import kinesio_tui; print(kinesio_tui.__file__)"],
        capture_output=True, text=True, check=True, cwd=tmp_path, env=_env(tmp_path),
    ).stdout  # fmt: skip
    assert Path(where.strip()).is_relative_to(tmp_path / "venv"), where
    out = tmp_path / "out"
    db = ("--db", str(demo_db_path))
    for kind, fmt in (("summary", "html"), ("module", "md")):
        done = kinesio(
            "export", "Petrauskas", "--kind", kind, "--format", fmt, "--out", str(out), *db
        )
        assert done.returncode == 0, done.stderr
        written = Path(done.stdout.strip())
        assert written.parent == out and written.suffix == f".{fmt}"
        text = written.read_text(encoding="utf-8")
        assert "Petrauskas" in text
        if fmt == "html":  # the stylesheet partial is inlined: the partials were installed
            assert "<style>" in text and "@page" in text, text[:400]
    from kinesio_tui.export.render import builtin_template_files

    every = len(list(builtin_template_files()))  # the source tree's, all installed
    copied = kinesio("templates", "copy")
    assert copied.returncode == 0, copied
    assert copied.stdout.startswith(f"{every} templates copied"), copied
    assert (tmp_path / "cfg" / "kinesio-tui" / "templates" / "partials" / "report.css").is_file()
