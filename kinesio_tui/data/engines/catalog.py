"""What maintenance (audit verify, check, erase) needs to know about a database's structure,
asked the same way on both engines: `for_db(db)` gives `sqlite_catalog` or `pg_catalog`.

Each of the two modules implements `Catalog` with module-level functions, through
`db.execute` (SQLite's paramstyle on both engines), so neither the engine nor maintenance
holds the other engine's catalog SQL. Imported only by maintenance, never on the start path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from kinesio_tui.data.db import ClinicDB


class Link(NamedTuple):
    """A foreign key: `child.column` points at `parent.parent_column`."""

    child: str
    column: str
    parent: str
    parent_column: str


class Catalog(Protocol):
    """One engine's answers (module-level functions of sqlite_catalog / pg_catalog)."""

    #: The triggers that keep the audit trail append-only; each must be present (and on).
    GUARD_TRIGGERS: tuple[str, ...]

    def has_table(self, db: ClinicDB, name: str) -> bool: ...

    def columns(self, db: ClinicDB, table: str) -> list[str]: ...

    def column_defaults(self, db: ClinicDB, table: str) -> list[tuple[str, str | None]]:
        """(column, default as SQL text without casts: '' quoted, 1, NULL, or None)."""
        ...

    def guard_problems(self, db: ClinicDB) -> list[str]:
        """What leaves the trail open to edits: a guard removed or disabled, a role that may
        update, delete or truncate it. Empty when it is protected."""
        ...

    def record_tables(self, db: ClinicDB) -> list[str]:
        """Every table of records (not the trail, its head, retired ids, schema bookkeeping
        or search-index internals)."""
        ...

    def links(self, db: ClinicDB, tables: list[str]) -> list[Link]: ...

    def integrity_problems(self, db: ClinicDB) -> list[str] | None:
        """Damage the engine finds in the stored pages and indexes; None when it cannot
        look (PostgreSQL without amcheck, or without the right to run it)."""
        ...

    def foreign_key_problems(self, db: ClinicDB) -> list[str]: ...

    def in_list(self, column: str, values: list[int]) -> tuple[str, list[Any]]:
        """`column` is one of `values`: an SQL condition and its parameters."""
        ...

    def defer_links(self, db: ClinicDB) -> None:
        """Check foreign keys at commit, not per statement (inside a write transaction)."""
        ...

    def blank_trail(self, db: ClinicDB, patient_id: int) -> None:
        """Blank old/new of an erased patient's entries (their hashes stay)."""
        ...

    def after_erasure(self, db: ClinicDB) -> None:
        """Inside the erasure's transaction: drop what indexes keep of deleted rows."""
        ...


def for_db(db: ClinicDB) -> Catalog:
    """The catalog of `db`'s engine."""
    if db.kind == "postgresql":
        from kinesio_tui.data.engines import pg_catalog

        return pg_catalog
    from kinesio_tui.data.engines import sqlite_catalog

    return sqlite_catalog
