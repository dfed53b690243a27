"""The database for one command: which file, opened how, and its failures as one line.

Only `init` (and `demo`, the workstation and `restore`) make a database where there is none;
every other command refuses a missing or empty path before anything is created there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from kinesio_tui.cli.options import root_options
from kinesio_tui.cli.refusal import fail
from kinesio_tui.data.db import ClinicDB, connect, explain_sqlite_error
from kinesio_tui.errors import DatabaseDamaged, KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.locations import resolve_db_path
from kinesio_tui.maintenance.backup import pre_migration_backup


def say_waiting() -> None:
    """One line while a command waits for another program's write lock."""
    typer.echo(_("Waiting for the database: another program is writing to it..."), err=True)


def database_path(ctx: typer.Context, override: Path | None = None) -> Path:
    """The command's `--db`, else the one before the command, $KINESIO_DB or the default."""
    return resolve_db_path(override or root_options(ctx).db_path)


@contextmanager
def clinic_db(
    ctx: typer.Context, override: Path | None = None, *, create: bool = False
) -> Iterator[ClinicDB]:
    """Open the database for one command; KinesioError becomes a message and exit 2.

    SQLite's own failures (a damaged page, a full disk, a read-only folder) become one line.
    """
    path = database_path(ctx, override)
    try:
        db = connect(
            path,
            actor=root_options(ctx).actor,
            create=create,
            on_wait=say_waiting,
            backup_first=pre_migration_backup,
        )
    except KinesioError as error:
        raise fail(error) from None
    try:
        yield db
    except KinesioError as error:
        raise fail(error) from None
    except sqlite3.DatabaseError as error:
        raise fail(explain_sqlite_error(path, error)) from None
    finally:
        db.close()


def existing_db(ctx: typer.Context, override: Path | None) -> ClinicDB:
    """An existing database opened without changing it (no migration, no creation)."""
    try:
        return connect(database_path(ctx, override), migrate=False, create=False)
    except KinesioError as error:
        raise fail(error) from None


def existing_or_damaged_db(ctx: typer.Context, override: Path | None) -> ClinicDB | DatabaseDamaged:
    """As `existing_db`, but a file too damaged to open is returned as its error (`check`)."""
    try:
        return connect(database_path(ctx, override), migrate=False, create=False)
    except DatabaseDamaged as error:
        return error
    except KinesioError as error:
        raise fail(error) from None
