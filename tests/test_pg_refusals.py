"""`--db postgresql://...` refused in one line, exit 2, nothing written: against a real server.

Each case runs the real `kinesio` process on a database of the test's own throwaway cluster
and compares what the database holds (schemas, tables, the steps recorded) before and after.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest
from pg_cluster import PgCluster, PgDatabase
from real_cli import Ran, assert_one_line_refusal, run

from kinesio_tui.data.db import connect

#: What a refused command must leave as it was: every schema's tables, and kinesio's steps.
STATE = """
SELECT n.nspname, c.relname, c.relkind
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
ORDER BY 1, 2
"""


def state(database: PgDatabase) -> list[tuple[Any, ...]]:
    rows = database.psql(STATE)
    if ("kinesio", "kinesio_schema", "r") in rows:
        rows += database.psql("SELECT step FROM kinesio.kinesio_schema ORDER BY step")
    return rows


def refused(database: PgDatabase | None, *args: str) -> Ran:
    """`kinesio ARGS` refused in one line with exit 2, the database unchanged."""
    before = state(database) if database is not None else None
    ran = run(*args)
    assert_one_line_refusal(ran)
    if database is not None:
        assert state(database) == before
    return ran


def grant_app_role(database: PgDatabase) -> None:
    """What `kinesio init --app-role kinesio_app` adds: the application role's grants."""
    import psycopg

    from kinesio_tui.data.engines.pg_schema import upgrade_schema

    with psycopg.connect(database.owner_url, autocommit=True) as conn:
        upgrade_schema(conn, "kinesio", app_role="kinesio_app")


def test_a_url_libpq_cannot_read_is_refused_before_connecting(pg_database: PgDatabase) -> None:
    ran = refused(pg_database, "patients", "list", "--db", pg_database.app_url + "&bogus=1")
    assert "Bad database URL" in ran.err and "bogus" in ran.err


def test_a_server_that_is_down_is_named(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ran = refused(None, "patients", "list", "--db", f"postgresql://kinesio_app@127.0.0.1:{port}/x")
    assert f"Cannot connect to 127.0.0.1:{port}/x (schema kinesio)" in ran.err
    assert "Connection refused" in ran.err
    assert ran.err.count("Cannot connect") == 1  # the line says it once, not as title and text


def test_a_wrong_password_is_refused(
    pg_cluster: PgCluster, pg_database: PgDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{pg_cluster.port}:*:kinesio_app:not-the-password\n")
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    url = pg_cluster.url(pg_database.name, "kinesio_app", tcp=True)
    ran = refused(pg_database, "patients", "list", "--db", url)
    assert 'password authentication failed for user "kinesio_app"' in ran.err
    assert "not-the-password" not in ran.err


def test_a_passfile_others_can_read_is_refused(
    pg_cluster: PgCluster, pg_database: PgDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    passfile = tmp_path / "pgpass"
    passfile.write_bytes(pg_cluster.passfile.read_bytes())
    passfile.chmod(0o644)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    url = pg_cluster.url(pg_database.name, "kinesio_app", tcp=True)
    ran = refused(pg_database, "patients", "list", "--db", url)
    assert f"chmod 600 {passfile}" in ran.err


def test_without_a_passfile_the_line_says_where_the_password_goes(
    pg_cluster: PgCluster, pg_database: PgDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    url = pg_cluster.url(pg_database.name, "kinesio_app", tcp=True)
    ran = refused(pg_database, "patients", "list", "--db", url)
    assert "asks for a password" in ran.err and "0600" in ran.err


@pytest.mark.parametrize("where", ["user", "query"])
def test_a_password_in_the_url_is_refused_and_not_repeated(
    pg_cluster: PgCluster, pg_database: PgDatabase, where: str
) -> None:
    url = pg_cluster.url(pg_database.name, "kinesio_app", tcp=True)
    if where == "user":
        url = url.replace("kinesio_app@", "kinesio_app:s3cret@")
    else:
        url += "?password=s3cret"
    ran = refused(pg_database, "patients", "list", "--db", url)
    assert "PGPASSFILE" in ran.err and "s3cret" not in ran.out + ran.err


def test_another_programs_database_is_refused(pg_database: PgDatabase) -> None:
    pg_database.psql(
        "CREATE SCHEMA kinesio; CREATE TABLE kinesio.invoices (id int); "
        "INSERT INTO kinesio.invoices VALUES (1)"
    )
    ran = refused(pg_database, "init", "--db", pg_database.owner_url)
    assert "another program" in ran.err
    assert pg_database.psql("SELECT count(*) FROM kinesio.invoices") == [(1,)]


def test_a_newer_schema_is_refused(pg_clinic: PgDatabase) -> None:
    pg_clinic.psql(
        "INSERT INTO kinesio.kinesio_schema (step, applied_at) VALUES ('9999_future', 'x')"
    )
    for url in (pg_clinic.owner_url, pg_clinic.app_url):
        ran = refused(pg_clinic, "patients", "list", "--db", url)
        assert "newer kinesio-tui" in ran.err and "9999_future" in ran.err


def test_a_blank_database_as_the_app_role_asks_for_the_owner(pg_database: PgDatabase) -> None:
    ran = refused(pg_database, "patients", "list", "--db", pg_database.app_url)
    assert "no kinesio-tui schema yet" in ran.err
    assert "kinesio init --app-role kinesio_app" in ran.err


def test_a_pending_step_as_the_app_role_asks_for_the_owner(pg_clinic: PgDatabase) -> None:
    pg_clinic.psql(
        "DELETE FROM kinesio.kinesio_schema WHERE step = "
        "(SELECT max(step) FROM kinesio.kinesio_schema)"
    )
    ran = refused(pg_clinic, "patients", "list", "--db", pg_clinic.app_url)
    assert "1 schema step(s) pending" in ran.err


def test_a_schema_not_granted_to_the_app_role_asks_for_the_owner(pg_database: PgDatabase) -> None:
    connect(pg_database.owner_url).close()  # made by the owner, no grants
    ran = refused(pg_database, "patients", "list", "--db", pg_database.app_url)
    assert "not granted to this role" in ran.err


def test_without_psycopg_the_line_says_how_to_install_it(
    pg_database: PgDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As an install without the `postgres` extra: psycopg cannot be imported."""
    missing = tmp_path / "site" / "psycopg"
    missing.mkdir(parents=True)
    (missing / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'psycopg'\", name='psycopg')\n"
    )
    others = [os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(missing.parent), *others]))
    ran = refused(pg_database, "patients", "list", "--db", pg_database.app_url)
    assert "pip install 'kinesio-tui[postgres]'" in ran.err


def test_the_owner_creates_the_schema_and_the_app_role_then_works(pg_database: PgDatabase) -> None:
    ran = run("init", "--db", pg_database.owner_url)
    assert ran.code == 0, ran
    assert "(schema kinesio)" in ran.out
    grant_app_role(pg_database)
    added = run(
        "patients", "add", "--first", "Ona", "--last", "Pg", "--born", "1970-01-01", "--sex", "F",
        "--db", pg_database.app_url,
    )  # fmt: skip
    assert added.code == 0, added
    assert pg_database.psql("SELECT last_name FROM kinesio.patients") == [("Pg",)]
