"""`kinesio migrate --to postgresql://OWNER@... --app-role ROLE`: the copy and the rooms' grants
in one go, as `kinesio init --app-role` grants them; a role that could change the trail, or
one that is missing, is refused in one line with the target left blank. The real `kinesio`
process against the test cluster."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from conftest import DAY
from pg_cluster import PgDatabase
from real_cli import assert_one_line_refusal, assert_unchanged, files_state, run

from kinesio_tui.data.db import connect
from kinesio_tui.data.engines.pg_schema import inspect_schema
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import create_patient


@pytest.fixture
def small_clinic(tmp_path: Path) -> Path:
    """A clinic file with two patients (and their trail): quick to copy."""
    path = tmp_path / "clinic.db"
    with connect(path, actor="Room 1") as db:
        for first in ("Ona", "Jonas"):
            create_patient(db, NewPatient(first, "Migrate", "1970-01-01", "F"), today=DAY)
    return path


def _schema(pg: PgDatabase) -> tuple[str, list[str]]:
    with psycopg.connect(pg.owner_url, autocommit=True) as conn:
        return inspect_schema(conn, "kinesio")


def test_the_copy_grants_the_rooms_role_which_then_works(
    small_clinic: Path, pg_database: PgDatabase
) -> None:
    ran = run(
        "migrate", "--db", str(small_clinic), "--to", pg_database.owner_url,
        "--app-role", "kinesio_app",
    )  # fmt: skip
    assert ran.code == 0, ran
    assert "both audit trails verified" in ran.out
    assert "The role kinesio_app may read and write records" in ran.out
    listed = run("patients", "list", "--db", pg_database.app_url)
    assert listed.code == 0, listed
    assert listed.out.count("Migrate") == 2
    with connect(pg_database.app_url, actor="Room 2") as db:
        create_patient(db, NewPatient("Rūta", "Room", "1980-02-02", "F"), today=DAY)
    verified = run("audit", "verify", "--db", pg_database.app_url)
    assert verified.code == 0, verified
    # the grants are init's: the trail is append-only to the rooms' role
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        psycopg.connect(pg_database.app_url, autocommit=True) as conn,
    ):
        conn.execute("DELETE FROM kinesio.audit_log")


def test_without_an_app_role_the_rooms_role_is_not_let_in(
    small_clinic: Path, pg_database: PgDatabase
) -> None:
    ran = run("migrate", "--db", str(small_clinic), "--to", pg_database.owner_url)
    assert ran.code == 0, ran
    refused = run("patients", "list", "--db", pg_database.app_url)
    assert refused.code == 2
    assert "kinesio init --app-role kinesio_app" in refused.out + refused.err


@pytest.mark.parametrize(
    ("role", "why"),
    [
        ("kinesio_owner", "this connection is the role kinesio_owner itself"),
        ("postgres", "is a superuser or a member of the owner's role"),
        ("owner_member", "is a superuser or a member of the owner's role"),
        ("nobody", "there is no PostgreSQL role nobody"),
    ],
)
def test_a_role_that_could_change_the_trail_is_refused_and_the_target_left_blank(
    role: str, why: str, small_clinic: Path, pg_database: PgDatabase, tmp_path: Path
) -> None:
    if role == "owner_member":
        pg_database.psql(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'owner_member')"
            " THEN CREATE ROLE owner_member LOGIN IN ROLE kinesio_owner; END IF; END $$"
        )
    before = files_state(tmp_path, folder_mtimes=False)
    ran = run(
        "migrate", "--db", str(small_clinic), "--to", pg_database.owner_url, "--app-role", role
    )
    assert_one_line_refusal(ran)
    assert why in ran.err
    assert "Nothing was changed" in ran.err
    assert _schema(pg_database) == ("blank", [])
    assert pg_database.psql("SELECT count(*) FROM pg_namespace WHERE nspname = 'kinesio'") == [(0,)]
    assert_unchanged(before, tmp_path, ran, folder_mtimes=False)


def test_an_app_role_for_a_file_is_refused_before_the_file_is_made(
    small_clinic: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "copy.db"
    ran = run("migrate", "--db", str(small_clinic), "--to", str(dest), "--app-role", "kinesio_app")
    assert_one_line_refusal(ran)
    assert "--app-role names a PostgreSQL role" in ran.err
    assert not dest.exists()
