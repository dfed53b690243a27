"""Shared fixtures: real SQLite files in a temp dir, a throwaway PostgreSQL cluster, a fixed
clock, the demo clinic.

Engines: a module opts its database tests into both engines with
`pytestmark = pytest.mark.engines("sqlite", "postgresql")` (the default is SQLite only); such
a test asks for `engine` (or `db_target`, `db`, `demo_db`, which do) and runs once per
engine, the PostgreSQL run marked `postgresql`. `@pytest.mark.sqlite_only` keeps one test on
SQLite. `KINESIO_TEST_ENGINES=sqlite` runs the SQLite half only (and leaves out every test
that asks for the cluster); `-m "not postgresql"` does the same from the command line.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
from pg_cluster import APP, NOT_INSTALLED, OWNER, PgCluster, PgDatabase, database, installed

from kinesio_tui import clock
from kinesio_tui.data.db import ClinicDB, connect, open_db
from kinesio_tui.demo import DEMO_ACTOR, build_demo
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient, Visit
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.visits import complete_visit, start_visit, visits_of

#: The schema a clinic lives in on PostgreSQL (the engine's default).
DEFAULT_SCHEMA = "kinesio"

#: The fixed day every test runs on (a Wednesday, a clinic day).
DAY = date(2026, 11, 25)

ENGINES = ("sqlite", "postgresql")

T = TypeVar("T")


def chosen_engines() -> tuple[str, ...]:
    """The engines this run tests (KINESIO_TEST_ENGINES, comma-separated; both by default)."""
    raw = os.environ.get("KINESIO_TEST_ENGINES", ",".join(ENGINES))
    names = tuple(name.strip() for name in raw.split(",") if name.strip())
    unknown = sorted(set(names) - set(ENGINES))
    if unknown or not names:
        raise pytest.UsageError(
            f"KINESIO_TEST_ENGINES={raw!r}: name engines among {', '.join(ENGINES)}"
        )
    return names


def pytest_configure(config: pytest.Config) -> None:
    chosen_engines()  # a misspelt engine stops the run before anything is collected
    for line in (
        "engines(*names): run the module's (or class's, or test's) database tests on these "
        "engines; the default is sqlite only",
        "sqlite_only: this test stays on SQLite in a module that runs on both engines",
        "postgresql: the test runs against the throwaway PostgreSQL cluster",
    ):
        config.addinivalue_line("markers", line)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One run per engine for the tests of an opted-in module that reach the database."""
    if "engine" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("engines")
    if marker is None:
        return
    unknown = sorted(set(marker.args) - set(ENGINES))
    if unknown:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: unknown engines {unknown}")
    wanted = [name for name in marker.args if name in chosen_engines()]
    if metafunc.definition.get_closest_marker("sqlite_only") is not None:
        wanted = [name for name in wanted if name == "sqlite"]
    metafunc.parametrize(
        "engine",
        [
            pytest.param(
                name, id=name, marks=[pytest.mark.postgresql] if name == "postgresql" else []
            )
            for name in wanted
        ],
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that use the cluster directly are `postgresql` tests too, and leave the run
    when KINESIO_TEST_ENGINES leaves PostgreSQL out."""
    skip_postgresql = "postgresql" not in chosen_engines()
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        uses_cluster = "pg_cluster" in getattr(item, "fixturenames", ())
        if uses_cluster and item.get_closest_marker("postgresql") is None:
            item.add_marker(pytest.mark.postgresql)
        (dropped if skip_postgresql and uses_cluster else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


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


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """This test process's throwaway PostgreSQL 15 cluster, started on first use (about
    1.5-3 s) in memory (pg_cluster.IN_MEMORY, when there), stopped and deleted at the end of
    the session."""
    if not installed():
        pytest.fail(NOT_INSTALLED, pytrace=False)
    cluster = PgCluster.start(in_memory=True)
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_database(pg_cluster: PgCluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[PgDatabase]:
    """A fresh empty database owned by kinesio_owner (unaccent and pg_trgm created), dropped
    after the test. PGPASSFILE points at the cluster's passfile for password (TCP) logins
    and for the `kinesio` processes a test starts."""
    monkeypatch.setenv("PGPASSFILE", str(pg_cluster.passfile))
    with database(pg_cluster) as fresh:
        yield fresh


@pytest.fixture(scope="session")
def _pg_clinic_template(pg_cluster: PgCluster, _audit_key_file: Path) -> str:
    """`tpl_clinic`: an empty clinic (kinesio's schema made by its owner, the app role's
    grants), built once per test process, cloned for each PostgreSQL test (~40 ms)."""
    import psycopg

    from kinesio_tui.data.engines.pg_schema import upgrade_schema

    name = "tpl_clinic"
    pg_cluster.create_database(name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KINESIO_AUDIT_KEY", str(_audit_key_file))  # the head's seal
        with psycopg.connect(pg_cluster.conninfo(name, OWNER), autocommit=True) as conn:
            upgrade_schema(conn, DEFAULT_SCHEMA, app_role=APP)
    pg_cluster.psql(f"ALTER DATABASE {name} IS_TEMPLATE true")
    return name


@pytest.fixture
def pg_clinic(
    pg_cluster: PgCluster, _pg_clinic_template: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PgDatabase]:
    """A fresh database holding an empty clinic, dropped after the test: `.app_url` is what
    a room connects as, `.owner_url` what upgrades and restores."""
    monkeypatch.setenv("PGPASSFILE", str(pg_cluster.passfile))
    with database(pg_cluster, template=_pg_clinic_template) as fresh:
        yield fresh


@pytest.fixture
def engine() -> str:
    """The engine a test runs on: sqlite unless its module opts into both
    (`pytest.mark.engines`), when `pytest_generate_tests` gives each run its own."""
    return "sqlite"


@pytest.fixture
def quarter_of_the_examples_on_postgresql(
    request: pytest.FixtureRequest, engine: str
) -> Iterator[None]:
    """A Hypothesis test's PostgreSQL run tries a quarter of its examples: each one there is
    several round trips to the server. With `derandomize=True` they are the first of the
    SQLite run's. Hypothesis reads a test's settings from the test itself as it runs (what
    `@settings` sets), so they are swapped for the length of the run."""
    from hypothesis import settings

    test: Any = request.function
    full = getattr(test, "_hypothesis_internal_use_settings", None)
    if engine != "postgresql" or full is None:
        yield
        return
    test._hypothesis_internal_use_settings = settings(full, max_examples=full.max_examples // 4)
    try:
        yield
    finally:
        test._hypothesis_internal_use_settings = full


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "clinic.db"


@pytest.fixture
def db_target(engine: str, db_path: Path, request: pytest.FixtureRequest) -> str:
    """Where this test's clinic is, as `--db` takes it: the SQLite file's path (not created
    yet), or the URL of an empty clinic on PostgreSQL as the application's role."""
    if engine == "postgresql":
        clinic: PgDatabase = request.getfixturevalue("pg_clinic")
        return clinic.app_url
    return str(db_path)


@pytest.fixture
def db(db_target: str) -> Iterator[ClinicDB]:
    """The test's clinic, open: a new SQLite file, or on PostgreSQL an empty clinic as the
    application's role (its schema made by the owner, as `kinesio init` does)."""
    conn = connect(db_target, actor="tester")
    yield conn
    conn.close()


class BuiltClinics:
    """Clinics that take many writes to make, made once per test process and engine, then
    copied for each test that asks: SQLite's file copied byte for byte (0600), on
    PostgreSQL a database cloned from the one the build wrote (marked a template). Each test
    still has a clinic of its own, exactly as the build leaves it; only the build's writes
    are not repeated (on PostgreSQL they were most of such a test's time).

    A build is `build(target)`: it opens the target (a path, or the application role's URL
    of an empty clinic), writes, closes, and must not depend on the asking test (the build
    runs inside the first one, on its fake clock: every test's clock starts at the same
    moment)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._made: dict[tuple[str, Callable[[str], None]], str] = {}

    def _make(
        self, request: pytest.FixtureRequest, engine: str, build: Callable[[str], None]
    ) -> str:
        """The built clinic: the file's path, or the template database's name."""
        if engine == "postgresql":
            cluster: PgCluster = request.getfixturevalue("pg_cluster")
            template: str = request.getfixturevalue("_pg_clinic_template")
            name = cluster.new_name("tpl_built")
            cluster.create_database(name, template=template)
            build(cluster.url(name, APP))
            cluster.psql(f'ALTER DATABASE "{name}" IS_TEMPLATE true')
            return name
        path = self._folder / f"built-{len(self._made)}.db"
        build(str(path))
        leftovers = [p.name for p in path.parent.glob(f"{path.name}-*")]
        assert not leftovers, f"the build left {leftovers} open: close what it opens"
        return str(path)

    @contextlib.contextmanager
    def copy(
        self, request: pytest.FixtureRequest, engine: str, build: Callable[[str], None]
    ) -> Iterator[str]:
        """A clinic of the asking test's own as `build` makes it, as `--db` takes it; on
        PostgreSQL dropped after the block."""
        key = (engine, build)
        if key not in self._made:
            self._made[key] = self._make(request, engine, build)
        made = self._made[key]
        if engine == "postgresql":
            cluster: PgCluster = request.getfixturevalue("pg_cluster")
            request.getfixturevalue("monkeypatch").setenv("PGPASSFILE", str(cluster.passfile))
            with database(cluster, template=made) as clone:
                yield clone.app_url
            return
        target = request.getfixturevalue("db_path")
        shutil.copyfile(made, target)
        target.chmod(0o600)
        yield str(target)


@pytest.fixture(scope="session")
def built_clinics(tmp_path_factory: pytest.TempPathFactory) -> BuiltClinics:
    """This test process's built clinics (see BuiltClinics)."""
    return BuiltClinics(tmp_path_factory.mktemp("built"))


class SharedClinics:
    """A module's shared clinics: one per engine and builder, built on first use (inside
    the first test that asks, so on its fake clock and private folders), open for the rest
    of the module, then closed (and dropped on PostgreSQL).

    Only for tests that read, or that are refused and assert that the clinic is exactly as
    it was (every row, the audit trail included) and that no transaction is left open: by
    those assertions each such test hands the next one the clinic as it was built, so
    sharing it changes nothing a test sees, and a refusal that writes still fails the test
    that made it. A test that writes anything gets its own clinic (`db`)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._built: dict[tuple[str, object], tuple[ClinicDB, object]] = {}
        self._closing = contextlib.ExitStack()

    def _new_target(self, request: pytest.FixtureRequest, engine: str) -> str:
        if engine == "postgresql":
            cluster: PgCluster = request.getfixturevalue("pg_cluster")
            template: str = request.getfixturevalue("_pg_clinic_template")
            return self._closing.enter_context(database(cluster, template=template)).app_url
        return str(self._folder / f"shared-{len(self._built)}.db")

    def clinic(
        self, request: pytest.FixtureRequest, engine: str, build: Callable[[ClinicDB], T]
    ) -> tuple[ClinicDB, T]:
        """The clinic `build` made on `engine` (open as "tester"), and what `build` returned;
        `request` is the asking test's."""
        key = (engine, build)
        if key not in self._built:
            db = connect(self._new_target(request, engine), actor="tester")
            self._closing.callback(db.close)
            self._built[key] = (db, build(db))
        db, made = self._built[key]
        return db, cast(T, made)

    def close(self) -> None:
        self._closing.close()


@pytest.fixture(scope="module")
def shared_clinics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedClinics]:
    """This module's shared clinics (see SharedClinics for which tests may use them)."""
    shared = SharedClinics(tmp_path_factory.mktemp("shared"))
    yield shared
    shared.close()


def stored(target: str) -> str:
    """What a refused command must leave as it was, as one digest: the SQLite file's bytes
    (read without opening it), or on PostgreSQL every row of the clinic and its audit head
    (the copier's fingerprint, read through the domain's own connection)."""
    if target.startswith("postgresql://"):
        from kinesio_tui.maintenance.transfer import fingerprint

        with open_db(target) as clinic:
            return fingerprint(clinic).digest
    return hashlib.sha256(Path(target).read_bytes()).hexdigest()


def where(db: ClinicDB) -> str:
    """The open clinic as `--db` and a second process take it: a path or a URL."""
    if db.kind == "postgresql":
        assert db.target.url is not None
        return db.target.url
    return str(db.path)


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


@pytest.fixture(scope="session")
def _pg_demo_template(pg_cluster: PgCluster, _demo_template: Path, _audit_key_file: Path) -> str:
    """`tpl_demo`: the session's demo file moved onto PostgreSQL by `kinesio migrate`'s
    copier (rows, head and both trails checked equal) as the owner, the app role granted;
    built once per test process, cloned per test. (Writing the demo afresh through the
    domain took ~230 s per process on PostgreSQL at load 7.5; the copy takes seconds.)"""
    import psycopg

    from kinesio_tui.data.engines.pg_schema import upgrade_schema
    from kinesio_tui.maintenance.transfer import copy_clinic

    name = "tpl_demo"
    pg_cluster.create_database(name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KINESIO_AUDIT_KEY", str(_audit_key_file))
        patch.setenv("PGPASSFILE", str(pg_cluster.passfile))
        source = connect(_demo_template, actor=DEMO_ACTOR, migrate=False, create=False)
        try:
            copy_clinic(source, pg_cluster.url(name, OWNER), actor=DEMO_ACTOR)
        finally:
            source.close()
        with psycopg.connect(pg_cluster.conninfo(name, OWNER), autocommit=True) as conn:
            upgrade_schema(conn, DEFAULT_SCHEMA, app_role=APP)
    pg_cluster.psql(f"ALTER DATABASE {name} IS_TEMPLATE true")
    return name


@pytest.fixture
def demo_target(engine: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """The demo clinic as `--db` takes it: a copy of the file, or a clone of tpl_demo (the
    application role's URL)."""
    if engine != "postgresql":
        yield str(request.getfixturevalue("demo_db_path"))
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    template: str = request.getfixturevalue("_pg_demo_template")
    request.getfixturevalue("monkeypatch").setenv("PGPASSFILE", str(cluster.passfile))
    with database(cluster, template=template) as clone:
        yield clone.app_url


@pytest.fixture
def demo_db(demo_target: str) -> Iterator[ClinicDB]:
    conn = connect(demo_target, actor="tester")
    yield conn
    conn.close()
