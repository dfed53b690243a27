"""Copy a whole clinic into an empty database, and prove the copy is the same clinic.

`kinesio migrate --to` moves a clinic from its SQLite file into an empty PostgreSQL database
(or from either into a new SQLite file, an offline copy); `kinesio backup` on PostgreSQL is
the same copy into a portable kinesio SQLite file. One copier serves them all:

1. The target must be empty (a new or 0-byte file; a PostgreSQL schema that is absent or
   has nothing in it). Anything else is refused before anything is written there.
2. The source is read in one snapshot (SQLite: one read transaction; PostgreSQL: REPEATABLE
   READ, READ ONLY), so a workstation writing meanwhile does not tear the copy; its audit
   trail must verify before anything is copied.
3. The target's schema is created at the current step; the records are copied table by
   table, parents before children, with their ids and uuids as they are; then the trail
   (its head follows each entry, as on every write) and the retired ids; then the head's
   signature and seal are taken over from the source.
4. Before the copy is kept: the same number of rows per table, the same SHA-256 over every
   row in id order on both sides, the head identical, and the target's trail verifying.
   A new file is written under a temporary name and named only then; PostgreSQL commits
   only then. Any difference leaves the target as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kinesio_tui.data.db import ClinicDB, connect, inspect_file, write_transaction
from kinesio_tui.data.engine import Target, parse_target
from kinesio_tui.domain.store import CLINICAL_TABLES
from kinesio_tui.errors import KinesioError
from kinesio_tui.locations import private_dir
from kinesio_tui.private_files import TargetExists, link_new, partial_name

#: Copied in this order: clinical records parents first (CLINICAL_TABLES is in link order,
#: test_migrate checks it), then the trail, then the ids erasures retired.
COPIED_TABLES = (*CLINICAL_TABLES, "audit_log", "retired_ids")
#: The head's columns a trail of the same entries does not recompute: its signature and the
#: seal of entries from before keying. The head trigger recomputes the rest on every append.
HEAD_TAKEN_OVER = ("key_id", "mac", "legacy_entries", "legacy_hash", "seal", "seal_key_id")
#: Rows read and written per batch.
BATCH = 2000


@dataclass(frozen=True)
class Fingerprint:
    """What a clinic's copy must reproduce: rows per table and one SHA-256 over them all."""

    counts: dict[str, int]
    digest: str


@dataclass(frozen=True)
class Copied:
    """A copy made and checked: where from, where to, what was compared."""

    source: str
    target: str
    fingerprint: Fingerprint
    audit_entries: int


class CopyRefused(KinesioError):
    """The target is not empty, or the source cannot be copied as it is."""


def _order_key(table: str) -> str:
    return "table_name" if table == "retired_ids" else "id"


def columns_of(db: ClinicDB, table: str) -> list[str]:
    """The table's columns in their order (the same on both engines' schemas)."""
    cursor = db.execute(f"SELECT * FROM {table} LIMIT 0")
    return [str(column[0]) for column in cursor.description]


def _rows(db: ClinicDB, table: str, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """The table's rows in key order, a page at a time (keyset paging: each page starts
    after the last key of the one before), so that neither engine holds a whole table in
    memory; inside the caller's snapshot the pages add up to one consistent table."""
    key = _order_key(table)
    where = columns.index(key)
    select = f"SELECT {', '.join(columns)} FROM {table}"
    page = db.execute(f"{select} ORDER BY {key} LIMIT {BATCH}").fetchall()
    while page:
        yield from (tuple(row) for row in page)
        if len(page) < BATCH:
            return
        after = page[-1][where]
        page = db.execute(
            f"{select} WHERE {key} > ? ORDER BY {key} LIMIT {BATCH}", [after]
        ).fetchall()


def _canonical(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float):
        return value
    raise CopyRefused(  # a BLOB or a driver type the schema never stores: say so, copy nothing
        "Cannot copy the clinic", f"a value of type {type(value).__name__} is not a clinic value"
    )


def _row_bytes(row: Sequence[Any]) -> bytes:
    return json.dumps(
        [_canonical(value) for value in row], ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8", "surrogatepass")


def fingerprint(db: ClinicDB) -> Fingerprint:
    """Rows per copied table, and the SHA-256 of every row (columns in table order, rows in
    id order) of those tables and of the audit head, the tables' names between them."""
    digest = hashlib.sha256()
    counts: dict[str, int] = {}
    for table in (*COPIED_TABLES, "audit_head"):
        columns = columns_of(db, table)
        digest.update(_row_bytes([table, *columns]) + b"\n")
        rows = 0
        for row in _rows(db, table, columns):
            digest.update(_row_bytes(row) + b"\n")
            rows += 1
        counts[table] = rows
    return Fingerprint(counts, digest.hexdigest())


@contextlib.contextmanager
def _snapshot(db: ClinicDB) -> Iterator[ClinicDB]:
    """Every read in the block sees the same committed state, and writers are not blocked:
    SQLite in WAL mode, one read transaction; PostgreSQL, REPEATABLE READ, READ ONLY."""
    if db.kind == "postgresql":
        db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    else:
        db.execute("BEGIN")
    try:
        yield db
    finally:
        db.execute("ROLLBACK")


def _write_rows(
    db: ClinicDB, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """Insert `rows` as they are (ids, uuids, versions): executemany in batches on SQLite,
    COPY on PostgreSQL."""
    one = f"({', '.join('?' for _ in columns)})"
    insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    written = 0
    batch: list[tuple[Any, ...]] = []

    if db.kind == "postgresql":
        return _copy_in(db, table, columns, rows)

    def flush() -> None:
        db.conn.executemany(insert + one, batch)

    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            flush()
            written += len(batch)
            batch.clear()
    if batch:
        flush()
        written += len(batch)
    return written


def _copy_in(
    db: ClinicDB, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """PostgreSQL's COPY ... FROM STDIN on the engine's own connection (inside the caller's
    transaction): rows streamed as they are read, no statement per row or batch."""
    engine: Any = db.engine  # the PostgreSQL engine; its psycopg connection, untyped here
    conn = engine.conn
    written = 0
    with (
        conn.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            written += 1
    return written


def _verified(db: ClinicDB, side: str) -> int:
    """The number of entries of a trail that verifies; else refused, saying what is wrong."""
    # Deferred as everywhere: the verifier brings the domain's write path.
    from kinesio_tui.maintenance.audit import verify_chain

    report = verify_chain(db)
    if not report.ok:
        raise CopyRefused(
            "Cannot copy the clinic",
            f"the {side}'s audit trail does not verify ({report.problems[0]}); "
            "nothing was copied. Run `kinesio check` on it.",
        )
    return report.entries


def _empty_target(db: ClinicDB, label: str) -> None:
    """A freshly created schema holds no records, no trail and no retired ids."""
    for table in COPIED_TABLES:
        if db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None:
            raise CopyRefused(
                "Cannot copy the clinic", f"{label} is not empty ({table}); nothing was copied."
            )


#: The head's columns its trigger keeps up with each append.
HEAD_FOLLOWS = ("entries", "last_id", "last_hash")


def _fill(source: ClinicDB, target: ClinicDB) -> None:
    """Copy every table and take the head's signature over, inside the target's write
    transaction (the caller's).

    On PostgreSQL the head's trigger is off while the trail goes in, and the head is then
    set to the source's, which the comparison checks: in one transaction each of the
    trigger's updates of the one head row walks the versions the ones before left (11,700
    entries took 7.2 s, against 0.5 s for all the records). The schema is new and this
    transaction its only user, so the table lock ALTER TABLE takes stops no one.
    """
    bulk_trail = target.kind == "postgresql"
    for table in COPIED_TABLES:
        columns = columns_of(source, table)
        if table == "audit_log" and bulk_trail:
            target.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_head")
        _write_rows(target, table, columns, _rows(source, table, columns))
        if table == "audit_log" and bulk_trail:
            target.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_head")
    taken = (*HEAD_FOLLOWS, *HEAD_TAKEN_OVER) if bulk_trail else HEAD_TAKEN_OVER
    head = source.execute(f"SELECT {', '.join(taken)} FROM audit_head WHERE id = 1").fetchone()
    assignments = ", ".join(f"{column} = ?" for column in taken)
    target.execute(f"UPDATE audit_head SET {assignments} WHERE id = 1", list(head))


def _compare(expected: Fingerprint, target: ClinicDB, label: str) -> None:
    found = fingerprint(target)
    differing = [
        f"{table} {expected.counts[table]} -> {found.counts.get(table)}"
        for table in expected.counts
        if found.counts.get(table) != expected.counts[table]
    ]
    if differing:
        raise CopyRefused(
            "Copy not kept",
            f"{label} does not hold the same records ({'; '.join(differing)}); "
            "it was left as it was.",
        )
    if found.digest != expected.digest:
        raise CopyRefused(
            "Copy not kept",
            f"{label} does not hold the same values (SHA-256 of the rows differs); "
            "it was left as it was.",
        )


def _refuse_existing_file(path: Path) -> None:
    kind = inspect_file(path)  # a folder, a device, another program's file: refused here
    if kind == "kinesio":
        raise CopyRefused(
            "Cannot copy the clinic",
            f"{path} already holds a kinesio-tui database; the copy goes only into a new "
            "file. Nothing was changed.",
        )
    if kind == "blank" and path.exists():
        raise CopyRefused(
            "Cannot copy the clinic",
            f"{path} already exists; the copy goes only into a new file. Nothing was changed.",
        )


def copy_to_file(source: ClinicDB, dest: Path, *, actor: str, replace: bool = False) -> Copied:
    """Copy the clinic into a new SQLite file at `dest` (refused if anything is there, but
    for `replace`: a regular file there is replaced whole once the copy is checked)."""
    dest = Path(dest).expanduser()
    with _snapshot(source):
        entries = _verified(source, "source")
        expected = _write_file(source, dest, actor=actor, replace=replace, verify=True)
    return Copied(_label(source), str(dest), expected, entries)


def _write_file(
    source: ClinicDB, dest: Path, *, actor: str, replace: bool, verify: bool
) -> Fingerprint:
    """Write `source`'s rows (as the caller's transaction or snapshot sees them) into a new
    private SQLite file at `dest`: rows compared equal, and with `verify` its trail
    verifying, before the file is named `dest`. Returns the rows' fingerprint."""
    if not replace:
        _refuse_existing_file(dest)
    if not dest.parent.exists():
        private_dir(dest.parent)
    tmp = partial_name(dest)
    try:
        expected = fingerprint(source)
        target = connect(tmp, actor=actor)
        try:
            with write_transaction(target):
                _empty_target(target, str(dest))
                _fill(source, target)
                _compare(expected, target, str(dest))
                if verify:
                    _verified(target, "copy")
        finally:
            target.close()
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        try:
            if replace:
                os.replace(tmp, dest)
            else:
                link_new(tmp, dest)
        except TargetExists:
            raise CopyRefused(
                "Cannot copy the clinic",
                f"{dest} appeared while copying; it was left as it is.",
            ) from None
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    return expected


def _label(db: ClinicDB) -> str:
    return db.target.label()


def _same_database(source: ClinicDB, target: Target) -> bool:
    return source.target.url == target.url and source.target.schema == target.schema


def check_postgres_target(target: Target, *, actor: str, app_role: str | None = None) -> bool:
    """Refuse, before anything is read, built or written, a target schema that holds
    anything (records, another program's tables, a newer kinesio-tui's steps) and an
    `app_role` that `kinesio init --app-role` would refuse. Opens nothing for writing and
    creates nothing. True when the schema is absent or blank (a copy would make it)."""
    label = target.label()
    try:
        probe = connect(target, actor=actor, migrate=False, create=False)
    except KinesioError as error:
        if error.title != "No database":  # another program's schema, a newer one, ...
            raise
        probe = None  # absent or empty: nothing there to lose
    if probe is not None:
        try:
            _empty_target(probe, label)
        finally:
            probe.close()
    if app_role is not None:
        from kinesio_tui.data.engines.pg_schema import check_app_role

        check_app_role(target, app_role)
    return probe is None


def _open_empty_postgres(
    target: Target, *, actor: str, app_role: str | None
) -> tuple[ClinicDB, bool]:
    """The target schema, refused unless it holds nothing (and `app_role` unless fit), and
    whether this made it: first probed without creating or upgrading anything (so a schema
    with records is left exactly as it was), then, when it is absent, made by its owner as
    `kinesio init` makes it."""
    made = check_postgres_target(target, actor=actor, app_role=app_role)
    clinic = connect(target, actor=actor)  # creates the schema (the owner), or upgrades it
    try:
        _empty_target(clinic, target.label())
    except BaseException:
        clinic.close()
        raise
    return clinic, made


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def grant_rooms(clinic: ClinicDB, app_role: str) -> None:
    """`--app-role`: the rooms' role granted what `kinesio init --app-role` grants, in the
    clinic's open write transaction (as its owner), the same refusals checked first."""
    from kinesio_tui.data.engines.pg_schema import grant_app_role

    engine: Any = clinic.engine  # the PostgreSQL engine; its psycopg connection, untyped here
    grant_app_role(engine.conn, clinic.target.schema, app_role)


def copy_to_postgres(
    source: ClinicDB, target: Target, *, actor: str, app_role: str | None = None
) -> Copied:
    """Copy the clinic into an empty PostgreSQL schema (the URL names its owner): created
    at the current step, filled and compared in one transaction, committed only when equal;
    a schema this made is dropped again when the copy is not kept. `app_role`, when given,
    is checked before the schema is made and granted in the copy's transaction."""
    if _same_database(source, target):
        raise CopyRefused("Cannot copy the clinic", "The copy cannot replace the clinic itself.")
    with _snapshot(source):
        entries = _verified(source, "source")
        expected = fingerprint(source)
        clinic, made = _open_empty_postgres(target, actor=actor, app_role=app_role)
        try:
            with write_transaction(clinic):
                if app_role is not None:
                    grant_rooms(clinic, app_role)
                _fill(source, clinic)
                _compare(expected, clinic, target.label())
                _verified(clinic, "copy")
        except BaseException:
            if made:
                with contextlib.suppress(KinesioError):
                    clinic.execute(f"DROP SCHEMA {_quoted(target.schema)} CASCADE")
            raise
        finally:
            clinic.close()
    return Copied(_label(source), target.label(), expected, entries)


#: The guards that refuse removing rows even to the owner (pg/guards.sql, baseline.sql):
#: a restore in place turns them off inside its own transaction, and on again before the
#: new rows go in (ALTER TABLE: the tables' owner only; no one else sees them off).
_REMOVAL_GUARDS = (("audit_log", "audit_log_no_change"), ("retired_ids", "retired_ids_no_delete"))


def _refuse_unless_owner(clinic: ClinicDB) -> None:
    row = clinic.execute(
        "SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class"
        " WHERE oid = 'audit_log'::regclass"
    ).fetchone()
    if not row or not row[0]:
        raise CopyRefused(
            "Not the database owner",
            f"a restore replaces the audit trail of {clinic.target.label()}, which only the "
            "schema's owner may do: run it with the owner's URL (postgresql://OWNER@...). "
            "Nothing was changed.",
        )


def replace_clinic(source: ClinicDB, clinic: ClinicDB, *, keep: Path | None = None) -> Copied:
    """`kinesio restore` on PostgreSQL: every row of `clinic` (opened by its schema's owner)
    replaced by `source`'s, in one transaction holding the write lock every room takes.

    The source's trail must verify first (else nothing is touched). Then, under the lock,
    the clinic's rows, trail and retired ids are deleted (the trail's and the retired ids'
    removal guards off for that statement, on again before anything is copied), `source`
    goes in by the copier (`_fill`: ids, uuids, versions and the head as they are), and the
    commit comes only once rows per table, the SHA-256 of every row and the head compare
    equal and the restored trail verifies. Any refusal or failure rolls back: every row as
    it was. Other rooms' writes wait for the lock meanwhile; their reads see the old clinic
    until the commit, and the audit trail's notification tells them of the new one.

    `keep`: first, under the same lock, the rows being replaced are written to this new
    file (compared equal; their trail need not verify: a clinic is often restored because
    it does not), which is removed again if the restore is not committed."""
    if clinic.kind != "postgresql":
        raise CopyRefused("Cannot restore", "a file is restored by replacing the file.")
    label = clinic.target.label()
    _refuse_unless_owner(clinic)
    with _snapshot(source):
        entries = _verified(source, "backup")
        expected = fingerprint(source)
        kept = False
        try:
            with write_transaction(clinic):
                if keep is not None:
                    _write_file(clinic, keep, actor=clinic.actor, replace=False, verify=False)
                    kept = True
                for table, guard in _REMOVAL_GUARDS:
                    clinic.execute(f"ALTER TABLE {table} DISABLE TRIGGER {guard}")
                for table in reversed(COPIED_TABLES):  # children before their parents
                    clinic.execute(f"DELETE FROM {table}")
                for table, guard in _REMOVAL_GUARDS:
                    clinic.execute(f"ALTER TABLE {table} ENABLE TRIGGER {guard}")
                _fill(source, clinic)
                _compare(expected, clinic, label)
                _verified(clinic, "restored clinic")
        except BaseException:
            if kept and keep is not None:
                keep.unlink(missing_ok=True)
            raise
    return Copied(_label(source), label, expected, entries)


def copy_clinic(
    source: ClinicDB, to: Path | str | Target, *, actor: str, app_role: str | None = None
) -> Copied:
    """`kinesio migrate --to`: into a new SQLite file, or an empty PostgreSQL schema (and
    `app_role` granted there)."""
    target = parse_target(to)
    if target.path is not None:
        if app_role is not None:
            raise CopyRefused(
                "Not a PostgreSQL database",
                "--app-role names a PostgreSQL role; who may write a database file is up to "
                "the operating system's permissions. Nothing was changed.",
            )
        return copy_to_file(source, target.path, actor=actor)
    return copy_to_postgres(source, target, actor=actor, app_role=app_role)
