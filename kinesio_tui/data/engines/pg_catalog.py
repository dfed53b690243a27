"""Maintenance's questions answered from PostgreSQL's catalogs, for the clinic's schema
(`current_schema()`: the engine puts the target's schema first on the search_path); see
data/engines/catalog.py for what each one means. Runs through `db.execute` in SQLite's
paramstyle like all the program's SQL; imports no driver."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kinesio_tui.data.engines.catalog import Link

if TYPE_CHECKING:
    from kinesio_tui.data.db import ClinicDB

#: pg/guards.sql's, baseline.sql's and pg/steps/pg0001's triggers that keep the trail
#: append-only and one chain.
GUARD_TRIGGERS: tuple[str, ...] = (
    "audit_log_head",
    "audit_log_write_lock",
    "audit_log_no_change",
    "audit_log_no_truncate",
    "audit_head_no_delete",
    "audit_head_no_truncate",
    "retired_ids_no_delete",
)
#: Never walked into by an erasure: the trail, its head, retired ids, the schema's steps.
_NOT_RECORDS = frozenset({"audit_log", "audit_head", "retired_ids", "kinesio_schema"})
#: The clinic's schema (first on the search_path), as a namespace oid.
_HERE = "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"


def has_table(db: ClinicDB, name: str) -> bool:
    found = db.execute(
        "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?", [name]
    ).fetchone()
    return found is not None


def columns(db: ClinicDB, table: str) -> list[str]:
    return [name for name, _ in column_defaults(db, table)]


def column_defaults(db: ClinicDB, table: str) -> list[tuple[str, str | None]]:
    rows = db.execute(
        "SELECT column_name, column_default FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [(str(name), _without_cast(default)) for name, default in rows]


def _without_cast(default: str | None) -> str | None:
    """PostgreSQL's ''::text or '[]'::text as SQLite writes it ('' and '[]')."""
    return None if default is None else re.sub(r"::[a-z ]+$", "", default)


def guard_problems(db: ClinicDB) -> list[str]:
    triggers = dict(
        db.execute(
            "SELECT t.tgname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            f" WHERE c.relnamespace = {_HERE} AND NOT t.tgisinternal"
        ).fetchall()
    )
    problems = []
    for trigger in GUARD_TRIGGERS:
        if trigger not in triggers:
            problems.append(f"the guard {trigger} was removed: the trail was opened to edits")
        elif triggers[trigger] == "D":
            problems.append(f"the guard {trigger} was disabled: the trail was opened to edits")
    # Every role granted anything on the trail, or PUBLIC, that may change it: directly,
    # or through a role it belongs to (the owner's, a superuser's).
    for role, privilege in db.execute(
        "SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC'"
        " ELSE pg_get_userbyid(a.grantee)::text END, p.privilege"
        " FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) AS a"
        " CROSS JOIN unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE']) AS p(privilege)"
        f" WHERE c.relnamespace = {_HERE} AND c.relname = 'audit_log'"
        " AND a.grantee <> c.relowner AND CASE WHEN a.grantee = 0"
        " THEN a.privilege_type = p.privilege"
        " ELSE has_table_privilege(a.grantee, c.oid, p.privilege) END ORDER BY 1, 2"
    ).fetchall():
        problems.append(
            f"the role {role} may {privilege} the audit trail: grant it only SELECT and INSERT"
        )
    return problems


def record_tables(db: ClinicDB) -> list[str]:
    rows = db.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
    ).fetchall()
    return [str(name) for (name,) in rows if name not in _NOT_RECORDS]


def links(db: ClinicDB, tables: list[str]) -> list[Link]:
    rows = db.execute(
        "SELECT t.relname, a.attname, p.relname, pa.attname FROM pg_constraint c"
        " JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class p ON p.oid = c.confrelid"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        " JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]"
        f" WHERE c.contype = 'f' AND t.relnamespace = {_HERE}"
        " ORDER BY t.relname, c.conname"
    ).fetchall()
    return [Link(*map(str, row)) for row in rows if row[0] in tables]


def integrity_problems(db: ClinicDB) -> list[str] | None:
    """amcheck's bt_index_check on every B-tree index of the schema, when the extension is
    installed and this role may run it (by default only a superuser may)."""
    found = db.execute(
        "SELECT quote_ident(n.nspname) FROM pg_extension e"
        " JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'amcheck'"
    ).fetchone()
    if found is None:
        return None
    check = f"{found[0]}.bt_index_check"
    allowed = db.execute(
        "SELECT has_function_privilege(?, 'EXECUTE')", [f"{check}(regclass)"]
    ).fetchone()
    if not allowed or not allowed[0]:
        return None
    indexes = db.execute(
        "SELECT c.oid, c.relname FROM pg_class c JOIN pg_am am ON am.oid = c.relam"
        " WHERE c.relkind = 'i' AND am.amname = 'btree'"
        f" AND c.relnamespace = {_HERE} ORDER BY c.relname"
    ).fetchall()
    problems = []
    for oid, index in indexes:
        try:
            db.execute(f"SELECT {check}(?::bigint::oid::regclass)", [oid])
        except Exception as error:  # the engine's neutral error: its words, no patient data
            problems.append(f"index {index}: {error}")
    return problems


def foreign_key_problems(db: ClinicDB) -> list[str]:
    problems = []
    for child, column, parent, parent_column in links(db, record_tables(db)):
        rows = db.execute(
            f"SELECT c.id FROM {child} c WHERE c.{column} IS NOT NULL AND NOT EXISTS"
            f" (SELECT 1 FROM {parent} p WHERE p.{parent_column} = c.{column})"
            " ORDER BY c.id LIMIT 100"
        ).fetchall()
        problems += [f"{child} row {rid} points at a missing {parent} record" for (rid,) in rows]
    return problems


def in_list(column: str, values: list[int]) -> tuple[str, list[Any]]:
    return f"{column} = ANY(?)", [list(values)]


def defer_links(db: ClinicDB) -> None:
    db.execute("SET CONSTRAINTS ALL DEFERRED")


def blank_trail(db: ClinicDB, patient_id: int) -> None:
    """Through the owner's function: the application's role may not UPDATE the trail."""
    db.execute("SELECT kinesio_erase_audit_content(?)", [patient_id]).fetchone()


def after_erasure(db: ClinicDB) -> None:
    """Nothing: GIN and B-tree entries of deleted rows go with vacuum (see PENDING_NOTE)."""


#: What an erasure on PostgreSQL cannot finish itself, said every time.
PENDING_NOTE = (
    "the records are deleted, but PostgreSQL keeps their old row versions until autovacuum "
    "reclaims the space, and WAL archives, standbys and head office keep copies until they "
    "rotate out"
)
