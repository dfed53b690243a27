"""The throwaway PostgreSQL cluster the suite runs on, and the engine parametrisation.

Everything here talks to a real server: the worker's own cluster from `pg_cluster`, or (for
the clean-up after a killed test process) one started in a child process.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pg_cluster as pg_cluster_module
import psycopg
import pytest
from conftest import chosen_engines
from pg_cluster import (
    APP,
    EXTENSIONS,
    IN_MEMORY,
    NOT_INSTALLED,
    ON_DISK,
    OWNER,
    PgCluster,
    PgDatabase,
    database,
)

HERE = Path(__file__).parent


def test_every_role_logs_in_over_the_socket(pg_cluster: PgCluster) -> None:
    for user in ("postgres", OWNER, APP):
        assert pg_cluster.psql("select current_user, 1", user=user) == [(user, 1)]


def test_the_server_runs_without_durability_and_with_logical_wal(pg_cluster: PgCluster) -> None:
    settings = dict(
        pg_cluster.psql(
            "select name, setting from pg_settings where name = any(%s)",
            params=[["fsync", "synchronous_commit", "full_page_writes", "wal_level", "port"]],
        )
    )
    assert settings == {
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "wal_level": "logical",
        "port": str(pg_cluster.port),
    }
    assert pg_cluster.psql("show server_version_num")[0][0].startswith("15")


def test_the_folder_is_short_private_and_the_passfile_0600(pg_cluster: PgCluster) -> None:
    assert str(pg_cluster.socket_dir).startswith((f"{IN_MEMORY}/kpg-", f"{ON_DISK}/kpg-"))
    assert len(str(pg_cluster.socket_dir / f".s.PGSQL.{pg_cluster.port}")) <= 107
    assert stat.S_IMODE(pg_cluster.folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(pg_cluster.passfile.stat().st_mode) == 0o600
    assert (pg_cluster.socket_dir / f".s.PGSQL.{pg_cluster.port}").is_socket()


def test_tcp_logins_need_the_password_from_the_passfile(
    pg_database: PgDatabase, pg_cluster: PgCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pg_database points PGPASSFILE at the cluster's passfile
    assert os.environ["PGPASSFILE"] == str(pg_cluster.passfile)
    for user in (OWNER, APP):
        url = pg_cluster.url(pg_database.name, user, tcp=True)
        with psycopg.connect(url, connect_timeout=5) as conn:
            assert conn.execute("select current_user, inet_server_port()").fetchone() == (
                user,
                pg_cluster.port,
            )
    empty = tmp_path / "empty-passfile"
    empty.write_text("")
    empty.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(empty))
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):
        psycopg.connect(pg_cluster.url(pg_database.name, APP, tcp=True), connect_timeout=5)


def test_a_test_database_is_empty_owned_by_the_owner_with_both_extensions(
    pg_database: PgDatabase,
) -> None:
    assert pg_database.psql(
        "select pg_get_userbyid(datdba) from pg_database where datname = current_database()"
    ) == [(OWNER,)]
    extensions = {name for (name,) in pg_database.psql("select extname from pg_extension")}
    assert set(EXTENSIONS) <= extensions
    assert pg_database.psql("select unaccent('Žemaitė'), similarity('abc', 'abc')") == [
        ("Zemaite", 1.0)
    ]
    tables = pg_database.psql(
        "select table_schema, table_name from information_schema.tables"
        " where table_schema not in ('pg_catalog', 'information_schema')"
    )
    assert tables == []
    # the owner may create its schema there; the app role may not
    pg_database.psql("create schema kinesio", user=OWNER)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        pg_database.psql("create table kinesio.x (id bigint)", user=APP)
    assert pg_database.owner_url.startswith(f"postgresql://{OWNER}@/{pg_database.name}?host=")
    assert pg_database.app_url.startswith(f"postgresql://{APP}@/{pg_database.name}?host=")
    with psycopg.connect(pg_database.app_url) as conn:
        assert conn.execute("select current_user, current_database()").fetchone() == (
            APP,
            pg_database.name,
        )


def test_a_test_database_is_dropped_afterwards_even_with_a_connection_left_open(
    pg_cluster: PgCluster,
) -> None:
    with database(pg_cluster) as scratch:
        left_open = psycopg.connect(scratch.app_url)
        scratch.psql("create table t (id bigint)", user=OWNER)
        assert pg_cluster.psql(
            "select count(*) from pg_database where datname = %s", params=[scratch.name]
        ) == [(1,)]
    assert pg_cluster.psql(
        "select count(*) from pg_database where datname = %s", params=[scratch.name]
    ) == [(0,)]
    assert left_open.closed or left_open.broken or _is_dead(left_open)
    left_open.close()


def _is_dead(conn: psycopg.Connection[tuple[object, ...]]) -> bool:
    try:
        conn.execute("select 1")
    except psycopg.OperationalError:
        return True
    return False


def test_without_initdb_the_cluster_refuses_with_the_install_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(pg_cluster_module, "BINDIR", tmp_path / "no-postgresql")
    with pytest.raises(pg_cluster_module.PostgresMissing, match=NOT_INSTALLED):
        PgCluster.start()
    assert NOT_INSTALLED == "PostgreSQL 15 is not installed: apt-get install postgresql-15"


_KILLED_CHILD = """
import sys, time
sys.path.insert(0, sys.argv[1])
from pg_cluster import PgCluster
cluster = PgCluster.start()
print(cluster.folder, cluster.port, flush=True)
time.sleep(120)
"""


@pytest.mark.slow
def test_a_killed_test_process_leaves_no_server_and_no_folder() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_CHILD, str(HERE)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    folder_text, port = child.stdout.readline().split()
    folder = Path(folder_text)
    assert (folder / "data" / "postmaster.pid").exists()
    child.kill()  # SIGKILL: no finalizer, no atexit
    child.wait()
    child.stdout.close()
    deadline = time.monotonic() + 20
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not folder.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"host=127.0.0.1 port={port} dbname=postgres connect_timeout=2")


# The parametrisation: these two tests are collected per engine, and the last one checks it.


@pytest.mark.engines("sqlite", "postgresql")
def test_runs_once_per_engine(engine: str, request: pytest.FixtureRequest) -> None:
    assert engine in chosen_engines()
    assert (request.node.get_closest_marker("postgresql") is not None) == (engine == "postgresql")


@pytest.mark.engines("sqlite", "postgresql")
@pytest.mark.sqlite_only
def test_stays_on_sqlite(engine: str) -> None:
    assert engine == "sqlite"


def test_engine_is_sqlite_where_a_module_does_not_opt_in(engine: str) -> None:
    assert engine == "sqlite"


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        (
            "sqlite,postgresql",
            {
                "test_runs_once_per_engine[sqlite]",
                "test_runs_once_per_engine[postgresql]",
                "test_stays_on_sqlite[sqlite]",
                "test_engine_is_sqlite_where_a_module_does_not_opt_in",
                "test_every_role_logs_in_over_the_socket",
            },
        ),
        (
            "sqlite",
            {
                "test_runs_once_per_engine[sqlite]",
                "test_stays_on_sqlite[sqlite]",
                "test_engine_is_sqlite_where_a_module_does_not_opt_in",
            },
        ),
    ],
)
def test_kinesio_test_engines_chooses_what_is_collected(chosen: str, expected: set[str]) -> None:
    """Collected for real, in a pytest of its own: KINESIO_TEST_ENGINES=sqlite leaves out
    the PostgreSQL runs and every test that asks for the cluster."""
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-p", "no:randomly", "-n", "0",
         "-k", "once_per_engine or stays_on_sqlite or not_opt_in or every_role",
         str(HERE / "test_pg_cluster.py")],
        env={**os.environ, "KINESIO_TEST_ENGINES": chosen},
        capture_output=True, text=True, cwd=HERE.parent, check=True,
    )  # fmt: skip
    collected = {line.split("::")[-1] for line in run.stdout.splitlines() if "::" in line}
    assert collected == expected


def test_a_misspelt_engine_stops_the_run() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-n", "0",
         str(HERE / "test_pg_cluster.py")],
        env={**os.environ, "KINESIO_TEST_ENGINES": "sqlite,postgres"},
        capture_output=True, text=True, cwd=HERE.parent, check=False,
    )  # fmt: skip
    assert run.returncode != 0
    assert "KINESIO_TEST_ENGINES='sqlite,postgres'" in run.stderr + run.stdout


def test_a_clinic_database_holds_an_empty_clinic_the_app_role_may_use(
    pg_clinic: PgDatabase,
) -> None:
    from kinesio_tui.data.engines.pg_schema import inspect_schema, schema_steps

    with psycopg.connect(pg_clinic.app_url) as conn:
        assert inspect_schema(conn, "kinesio") == ("kinesio", sorted(schema_steps()))
        assert conn.execute("SELECT count(*) FROM kinesio.patients").fetchone() == (0,)
        assert conn.execute("SELECT entries FROM kinesio.audit_head").fetchone() == (0,)
    owner = pg_clinic.psql(
        "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'kinesio'"
    )
    assert owner == [(OWNER,)]
