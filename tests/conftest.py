"""Shared fixtures: real SQLite files in a temp dir, a fixed clock, the demo clinic."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from kinesio_tui import clock
from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.demo import build_demo
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient, Visit
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.visits import complete_visit, start_visit, visits_of

#: The fixed day every test runs on (a Wednesday, a clinic day).
DAY = date(2026, 11, 25)


class FakeClock:
    """Time as a test sees it, moved only by the test.

    The product's clock (`kinesio_tui.clock`) reads the day and the moment from here:
    10:00 local time on DAY to begin with. Called, it gives monotonic seconds, the PIR
    pacer's clock. `advance` moves both together.
    """

    def __init__(self, day: date = DAY) -> None:
        self.moment = datetime.combine(day, time(10)).astimezone()
        self.seconds = 1000.0

    def now(self) -> datetime:
        return self.moment

    def __call__(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds
        self.moment += timedelta(seconds=seconds)


@pytest.fixture(autouse=True)
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Every test runs on DAY: the product's clock reads this one (ask for it to move it).

    Only a real `kinesio` process reads the real clock.
    """
    fake = FakeClock()
    monkeypatch.setattr(clock, "now", fake.now)
    return fake


@pytest.fixture(scope="session")
def _audit_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One audit key per test process, outside any test's folders (as the config dir is):
    the session's demo clinic and every test's files are signed with it."""
    return tmp_path_factory.mktemp("audit-key") / "audit.key"


@pytest.fixture(autouse=True)
def _private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _audit_key_file: Path) -> None:
    """No test touches the real user's data or config directories."""
    monkeypatch.setenv("KINESIO_AUDIT_KEY", str(_audit_key_file))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("KINESIO_DB", raising=False)
    monkeypatch.setenv("KINESIO_THERAPIST", "Test Therapist")


def held_episode(
    db: ClinicDB,
    episode: NewEpisode,
    *,
    patient: NewPatient | None = None,
    start: date = DAY,
    held: int = 0,
    at: Callable[[Visit], None] | None = None,
    leave_last_open: bool = False,
) -> tuple[int, int, list[Visit]]:
    """A patient (`patient`, else a made-up one) with `episode` opened on `start`, its first
    `held` visits held on their planned days, `at(visit)` recording what each records while
    it is open; `leave_last_open` leaves the last of them in progress. Returns the patient's
    and the episode's ids, and the episode's visits as first planned."""
    patient = patient or NewPatient("Ona", "Bandomoji", "1975-04-05", "F")
    pid = create_patient(db, patient, today=start)
    eid = open_episode(db, pid, episode, start=start, today=start)
    planned = visits_of(db, eid)
    for index, visit in enumerate(planned[:held]):
        start_visit(db, visit.id, today=visit.planned_date)
        if at is not None:
            at(visit)
        if not (leave_last_open and index == held - 1):
            complete_visit(db, visit.id)
    return pid, eid, planned


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "clinic.db"


@pytest.fixture
def db(db_path: Path) -> Iterator[ClinicDB]:
    conn = connect(db_path, actor="tester")
    yield conn
    conn.close()


@pytest.fixture
def newer_db_path(db_path: Path) -> Path:
    """A kinesio-tui file as a newer version of the program leaves it (schema 999)."""
    connect(db_path).close()
    raw = sqlite3.connect(db_path)
    raw.execute("PRAGMA user_version = 999")
    raw.commit()
    raw.close()
    return db_path


@pytest.fixture(scope="session")
def _demo_template(tmp_path_factory: pytest.TempPathFactory, _audit_key_file: Path) -> Path:
    """The demo clinic built once per test process (about 1 s), copied per test."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KINESIO_AUDIT_KEY", str(_audit_key_file))
        return build_demo(tmp_path_factory.mktemp("demo") / "demo.db", today=DAY)


@pytest.fixture
def demo_db_path(_demo_template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "demo.db"
    shutil.copyfile(_demo_template, target)
    target.chmod(0o600)
    return target


@pytest.fixture
def demo_db(demo_db_path: Path) -> Iterator[ClinicDB]:
    conn = connect(demo_db_path, actor="tester")
    yield conn
    conn.close()
