"""The one write path: insert and versioned update of clinical rows, each with an audit entry.

Every change to clinical data goes through `insert_row`, `update_row` or `delete_row`,
inside the caller's `write_transaction`; each appends an audit entry in the same
transaction, so the record and its history commit or roll back together.

Entries are chained with HMAC-SHA256 under the audit key kept outside the database
(kinesio_tui/audit_key.py); entries from before the key existed keep their plain SHA-256
links and are sealed by the key when the file is upgraded (migration 0005). Appending
costs one HMAC and one small update of the chain's head; nothing is scanned.

Ids are never given twice: a new row's id is above every id the table ever had, the
removed ones included (`retired_ids` remembers the highest removed id per table). Every new
record also gets its stable `uuid` here (`new_record_uuid`): the id it keeps outside this
file (an export's resource id, a copy in another database).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC
from typing import Any

from kinesio_tui import clock
from kinesio_tui.audit_key import GENESIS_HASH, AuditKey, load_key
from kinesio_tui.data.db import ClinicDB
from kinesio_tui.errors import (
    KinesioError,
    NotFound,
    RecordRefused,
    StaleRecord,
    ValidationError,
)
from kinesio_tui.i18n import _

#: The tables of clinical records: every row is written through this module, audited.
CLINICAL_TABLES = (
    "patients",
    "episodes",
    "visits",
    "checklist_ticks",
    "pir_cycles",
    "measurements",
    "red_flag_screens",
    "prom_answers",
    "episode_holds",
    "hold_overrides",
    "amendments",
    "plan_changes",
    "discharges",
)


def now_iso() -> str:
    """The current moment for a record or an audit entry, in UTC."""
    return clock.now().astimezone(UTC).isoformat(timespec="microseconds")


def _actor(db: ClinicDB) -> str:
    return str(getattr(db, "actor", "unknown"))


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def sha256_hex(text: str) -> str:
    """SHA-256 of `text` in hex; hashlib (OpenSSL) loads at the first write, see audit_key."""
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def content_hash(old: dict[str, Any] | None, new: dict[str, Any] | None) -> str:
    return sha256_hex(canonical({"old": old, "new": new}))


_SIGNED_FIELDS = ("at", "actor", "action", "table_name", "record_id", "patient_id", "content_sha")


def entry_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    """An unkeyed entry's hash (made before the key existed): SHA-256 over the previous
    entry's hash and this entry's metadata and content hash."""
    fields = {k: entry[k] for k in _SIGNED_FIELDS}
    return sha256_hex(prev_hash + canonical(fields))


def signed_entry_hash(key: AuditKey, prev_hash: str, entry: dict[str, Any]) -> str:
    """A keyed entry's hash: HMAC-SHA256 under the audit key over the same, and the key's id."""
    fields = {k: entry[k] for k in (*_SIGNED_FIELDS, "key_id")}
    return key.sign("entry|" + prev_hash + canonical(fields))


def head_signature(key: AuditKey, last_id: int | None, last_hash: str) -> str:
    """The head's signature: which entry is the newest, so the end cannot be cut off."""
    return key.sign(f"head|{last_id}|{last_hash}")


def append_audit(
    db: ClinicDB,
    action: str,
    table: str,
    record_id: int,
    patient_id: int | None,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
) -> None:
    """Append one entry to the keyed audit trail (call inside a write transaction)."""
    key = load_key(create=True)
    assert key is not None
    last = db.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    prev = last[0] if last else GENESIS_HASH
    entry: dict[str, Any] = {
        "at": now_iso(),
        "actor": _actor(db),
        "action": action,
        "table_name": table,
        "record_id": record_id,
        "patient_id": patient_id,
        "old": canonical(old) if old is not None else None,
        "new": canonical(new) if new is not None else None,
        "content_sha": content_hash(old, new),
        "prev_hash": prev,
        "key_id": key.id,
    }
    entry["hash"] = signed_entry_hash(key, prev, entry)
    columns = ", ".join(entry)
    marks = ", ".join(f":{name}" for name in entry)
    # The entry's number is given here, one above the last (as SQLite's rowid would be):
    # PostgreSQL has no rowid, and a sequence would not travel with a copy or a replica.
    # Safe because every audited write holds the database's write lock.
    entry_id = db.execute(
        f"INSERT INTO audit_log (id, {columns}) "
        f"VALUES ((SELECT coalesce(max(id), 0) + 1 FROM audit_log), {marks}) RETURNING id",
        entry,
    ).fetchall()[0][0]
    db.execute(
        "UPDATE audit_head SET mac = ?, key_id = ? WHERE id = 1",
        [head_signature(key, entry_id, entry["hash"]), key.id],
    )


def same_side(column: str, side: str | None) -> tuple[str, list[str]]:
    """The condition "`column` holds this side, or none when `side` is None", and its
    argument: `= ?` never matches NULL, and `IS ?` is SQLite's alone (PostgreSQL has
    `IS NOT DISTINCT FROM`, which SQLite learnt only in 3.39 and which PostgreSQL cannot
    answer from an index)."""
    if side is None:
        return f"{column} IS NULL", []
    return f"{column} = ?", [side]


def retire_ids(db: ClinicDB, table: str, ids: list[int]) -> None:
    """Remember the highest id removed from `table`, so no new row is ever given it."""
    if ids:
        db.execute(
            "INSERT INTO retired_ids (table_name, last_id) VALUES (?, ?) "
            "ON CONFLICT (table_name) DO UPDATE SET last_id = excluded.last_id "
            "WHERE excluded.last_id > retired_ids.last_id",
            [table, max(ids)],
        )


@contextlib.contextmanager
def _refused_by_schema(table: str) -> Iterator[None]:
    """A row the schema refuses (a link to a missing record, a value outside a CHECK) is a
    KinesioError, not a crash: the caller's transaction then rolls back whole. Found by
    fuzzing (screen_red_flags with a visit id that does not exist, or beyond 64 bits; a lone
    surrogate in a note). Either engine says which kind of refusal (RecordRefused); its own
    message is not shown."""
    try:
        yield
    except RecordRefused as error:
        if error.kind == "characters":  # NUL, which PostgreSQL cannot store in text
            raise ValidationError(
                table.rstrip("s").replace("_", " "), _("contains characters that cannot be stored")
            ) from None
        if error.kind == "number":  # beyond PostgreSQL's 64-bit integers
            raise ValidationError(
                table.rstrip("s").replace("_", " "), _("contains a number too large to store")
            ) from None
        kind = (
            _("a linked record does not exist")
            if error.kind == "link"
            else _("it duplicates an existing record")
            if error.kind == "duplicate"
            else _("a value is outside what the record book allows")
        )
        raise KinesioError(
            _("Cannot save"),
            _(
                "The {record} was not saved: {kind}.",
                record=table.rstrip("s").replace("_", " "),
                kind=kind,
            ),
        ) from None
    except UnicodeEncodeError:  # a lone surrogate (broken paste) cannot be stored as UTF-8
        raise ValidationError(
            table.rstrip("s").replace("_", " "), _("contains characters that cannot be stored")
        ) from None
    except OverflowError:  # an int beyond SQLite's 64 bits (an id no record can have)
        raise ValidationError(
            table.rstrip("s").replace("_", " "), _("contains a number too large to store")
        ) from None


def new_record_uuid() -> str:
    """A new record's stable uuid: random (version 4, from the OS's random source), so no
    two records, in this file or another clinic's, get the same one, and an erased record's
    is never given again (its uuid is not kept anywhere: a repeat would take 2**122 draws)."""
    return str(uuid.uuid4())


def insert_row(
    db: ClinicDB,
    table: str,
    row: dict[str, Any],
    *,
    patient_id: int | None,
    record_uuid: bool = True,
) -> int:
    """Insert a clinical row, with its new uuid, and its audit entry; returns the new id
    (never one used before). `record_uuid=False` only for a schema step that runs before
    the records had uuids (the step that gives them one comes later)."""
    if record_uuid:
        row = {**row, "uuid": new_record_uuid()}
    # Above every id the table has or ever had (the highest removed one is in retired_ids);
    # written so both engines read it alike (no two-argument max, no rowid).
    next_id = (
        f"(SELECT coalesce(max(v), 0) + 1 FROM (SELECT max(id) AS v FROM {table} "
        "UNION ALL SELECT last_id FROM retired_ids WHERE table_name = ?) AS ids)"
    )
    with _refused_by_schema(table):
        record_id = int(
            db.execute(
                f"INSERT INTO {table} (id, {', '.join(row)}) "
                f"VALUES ({next_id}, {', '.join('?' for _ in row)}) RETURNING id",
                [table, *row.values()],
            ).fetchall()[0][0]
        )
    pid = record_id if table == "patients" else patient_id
    append_audit(db, "create", table, record_id, pid, None, row)
    return record_id


#: SQLite's INTEGER range; a larger Python int cannot even be bound as a parameter.
_MIN_ID, _MAX_ID = -(2**63), 2**63 - 1


def fetch_row(db: ClinicDB, table: str, record_id: int) -> dict[str, Any]:
    """The row with this id as a dict; NotFound for any id that cannot exist (found by fuzzing:
    an id beyond SQLite's 64-bit range raised OverflowError, a bool matched row 1)."""
    if (
        not isinstance(record_id, int)
        or isinstance(record_id, bool)
        or not _MIN_ID <= record_id <= _MAX_ID
    ):
        raise NotFound(table.rstrip("s").replace("_", " "), record_id)
    cursor = db.execute(f"SELECT * FROM {table} WHERE id = ?", [record_id])
    row = cursor.fetchone()
    if row is None:
        raise NotFound(table.rstrip("s").replace("_", " "), record_id)
    return dict(zip([c[0] for c in cursor.description], row, strict=True))


def update_row(
    db: ClinicDB,
    table: str,
    record_id: int,
    changes: dict[str, Any],
    *,
    patient_id: int | None,
    expected_version: int | None = None,
    action: str = "change",
) -> dict[str, Any]:
    """Change a versioned row; refuses (StaleRecord) if it changed since `expected_version`."""
    old = fetch_row(db, table, record_id)
    if expected_version is not None and old["version"] != expected_version:
        raise StaleRecord(table.rstrip("s").replace("_", " "), record_id)
    changed = {k: v for k, v in changes.items() if old.get(k) != v}
    if not changed:
        return old
    sets = ", ".join(f"{k} = ?" for k in changed)
    with _refused_by_schema(table):
        cursor = db.execute(
            f"UPDATE {table} SET {sets}, version = version + 1 WHERE id = ? AND version = ?",
            [*changed.values(), record_id, old["version"]],
        )
    if cursor.rowcount != 1:  # changed between our read and write (only outside a transaction)
        raise StaleRecord(table.rstrip("s").replace("_", " "), record_id)
    new = {**old, **changed, "version": old["version"] + 1}
    pid = record_id if table == "patients" else patient_id
    append_audit(
        db,
        action,
        table,
        record_id,
        pid,
        {k: old[k] for k in changed},
        {k: new[k] for k in changed},
    )
    return new


def check_version(what: str, key: object, current: int, expected: int | None) -> None:
    """Refuse (StaleRecord) a write based on `expected` when the record is now at `current`.

    None means the caller showed nothing to base it on (a command line that reads and
    writes in one transaction); 0 stands for "no such record" (nothing was shown).
    """
    if expected is not None and current != expected:
        raise StaleRecord(what, key)


def fresh_version(db: ClinicDB) -> int:
    """A version for a row that takes the place of one removed earlier (a tick given again,
    a test result recorded again): higher than any version a removed row ever had, so a
    screen that still shows the old row cannot pass it off as its own.

    The audit trail is append-only and gains an entry with every version of every row, so
    its next entry number is such a number (found in one look-up of the last rowid).
    """
    return int(db.execute("SELECT coalesce(max(id), 0) + 1 FROM audit_log").fetchone()[0])


def delete_row(
    db: ClinicDB,
    table: str,
    record_id: int,
    *,
    patient_id: int | None,
    expected_version: int | None = None,
) -> None:
    """Remove a row (a tick taken back, an undone result) and audit what it held; refuses
    (StaleRecord) if it changed since `expected_version`."""
    old = fetch_row(db, table, record_id)
    if expected_version is not None and old["version"] != expected_version:
        raise StaleRecord(table.rstrip("s").replace("_", " "), record_id)
    db.execute(f"DELETE FROM {table} WHERE id = ?", [record_id])
    retire_ids(db, table, [record_id])
    append_audit(db, "delete", table, record_id, patient_id, old, None)
