"""export_patient's contract: predictable private files, no silent overwrite, clear refusals."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from conftest import DAY

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.episodes import current_episode
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import create_patient, find_patients
from kinesio_tui.domain.visits import visits_of
from kinesio_tui.errors import KinesioError
from kinesio_tui.export import ExportExists, default_export_dir, export_patient, render_export
from kinesio_tui.export.render import override_dir

# Exports written from what either engine reads back (issue 17).
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def pid(db: ClinicDB, query: str) -> int:
    return find_patients(db, query)[0].id


def test_files_are_private_named_predictably_and_not_overwritten(
    demo_db: ClinicDB, tmp_path: Path
) -> None:
    out = tmp_path / "new" / "exports"
    p = pid(demo_db, "petrauskas")
    path = export_patient(demo_db, p, kind="summary", fmt="html", out_dir=out, today=DAY)
    assert path == out / f"patient-{p:04d}-summary-2026-11-25.html"
    assert mode(path) == 0o600 and mode(out) == 0o700
    path.write_text("changed")
    with pytest.raises(ExportExists) as refused:
        export_patient(demo_db, p, kind="summary", fmt="html", out_dir=out, today=DAY)
    assert isinstance(refused.value, KinesioError)
    assert path.read_text() == "changed"
    again = export_patient(
        demo_db, p, kind="summary", fmt="html", out_dir=out, today=DAY, overwrite=True
    )
    assert again == path and path.read_text().startswith("<!DOCTYPE html>")
    assert mode(path) == 0o600
    assert sorted(f.name for f in out.iterdir()) == [path.name]  # no temporary left behind


def test_defaults_latest_held_visit_and_latest_reported_module(
    demo_db: ClinicDB, tmp_path: Path
) -> None:
    p = pid(demo_db, "zemaite")  # visit 17 is in progress today; 16 is the latest held
    note = export_patient(demo_db, p, kind="visit", fmt="md", out_dir=tmp_path, today=DAY)
    assert note.name == f"patient-{p:04d}-visit-16-2026-11-25.md"
    report = export_patient(demo_db, p, kind="module", fmt="md", out_dir=tmp_path, today=DAY)
    assert report.name == f"patient-{p:04d}-module-1-2026-11-25.md"
    episode = current_episode(demo_db, p)
    assert episode is not None
    third = visits_of(demo_db, episode.id)[2]
    text = render_export(demo_db, p, kind="visit", fmt="md", visit_id=third.id, today=DAY)
    assert "## Visit 3 of 45: Therapy session" in text


def test_refusals(demo_db: ClinicDB, tmp_path: Path) -> None:
    out = tmp_path / "out"
    lina = pid(demo_db, "mockute")  # registered, no episode yet
    with pytest.raises(KinesioError, match="no episode of care"):
        export_patient(demo_db, lina, kind="summary", fmt="md", out_dir=out)
    tomas, ruta = pid(demo_db, "petrauskas"), pid(demo_db, "zemaite")
    episode = current_episode(demo_db, ruta)
    assert episode is not None
    other = visits_of(demo_db, episode.id)[0]
    with pytest.raises(KinesioError, match="not in an episode of patient"):
        export_patient(demo_db, tomas, kind="visit", fmt="md", out_dir=out, visit_id=other.id)
    with pytest.raises(KinesioError, match="Module 3 has no control"):
        export_patient(demo_db, ruta, kind="module", fmt="md", out_dir=out, module=3)
    with pytest.raises(KinesioError):
        export_patient(demo_db, tomas, kind="letter", fmt="md", out_dir=out)  # type: ignore[arg-type]
    assert not out.exists()


def test_no_visit_held_yet(db: ClinicDB, tmp_path: Path) -> None:
    from kinesio_tui.domain.episodes import open_episode
    from kinesio_tui.domain.models import NewEpisode

    p = create_patient(db, NewPatient("Ana", "Test", "1990-01-01", "F"), today=DAY)
    open_episode(db, p, NewEpisode("radiculitis", "lumbar", "L"), start=DAY, today=DAY)
    with pytest.raises(KinesioError, match="no held visit"):
        export_patient(db, p, kind="visit", fmt="html", out_dir=tmp_path, today=DAY)
    with pytest.raises(KinesioError, match="no control or final"):
        export_patient(db, p, kind="module", fmt="html", out_dir=tmp_path, today=DAY)
    summary = render_export(db, p, kind="summary", fmt="md", today=DAY)
    assert "No test results recorded yet." in summary


def test_default_export_dir_is_private() -> None:
    folder = default_export_dir()
    assert folder.is_dir() and mode(folder) == 0o700


def test_override_template_wins_and_broken_one_names_file_and_line(demo_db: ClinicDB) -> None:
    p = pid(demo_db, "simkus")
    overrides = override_dir()
    overrides.mkdir(parents=True)
    (overrides / "visit_note.md.j2").write_text("Clinic note for {{ patient.name }}\n")
    assert render_export(demo_db, p, kind="visit", fmt="md", today=DAY) == (
        "Clinic note for Algirdas Šimkus\n"
    )
    (overrides / "visit_note.md.j2").write_text("line one\n{% if %}\n")
    with pytest.raises(KinesioError, match=r"visit_note\.md\.j2, line 2"):
        render_export(demo_db, p, kind="visit", fmt="md", today=DAY)
    (overrides / "visit_note.html.j2").write_text("<p>\n\n{{ patient.nickname }}</p>\n")
    with pytest.raises(KinesioError, match=r"visit_note\.html\.j2, line 3: .*nickname"):
        render_export(demo_db, p, kind="visit", fmt="html", today=DAY)


def test_importing_export_loads_neither_textual_nor_jinja2() -> None:
    import subprocess
    import sys

    code = (
        "import sys, kinesio_tui.export, kinesio_tui.cli;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'jinja2')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unwritable_folder_and_runtime_template_error_are_kinesio_errors(
    demo_db: ClinicDB, tmp_path: Path
) -> None:
    p = pid(demo_db, "petrauskas")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        if not os.access(locked, os.W_OK):  # root ignores the mode bits
            with pytest.raises(KinesioError, match="Cannot write"):
                export_patient(demo_db, p, kind="summary", fmt="md", out_dir=locked)
        blocker = tmp_path / "file"
        blocker.write_text("")
        with pytest.raises(KinesioError, match="Not a folder"):
            export_patient(demo_db, p, kind="summary", fmt="md", out_dir=blocker)
        with pytest.raises(KinesioError, match="Cannot write"):
            export_patient(demo_db, p, kind="summary", fmt="md", out_dir=blocker / "sub")
    finally:
        locked.chmod(0o700)
    override_dir().mkdir(parents=True)
    (override_dir() / "summary.md.j2").write_text("{{ patient.name + 1 }}\n")
    with pytest.raises(KinesioError, match=r"summary\.md\.j2, line 1: TypeError") as error:
        render_export(demo_db, p, kind="summary", fmt="md", today=DAY)
    assert "Tomas" not in str(error.value)
