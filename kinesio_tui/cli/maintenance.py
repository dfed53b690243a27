"""`kinesio backup | restore | check | erase`: keeping the records safe.

Exit codes: 0 fine, 1 a check found problems, 2 bad input or an error the user can act on.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated

import typer

from kinesio_tui.cli.audit import trail_protection
from kinesio_tui.cli.database import (
    clinic_db,
    database_path,
    database_target,
    existing_or_damaged_db,
    say_waiting,
)
from kinesio_tui.cli.options import DbOption, root_options
from kinesio_tui.cli.refusal import fail
from kinesio_tui.data.engine import Target
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _

maintenance_app = typer.Typer()


def _say_damaged(why: object) -> typer.Exit:
    """`check`'s verdict on a file too damaged for the checks to read through."""
    typer.echo(_("Integrity: DAMAGED"))
    typer.secho(
        _(
            "Verdict: the file is damaged ({why}). Keep this file, and restore a backup "
            "that passes `kinesio restore` checks.",
            why=why,
        ),
        fg=typer.colors.RED,
        err=True,
    )
    return typer.Exit(code=1)


@maintenance_app.command(help=_("Copy the database safely, even while the workstation is open."))
def backup(
    ctx: typer.Context,
    dest: Annotated[
        Path | None,
        typer.Argument(
            help=_("A new file, or a folder to put a new file in (default: the backups folder).")
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help=_("Replace DEST if it is an existing file."))
    ] = False,
    db: DbOption = None,
) -> None:
    from kinesio_tui.data.db import inspect_file
    from kinesio_tui.maintenance.backup import backup_database, backups_dir

    if database_target(ctx, db).kind == "postgresql":
        # A portable kinesio SQLite file, through the copier (rows, head, both trails checked).
        with clinic_db(ctx, db) as clinic:
            try:
                made = backup_database(
                    clinic, dest.expanduser() if dest else backups_dir(), replace=force
                )
            except OSError as error:
                raise fail(
                    KinesioError(
                        _("Cannot back up"),
                        _("{why}: {path}", why=error.strerror, path=error.filename),
                    )
                ) from None
        typer.echo(_("Backup written: {path}", path=made))
        return
    source = database_path(ctx, db)
    try:
        # Only a kinesio-tui file is copied: anything else is refused before DEST is made.
        if inspect_file(source) != "kinesio":
            raise KinesioError(
                _("Nothing to back up"), _("There is no database at {path}.", path=source)
            )
        made = backup_database(source, dest.expanduser() if dest else backups_dir(), replace=force)
    except KinesioError as error:
        raise fail(error) from None
    except OSError as error:
        raise fail(
            KinesioError(
                _("Cannot back up"), _("{why}: {path}", why=error.strerror, path=error.filename)
            )
        ) from None
    typer.echo(_("Backup written: {path}", path=made))


@maintenance_app.command(
    help=_(
        "Replace the database with a backup, after checking it; a file's current data is "
        "kept. On PostgreSQL, as the database owner: the clinic's rows replaced in one "
        "transaction."
    )
)
def restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help=_("The backup to restore."))],
    yes: Annotated[bool, typer.Option("--yes", help=_("Do not ask for confirmation."))] = False,
    db: DbOption = None,
) -> None:
    from kinesio_tui.data.db import inspect_file
    from kinesio_tui.maintenance.backup import restore_database

    if database_target(ctx, db).kind == "postgresql":
        _restore_on_server(ctx, database_target(ctx, db), file, yes=yes)
        return
    target = database_path(ctx, db)
    try:
        inspect_file(target)  # a folder, a device, another program's or a newer file: refused
    except KinesioError as error:
        raise fail(error) from None
    refuse_a_bad_backup(file)
    if not yes:
        typer.confirm(
            _("Replace the data in {target} with {file}?", target=target, file=file), abort=True
        )
    try:
        done = restore_database(target, file)
    except KinesioError as error:
        raise fail(error) from None
    typer.echo(_("Restored {target} from {file}.", target=target, file=file))
    if done.kept:
        typer.echo(_("The data it replaced is kept in {path}", path=done.kept))


def refuse_a_bad_backup(file: Path) -> None:
    """Stop (one line, exit 2, nothing touched) unless `file` passes every backup check."""
    from kinesio_tui.maintenance.backup import check_backup

    problems = check_backup(file)
    if problems:
        raise fail(
            KinesioError(
                _("Backup refused"),
                _("{file}: {problems}.", file=file, problems="; ".join(problems)),
            )
        )


def _restore_on_server(ctx: typer.Context, target: Target, file: Path, *, yes: bool) -> None:
    """The server's clinic replaced in place by a checked backup file, as the owner."""
    from kinesio_tui.maintenance.backup import restore_to_server

    refuse_a_bad_backup(file)
    if not yes:
        typer.confirm(
            _(
                "Replace every record of {target} with {file}? The records there now are "
                "kept in a file in the backups folder.",
                target=target.label(),
                file=file,
            ),
            abort=True,
        )
    try:
        done = restore_to_server(
            target, file, actor=root_options(ctx).actor or "restore", on_wait=say_waiting
        )
    except KinesioError as error:
        raise fail(error) from None
    typer.echo(
        _(
            "Restored {target} from {file}: {entries} audit entries; counts, SHA-256 {digest} "
            "and the audit trail verified.",
            target=done.copied.target,
            file=file,
            entries=done.copied.audit_entries,
            digest=done.copied.fingerprint.digest[:16],
        )
    )
    typer.echo(_("The data it replaced is kept in {path}", path=done.kept))


@maintenance_app.command(
    help=_("Check the file's integrity, its links between records and the audit trail.")
)
def check(ctx: typer.Context, db: DbOption = None) -> None:
    from kinesio_tui.maintenance.check import check_database

    conn = existing_or_damaged_db(ctx, db)
    if isinstance(conn, KinesioError):
        raise _say_damaged(_("it cannot be opened"))
    try:
        report = check_database(conn)
    except sqlite3.DatabaseError as error:  # too damaged for the checks to read it through
        raise _say_damaged(error) from None
    finally:
        conn.close()
    if not report.integrity_checked:
        typer.echo(
            _("Integrity: index structure not checked (amcheck is not available to this role)")
        )
    else:
        typer.echo(_("Integrity: ok") if not report.integrity else _("Integrity: DAMAGED"))
    typer.echo(
        _("Links between records: ok")
        if not report.foreign_keys
        else _("Links between records: BROKEN")
    )
    typer.echo(
        _(
            "Audit trail: {verdict} ({entries} entries, {erased} erased on request)",
            verdict=_("ok") if report.audit.ok else _("DOES NOT VERIFY"),
            entries=report.audit.entries,
            erased=report.audit.erased,
        )
    )
    typer.echo(trail_protection(report.audit))
    for warning in report.warnings:
        typer.secho(_("Warning: {what}.", what=warning), fg=typer.colors.YELLOW, err=True)
    if report.ok:
        typer.secho(_("Verdict: the database is healthy."), fg=typer.colors.GREEN)
        return
    for line in report.problems()[:50]:
        typer.echo(_("  - {problem}", problem=line), err=True)
    typer.secho(
        _(
            "Verdict: PROBLEMS FOUND. Keep this file, and restore a backup that passes "
            "`kinesio restore` checks."
        ),
        fg=typer.colors.RED,
        err=True,
    )
    raise typer.Exit(code=1)


@maintenance_app.command(
    help=_(
        "Permanently erase a patient's records on request (archiving is the usual way).\n\n"
        "Run it again for a patient already erased to finish what was left pending."
    )
)
def erase(
    ctx: typer.Context,
    patient: Annotated[
        int, typer.Argument(help=_("Id of the patient to erase (see `patients list`)."))
    ],
    yes: Annotated[bool, typer.Option("--yes", help=_("Do not ask (for scripts)."))] = False,
    db: DbOption = None,
) -> None:
    from kinesio_tui.data.db import connect
    from kinesio_tui.domain.store import fetch_row
    from kinesio_tui.maintenance.backup import pre_migration_backup
    from kinesio_tui.maintenance.erase import erase_patient, finish_erasure, was_erased

    if not 0 < patient < 2**63:
        raise fail(KinesioError(_("Not found"), _("No patient with id {id}.", id=patient)))
    try:
        conn = connect(
            database_target(ctx, db),
            create=False,
            on_wait=say_waiting,
            backup_first=pre_migration_backup,
        )
    except KinesioError as error:
        raise fail(error) from None
    try:
        if (
            was_erased(conn, patient)
            and not conn.execute("SELECT 1 FROM patients WHERE id = ?", [patient]).fetchone()
        ):
            pending = finish_erasure(conn)
            _say_erasure(patient, None, pending)
            return
        fetch_row(conn, "patients", patient)
        if not yes:
            typer.echo(
                _(
                    "This permanently removes patient {id} and all their records. "
                    "The audit trail keeps only that it happened.",
                    id=patient,
                )
            )
            typed = typer.prompt(
                _("Type the patient's id to confirm"), default="", show_default=False
            )
            if typed.strip() != str(patient):
                typer.echo(_("Not erased."), err=True)
                raise typer.Exit(code=1)
        erasure = erase_patient(conn, patient)
    except KinesioError as error:
        raise fail(error) from None
    finally:
        conn.close()
    _say_erasure(patient, sum(erasure.counts.values()), erasure.pending)


def _say_erasure(patient: int, removed: int | None, pending: str | None) -> None:
    if removed is not None:
        typer.echo(_("Patient {id} erased: {count} records removed.", id=patient, count=removed))
    if pending is None:
        typer.echo(
            _(
                "Erasure of patient {id} complete: nothing of their records is left in the "
                "database file (earlier backups still hold them until they rotate out).",
                id=patient,
            )
        )
    else:
        typer.secho(_("Erasure pending: {why}.", why=pending), fg=typer.colors.YELLOW)
