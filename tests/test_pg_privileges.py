"""On PostgreSQL the audit trail is protected by privileges and by triggers: what the
application's role, the owner and a superuser may and may not do to it (plan §4).

The schema is created by the owner (`upgrade_schema`, as `kinesio init --app-role` does);
the statements then run as each role over its own connection, raw: the refusal must come
from the server, whatever the program would or would not send.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from psycopg import errors

from kinesio_tui.data.engines.pg_schema import inspect_schema, upgrade_schema
from kinesio_tui.data.engines.postgres import WRITE_LOCK
from kinesio_tui.domain.store import CLINICAL_TABLES
from kinesio_tui.errors import DatabaseTooNew, KinesioError

if TYPE_CHECKING:
    from pg_cluster import PgDatabase

SCHEMA = "kinesio"
APP = "kinesio_app"
CLINICAL = CLINICAL_TABLES
PATIENT = (
    "INSERT INTO patients (id, first_name, last_name, birth_date, sex, created_at, updated_at,"
    " uuid) VALUES (%s, 'A', 'B', '1970-01-01', 'F', 't', 't', gen_random_uuid())"
)
ENTRY = (
    "INSERT INTO audit_log (id, at, actor, action, table_name, record_id, patient_id, old, new,"
    " content_sha, prev_hash, hash, key_id) VALUES (%s, 't', 'a', 'create', 'patients', %s, %s,"
    " '{}', '{}', 'sha', %s, %s, 'k')"
)


def append(conn: psycopg.Connection[Any], entry: list[Any], schema: str = SCHEMA) -> None:
    """ENTRY appended as kinesio-tui appends: in a transaction holding the clinic's write
    lock (the server refuses an append without it: test_pg_audit_write_lock)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [WRITE_LOCK, schema])
        conn.execute(ENTRY, entry)


def _connect(url: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(url, autocommit=True)
    conn.execute(f"SET search_path = {SCHEMA}")
    return conn


@pytest.fixture
def owner(pg_clinic: PgDatabase) -> Iterator[psycopg.Connection[Any]]:
    """The owner on a clinic's schema as `upgrade_schema(conn, SCHEMA, app_role=APP)` makes
    it: a clone of conftest's tpl_clinic, which that call built once per test process
    (making the schema afresh for each test was most of this module's time)."""
    with _connect(pg_clinic.owner_url) as conn:
        yield conn


@pytest.fixture
def app(pg_clinic: PgDatabase, owner: psycopg.Connection[Any]) -> Iterator[psycopg.Connection[Any]]:
    with _connect(pg_clinic.app_url) as conn:
        yield conn


@pytest.fixture
def trail(owner: psycopg.Connection[Any], app: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    """Two entries about patient 7 (no longer on record) and one about patient 1 (on record),
    appended by the application's role."""
    app.execute(PATIENT, [1])
    append(app, [1, 7, 7, "0" * 64, "h1"])
    append(app, [2, 7, 7, "h1", "h2"])
    append(app, [3, 1, 1, "h2", "h3"])
    return app


def _head(conn: psycopg.Connection[Any]) -> tuple[Any, ...]:
    row = conn.execute("SELECT entries, last_id, last_hash FROM audit_head").fetchone()
    assert row is not None
    return tuple(row)


def _contents(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute("SELECT id, old, new, hash FROM audit_log ORDER BY id")]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET old = NULL, new = NULL WHERE patient_id = 7",
        "UPDATE audit_log SET hash = 'forged' WHERE id = 1",
        "DELETE FROM audit_log WHERE id = 3",
        "TRUNCATE audit_log",
        "UPDATE audit_head SET last_hash = 'h2', entries = 2, last_id = 2",
        "DELETE FROM audit_head",
        "DELETE FROM retired_ids",
        "UPDATE kinesio_schema SET step = 'x'",
        "CREATE TABLE kinesio.mine (a int)",
        "CREATE TABLE public.mine (a int)",
        "CREATE FUNCTION kinesio.audit_head() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "DROP TRIGGER audit_log_no_change ON audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_head",
        "DROP TABLE audit_log",
    ],
)
def test_the_application_role_cannot(trail: psycopg.Connection[Any], statement: str) -> None:
    before = _contents(trail), _head(trail)
    with pytest.raises(errors.InsufficientPrivilege):
        trail.execute(statement)
    assert (_contents(trail), _head(trail)) == before


def test_an_append_by_the_application_role_moves_the_head(trail: psycopg.Connection[Any]) -> None:
    assert _head(trail) == (3, 3, "h3")
    trail.execute("UPDATE audit_head SET mac = 'signed', key_id = 'k' WHERE id = 1")  # it may
    assert trail.execute("SELECT mac FROM audit_head").fetchone() == ("signed",)


def test_the_trail_cannot_fork(trail: psycopg.Connection[Any]) -> None:
    with pytest.raises(errors.UniqueViolation):
        append(trail, [4, 7, 7, "h2", "h4"])  # a second entry after entry 2
    assert _head(trail) == (3, 3, "h3")


def test_the_erase_function_blanks_an_erased_patients_entries_only(
    trail: psycopg.Connection[Any],
) -> None:
    assert trail.execute("SELECT kinesio_erase_audit_content(7)").fetchone() == (2,)
    assert _contents(trail) == [(1, None, None, "h1"), (2, None, None, "h2"), (3, "{}", "{}", "h3")]
    assert trail.execute("SELECT kinesio_erase_audit_content(7)").fetchone() == (0,)


def test_the_erase_function_refuses_a_patient_on_record(trail: psycopg.Connection[Any]) -> None:
    with pytest.raises(errors.IntegrityConstraintViolation, match="still on record"):
        trail.execute("SELECT kinesio_erase_audit_content(1)")
    assert _contents(trail)[2] == (3, "{}", "{}", "h3")


def test_the_erase_function_is_for_the_application_role_only(
    pg_clinic: PgDatabase, trail: psycopg.Connection[Any]
) -> None:
    pg_clinic.psql("CREATE ROLE stranger LOGIN")
    pg_clinic.psql(f"GRANT USAGE ON SCHEMA {SCHEMA} TO stranger")
    with (
        psycopg.connect(pg_clinic.owner_url.replace("kinesio_owner", "stranger")) as conn,
        pytest.raises(errors.InsufficientPrivilege),
    ):
        conn.execute(f"SELECT {SCHEMA}.kinesio_erase_audit_content(7)")
    pg_clinic.psql(f"REVOKE ALL ON SCHEMA {SCHEMA} FROM stranger; DROP ROLE stranger")


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("UPDATE audit_log SET hash = 'forged' WHERE id = 1", "erasure may only blank"),
        ("UPDATE audit_log SET old = NULL, new = NULL, actor = 'x' WHERE id = 1", "only blank"),
        ("UPDATE audit_log SET key_id = NULL, old = NULL, new = NULL WHERE id = 1", "only blank"),
        ("DELETE FROM audit_log WHERE id = 3", "append-only"),
        ("TRUNCATE audit_log", "append-only"),
        ("DELETE FROM audit_head", "head cannot be removed"),
        ("TRUNCATE audit_head", "head cannot be removed"),
        ("DELETE FROM retired_ids", "retired ids stay retired"),
    ],
)
def test_the_owner_cannot_rewrite_the_trail_either(
    owner: psycopg.Connection[Any], trail: psycopg.Connection[Any], statement: str, refusal: str
) -> None:
    owner.execute("INSERT INTO retired_ids (table_name, last_id) VALUES ('patients', 9)")
    before = _contents(owner), _head(owner)
    with pytest.raises(errors.IntegrityConstraintViolation, match=refusal):
        owner.execute(statement)
    assert (_contents(owner), _head(owner)) == before


def test_the_owner_may_blank_content_as_an_erasure_does(
    owner: psycopg.Connection[Any], trail: psycopg.Connection[Any]
) -> None:
    owner.execute("UPDATE audit_log SET old = NULL, new = NULL WHERE id = 1")
    assert _contents(owner)[0] == (1, None, None, "h1")


def test_a_superuser_cannot_blank_or_rewrite(
    pg_clinic: PgDatabase, trail: psycopg.Connection[Any]
) -> None:
    for statement in (
        f"UPDATE {SCHEMA}.audit_log SET old = NULL, new = NULL WHERE id = 1",
        f"UPDATE {SCHEMA}.audit_log SET hash = 'x' WHERE id = 1",
        f"DELETE FROM {SCHEMA}.audit_log",
    ):
        with pytest.raises(errors.IntegrityConstraintViolation):
            pg_clinic.psql(statement)
    assert _contents(trail)[0] == (1, "{}", "{}", "h1")


def test_the_application_role_has_exactly_its_grants(
    owner: psycopg.Connection[Any], app: psycopg.Connection[Any]
) -> None:
    def may(table: str, privilege: str) -> bool:
        row = owner.execute(
            "SELECT has_table_privilege(%s, %s, %s)", [APP, f"{SCHEMA}.{table}", privilege]
        ).fetchone()
        assert row is not None
        return bool(row[0])

    tables = [r[0] for r in owner.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s", [SCHEMA]
    )]  # fmt: skip
    assert set(tables) == {*CLINICAL, "audit_log", "audit_head", "retired_ids", "kinesio_schema"}
    for table in CLINICAL:
        assert [may(table, p) for p in ("SELECT", "INSERT", "UPDATE", "DELETE")] == [True] * 4
        assert not may(table, "TRUNCATE")
    assert [may("audit_log", p) for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")] == [
        True, True, False, False, False,
    ]  # fmt: skip
    assert [may("audit_head", p) for p in ("SELECT", "INSERT", "DELETE", "TRUNCATE")] == [
        True, False, False, False,
    ]  # fmt: skip
    assert [may("retired_ids", p) for p in ("SELECT", "INSERT", "UPDATE", "DELETE")] == [
        True, True, True, False,
    ]  # fmt: skip
    assert [may("kinesio_schema", p) for p in ("SELECT", "INSERT", "UPDATE")] == [
        True,
        False,
        False,
    ]
    columns = owner.execute(
        "SELECT column_name FROM information_schema.column_privileges WHERE grantee = %s"
        " AND table_schema = %s AND table_name = 'audit_head' AND privilege_type = 'UPDATE'"
        " ORDER BY 1",
        [APP, SCHEMA],
    ).fetchall()
    assert [c for (c,) in columns] == ["key_id", "mac"]
    schema_create = owner.execute("SELECT has_schema_privilege(%s, %s, 'CREATE')", [APP, SCHEMA])
    assert schema_create.fetchone() == (False,)


def test_every_append_notifies_the_other_terminals(
    pg_clinic: PgDatabase, trail: psycopg.Connection[Any]
) -> None:
    with psycopg.connect(pg_clinic.app_url, autocommit=True) as listener:
        listener.execute(f'LISTEN "kinesio:{SCHEMA}"')
        append(trail, [4, 7, 7, "h3", "h4"])
        heard = list(listener.notifies(timeout=5, stop_after=1))
    assert [(n.channel, n.payload) for n in heard] == [(f"kinesio:{SCHEMA}", "")]
    assert heard[0].pid == trail.info.backend_pid


# --- what upgrade_schema refuses ------------------------------------------------------------


@pytest.mark.parametrize("role", ["kinesio_owner", "postgres", "member_of_owner", "nobody"])
def test_an_application_role_that_could_rewrite_the_trail_is_refused(
    pg_database: PgDatabase, role: str
) -> None:
    pg_database.psql("CREATE ROLE member_of_owner LOGIN IN ROLE kinesio_owner")
    try:
        with psycopg.connect(pg_database.owner_url, autocommit=True) as conn:
            with pytest.raises(KinesioError, match="role"):
                upgrade_schema(conn, SCHEMA, app_role=role)
            assert inspect_schema(conn, SCHEMA) == ("blank", [])  # nothing was created
    finally:
        pg_database.psql("DROP ROLE member_of_owner")


def test_another_programs_schema_is_refused(pg_database: PgDatabase) -> None:
    pg_database.psql(f"CREATE SCHEMA {SCHEMA} AUTHORIZATION kinesio_owner")
    pg_database.psql(f"CREATE TABLE {SCHEMA}.invoices (id int)", user="kinesio_owner")
    with psycopg.connect(pg_database.owner_url, autocommit=True) as conn:
        assert inspect_schema(conn, SCHEMA) == ("foreign", [])
        with pytest.raises(KinesioError, match="another program"):
            upgrade_schema(conn, SCHEMA, app_role=APP)
        assert inspect_schema(conn, SCHEMA) == ("foreign", [])


def test_a_schema_of_a_newer_program_is_refused(owner: psycopg.Connection[Any]) -> None:
    owner.execute("INSERT INTO kinesio_schema (step) VALUES ('0099_from_the_future')")
    with pytest.raises(DatabaseTooNew, match="0099_from_the_future"):
        upgrade_schema(owner, SCHEMA, app_role=APP)


def test_an_empty_schema_is_blank_and_a_branch_schema_is_its_own(
    pg_clinic: PgDatabase, owner: psycopg.Connection[Any]
) -> None:
    pg_clinic.psql("CREATE SCHEMA branch_vln AUTHORIZATION kinesio_owner")
    assert inspect_schema(owner, "branch_vln") == ("blank", [])
    applied = upgrade_schema(owner, "branch_vln", app_role=APP)
    assert inspect_schema(owner, "branch_vln") == ("kinesio", sorted(applied))
    with _connect(pg_clinic.app_url) as app:
        app.execute("SET search_path = branch_vln")
        app.execute(PATIENT, [1])
        append(app, [1, 1, 1, "0" * 64, "b1"], "branch_vln")  # its own trail, head, guards
        assert _head(app) == (1, 1, "b1")
        with pytest.raises(errors.InsufficientPrivilege):
            app.execute("DELETE FROM audit_log")
    assert _head(owner) == (0, None, "0" * 64)  # the clinic's own trail did not move
