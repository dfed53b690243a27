"""Maintenance's questions answered from an SQLite file's own catalog (sqlite_master and
PRAGMAs); see data/engines/catalog.py for what each one means."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kinesio_tui.data.engines.catalog import Link

if TYPE_CHECKING:
    from kinesio_tui.data.db import ClinicDB

#: The triggers that make the trail append-only (steps 0004); a keyed file keeps every one.
GUARD_TRIGGERS: tuple[str, ...] = (
    "audit_log_head",
    "audit_log_no_delete",
    "audit_log_only_erasure",
    "audit_head_no_delete",
)
#: Never walked into by an erasure: the trail itself and the schema's bookkeeping.
_NOT_RECORDS = frozenset({"audit_log", "audit_head", "retired_ids", "_sqlite_migrations"})
#: How long the erasure's last step waits for other connections' reads (milliseconds).
CHECKPOINT_WAIT_MS = 2000


def has_table(db: ClinicDB, name: str) -> bool:
    found = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]
    ).fetchone()
    return found is not None


def columns(db: ClinicDB, table: str) -> list[str]:
    return [str(c[1]) for c in db.execute(f"PRAGMA table_info({table})").fetchall()]


def column_defaults(db: ClinicDB, table: str) -> list[tuple[str, str | None]]:
    rows = db.execute(f"PRAGMA table_info({table})").fetchall()
    return [(str(name), default) for _, name, _, _, default, _ in rows]


def guard_problems(db: ClinicDB) -> list[str]:
    present = {
        r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    }
    return [
        f"the guard {trigger} was removed: the trail was opened to edits"
        for trigger in GUARD_TRIGGERS
        if trigger not in present
    ]


def record_tables(db: ClinicDB) -> list[str]:
    rows = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    virtual = [name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL")]
    return [
        name
        for name, _ in rows
        if name not in _NOT_RECORDS
        and name not in virtual
        and not any(name.startswith(f"{v}_") for v in virtual)  # FTS shadow tables
    ]


def links(db: ClinicDB, tables: list[str]) -> list[Link]:
    found = []
    for table in tables:
        for fk in db.execute(f"PRAGMA foreign_key_list({table})").fetchall():
            found.append(Link(table, fk[3], fk[2], fk[4] or "id"))
    return found


def integrity_problems(db: ClinicDB) -> list[str] | None:
    found = [str(r[0]) for r in db.execute("PRAGMA integrity_check").fetchall()]
    return [] if found == ["ok"] else found


def foreign_key_problems(db: ClinicDB) -> list[str]:
    return [
        f"{table} row {rowid} points at a missing {parent} record"
        for table, rowid, parent, _ in db.execute("PRAGMA foreign_key_check").fetchall()
    ]


def in_list(column: str, values: list[int]) -> tuple[str, list[Any]]:
    return f"{column} IN ({','.join('?' * len(values))})", list(values)


def defer_links(db: ClinicDB) -> None:
    db.execute("PRAGMA defer_foreign_keys = ON")


def blank_trail(db: ClinicDB, patient_id: int) -> None:
    db.execute(
        "UPDATE audit_log SET old = NULL, new = NULL "
        "WHERE patient_id = ? AND (old IS NOT NULL OR new IS NOT NULL)",
        [patient_id],
    )


def after_erasure(db: ClinicDB) -> None:
    """Full-text indexes keep deleted terms in old segments until merged."""
    for (fts,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' "
        "AND upper(sql) LIKE 'CREATE VIRTUAL TABLE%USING FTS5%'"
    ).fetchall():
        db.execute(f"INSERT INTO {fts} ({fts}) VALUES ('optimize')")


def secure_delete(db: ClinicDB, on: bool) -> None:
    """Freed pages are zeroed while on (the erased values really leave the file)."""
    db.execute(f"PRAGMA secure_delete = {'ON' if on else 'OFF'}")


def release_erased_pages(db: ClinicDB) -> bool:
    """Vacuum when the file has free pages, then checkpoint and truncate the WAL; False when
    another connection's read kept the checkpoint from finishing."""
    secure_delete(db, True)
    try:
        if db.execute("PRAGMA freelist_count").fetchone()[0]:
            db.execute("VACUUM")
    finally:
        secure_delete(db, False)
    timeout = db.execute("PRAGMA busy_timeout").fetchone()[0]
    db.execute(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
    try:
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        db.execute(f"PRAGMA busy_timeout = {int(timeout)}")
    return not busy
