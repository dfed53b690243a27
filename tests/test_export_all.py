"""`kinesio export --all` on the demo clinic: a pool of processes writes the files, in the
patients' order, and one patient's failure neither stops the others nor passes unnoticed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinesio_tui.cli import app
from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.patients import find_patients
from kinesio_tui.export.batch import PAGE
from kinesio_tui.export.render import builtin_templates, override_dir

runner = CliRunner()

# The pool of processes on both engines (issue 17): each worker opens the clinic by the
# target it was given, a file's path or a PostgreSQL URL.
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def export_all(target: str, out: Path, *more: str) -> tuple[int, str, str]:
    args = ["export", "--all", "--format", "md", "--out", str(out), "--db", target, *more]
    result = runner.invoke(app, args, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _in_order(db: ClinicDB) -> list[int]:
    """The active patients in the order `export --all` takes them (the list's order)."""
    return [p.id for p in find_patients(db, "", limit=1000)]


def test_the_files_come_in_the_patients_order_from_more_than_one_page(
    demo_db: ClinicDB, demo_target: str, tmp_path: Path
) -> None:
    order = _in_order(demo_db)
    assert len(order) > PAGE  # two pages at least: the pool's path
    code, stdout, err = export_all(demo_target, tmp_path / "out")
    assert code == 0, err
    printed = [int(Path(line).name.split("-")[1]) for line in stdout.split()]
    assert printed == [pid for pid in order if pid in set(printed)]
    assert len(printed) == len(order) - 1  # Lina Mockutė has no episode: skipped


@pytest.mark.sqlite_only  # only a SQLite column holds text where a number belongs
def test_a_record_that_cannot_be_read_fails_that_patient_only(
    demo_db: ClinicDB, demo_db_path: Path, tmp_path: Path
) -> None:
    """A damaged value (text where a number belongs, as a hand-edited file can hold) in one
    patient's record: the others are written, that patient is named, the exit is 1."""
    order = _in_order(demo_db)
    damaged = order[len(order) // 2]
    raw = sqlite3.connect(demo_db_path)
    with raw:
        raw.execute(
            "UPDATE measurements SET value_num = 'seven' WHERE test_code = 'vas' AND visit_id IN "
            "(SELECT v.id FROM visits v JOIN episodes e ON e.id = v.episode_id "
            "WHERE e.patient_id = ?)",
            [damaged],
        )
    raw.close()
    name = next(p for p in find_patients(demo_db, "", limit=1000) if p.id == damaged)
    code, stdout, err = export_all(str(demo_db_path), tmp_path / "out")
    assert code == 1, (stdout, err)
    assert f"patient {damaged} failed: ValueError" in err
    assert name.last_name not in err and "Traceback" not in err
    written = {int(Path(line).name.split("-")[1]) for line in stdout.split()}
    assert written == set(order) - {damaged, find_patients(demo_db, "mockute")[0].id}
    assert "1 failed" in err


def test_an_override_template_that_breaks_for_one_patient_is_named_and_the_rest_written(
    demo_db: ClinicDB, demo_target: str, tmp_path: Path
) -> None:
    order = _in_order(demo_db)
    broken_for = order[-1]
    template = (builtin_templates() / "summary.md.j2").read_text(encoding="utf-8")
    folder = override_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.md.j2").write_text(
        f"{{% if patient.id == {broken_for} %}}{{{{ 1 // 0 }}}}{{% endif %}}\n" + template,
        encoding="utf-8",
    )
    code, stdout, err = export_all(demo_target, tmp_path / "out")
    assert code == 1, (stdout, err)
    assert f"patient {broken_for} failed: summary.md.j2, line 1: ZeroDivisionError" in err
    assert len(stdout.split()) == len(order) - 2  # all but the broken one and Lina


def test_patients_without_an_episode_are_told_in_order_and_not_sent_to_be_read(
    demo_db: ClinicDB, demo_target: str, tmp_path: Path
) -> None:
    """Most of a large clinic has no episode: those patients are told "skipped" by the
    command itself, in the patients' order among the others, and every page sent to a worker
    carries PAGE patients to export (the last page fewer)."""
    from datetime import date

    from kinesio_tui.domain.models import NewPatient
    from kinesio_tui.domain.patients import create_patient
    from kinesio_tui.export.batch import EveryoneExport, Job, without_episode

    for n in range(2 * PAGE):
        create_patient(demo_db, NewPatient("Nora", f"Registered {n}", date(1980, 1, 2), "F"))
    order = _in_order(demo_db)
    job = Job(demo_db.target, "summary", "md", tmp_path / "unused", None, False, date.today())
    no_episode = without_episode(demo_db, job, order)
    assert len(no_episode) == 2 * PAGE + 1  # and Lina Mockutė
    with EveryoneExport(job, order, workers=1, without_episode=no_episode) as run:
        sent = [run._work(page) for page in run._todo]
    assert [len(work) for work in sent[:-1]] == [PAGE] * (len(sent) - 1)
    assert [pid for work in sent for pid in work] == [p for p in order if p not in no_episode]

    code, stdout, err = export_all(demo_target, tmp_path / "out")
    assert code == 0, err
    told = [int(line.split()[1]) for line in err.splitlines() if " skipped: " in line]
    assert told == [pid for pid in order if pid in no_episode]
    printed = [int(Path(line).name.split("-")[1]) for line in stdout.split()]
    assert printed == [pid for pid in order if pid not in no_episode]
    assert f"{len(printed)} written, {len(no_episode)} skipped" in err


@pytest.mark.sqlite_only  # the settings file is read the same whatever the engine
@pytest.mark.parametrize("fmt", ["html", "fhir"])
def test_a_broken_settings_file_stops_the_run_at_once_with_one_line(
    demo_db_path: Path, tmp_path: Path, fmt: str
) -> None:
    """The clinic's settings (its header, its ICD-10 edition) are read once for the run: a
    file broken by hand is said once, exit 2, nothing written; not one "skipped" line per
    patient and a run that reports success."""
    from kinesio_tui.settings import settings_path

    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().write_text("[clinic]\nname = 5\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["export", "--all", "--format", fmt, "--out", str(out), "--db", str(demo_db_path)]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.count("[clinic] holds text fields only") == 1, result.stderr
    assert "skipped" not in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()
