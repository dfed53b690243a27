"""What the clinic's database is, and what an engine does with it, for either engine.

`Target` is what `--db`, `KINESIO_DB` or the `[database] url` setting named: an SQLite file
or a PostgreSQL database (and the schema in it). `Engine` is the small interface `ClinicDB`
delegates to; `data/engines/sqlite.py` and `data/engines/postgres.py` implement it, and only
the one a target names is imported (psycopg never loads for an SQLite file). This module
imports no driver.

The engines, one module each, are in `data/engines/`: `sqlite` is the embedded default;
`postgres` (psycopg) is imported only for a `postgresql://` target, so the SQLite start-up
never loads a PostgreSQL driver.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol
from urllib.parse import unquote, urlsplit

from kinesio_tui.locations import (
    DB_ENV,
    check_database_url,
    check_schema_name,
    database_setting,
    default_db_path,
    is_postgres_url,
)

EngineKind = Literal["sqlite", "postgresql"]
Parameters = Sequence[Any] | Mapping[str, Any]
#: The schema kinesio-tui's tables live in on PostgreSQL (a branch names its own).
DEFAULT_SCHEMA = "kinesio"

#: After this long waiting for the lock, `ClinicDB.on_wait` is told (the CLI says so).
WAIT_NOTICE_S = 1.0


class Target(NamedTuple):
    """The clinic's database: an SQLite file (`path`) or a PostgreSQL database (`url`).

    A PostgreSQL URL never carries a password (`parse_target` refuses one: libpq reads it
    from PGPASSFILE or ~/.pgpass), so a Target can be shown, logged and kept safely.
    (A NamedTuple, not a dataclass: dataclasses would load `inspect` on the CLI's path.)
    """

    kind: EngineKind
    path: Path | None = None
    url: str | None = None
    schema: str = DEFAULT_SCHEMA

    def label(self) -> str:
        """How messages name the database: the file's path, or host:port/dbname (schema)."""
        if self.path is not None:
            return str(self.path)
        parts = urlsplit(self.url or "")
        host = unquote(parts.hostname or "") or "localhost"
        if host.startswith("/"):  # a socket folder: the local server
            host = "localhost"
        port = f":{parts.port}" if _port(parts) else ""
        dbname = unquote(parts.path.lstrip("/")) or "(default database)"
        return f"{host}{port}/{dbname} (schema {self.schema})"


def _port(parts: Any) -> int | None:
    try:
        return parts.port  # type: ignore[no-any-return]
    except ValueError:  # not a number: libpq's own check names it at connect time
        return None


def parse_target(named: Path | str | Target, *, schema: str | None = None) -> Target:
    """The Target a `--db` value, `KINESIO_DB` or a setting names (a path, or a URL).

    A URL with a password in it is refused: a password on a command line or in a settings
    file is readable by others; libpq takes it from PGPASSFILE or ~/.pgpass instead.
    """
    if isinstance(named, Target):
        return named
    if isinstance(named, Path) or not is_postgres_url(named):
        return Target("sqlite", path=Path(named).expanduser())
    return Target(
        "postgresql",
        url=check_database_url(named),
        schema=check_schema_name(schema) if schema else DEFAULT_SCHEMA,
    )


def resolve_target(explicit: Path | str | Target | None) -> Target:
    """The clinic's database: `--db`, else $KINESIO_DB, else the `[database] url` setting,
    else the file in the user's data directory. The `[database] schema` setting names the
    schema of whichever PostgreSQL URL wins; a file never reads the settings."""
    if isinstance(explicit, Target):
        return explicit
    named = explicit or os.environ.get(DB_ENV) or None
    if named is not None and not is_postgres_url(str(named)):
        return parse_target(named)
    url, schema = database_setting()
    named = named or url
    if named is None:
        return Target("sqlite", path=default_db_path())
    return parse_target(named, schema=schema)


class Rows(Protocol):
    """The cursor `ClinicDB.execute` returns; sqlite3's and psycopg's both fit."""

    @property
    def description(self) -> Any: ...
    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchmany(self, size: int = ...) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Engine(Protocol):
    """One open connection to the clinic's database, in its engine's terms.

    `execute` takes SQLite's paramstyle (`?`, `:name`) on both engines and raises the
    neutral errors of `kinesio_tui.errors` (RecordRefused, DatabaseGone, ...) for what the
    domain handles, never a driver's own exception types.
    """

    target: Target

    @property
    def in_transaction(self) -> bool: ...
    def execute(self, sql: str, parameters: Parameters | None = None) -> Rows: ...
    def begin_write(self, wait_s: float, on_wait: Callable[[], None] | None) -> None:
        """Begin a transaction holding the write lock; DatabaseBusy after `wait_s`."""

    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...
    def table_names(self) -> list[str]:
        """The clinic's tables, by name."""

    def applied_steps(self) -> list[str]:
        """The schema steps recorded as applied, in the order they were applied."""
