"""Checking the audit trail against itself, its key, and the records it describes.

Each entry's `hash` covers the previous entry's hash and the entry's metadata and
`content_sha` (see domain/store.py): an HMAC under the audit key kept outside the file
for entries made since the file was keyed, plain SHA-256 before. `verify_chain` names

- an edited or forged entry: its hash no longer matches (without the key, no one can
  make a keyed entry that does), or its values no longer give its content_sha;
- an entry deleted, inserted or moved: the next entry no longer links to the one before;
- the end cut off or added to: the signed head disagrees with the table;
- an unkeyed entry after the trail was keyed, or the unkeyed entries from before the key
  rewritten (the seal signs how many there were and the last one's hash);
- entries blanked without an erasure, or an erasure of a patient whose records remain;
- a guard trigger or the head dropped;
- a clinical record changed, added or removed outside the program: each live row is
  compared with the state its audit entries replay to (create, then each change's new
  values; a delete or an erasure means the row must be gone).

Entries signed with a key that is not on this computer (a backup brought from another
machine without its audit.key) cannot be checked: that is reported as a problem, saying
which key is needed, never as "ok". What the key does not stop: anyone who can read the
key file (the same OS account) can rewrite the trail and sign it again.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kinesio_tui.audit_key import GENESIS_HASH, AuditKey, key_path, load_key, seal_signature
from kinesio_tui.data.db import ClinicDB
from kinesio_tui.data.engines.catalog import for_db
from kinesio_tui.domain.store import (
    CLINICAL_TABLES,
    content_hash,
    entry_hash,
    head_signature,
    signed_entry_hash,
)

#: Columns the history view leaves out: derived or bookkeeping, never clinical.
QUIET_FIELDS = frozenset({"search_text", "created_at", "updated_at", "version", "uuid"})
#: Columns a row comparison leaves out: the row's own id, and the edit counter.
_NOT_COMPARED = frozenset({"id", "version"})
#: Columns a schema step filled in for the records already there, without an entry per
#: record (each record's uuid, step 0012): compared only where the trail names them (every
#: record made since), never against a default the trail's older entries could not name.
_GIVEN_BY_A_STEP = frozenset({"uuid"})
#: Row problems named per table before the rest are only counted.
_ROW_PROBLEMS_PER_TABLE = 200


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
    """What `verify_chain` found: how many entries, how many erased, and the problems.

    `unkeyed` counts entries from before the file was keyed (checked by SHA-256 and the
    seal); `keyed` is False for a file from before keying existed (nothing is keyed yet).
    """

    entries: int
    erased: int
    problems: list[AuditProblem] = field(default_factory=list)
    keyed: bool = True
    unkeyed: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


_COLUMNS = (
    "id, at, actor, action, table_name, record_id, patient_id, old, new, content_sha, "
    "prev_hash, hash"
)


def _entries(db: ClinicDB, keyed: bool) -> Iterator[dict[str, Any]]:
    columns = _COLUMNS + (", key_id" if keyed else "")
    cursor = db.execute(f"SELECT {columns} FROM audit_log ORDER BY id")
    names = [c[0] for c in cursor.description]
    while batch := cursor.fetchmany(1000):
        for row in batch:
            entry = dict(zip(names, row, strict=True))
            entry.setdefault("key_id", None)
            yield entry


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


def _head(db: ClinicDB) -> dict[str, Any] | None:
    cursor = db.execute("SELECT * FROM audit_head WHERE id = 1")
    row = cursor.fetchone()
    return None if row is None else dict(zip([c[0] for c in cursor.description], row, strict=True))


class _Keys:
    """The local key, and what could not be checked for want of another one."""

    def __init__(self, key: AuditKey | None) -> None:
        self.key = key
        self.missing: Counter[str] = Counter()

    def usable(self, key_id: str | None) -> AuditKey | None:
        if self.key is not None and key_id == self.key.id:
            return self.key
        self.missing[str(key_id)] += 1
        return None

    def problems(self) -> list[AuditProblem]:
        where = key_path()
        return [
            AuditProblem(
                None,
                f"{n} signature(s) were made with audit key {key_id}, which is not on this "
                f"computer ({where}"
                + (f" holds key {self.key.id}" if self.key else " does not exist")
                + "): they cannot be checked here. Copy audit.key from the computer that "
                "wrote this file to check them",
            )
            for key_id, n in sorted(self.missing.items())
        ]


def _structure_problems(
    db: ClinicDB, keys: _Keys, head: dict[str, Any] | None
) -> list[AuditProblem]:
    """A keyed file must keep its guards, its head and its seal. On PostgreSQL the guards
    include the privileges: no role but the owner may update, delete or truncate the trail."""
    problems = [AuditProblem(None, what) for what in for_db(db).guard_problems(db)]
    if head is None:
        problems.append(
            AuditProblem(
                None,
                "the audit_head record (the trail's signed end and seal) is missing: "
                "entries may have been removed from the end",
            )
        )
        return problems
    if head.get("seal") is None or head.get("legacy_entries") is None:
        problems.append(
            AuditProblem(None, "the seal over the entries from before the key is missing")
        )
        return problems
    key = keys.usable(head.get("seal_key_id"))
    if (
        key is not None
        and seal_signature(key, int(head["legacy_entries"]), str(head["legacy_hash"]))
        != head["seal"]
    ):
        problems.append(AuditProblem(None, f"the seal's {SIGNATURE} (entries from before the key)"))
    return problems


SIGNATURE = "signature does not match"


def _check_head(
    head: dict[str, Any] | None, count: int, last: dict[str, Any] | None, keys: _Keys | None
) -> list[AuditProblem]:
    if head is None:
        return []
    problems = []
    entries, last_id, last_hash = head["entries"], head["last_id"], head["last_hash"]
    actual_hash = last["hash"] if last else GENESIS_HASH
    actual_id = last["id"] if last else None
    if not (entries == count and last_hash == actual_hash):
        problems.append(
            AuditProblem(
                actual_id,
                f"the trail should hold {entries} entries ending at entry {last_id}, but holds "
                f"{count} ending at entry {actual_id}: entries were removed from, or added to, "
                "the end",
            )
        )
    keyed_entries = last is not None and last.get("key_id") is not None
    if keys is not None and keyed_entries:
        if head.get("mac") is None:
            problems.append(AuditProblem(None, "the head's signature is missing"))
        else:
            key = keys.usable(head.get("key_id"))
            if key is not None and head_signature(key, last_id, str(last_hash)) != head["mac"]:
                problems.append(
                    AuditProblem(
                        None,
                        f"the head's {SIGNATURE}: the newest entries were removed, or the "
                        "head rewritten",
                    )
                )
    return problems


def verify_chain(db: ClinicDB) -> AuditReport:
    """Walk the whole trail in id order, then compare every clinical row with its trail."""
    catalog = for_db(db)
    keyed = "key_id" in catalog.columns(db, "audit_log")
    head = _head(db) if catalog.has_table(db, "audit_head") else None
    keys = _Keys(load_key(create=False)) if keyed else None
    problems: list[AuditProblem] = []
    legacy: int | None = None
    if keys is not None:
        problems += _structure_problems(db, keys, head)
        if head is not None and head.get("legacy_entries") is not None:
            legacy = int(head["legacy_entries"])
    erasures = _erasures(db)
    prev_hash = GENESIS_HASH
    prev_id: int | None = None
    count = erased = unkeyed = 0
    last: dict[str, Any] | None = None
    for entry in _entries(db, keyed):
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
        if entry["key_id"] is None:
            unkeyed += 1
            if keys is not None and (legacy is None or count > legacy):
                problems.append(
                    AuditProblem(
                        eid, "it was added without the audit key, after the trail was keyed"
                    )
                )
            elif entry_hash(entry["prev_hash"], entry) != entry["hash"]:
                problems.append(AuditProblem(eid, "its details (who, when, what) were changed"))
        elif keys is not None:
            key = keys.usable(entry["key_id"])
            if (
                key is not None
                and signed_entry_hash(key, entry["prev_hash"], entry) != entry["hash"]
            ):
                problems.append(
                    AuditProblem(
                        eid, f"its {SIGNATURE}: it was changed, or made without the audit key"
                    )
                )
        if legacy is not None and count == legacy and head and entry["hash"] != head["legacy_hash"]:
            problems.append(
                AuditProblem(eid, "the entries from before the key no longer match their seal")
            )
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
    if legacy is not None and legacy > count:
        problems.append(
            AuditProblem(
                None, f"the seal covers {legacy} entries from before the key, the trail has {count}"
            )
        )
    problems += _check_head(head, count, last, keys)
    if keys is not None:
        problems += keys.problems()
    problems += record_problems(db, erasures)
    return AuditReport(
        entries=count, erased=erased, problems=problems, keyed=keyed, unkeyed=unkeyed
    )


# --- the records against their trail -------------------------------------------------------


def _defaults(db: ClinicDB, table: str) -> dict[str, Any]:
    """column -> the value a row gets when an insert leaves it out (constants only)."""
    found: dict[str, Any] = {}
    for name, default in for_db(db).column_defaults(db, table):
        if name in _NOT_COMPARED or name in _GIVEN_BY_A_STEP:
            continue
        if default is None or default.upper() == "NULL":
            found[name] = None
        elif default.startswith("'") and default.endswith("'"):
            found[name] = default[1:-1].replace("''", "'")
        else:
            try:
                found[name] = float(default) if "." in default else int(default)
            except ValueError:
                continue  # an expression: not compared when the entry leaves it out
    return found


def _same(live: Any, audited: Any) -> bool:
    if live == audited:
        return True
    if isinstance(live, int | float) and isinstance(audited, int | float):
        return float(live) == float(audited)
    return isinstance(live, str) and not isinstance(audited, str) and live == str(audited)


@dataclass
class _Replayed:
    """One record's state as its entries leave it."""

    last_entry: int
    state: dict[str, Any] = field(default_factory=dict)
    created: bool = False
    exists: bool = False
    erased: bool = False


def _replay(db: ClinicDB, table: str) -> Iterator[tuple[int, _Replayed]]:
    cursor = db.execute(
        "SELECT id, record_id, action, old, new FROM audit_log "
        "WHERE table_name = ? AND action != 'erase' ORDER BY record_id, id",
        [table],
    )
    current: tuple[int, _Replayed] | None = None
    while batch := cursor.fetchmany(1000):
        for eid, rid, action, old, new in batch:
            if current is None or current[0] != rid:
                if current is not None:
                    yield current
                current = (int(rid), _Replayed(last_entry=int(eid)))
            record = current[1]
            record.last_entry = int(eid)
            if old is None and new is None:
                record.exists, record.erased, record.state = False, True, {}
                continue
            try:
                values = json.loads(new) if new is not None else None
            except ValueError:
                continue  # reported by the chain check
            if action == "create":
                record.state, record.created = dict(values or {}), True
                record.exists, record.erased = True, False
            elif action == "delete":
                record.exists, record.state = False, {}
            else:
                record.state.update(values or {})
                record.exists = True
    if current is not None:
        yield current


def _live(db: ClinicDB, table: str) -> Iterator[dict[str, Any]]:
    cursor = db.execute(f"SELECT * FROM {table} ORDER BY id")
    names = [c[0] for c in cursor.description]
    while batch := cursor.fetchmany(1000):
        for row in batch:
            yield dict(zip(names, row, strict=True))


def _row_differs(row: dict[str, Any], record: _Replayed, defaults: dict[str, Any]) -> list[str]:
    expected = {**defaults, **record.state} if record.created else dict(record.state)
    return [
        column
        for column, value in expected.items()
        if column in row and column not in _NOT_COMPARED and not _same(row[column], value)
    ]


def _table_problems(db: ClinicDB, table: str) -> list[AuditProblem]:
    defaults = _defaults(db, table)
    problems: list[AuditProblem] = []
    replayed = _replay(db, table)
    pending = next(replayed, None)
    rows = _live(db, table)
    row = next(rows, None)
    while row is not None or pending is not None:
        if pending is not None and (row is None or pending[0] < row["id"]):
            rid, record = pending
            if record.exists:
                problems.append(
                    AuditProblem(
                        record.last_entry,
                        f"{table} record {rid} is gone, but no entry records its removal",
                    )
                )
            pending = next(replayed, None)
            continue
        assert row is not None
        if pending is None or row["id"] < pending[0]:
            problems.append(
                AuditProblem(
                    None,
                    f"{table} record {row['id']} has no audit entry: it was added outside "
                    "kinesio-tui",
                )
            )
        else:
            rid, record = pending
            if record.erased:
                what = f"{table} record {rid} still exists, but its history was erased"
                problems.append(AuditProblem(record.last_entry, what))
            elif not record.exists:
                problems.append(
                    AuditProblem(
                        record.last_entry,
                        f"{table} record {rid} exists again after an entry recorded its removal",
                    )
                )
            elif changed := _row_differs(row, record, defaults):
                problems.append(
                    AuditProblem(
                        record.last_entry,
                        f"{table} record {rid} no longer matches its last audited state "
                        f"({', '.join(changed)}): changed outside kinesio-tui",
                    )
                )
            pending = next(replayed, None)
        row = next(rows, None)
    if len(problems) > _ROW_PROBLEMS_PER_TABLE:
        more = len(problems) - _ROW_PROBLEMS_PER_TABLE
        problems = problems[:_ROW_PROBLEMS_PER_TABLE]
        problems.append(AuditProblem(None, f"and {more} more {table} records like these"))
    return problems


def record_problems(db: ClinicDB, erasures: dict[int, int] | None = None) -> list[AuditProblem]:
    """Every clinical row that differs from the state its audit entries replay to."""
    problems: list[AuditProblem] = []
    catalog = for_db(db)
    for table in CLINICAL_TABLES:
        if catalog.has_table(db, table):
            problems += _table_problems(db, table)
    return problems


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
