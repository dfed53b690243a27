"""The clinic's schema on PostgreSQL: what a schema holds, and bringing it up to date.

SQLite builds its schema step by step (data/migrations.py). PostgreSQL starts at a baseline
equal to SQLite's step `BASELINE_STEP` (pg/baseline.sql, the audit trail's guards in
pg/guards.sql) and takes each later step from `pg/steps/<step>.sql`; the table
`kinesio_schema` records the steps a schema is at, by the same names as SCHEMA_STEPS (and
PostgreSQL's own, PG_ONLY_STEPS, e.g. the audit trail's write-lock guard). The
owner role runs these (the engine calls them as whoever the URL names: the application's
role gets SchemaPending instead); `roles.sql` then grants the application's role what it
may do. Imported only for a postgresql:// target, like psycopg itself.
"""

from __future__ import annotations

from datetime import UTC
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

import psycopg
from psycopg import sql

from kinesio_tui import clock
from kinesio_tui.audit_key import GENESIS_HASH, load_key, seal_signature
from kinesio_tui.data.db import SCHEMA_STEPS
from kinesio_tui.errors import DatabaseTooNew, KinesioError

if TYPE_CHECKING:
    from kinesio_tui.data.engine import Target

#: SQLite's step that pg/baseline.sql equals: a new schema records it and every step before.
BASELINE_STEP = "0012_record_uuids"
#: Steps PostgreSQL alone takes (guards a single SQLite writer does not need), each a
#: pg/steps/<step>.sql, applied after SQLite's and recorded in kinesio_schema like them;
#: a new schema takes them right after the baseline.
PG_ONLY_STEPS: tuple[str, ...] = ("pg0001_audit_write_lock",)
#: What the engine finds in a schema: nothing (absent or empty), ours, another program's.
SchemaKind = Literal["blank", "kinesio", "foreign"]
#: Serialises two owners upgrading the same schema at once (with the schema's name).
_UPGRADE_LOCK = 4712
#: pg_trgm serves the digits search (patients_digits); created when the database lacks it.
_TRIGRAM = "pg_trgm"

Connection = psycopg.Connection[Any]


def baseline_steps() -> tuple[str, ...]:
    """The steps the baseline stands for, in order."""
    return SCHEMA_STEPS[: SCHEMA_STEPS.index(BASELINE_STEP) + 1]


def schema_steps() -> tuple[str, ...]:
    """Every step a current schema records, in the order they are applied: SQLite's
    (SCHEMA_STEPS), then PostgreSQL's own."""
    return (*SCHEMA_STEPS, *PG_ONLY_STEPS)


def _sql_file(name: str) -> str:
    return (resources.files("kinesio_tui.data.engines") / "pg" / name).read_text(encoding="utf-8")


def step_sql(step: str) -> str:
    """A step after the baseline, as PostgreSQL runs it (pg/steps/<step>.sql)."""
    return _sql_file(f"steps/{step}.sql")


def inspect_schema(conn: Connection, schema: str) -> tuple[SchemaKind, list[str]]:
    """What `schema` holds: ("blank", []) when absent or empty, ("foreign", []) when it has
    objects but no kinesio_schema table, else ("kinesio", the steps it records, in order).
    Reads the catalogs only (a role without rights on the schema still gets an answer),
    except the steps themselves."""
    row = conn.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", [schema]).fetchone()
    if row is None:
        return "blank", []
    holds = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_class WHERE relnamespace = %(oid)s)"
        " OR EXISTS (SELECT 1 FROM pg_proc WHERE pronamespace = %(oid)s)",
        {"oid": row[0]},
    ).fetchone()
    if not holds or not holds[0]:
        return "blank", []
    marked = conn.execute(
        "SELECT 1 FROM pg_class WHERE relnamespace = %s AND relname = 'kinesio_schema'"
        " AND relkind = 'r'",
        [row[0]],
    ).fetchone()
    if marked is None:
        return "foreign", []
    steps = conn.execute(
        sql.SQL("SELECT step FROM {}.kinesio_schema ORDER BY step").format(sql.Identifier(schema))
    ).fetchall()
    return "kinesio", [str(step) for (step,) in steps]


def upgrade_schema(conn: Connection, schema: str, *, app_role: str | None = None) -> list[str]:
    """Bring `schema` to the last step, as its owner, in one transaction; returns the steps
    applied (none when it was current). A blank schema gets the baseline (created when
    absent); then every pending step runs; then `app_role`, and every role already granted
    the application's rights, get roles.sql's grants. Refuses another program's schema and
    one of a newer kinesio-tui (DatabaseTooNew), changing nothing."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_UPGRADE_LOCK, schema])
        kind, applied = inspect_schema(conn, schema)  # again, under the lock
        refuse_unusable(kind, applied, f"schema {schema}")
        _check_owner(conn, schema)
        owner = str(_one(conn, "SELECT current_user"))
        roles = _grantees(conn, schema, owner, app_role) if kind == "kinesio" else []
        if app_role is not None:
            _check_app_role(conn, app_role, owner)
            roles = [*roles, app_role] if app_role not in roles else roles
        saved_path = str(_one(conn, "SELECT current_setting('search_path')"))
        quoted = sql.Identifier(schema).as_string(conn)
        done: list[str] = []
        if kind == "blank":
            done += _create(conn, schema, quoted)
        else:
            _use_schema(conn, quoted, _trigram_schema(conn))
        for step in schema_steps():
            if step not in applied and step not in done:
                conn.execute(_fill(step_sql(step), schema=quoted))
                _record(conn, [step])
                done.append(step)
        for role in roles:
            _grant(conn, quoted, role)
        conn.execute("SELECT set_config('search_path', %s, true)", [saved_path])
    return done


def grant_app_role(conn: Connection, schema: str, role: str) -> None:
    """Give `role` roles.sql's grants on `schema`, in the caller's transaction, as the
    schema's owner, after the checks `kinesio init --app-role` makes (a missing role, the
    owner itself, a superuser or a member of the owner's role: refused, nothing granted).
    `kinesio migrate --app-role` and `kinesio demo --app-role` grant through this. The
    connection's search_path must lead with `schema` (the engine's does)."""
    _check_app_role(conn, role, str(_one(conn, "SELECT current_user")))
    _grant(conn, sql.Identifier(schema).as_string(conn), role)


def check_app_role(target: Target, role: str) -> None:
    """Refuse `role` as `grant_app_role` would, connected to `target` as its owner, before
    anything is made (`kinesio migrate` and `kinesio demo` ask first, then grant)."""
    from kinesio_tui.data.engines.postgres import connect

    engine = connect(target)
    try:
        _check_app_role(engine.conn, role, str(_one(engine.conn, "SELECT current_user")))
    finally:
        engine.close()


def _grant(conn: Connection, quoted: str, role: str) -> None:
    conn.execute(_fill(_sql_file("roles.sql"), schema=quoted, app_role=_role(conn, role)))


def init_schema(target: Target, app_role: str | None) -> list[str]:
    """`kinesio init` on PostgreSQL, as the owner: the schema (the baseline, or the steps
    pending) and `app_role`'s grants in one transaction, the role checked before anything
    is made, so a refusal leaves the database as it was. Returns the steps applied."""
    from kinesio_tui.data.engines.postgres import connect

    engine = connect(target)
    try:
        return upgrade_schema(engine.conn, target.schema, app_role=app_role)
    finally:
        engine.close()


def refuse_unusable(kind: SchemaKind, applied: list[str], where: str) -> None:
    """Refuse a schema (`where` names it in the message) that holds another program's
    tables, or steps of a newer kinesio-tui; the one check for upgrading and for opening."""
    if kind == "foreign":
        raise KinesioError(
            "Not a kinesio-tui database",
            f"{where} already holds tables of another program; nothing was changed.",
        )
    unknown = [step for step in applied if step not in schema_steps()]
    if unknown:
        raise DatabaseTooNew(
            "Database is newer than this program",
            f"{where} was written by a newer kinesio-tui (step {unknown[-1]}); "
            "upgrade kinesio-tui. Nothing was changed.",
        )


def _check_owner(conn: Connection, schema: str) -> None:
    """Only the schema's owner (or, for a new schema, a role that may create one) changes it."""
    row = conn.execute(
        "SELECT CASE WHEN n.oid IS NULL THEN has_database_privilege(current_database(), 'CREATE')"
        " ELSE pg_has_role(current_user, n.nspowner, 'USAGE') END"
        " FROM (SELECT 1) AS one LEFT JOIN pg_namespace n ON n.nspname = %s",
        [schema],
    ).fetchone()
    if not row or not row[0]:
        raise KinesioError(
            "Not the database owner",
            f"this role may not create or change the schema {schema}. Run `kinesio init` as "
            "the database owner (with --app-role naming the workstations' role). Nothing was "
            "changed.",
        )


def _create(conn: Connection, schema: str, quoted: str) -> list[str]:
    """The baseline, its guards, the head's first row and the record of its steps."""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
    conn.execute(f"COMMENT ON SCHEMA {quoted} IS 'kinesio-tui'")
    _use_schema(conn, quoted, _ensure_trigram(conn))
    conn.execute(_sql_file("baseline.sql"))
    conn.execute(_fill(_sql_file("guards.sql"), schema=quoted))
    key = load_key(create=True)
    assert key is not None  # create=True makes one, or raises
    conn.execute(
        "INSERT INTO audit_head (id, entries, last_id, last_hash, legacy_entries, legacy_hash,"
        " seal, seal_key_id) VALUES (1, 0, NULL, %(genesis)s, 0, %(genesis)s, %(seal)s, %(key)s)",
        {"genesis": GENESIS_HASH, "seal": seal_signature(key, 0, GENESIS_HASH), "key": key.id},
    )
    steps = list(baseline_steps())
    _record(conn, steps)
    return steps


def _record(conn: Connection, steps: list[str]) -> None:
    stamp = clock.now().astimezone(UTC).isoformat(timespec="seconds")
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO kinesio_schema (step, applied_at) VALUES (%s, %s)",
            [(step, stamp) for step in steps],
        )


def _use_schema(conn: Connection, quoted: str, trigram_schema: str | None) -> None:
    """Unqualified names in the step files mean the clinic's schema (for this transaction);
    pg_trgm's operator classes are found where the extension lives."""
    path = quoted + (
        f", {sql.Identifier(trigram_schema).as_string(conn)}" if trigram_schema else ""
    )
    conn.execute("SELECT set_config('search_path', %s, true)", [path])


def _trigram_schema(conn: Connection) -> str | None:
    row = conn.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = %s",
        [_TRIGRAM],
    ).fetchone()
    return None if row is None else str(row[0])


def _ensure_trigram(conn: Connection) -> str:
    found = _trigram_schema(conn)
    if found is not None:
        return found
    try:
        with conn.transaction():
            conn.execute(f"CREATE EXTENSION {_TRIGRAM} SCHEMA public")
    except psycopg.errors.InsufficientPrivilege:
        raise KinesioError(
            "PostgreSQL extension missing",
            f"the database has no {_TRIGRAM} extension (patient search needs it) and this role "
            f"may not create it: ask the database administrator to run CREATE EXTENSION "
            f"{_TRIGRAM}, then run `kinesio init` again. Nothing was changed.",
        ) from None
    return "public"


def _grantees(conn: Connection, schema: str, owner: str, app_role: str | None) -> list[str]:
    """Roles already given the application's rights (they may append to the trail)."""
    rows = conn.execute(
        "SELECT DISTINCT grantee FROM information_schema.role_table_grants"
        " WHERE table_schema = %s AND table_name = 'audit_log' AND privilege_type = 'INSERT'"
        " AND grantee <> %s ORDER BY grantee",
        [schema, owner],
    ).fetchall()
    return [str(r[0]) for r in rows if r[0] != app_role]


def _check_app_role(conn: Connection, role: str, owner: str) -> None:
    """The application's role must exist and be neither the owner nor one of its members
    (a member would inherit the owner's rights, and the guards would not hold)."""
    found = conn.execute(
        "SELECT rolsuper, pg_has_role(oid, %s, 'USAGE') FROM pg_roles WHERE rolname = %s",
        [owner, role],
    ).fetchone()
    if found is None:
        raise KinesioError(
            "No such role",
            f"there is no PostgreSQL role {role}: the database administrator creates it "
            "(CREATE ROLE ... LOGIN), then run the command again. Nothing was changed.",
        )
    superuser, inherits_owner = found
    if role == owner:
        raise KinesioError(
            "Application role refused",
            f"this connection is the role {role} itself: connect as the database owner and "
            f"name {role} with --app-role. Nothing was changed.",
        )
    if superuser or inherits_owner:
        raise KinesioError(
            "Application role refused",
            f"the role {role} is a superuser or a member of the owner's role: it could "
            "change the schema and the audit trail. Name a role of its own for the "
            "application. Nothing was changed.",
        )


def _role(conn: Connection, role: str) -> str:
    return sql.Identifier(role).as_string(conn)


def _fill(text: str, **names: str) -> str:
    """A step file with its @name@ placeholders replaced by quoted identifiers."""
    for name, value in names.items():
        text = text.replace(f"@{name}@", value)
    return text


def _one(conn: Connection, query: str) -> Any:
    row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]
