"""Another terminal's commits show within a second on PostgreSQL; the workstation's own don't.

The watcher LISTENs on a connection of its own to the schema's channel, which the audit
trail's trigger notifies at every commit that wrote to it; the writers here are real
`kinesio` processes (another room's terminal) and this process's own connection.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from conftest import DAY
from pg_cluster import PgDatabase
from real_cli import run

from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.data.watch import ChangeWatcher
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import create_patient

#: The workstation polls once a second (app.POLL_SECONDS): a change must show by then.
WITHIN_S = 1.0


@pytest.fixture
def clinic(pg_clinic: PgDatabase) -> Iterator[ClinicDB]:
    """An empty clinic made by its owner, opened as the application's role, as a room."""
    db = connect(pg_clinic.app_url, actor="room 1")
    yield db
    db.close()


def changed_within(watcher: ChangeWatcher, seconds: float) -> float | None:
    """How long until the watcher said "changed" (None: not within `seconds`)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if watcher.changed():
            return time.monotonic() - started
        time.sleep(0.02)
    return None


def add_in_another_terminal(database: PgDatabase, last: str) -> None:
    ran = run(
        "patients", "add", "--first", "Ona", "--last", last, "--born", "1970-01-01",
        "--sex", "F", "--db", database.app_url,
    )  # fmt: skip
    assert ran.code == 0, ran


def test_another_terminals_write_shows_within_a_second(
    clinic: ClinicDB, pg_clinic: PgDatabase
) -> None:
    watcher = ChangeWatcher(clinic)
    try:
        assert not watcher.changed()
        add_in_another_terminal(pg_clinic, "Other")
        assert changed_within(watcher, WITHIN_S) is not None
        assert not watcher.changed()  # once per batch
        add_in_another_terminal(pg_clinic, "Again")
        assert changed_within(watcher, WITHIN_S) is not None
    finally:
        watcher.close()


def test_own_writes_do_not_count(clinic: ClinicDB, pg_clinic: PgDatabase) -> None:
    watcher = ChangeWatcher(clinic)
    try:
        create_patient(clinic, NewPatient("Anna", "Own", "1980-01-02", "F"), today=DAY)
        assert changed_within(watcher, WITHIN_S) is None
        # while a foreign one, right after our own, still does
        create_patient(clinic, NewPatient("Anna", "Own", "1980-01-03", "F"), today=DAY)
        add_in_another_terminal(pg_clinic, "Other")
        assert changed_within(watcher, WITHIN_S) is not None
    finally:
        watcher.close()


def test_a_lost_listener_counts_as_a_change_and_listens_again(
    clinic: ClinicDB, pg_clinic: PgDatabase
) -> None:
    watcher = ChangeWatcher(clinic)
    try:
        pg_clinic.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'kinesio-tui (watch)' AND datname = current_database()"
        )
        assert changed_within(watcher, WITHIN_S) is not None  # something may have been missed
        assert changed_within(watcher, 0.3) is None
        add_in_another_terminal(pg_clinic, "After")
        assert changed_within(watcher, WITHIN_S) is not None
    finally:
        watcher.close()
