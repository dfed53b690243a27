"""Permanent erasure of one patient on request (archiving is the everyday way out of view).

Removes the patient's clinical rows in one transaction: the patient, and every row that
points at them through foreign keys (episodes, visits, ticks, PIR cycles, measurements,
red-flag screens, and any table added later with a REFERENCES or a patient_id column).
The patient's audit entries keep their place in the chain but lose their old/new values;
their `content_sha` stays, so the chain still verifies, and one 'erase' entry records that
(and how many rows of each kind) without any of the erased content.

The erased values must also leave the file's bytes: the deletes run with secure_delete
(freed space is zeroed), the search indexes are merged so no old segment keeps a name,
the file is vacuumed when it has free pages (they may hold older versions written before),
and the WAL is checkpointed into the file and truncated. That last step waits for other
connections' reads to finish; if one is still reading after a short wait, the erasure says
what is pending (the old pages are still in the main file) and running it again finishes it.
The erased ids are retired: no new record is ever given them.

Backups taken before the erasure still hold the patient until they rotate out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from kinesio_tui.data.db import ClinicDB, write_transaction
from kinesio_tui.domain.store import append_audit, fetch_row, retire_ids
from kinesio_tui.maintenance.holders import describe_holders

#: How long the last step waits for other connections' reads to end (milliseconds).
CHECKPOINT_WAIT_MS = 2000


@dataclass(frozen=True)
class Erasure:
    """Rows removed per table; `pending` says what is left to do when not `complete`."""

    counts: dict[str, int]
    pending: str | None = None

    @property
    def complete(self) -> bool:
        return self.pending is None


#: Never walked into: the trail itself and the migration bookkeeping.
_SKIP = frozenset({"audit_log", "audit_head", "retired_ids", "_sqlite_migrations"})


def _tables(db: ClinicDB) -> list[str]:
    rows = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    virtual = [name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL")]
    return [
        name
        for name, _ in rows
        if name not in _SKIP
        and name not in virtual
        and not any(name.startswith(f"{v}_") for v in virtual)  # FTS shadow tables
    ]


def _links(db: ClinicDB, tables: list[str]) -> list[tuple[str, str, str, str]]:
    """(child table, child column, parent table, parent column) for every foreign key."""
    links = []
    for table in tables:
        for fk in db.execute(f"PRAGMA foreign_key_list({table})").fetchall():
            parent, column, parent_column = fk[2], fk[3], fk[4] or "id"
            links.append((table, column, parent, parent_column))
        columns = [c[1] for c in db.execute(f"PRAGMA table_info({table})").fetchall()]
        if table != "patients" and "patient_id" in columns:
            links.append((table, "patient_id", "patients", "id"))
    return links


def _reachable(db: ClinicDB, patient_id: int) -> dict[str, set[int]]:
    """rowids of every row that belongs to the patient, by table."""
    tables = _tables(db)
    links = _links(db, tables)
    found: dict[str, set[int]] = defaultdict(set)
    found["patients"].add(patient_id)
    frontier = {"patients"}
    while frontier:
        grown: set[str] = set()
        for child, column, parent, parent_column in links:
            if parent not in frontier or child not in tables:
                continue
            keys = sorted(found[parent]) if parent_column == "id" else []
            if parent_column != "id":
                marks = ",".join("?" * len(found[parent]))
                keys = [
                    r[0]
                    for r in db.execute(
                        f"SELECT {parent_column} FROM {parent} WHERE rowid IN ({marks})",
                        sorted(found[parent]),
                    ).fetchall()
                ]
            if not keys:
                continue
            marks = ",".join("?" * len(keys))
            rows = {
                int(r[0])
                for r in db.execute(
                    f"SELECT rowid FROM {child} WHERE {column} IN ({marks})", keys
                ).fetchall()
            }
            if rows - found[child]:
                found[child] |= rows
                grown.add(child)
        frontier = grown
    return {table: ids for table, ids in found.items() if ids}


def was_erased(db: ClinicDB, patient_id: int) -> bool:
    """True if the trail records that this patient was erased."""
    found = db.execute(
        "SELECT 1 FROM audit_log WHERE patient_id = ? AND action = 'erase' LIMIT 1", [patient_id]
    ).fetchone()
    return found is not None


def finish_erasure(db: ClinicDB) -> str | None:
    """Make sure erased values are gone from the file's bytes; None when done, else what is
    pending. Vacuums when the file has free pages, then checkpoints and truncates the WAL."""
    db.execute("PRAGMA secure_delete = ON")
    try:
        if db.execute("PRAGMA freelist_count").fetchone()[0]:
            db.execute("VACUUM")
    finally:
        db.execute("PRAGMA secure_delete = OFF")
    timeout = db.execute("PRAGMA busy_timeout").fetchone()[0]
    db.execute(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
    try:
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        db.execute(f"PRAGMA busy_timeout = {int(timeout)}")
    wal = Path(f"{db.path}-wal")
    if not busy and (not wal.exists() or wal.stat().st_size == 0):
        return None
    return (
        "old copies of the erased records stay in the database file while another program "
        f"is reading it ({describe_holders(db.path)}); close it, then run the same erase "
        "command again to finish"
    )


def erase_patient(db: ClinicDB, patient_id: int) -> Erasure:
    """Erase a patient and everything recorded about them; says what was removed and
    whether anything is pending. Raises NotFound if there is no such patient (an erased
    one included: use finish_erasure for that). The removal is one transaction."""
    db.execute("PRAGMA secure_delete = ON")  # overwrite freed pages: the values really go
    try:
        with write_transaction(db):
            fetch_row(db, "patients", patient_id)
            # The rows point at each other; checking keys at commit lets us delete in any order.
            db.execute("PRAGMA defer_foreign_keys = ON")
            rows = _reachable(db, patient_id)
            for table, ids in rows.items():
                ordered = sorted(ids)
                retire_ids(db, table, ordered)
                for start in range(0, len(ordered), 500):
                    chunk = ordered[start : start + 500]
                    db.execute(
                        f"DELETE FROM {table} WHERE rowid IN ({','.join('?' * len(chunk))})",
                        chunk,
                    )
            db.execute(
                "UPDATE audit_log SET old = NULL, new = NULL "
                "WHERE patient_id = ? AND (old IS NOT NULL OR new IS NOT NULL)",
                [patient_id],
            )
            # Full-text indexes keep deleted terms in old segments until merged.
            for (fts,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND upper(sql) LIKE 'CREATE VIRTUAL TABLE%USING FTS5%'"
            ).fetchall():
                db.execute(f"INSERT INTO {fts} ({fts}) VALUES ('optimize')")
            counts = {table: len(ids) for table, ids in sorted(rows.items())}
            append_audit(
                db, "erase", "patients", patient_id, patient_id, None, {"rows_removed": counts}
            )
    finally:
        db.execute("PRAGMA secure_delete = OFF")
    return Erasure(counts, finish_erasure(db))
