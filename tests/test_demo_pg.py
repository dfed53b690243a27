"""`kinesio demo --db postgresql://OWNER@...`: the demo clinic written into an empty schema
on a server (the rooms' role granted with `--app-role`), the same clinic as the demo file;
a schema holding anything is refused untouched. The real `kinesio` process against the
test cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import DAY
from pg_cluster import PgCluster, PgDatabase
from real_cli import assert_one_line_refusal, run

from kinesio_tui.data.db import connect
from kinesio_tui.demo import is_demo
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.maintenance.audit import verify_chain
from kinesio_tui.maintenance.transfer import fingerprint


def _state(pg: PgDatabase) -> list[tuple[Any, ...]]:
    """Every schema, table and row of the database: what a refusal must leave as it was."""
    tables = pg.psql(
        "SELECT table_schema, table_name FROM information_schema.tables"
        " WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
    )
    rows: list[tuple[Any, ...]] = pg.psql(
        "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' ORDER BY 1"
    )
    for schema, table in tables:
        rows += [(schema, table, *r) for r in pg.psql(f'SELECT * FROM "{schema}"."{table}"')]
    return [*tables, *rows]


def test_the_demo_on_a_server_is_the_demo_file_s_clinic_and_the_rooms_may_use_it(
    pg_database: PgDatabase, tmp_path: Path
) -> None:
    built = run("demo", "--db", pg_database.owner_url, "--app-role", "kinesio_app", "--build-only")
    assert built.code == 0, built
    assert "Demo clinic written: localhost" in built.out
    assert "The role kinesio_app may read and write records" in built.out
    on_file = run("demo", "--db", str(tmp_path / "demo.db"), "--build-only")
    assert on_file.code == 0, on_file
    with (
        connect(pg_database.app_url, actor="Room 1") as server,
        connect(tmp_path / "demo.db", actor="Room 1", migrate=False, create=False) as file,
    ):
        assert is_demo(server)
        assert fingerprint(server).counts == fingerprint(file).counts
        assert fingerprint(server).counts["patients"] == 41
        report = verify_chain(server)
        assert report.ok, report.problems[:3]
        create_patient(server, NewPatient("Rūta", "Room", "1980-02-02", "F"), today=DAY)
    listed = run("patients", "list", "--db", pg_database.app_url)
    assert listed.code == 0, listed
    assert "Room" in listed.out


def test_an_empty_clinic_schema_takes_the_demo(pg_clinic: PgDatabase, tmp_path: Path) -> None:
    """A schema `kinesio init` made, with no records yet, is empty: the demo goes in (and
    not into a file named after the URL in the current folder)."""
    built = run("demo", "--db", pg_clinic.owner_url, "--build-only", cwd=tmp_path)
    assert built.code == 0, built
    assert pg_clinic.psql("SELECT count(*) FROM kinesio.patients") == [(41,)]
    assert not (tmp_path / "postgresql:").exists()


@pytest.mark.parametrize("holds", ["one patient", "another program's table", "the demo"])
def test_a_schema_that_holds_anything_is_refused_and_left_as_it_was(
    holds: str, pg_cluster: PgCluster, request: pytest.FixtureRequest
) -> None:
    pg: PgDatabase
    if holds == "another program's table":
        pg = request.getfixturevalue("pg_database")
        pg.psql("CREATE SCHEMA kinesio AUTHORIZATION kinesio_owner")
        pg.psql("CREATE TABLE kinesio.invoices (id bigint)", user="kinesio_owner")
        pg.psql("INSERT INTO kinesio.invoices VALUES (7)", user="kinesio_owner")
    else:
        pg = request.getfixturevalue("pg_clinic")
    if holds == "one patient":
        with connect(pg.app_url, actor="Room 1") as db:
            create_patient(db, NewPatient("Ona", "Kept", "1970-01-01", "F"), today=DAY)
    elif holds == "the demo":
        assert run("demo", "--db", pg.owner_url, "--build-only").code == 0
    before = _state(pg)
    ran = run("demo", "--db", pg.owner_url, "--build-only")
    assert_one_line_refusal(ran)
    assert "othing was" in ran.err, ran
    assert _state(pg) == before


def test_a_role_that_could_change_the_trail_is_refused_before_the_demo_is_built(
    pg_database: PgDatabase,
) -> None:
    before = _state(pg_database)
    ran = run("demo", "--db", pg_database.owner_url, "--app-role", "postgres", "--build-only")
    assert_one_line_refusal(ran)
    assert "is a superuser" in ran.err
    assert _state(pg_database) == before


def test_an_app_role_for_a_demo_file_is_refused_before_the_file_is_made(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    ran = run("demo", "--db", str(path), "--app-role", "kinesio_app", "--build-only")
    assert_one_line_refusal(ran)
    assert "--app-role names a PostgreSQL role" in ran.err
    assert not path.exists()
