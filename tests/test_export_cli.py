"""`kinesio export` and `kinesio templates` through Typer's CliRunner."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from conftest import DAY
from typer.testing import CliRunner

from kinesio_tui.cli import app
from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.patients import count_patients, find_patients
from kinesio_tui.export.render import override_dir

runner = CliRunner()

# Exports read through the domain on either engine; `export --all`'s worker processes open
# the clinic by its target, a file or a server (issue 17).
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def kinesio(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def refused(code: int, out: str, err: str, *words: str) -> None:
    assert code == 2, (out, err)
    assert "Traceback" not in out + err
    for word in words:
        assert word in err, err


def test_each_kind_and_format(demo_target: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    for kind in ("summary", "visit", "module"):
        for fmt in ("md", "html"):
            code, stdout, err = kinesio(
                "export", "petrauskas", "--kind", kind, "--format", fmt,
                "--out", str(out), "--db", demo_target,
            )  # fmt: skip
            assert code == 0, err
            path = Path(stdout.strip())
            assert path.parent == out and path.suffix == f".{fmt}"
            assert path.name.startswith(f"patient-0001-{kind}") and DAY.isoformat() in path.name
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    code, stdout, _ = kinesio(
        "export", "1", "--kind", "visit", "--visit", "3", "--format", "md",
        "--out", str(out), "--db", demo_target,
    )  # fmt: skip
    assert code == 0 and stdout.strip().endswith(f"patient-0001-visit-03-{DAY.isoformat()}.md")
    code, stdout, _ = kinesio(
        "export", "1", "--kind", "module", "--module", "1", "--out", str(out),
        "--db", demo_target,
    )  # fmt: skip
    assert code == 0 and stdout.strip().endswith(f"patient-0001-module-1-{DAY.isoformat()}.html")


def test_existing_file_is_refused_unless_forced(demo_target: str, tmp_path: Path) -> None:
    args = ("export", "zemaite", "--out", str(tmp_path / "x"), "--db", demo_target)
    code, stdout, _ = kinesio(*args)
    assert code == 0
    path = Path(stdout.strip())
    path.write_text("kept")
    code, stdout, err = kinesio(*args)
    refused(code, stdout, err, "already exists", "--force")
    assert path.read_text() == "kept"
    code, stdout, _ = kinesio(*args, "--force")
    assert code == 0 and path.read_text().startswith("<!DOCTYPE html>")


def test_all_active_patients(demo_db: ClinicDB, demo_target: str, tmp_path: Path) -> None:
    out = tmp_path / "all"
    code, stdout, err = kinesio(
        "export", "--all", "--format", "md", "--out", str(out), "--db", demo_target
    )
    assert code == 0, err
    active = count_patients(demo_db)
    written = stdout.split()
    lina = find_patients(demo_db, "mockute")[0]
    assert len(written) == active - 1  # Lina has no episode yet: skipped, said so
    assert f"patient {lina.id} skipped" in err and "Mockut" not in err
    assert sorted(p.name for p in out.iterdir()) == sorted(Path(p).name for p in written)
    code, stdout, err = kinesio(
        "export", "--all", "--format", "md", "--out", str(out), "--db", demo_target
    )
    refused(code, stdout, err, f"0 written, 1 skipped, {active - 1} refused")


def test_bad_input_exits_2_without_traceback(demo_target: str, tmp_path: Path) -> None:
    db = ("--db", demo_target)
    refused(*kinesio("export", "nobody-like-this", *db), "No patient matches")
    refused(*kinesio("export", "999", *db), "Not found")
    refused(*kinesio("export", *db), "--all")
    refused(*kinesio("export", "mockute", *db), "no episode of care")
    refused(*kinesio("export", "1", "--kind", "visit", "--visit", "46", *db), "no visit 46")
    refused(*kinesio("export", "1", "--kind", "letter", *db))
    assert not (tmp_path / "exports").exists()


def test_templates_path_and_copy(tmp_path: Path) -> None:
    code, stdout, _ = kinesio("templates", "path")
    assert code == 0 and Path(stdout.strip()) == override_dir()
    from kinesio_tui.export.render import builtin_template_files

    n = len(list(builtin_template_files()))
    code, stdout, _ = kinesio("templates", "copy")
    assert code == 0 and stdout.startswith(f"{n} templates copied, 0 already there")
    assert (override_dir() / "summary.html.j2").is_file()
    assert (override_dir() / "clinic_outcomes.html.j2").is_file()
    assert (override_dir() / "partials" / "report.css").is_file()
    (override_dir() / "summary.md.j2").write_text("mine")
    code, stdout, _ = kinesio("templates", "copy")
    assert stdout.startswith(f"0 templates copied, {n} already there")
    assert (override_dir() / "summary.md.j2").read_text() == "mine"


def test_broken_override_names_template_and_line(demo_target: str, tmp_path: Path) -> None:
    override_dir().mkdir(parents=True)
    (override_dir() / "summary.html.j2").write_text("<h1>\n{{ patient.name }\n</h1>\n")
    code, stdout, err = kinesio(
        "export", "simkus", "--out", str(tmp_path / "o"), "--db", demo_target
    )
    refused(code, stdout, err, "Broken template", "summary.html.j2, line 2")
    assert "Šimkus" not in err


def test_a_visit_only_planned_has_no_visit_note(demo_target: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, err = kinesio(
        "export", "petrauskas", "--kind", "visit", "--visit", "40", "--format", "md",
        "--out", str(out), "--db", demo_target,
    )  # fmt: skip
    refused(code, stdout, err, "Visit 40", "planned")
    assert len(err.strip().splitlines()) == 1, err
    assert not out.exists() or not any(out.iterdir())
