"""`kinesio backup | restore | check | audit verify | audit show | erase`.

Registered on the main Typer app by an import at the end of cli.py. Exit codes: 0 fine,
1 a check found problems, 2 bad input or an error the user can act on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kinesio_tui.cli import DbOption, app, db_path, fail, find_one_patient, say_waiting
from kinesio_tui.errors import KinesioError

audit_app = typer.Typer(help="Verify the audit trail or read a patient's history.")
app.add_typer(audit_app, name="audit", no_args_is_help=True)


def _existing_db(override: Path | None, *, damaged_ok: bool = False) -> Any:
    """Open an existing database without changing it (no migration, no creation).

    With `damaged_ok` a file too damaged to open is returned as its DatabaseDamaged error.
    """
    from kinesio_tui.data.db import connect
    from kinesio_tui.errors import DatabaseDamaged

    try:
        return connect(db_path(override), migrate=False, create=False)
    except DatabaseDamaged as error:
        if damaged_ok:
            return error
        raise fail(error) from None
    except KinesioError as error:
        raise fail(error) from None


def _say_damaged(why: object) -> typer.Exit:
    """`check`'s verdict on a file too damaged for the checks to read through."""
    typer.echo("Integrity: DAMAGED")
    typer.secho(
        f"Verdict: the file is damaged ({why}). Keep this file, and restore a backup "
        "that passes `kinesio restore` checks.",
        fg=typer.colors.RED,
        err=True,
    )
    return typer.Exit(code=1)


@app.command()
def backup(
    dest: Annotated[
        Path | None,
        typer.Argument(
            help="A new file, or a folder to put a new file in (default: the backups folder)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace DEST if it is an existing file.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Copy the database safely, even while the workstation is open."""
    from kinesio_tui.data.db import inspect_file
    from kinesio_tui.maintenance.backup import backup_database, backups_dir

    source = db_path(db)
    try:
        # Only a kinesio-tui file is copied: anything else is refused before DEST is made.
        if inspect_file(source) != "kinesio":
            raise KinesioError("Nothing to back up", f"There is no database at {source}.")
        made = backup_database(source, dest.expanduser() if dest else backups_dir(), replace=force)
    except KinesioError as error:
        raise fail(error) from None
    except OSError as error:
        raise fail(KinesioError("Cannot back up", f"{error.strerror}: {error.filename}")) from None
    typer.echo(f"Backup written: {made}")


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="The backup to restore.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    db: DbOption = None,
) -> None:
    """Replace the database with a backup, after checking it; the current data is kept."""
    from kinesio_tui.data.db import inspect_file
    from kinesio_tui.maintenance.backup import check_backup, restore_database

    target = db_path(db)
    try:
        inspect_file(target)  # a folder, a device, another program's or a newer file: refused
    except KinesioError as error:
        raise fail(error) from None
    problems = check_backup(file)
    if problems:
        raise fail(KinesioError("Backup refused", f"{file}: {'; '.join(problems)}."))
    if not yes:
        typer.confirm(f"Replace the data in {target} with {file}?", abort=True)
    try:
        done = restore_database(target, file)
    except KinesioError as error:
        raise fail(error) from None
    typer.echo(f"Restored {target} from {file}.")
    if done.kept:
        typer.echo(f"The data it replaced is kept in {done.kept}")


@app.command()
def check(db: DbOption = None) -> None:
    """Check the file's integrity, its links between records and the audit trail."""
    import sqlite3

    from kinesio_tui.maintenance.check import check_database

    conn = _existing_db(db, damaged_ok=True)
    if isinstance(conn, KinesioError):
        raise _say_damaged("it cannot be opened")
    try:
        report = check_database(conn)
    except sqlite3.DatabaseError as error:  # too damaged for the checks to read it through
        raise _say_damaged(error) from None
    finally:
        conn.close()
    typer.echo(f"Integrity: {'ok' if not report.integrity else 'DAMAGED'}")
    typer.echo(f"Links between records: {'ok' if not report.foreign_keys else 'BROKEN'}")
    typer.echo(
        f"Audit trail: {'ok' if report.audit.ok else 'DOES NOT VERIFY'} "
        f"({report.audit.entries} entries, {report.audit.erased} erased on request)"
    )
    typer.echo(_keying(report.audit))
    if report.ok:
        typer.secho("Verdict: the database is healthy.", fg=typer.colors.GREEN)
        return
    for line in report.problems()[:50]:
        typer.echo(f"  - {line}", err=True)
    typer.secho(
        "Verdict: PROBLEMS FOUND. Keep this file, and restore a backup that passes "
        "`kinesio restore` checks.",
        fg=typer.colors.RED,
        err=True,
    )
    raise typer.Exit(code=1)


def _keying(report: Any) -> str:
    """How the trail is protected: by the key, and since when."""
    if not report.keyed:
        return (
            "The trail is not keyed (a file from an older kinesio-tui): anyone with the file "
            "could have rewritten it. `kinesio init` upgrades the file and keys it."
        )
    if report.unkeyed:
        return (
            f"Signed with the audit key; the first {report.unkeyed} entries are from before "
            "the key and are sealed by it."
        )
    return "Every entry is signed with the audit key."


@audit_app.command("verify")
def audit_verify(db: DbOption = None) -> None:
    """Check every audit entry's hash chain; names any edited, removed or moved entry."""
    from kinesio_tui.maintenance.audit import verify_chain

    conn = _existing_db(db)
    try:
        report = verify_chain(conn)
    finally:
        conn.close()
    if report.ok:
        typer.echo(
            f"Audit trail verified: {report.entries} entries, "
            f"{report.erased} erased on request, none altered; every record matches it."
        )
        typer.echo(_keying(report))
        return
    for problem in report.problems[:50]:
        typer.echo(f"  - {problem}", err=True)
    typer.secho(
        f"Audit trail DOES NOT VERIFY: {len(report.problems)} problem(s) "
        f"in {report.entries} entries.",
        fg=typer.colors.RED,
        err=True,
    )
    raise typer.Exit(code=1)


def _encodable(text: str) -> bool:
    """False for argv bytes that were not UTF-8 (Python keeps them as lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _show(value: Any) -> str:
    from kinesio_tui.plain_text import shown

    text = "-" if value is None else shown(value)  # never a raw control on the terminal
    return text if len(text) <= 60 else text[:57] + "..."


@audit_app.command("show")
def audit_show(
    patient: Annotated[str, typer.Argument(help="Patient id (or a unique search).")],
    db: DbOption = None,
) -> None:
    """List every recorded change to a patient's records: when, who, what, old and new."""
    from kinesio_tui.maintenance.audit import history

    if not _encodable(patient):
        raise fail(KinesioError("Not found", "That search has bytes that are not text."))
    conn = _existing_db(db)
    try:
        if patient.isdigit() and len(patient) < 19:
            pid = int(patient)
        else:
            try:
                pid = find_one_patient(conn, patient).id
            except KinesioError as error:
                raise fail(error) from None
        entries = history(conn, pid)
    finally:
        conn.close()
    if not entries:
        raise fail(KinesioError("Not found", f"No audit entries for patient {pid}."))
    for e in entries:
        typer.echo(f"#{e.id} {e.at[:19]} {_show(e.actor)}: {e.action} {e.table_name} {e.record_id}")
        if e.erased:
            typer.echo("    (values erased on request)")
        for name, (old, new) in e.changes.items():
            typer.echo(f"    {name}: {_show(old)} -> {_show(new)}")


@app.command()
def erase(
    patient: Annotated[
        int, typer.Argument(help="Id of the patient to erase (see `patients list`).")
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask (for scripts).")] = False,
    db: DbOption = None,
) -> None:
    """Permanently erase a patient's records on request (archiving is the usual way).

    Run it again for a patient already erased to finish what was left pending.
    """
    from kinesio_tui.data.db import connect
    from kinesio_tui.domain.store import fetch_row
    from kinesio_tui.maintenance.erase import erase_patient, finish_erasure, was_erased

    if not 0 < patient < 2**63:
        raise fail(KinesioError("Not found", f"No patient with id {patient}."))
    try:
        conn = connect(db_path(db), create=False, on_wait=say_waiting)
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
                f"This permanently removes patient {patient} and all their records. "
                "The audit trail keeps only that it happened."
            )
            typed = typer.prompt("Type the patient's id to confirm", default="", show_default=False)
            if typed.strip() != str(patient):
                typer.echo("Not erased.", err=True)
                raise typer.Exit(code=1)
        erasure = erase_patient(conn, patient)
    except KinesioError as error:
        raise fail(error) from None
    finally:
        conn.close()
    _say_erasure(patient, sum(erasure.counts.values()), erasure.pending)


def _say_erasure(patient: int, removed: int | None, pending: str | None) -> None:
    if removed is not None:
        typer.echo(f"Patient {patient} erased: {removed} records removed.")
    if pending is None:
        typer.echo(
            f"Erasure of patient {patient} complete: nothing of their records is left in the "
            "database file (earlier backups still hold them until they rotate out)."
        )
    else:
        typer.secho(f"Erasure pending: {pending}.", fg=typer.colors.YELLOW)
