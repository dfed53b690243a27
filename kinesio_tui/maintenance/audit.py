"""Checking the hash-chained audit trail, and reading one patient's history.

Each entry's `hash` covers the previous entry's hash and the entry's metadata and
`content_sha` (see domain/store.py), and `audit_head` records how many entries there are
and the newest hash. `verify_chain` therefore names the entry at fault when one is

- edited: its metadata no longer gives its hash, or its values no longer give its content_sha;
- deleted, inserted or moved: the next entry no longer links to the one before it;
- removed from the end, or forged onto the end: the table disagrees with audit_head;
- blanked without an erasure: old/new emptied but no later 'erase' entry for that patient.

Limit: the chain has no secret key. Someone with write access to the file who drops the
guard triggers and recomputes every hash after an edit, and the head, produces a trail that
verifies. Backups (which keep the old chain) and the daily copies are the defence there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.store import GENESIS_HASH, content_hash, entry_hash

#: Columns the history view leaves out: derived or bookkeeping, never clinical.
QUIET_FIELDS = frozenset({"search_text", "created_at", "updated_at", "version"})


@dataclass(frozen=True)
class AuditProblem:
    """One thing wrong with the trail, at `entry_id` (None: the trail as a whole)."""

    entry_id: int | None
    what: str

    def __str__(self) -> str:
        where = f"entry {self.entry_id}" if self.entry_id is not None else "audit trail"
        return f"{where}: {self.what}"


@dataclass(frozen=True)
class AuditReport:
    """What `verify_chain` found: how many entries, how many erased, and the problems."""

    entries: int
    erased: int
    problems: list[AuditProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


_COLUMNS = (
    "id, at, actor, action, table_name, record_id, patient_id, old, new, content_sha, "
    "prev_hash, hash"
)


def _entries(db: ClinicDB) -> Iterator[dict[str, Any]]:
    cursor = db.execute(f"SELECT {_COLUMNS} FROM audit_log ORDER BY id")
    names = [c[0] for c in cursor.description]
    while batch := cursor.fetchmany(1000):
        for row in batch:
            yield dict(zip(names, row, strict=True))


def _erasures(db: ClinicDB) -> dict[int, int]:
    """patient id -> id of the newest 'erase' entry for that patient."""
    rows = db.execute(
        "SELECT patient_id, max(id) FROM audit_log WHERE action = 'erase' "
        "AND patient_id IS NOT NULL GROUP BY patient_id"
    ).fetchall()
    return {int(pid): int(last) for pid, last in rows}


def _content_matches(entry: dict[str, Any]) -> bool:
    try:
        old = json.loads(entry["old"]) if entry["old"] is not None else None
        new = json.loads(entry["new"]) if entry["new"] is not None else None
    except (TypeError, ValueError):
        return False
    return bool(content_hash(old, new) == entry["content_sha"])


def _check_head(db: ClinicDB, count: int, last: dict[str, Any] | None) -> AuditProblem | None:
    has_head = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_head'"
    ).fetchone()
    if not has_head:
        return None  # a file from before the head existed: the chain alone is checked
    head = db.execute("SELECT entries, last_id, last_hash FROM audit_head WHERE id = 1").fetchone()
    if head is None:
        return AuditProblem(None, "the record of the trail's length (audit_head) is missing")
    entries, last_id, last_hash = head
    actual_hash = last["hash"] if last else GENESIS_HASH
    if entries == count and last_hash == actual_hash:
        return None
    actual_id = last["id"] if last else None
    return AuditProblem(
        actual_id,
        f"the trail should hold {entries} entries ending at entry {last_id}, but holds "
        f"{count} ending at entry {actual_id}: entries were removed from, or added to, the end",
    )


def verify_chain(db: ClinicDB) -> AuditReport:
    """Walk the whole trail in id order and report every entry that does not verify."""
    erasures = _erasures(db)
    problems: list[AuditProblem] = []
    prev_hash = GENESIS_HASH
    prev_id: int | None = None
    count = erased = 0
    last: dict[str, Any] | None = None
    for entry in _entries(db):
        count += 1
        eid = int(entry["id"])
        if entry["prev_hash"] != prev_hash:
            after = f"entry {prev_id}" if prev_id is not None else "the start of the trail"
            gap = (
                f" (entries {prev_id + 1} to {eid - 1} are missing)"
                if prev_id is not None and eid > prev_id + 1
                else ""
            )
            problems.append(
                AuditProblem(
                    eid,
                    f"does not follow {after}{gap}: an entry was removed, inserted, "
                    "moved or rewritten here",
                )
            )
        if entry_hash(entry["prev_hash"], entry) != entry["hash"]:
            problems.append(AuditProblem(eid, "its details (who, when, what) were changed"))
        if entry["old"] is None and entry["new"] is None:
            pid = entry["patient_id"]
            if pid is not None and erasures.get(int(pid), -1) > eid:
                erased += 1
            else:
                problems.append(
                    AuditProblem(eid, "its values were blanked without an erasure record")
                )
        elif not _content_matches(entry):
            problems.append(AuditProblem(eid, "its recorded values were changed"))
        # Continue from the stored hash so one break is reported once, not at every entry.
        prev_hash = entry["hash"]
        prev_id = eid
        last = entry
    head_problem = _check_head(db, count, last)
    if head_problem:
        problems.append(head_problem)
    return AuditReport(entries=count, erased=erased, problems=problems)


@dataclass(frozen=True)
class HistoryEntry:
    """One change in a patient's record, as the audit trail holds it."""

    id: int
    at: str
    actor: str
    action: str
    table_name: str
    record_id: int
    #: field -> (old, new); empty for an erased entry.
    changes: dict[str, tuple[Any, Any]]
    erased: bool


def history(db: ClinicDB, patient_id: int) -> list[HistoryEntry]:
    """Every audit entry about a patient, oldest first, with the fields each one changed."""
    cursor = db.execute(
        f"SELECT {_COLUMNS} FROM audit_log WHERE patient_id = ? ORDER BY id", [patient_id]
    )
    names = [c[0] for c in cursor.description]
    result = []
    for row in cursor.fetchall():
        entry = dict(zip(names, row, strict=True))
        old = json.loads(entry["old"]) if entry["old"] else None
        new = json.loads(entry["new"]) if entry["new"] else None
        keys = [k for k in {**(old or {}), **(new or {})} if k not in QUIET_FIELDS and k != "id"]
        changes = {
            k: ((old or {}).get(k), (new or {}).get(k))
            for k in keys
            if (old or {}).get(k) != (new or {}).get(k)
        }
        result.append(
            HistoryEntry(
                id=entry["id"],
                at=entry["at"],
                actor=entry["actor"],
                action=entry["action"],
                table_name=entry["table_name"],
                record_id=entry["record_id"],
                changes=changes,
                erased=old is None and new is None,
            )
        )
    return result
