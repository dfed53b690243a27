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
from kinesio_tui.data.engine import Target, resolve_target
from kinesio_tui.errors import DatabaseDamaged, KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.maintenance.backup import pre_migration_backup


def say_waiting() -> None:
    """One line while a command waits for another program's write lock."""
    typer.echo(_("Waiting for the database: another program is writing to it..."), err=True)


def database_target(ctx: typer.Context, override: str | None = None) -> Target:
    """The command's `--db`, else the one before the command, $KINESIO_DB, the `[database]
    url` setting or the default file (a URL with a password in it is refused)."""
    try:
        return resolve_target(override or root_options(ctx).db_path)
    except KinesioError as error:
        raise fail(error) from None


def database_path(ctx: typer.Context, override: str | None = None) -> Path:
    """The database file, for the commands that work on a file only (a PostgreSQL URL is
    refused in one line)."""
    target = database_target(ctx, override)
    if target.path is None:
        raise fail(
            KinesioError(
                _("Not a database file"),
                _(
                    "{label} is a PostgreSQL database; this command works on a file.",
                    label=target.label(),
                ),
            )
        )
    return target.path


@contextmanager
def clinic_db(
    ctx: typer.Context, override: str | None = None, *, create: bool = False
) -> Iterator[ClinicDB]:
    """Open the database for one command; KinesioError becomes a message and exit 2.

    SQLite's own failures (a damaged page, a full disk, a read-only folder) become one line.
    """
    target = database_target(ctx, override)
    try:
        db = connect(
            target,
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
        raise fail(explain_sqlite_error(db.file, error)) from None
    finally:
        db.close()


def existing_db(ctx: typer.Context, override: str | None) -> ClinicDB:
    """An existing database opened without changing it (no migration, no creation)."""
    try:
        return connect(database_target(ctx, override), migrate=False, create=False)
    except KinesioError as error:
        raise fail(error) from None


def existing_or_damaged_db(ctx: typer.Context, override: str | None) -> ClinicDB | DatabaseDamaged:
    """As `existing_db`, but a file too damaged to open is returned as its error (`check`)."""
    try:
        return connect(database_target(ctx, override), migrate=False, create=False)
    except DatabaseDamaged as error:
        return error
    except KinesioError as error:
        raise fail(error) from None
