"""Which database a start names: `--db` > KINESIO_DB > the `[database] url` setting > the file.

And on PostgreSQL, one write at a time per schema (the advisory lock, polled), savepoints
for nested writes, uuids read back as text: the PostgreSQL engine's own transaction rules.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_cluster import PgDatabase
from real_cli import assert_one_line_refusal, run

from kinesio_tui.data.db import ClinicDB, connect, write_transaction
from kinesio_tui.data.engine import Target, resolve_target
from kinesio_tui.errors import DatabaseBusy, KinesioError
from kinesio_tui.locations import default_db_path
from kinesio_tui.settings import Settings, load_settings, save_settings

URL = "postgresql://kinesio_app@db.clinic.lan/clinic"


@pytest.fixture
def settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "settings.toml"
    monkeypatch.setenv("KINESIO_SETTINGS", str(path))
    monkeypatch.delenv("KINESIO_DB", raising=False)
    return path


def test_without_anything_named_it_is_the_file_in_the_data_directory(settings_file: Path) -> None:
    assert resolve_target(None) == Target("sqlite", path=default_db_path())


def test_the_setting_names_a_database_and_its_schema(settings_file: Path) -> None:
    settings_file.write_text(f'[database]\nurl = "{URL}"\nschema = "branch_vln"\n')
    assert resolve_target(None) == Target("postgresql", url=URL, schema="branch_vln")


def test_kinesio_db_wins_over_the_setting_and_db_over_both(
    settings_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_file.write_text(f'[database]\nurl = "{URL}"\n')
    monkeypatch.setenv("KINESIO_DB", str(tmp_path / "env.db"))
    assert resolve_target(None) == Target("sqlite", path=tmp_path / "env.db")
    assert resolve_target(str(tmp_path / "flag.db")) == Target("sqlite", path=tmp_path / "flag.db")
    other = "postgresql://kinesio_app@other.lan/clinic"
    assert resolve_target(other) == Target("postgresql", url=other)


def test_a_file_named_on_the_command_line_never_reads_the_settings(
    settings_file: Path, tmp_path: Path
) -> None:
    settings_file.write_text("[database\nbroken")
    assert resolve_target(str(tmp_path / "c.db")).path == tmp_path / "c.db"
    with pytest.raises(KinesioError, match="Broken settings file"):
        resolve_target(None)


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ('url = "postgresql://kinesio_app:pw@h/clinic"', "PGPASSFILE"),
        ('url = "mysql://h/clinic"', "postgresql://"),
        ('schema = "Branch-1"', "lower-case letters"),
        ("url = 5", "postgresql://"),
        ('host = "h"', "url and schema only"),
    ],
)
def test_a_broken_database_setting_is_refused(settings_file: Path, table: str, says: str) -> None:
    settings_file.write_text(f"[database]\n{table}\n")
    for read in (lambda: resolve_target(None), load_settings):
        with pytest.raises(KinesioError, match="Broken settings file") as refused:
            read()
        assert says in str(refused.value)
        assert "pw@" not in str(refused.value)


def test_saving_the_settings_keeps_the_database_table(settings_file: Path) -> None:
    settings_file.write_text(f'[database]\nurl = "{URL}"\nschema = "branch_vln"\n')
    save_settings(load_settings())
    again = load_settings()
    assert (again.database_url, again.database_schema) == (URL, "branch_vln")
    assert load_settings() != Settings()


def test_the_cli_refuses_a_password_in_kinesio_db(
    settings_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KINESIO_DB", "postgresql://kinesio_app:s3cret@127.0.0.1:1/x")
    for args in (["patients", "list"], []):  # a command, and the workstation's fast path
        ran = run(*args)
        assert_one_line_refusal(ran)
        assert "PGPASSFILE" in ran.err and "s3cret" not in ran.err


# --- PostgreSQL's transactions ------------------------------------------------------------


@pytest.fixture
def two_rooms(pg_clinic: PgDatabase) -> Iterator[tuple[ClinicDB, ClinicDB]]:
    first = connect(pg_clinic.app_url, actor="room 1")
    second = connect(pg_clinic.app_url, actor="room 2")
    yield first, second
    first.close()
    second.close()


def test_a_second_writer_waits_then_gives_up_writing_nothing(
    two_rooms: tuple[ClinicDB, ClinicDB],
) -> None:
    first, second = two_rooms
    second.write_wait_s = 0.6
    told: list[float] = []
    second.on_wait = lambda: told.append(time.monotonic())
    from kinesio_tui.data import engine as engine_module

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine_module, "WAIT_NOTICE_S", 0.2)
        with write_transaction(first):
            first.execute("INSERT INTO retired_ids (table_name, last_id) VALUES ('x', 1)")
            started = time.monotonic()
            with pytest.raises(DatabaseBusy), write_transaction(second):
                second.execute("INSERT INTO retired_ids (table_name, last_id) VALUES ('y', 1)")
            waited = time.monotonic() - started
    assert 0.6 <= waited < 3.0
    assert len(told) == 1
    assert not second.in_transaction
    rows = second.execute("SELECT table_name FROM retired_ids ORDER BY 1").fetchall()
    assert rows == [("x",)]


def test_a_waiting_writer_goes_on_once_the_first_commits(
    two_rooms: tuple[ClinicDB, ClinicDB],
) -> None:
    first, second = two_rooms
    seen: list[object] = []

    def later() -> None:
        with write_transaction(second):
            # READ COMMITTED: after the lock, the first writer's row is visible
            seen.append(second.execute("SELECT count(*) FROM retired_ids").fetchone()[0])

    with write_transaction(first):
        first.execute("INSERT INTO retired_ids (table_name, last_id) VALUES ('x', 1)")
        waiting = threading.Thread(target=later)
        waiting.start()
        time.sleep(0.3)
        assert seen == []  # still waiting for the lock
    waiting.join(5)
    assert seen == [1]


def test_a_nested_write_rolls_back_alone(two_rooms: tuple[ClinicDB, ClinicDB]) -> None:
    db, _ = two_rooms
    with write_transaction(db):
        db.execute("INSERT INTO retired_ids (table_name, last_id) VALUES ('kept', 1)")
        with pytest.raises(KinesioError), write_transaction(db):
            db.execute("INSERT INTO retired_ids (table_name, last_id) VALUES ('gone', 1)")
            raise KinesioError("Stop", "the inner block fails")
    rows = db.execute("SELECT table_name FROM retired_ids").fetchall()
    assert rows == [("kept",)]
    assert not db.in_transaction


def test_uuids_read_back_as_text(two_rooms: tuple[ClinicDB, ClinicDB]) -> None:
    from conftest import DAY

    from kinesio_tui.domain.models import NewPatient
    from kinesio_tui.domain.patients import create_patient

    db, _ = two_rooms
    pid = create_patient(db, NewPatient("Anna", "Nowak", "1980-01-02", "F"), today=DAY)
    (value,) = db.execute("SELECT uuid FROM patients WHERE id = ?", [pid]).fetchone()
    assert isinstance(value, str) and len(value) == 36
