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

On PostgreSQL the same rows go in the same way (foreign keys checked at commit, the trail
blanked through the owner's kinesio_erase_audit_content: the application's role may not
update it), but the erased values stay in dead row versions until autovacuum reclaims them,
and in WAL archives, standbys and head office's copy until those rotate: `finish_erasure`
says so every time, and the README does too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from kinesio_tui.data.db import ClinicDB, write_transaction
from kinesio_tui.data.engines.catalog import Catalog, Link, for_db
from kinesio_tui.domain.store import append_audit, fetch_row, retire_ids
from kinesio_tui.maintenance.holders import describe_holders


@dataclass(frozen=True)
class Erasure:
    """Rows removed per table; `pending` says what is left to do when not `complete`."""

    counts: dict[str, int]
    pending: str | None = None

    @property
    def complete(self) -> bool:
        return self.pending is None


def _links(db: ClinicDB, catalog: Catalog, tables: list[str]) -> list[Link]:
    """Every foreign key, and every patient_id column (a link whether declared or not)."""
    found = catalog.links(db, tables)
    for table in tables:
        if table != "patients" and "patient_id" in catalog.columns(db, table):
            found.append(Link(table, "patient_id", "patients", "id"))
    return found


def _reachable(db: ClinicDB, catalog: Catalog, patient_id: int) -> dict[str, set[int]]:
    """ids of every row that belongs to the patient, by table."""
    tables = catalog.record_tables(db)
    links = _links(db, catalog, tables)
    found: dict[str, set[int]] = defaultdict(set)
    found["patients"].add(patient_id)
    frontier = {"patients"}
    while frontier:
        grown: set[str] = set()
        for child, column, parent, parent_column in links:
            if parent not in frontier or child not in tables:
                continue
            keys = sorted(found[parent])
            if parent_column != "id":
                where, params = catalog.in_list("id", keys)
                keys = [
                    r[0]
                    for r in db.execute(
                        f"SELECT {parent_column} FROM {parent} WHERE {where}", params
                    ).fetchall()
                ]
            if not keys:
                continue
            where, params = catalog.in_list(column, keys)
            rows = {int(r[0]) for r in db.execute(f"SELECT id FROM {child} WHERE {where}", params)}
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
    """Make sure erased values are gone from the database's bytes; None when done, else
    what is pending. SQLite: vacuums when the file has free pages, then checkpoints and
    truncates the WAL. PostgreSQL: says what only time (and the server's operators) can do."""
    if db.kind == "postgresql":
        from kinesio_tui.data.engines.pg_catalog import PENDING_NOTE

        return PENDING_NOTE
    from kinesio_tui.data.engines.sqlite_catalog import release_erased_pages

    done = release_erased_pages(db)
    wal = Path(f"{db.file}-wal")
    if done and (not wal.exists() or wal.stat().st_size == 0):
        return None
    return (
        "old copies of the erased records stay in the database file while another program "
        f"is reading it ({describe_holders(db.file)}); close it, then run the same erase "
        "command again to finish"
    )


def erase_patient(db: ClinicDB, patient_id: int) -> Erasure:
    """Erase a patient and everything recorded about them; says what was removed and
    whether anything is pending. Raises NotFound if there is no such patient (an erased
    one included: use finish_erasure for that). The removal is one transaction."""
    catalog = for_db(db)
    sqlite = db.kind != "postgresql"
    if sqlite:  # overwrite freed pages: the values really go
        from kinesio_tui.data.engines.sqlite_catalog import secure_delete

        secure_delete(db, True)
    try:
        with write_transaction(db):
            fetch_row(db, "patients", patient_id)
            # The rows point at each other; checking keys at commit lets us delete in any order.
            catalog.defer_links(db)
            rows = _reachable(db, catalog, patient_id)
            for table, ids in rows.items():
                ordered = sorted(ids)
                retire_ids(db, table, ordered)
                for start in range(0, len(ordered), 500):
                    where, params = catalog.in_list("id", ordered[start : start + 500])
                    db.execute(f"DELETE FROM {table} WHERE {where}", params)
            catalog.blank_trail(db, patient_id)
            catalog.after_erasure(db)
            counts = {table: len(ids) for table, ids in sorted(rows.items())}
            append_audit(
                db, "erase", "patients", patient_id, patient_id, None, {"rows_removed": counts}
            )
    finally:
        if sqlite:
            secure_delete(db, False)
    return Erasure(counts, finish_erasure(db))
