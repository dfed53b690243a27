"""`kinesio init --db postgresql://OWNER@... --app-role ROLE`: the database owner makes the
clinic's schema and grants the workstations' role what it needs, in one transaction; a
role that could change the trail, or a file, is refused with nothing made."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from conftest import DAY
from typer.testing import CliRunner

from kinesio_tui.cli import app
from kinesio_tui.data.db import connect
from kinesio_tui.data.engines.pg_schema import inspect_schema, schema_steps
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import create_patient

if TYPE_CHECKING:
    from pg_cluster import PgDatabase

runner = CliRunner()


def _schema(pg: PgDatabase) -> tuple[str, list[str]]:
    with psycopg.connect(pg.owner_url, autocommit=True) as conn:
        return inspect_schema(conn, "kinesio")


def test_the_owner_makes_the_schema_and_the_app_role_works_in_it(pg_database: PgDatabase) -> None:
    made = runner.invoke(app, ["init", "--db", pg_database.owner_url, "--app-role", "kinesio_app"])
    assert made.exit_code == 0, made.output
    steps = schema_steps()  # SQLite's and PostgreSQL's own
    assert f"(schema {len(steps)}; {len(steps)} step(s) applied now)" in made.output
    assert "The role kinesio_app may read and write records" in made.output
    assert _schema(pg_database) == ("kinesio", sorted(steps))
    with connect(pg_database.app_url, actor="Room 1") as db:
        create_patient(db, NewPatient("Ona", "Init", "1970-01-01", "F"), today=DAY)
    verified = runner.invoke(app, ["audit", "verify", "--db", pg_database.app_url])
    assert verified.exit_code == 0, verified.output
    again = runner.invoke(app, ["init", "--db", pg_database.owner_url, "--app-role", "kinesio_app"])
    assert again.exit_code == 0 and "0 step(s) applied now" in again.output


def test_without_an_app_role_the_workstations_role_is_not_let_in(
    pg_database: PgDatabase,
) -> None:
    made = runner.invoke(app, ["init", "--db", pg_database.owner_url])
    assert made.exit_code == 0, made.output
    refused = runner.invoke(app, ["patients", "list", "--db", pg_database.app_url])
    assert refused.exit_code == 2
    assert "kinesio init --app-role kinesio_app" in refused.output


def test_an_app_role_that_could_change_the_trail_is_refused_and_nothing_is_made(
    pg_database: PgDatabase,
) -> None:
    for role, why in (
        ("kinesio_owner", "this connection is the role kinesio_owner itself"),
        ("postgres", "is a superuser"),
        ("nobody", "there is no PostgreSQL role nobody"),
    ):
        refused = runner.invoke(app, ["init", "--db", pg_database.owner_url, "--app-role", role])
        assert refused.exit_code == 2, refused.output
        assert why in refused.output
        assert "Nothing was changed" in refused.output
        assert _schema(pg_database) == ("blank", [])


def test_the_app_role_cannot_make_the_schema(pg_database: PgDatabase) -> None:
    refused = runner.invoke(app, ["init", "--db", pg_database.app_url, "--app-role", "stranger"])
    assert refused.exit_code == 2, refused.output
    assert "Run `kinesio init` as the database owner" in refused.output
    assert _schema(pg_database) == ("blank", [])


def test_an_app_role_for_a_file_is_refused_before_the_file_is_made(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    refused = runner.invoke(app, ["init", "--db", str(path), "--app-role", "kinesio_app"])
    assert refused.exit_code == 2
    assert "--app-role names a PostgreSQL role" in refused.output
    assert not path.exists()
