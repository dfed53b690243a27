"""A first run: a quiet install, and the README says where the demo clinic is written."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_an_editable_install_says_nothing_a_newcomer_cannot_act_on(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(
        ROOT / "kinesio_tui", project / "kinesio_tui", ignore=shutil.ignore_patterns("__pycache__")
    )
    # as the Makefile installs, but into an environment of its own, never the one running
    # the tests (about 20 s: pip builds the backend's environment first)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "--quiet", "--no-deps", "-e", str(project)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    said = proc.stdout + proc.stderr
    assert "BuildBackendWarning" not in said and "Please be careful" not in said, said


def test_the_readme_says_where_the_demo_is_written(tmp_path: Path) -> None:
    import os
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    said = re.search(r"`(~/[^`]*demo\.db)`", quick_start)
    assert said, "Quick start names no demo.db path"
    home = tmp_path / "home"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("XDG_")},
        "HOME": str(home),
    }
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "kinesio"), "demo", "--build-only"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    written = proc.stdout.strip().removeprefix("Demo database written: ")
    assert written == said.group(1).replace("~", str(home), 1)
