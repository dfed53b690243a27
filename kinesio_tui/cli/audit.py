"""`kinesio audit verify | show`: the signed trail of every change, checked or read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from kinesio_tui.cli.database import existing_db
from kinesio_tui.cli.options import DbOption
from kinesio_tui.cli.patients import find_one_patient
from kinesio_tui.cli.refusal import fail
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.plain_text import shown

if TYPE_CHECKING:
    from kinesio_tui.maintenance.audit import AuditReport

audit_app = typer.Typer(
    help=_("Verify the audit trail or read a patient's history."), no_args_is_help=True
)


def trail_protection(report: AuditReport) -> str:
    """How the trail is protected: by the key, and since when."""
    if not report.keyed:
        return _(
            "The trail is not keyed (a file from an older kinesio-tui): anyone with the file "
            "could have rewritten it. `kinesio init` upgrades the file and keys it."
        )
    if report.unkeyed:
        return _(
            "Signed with the audit key; the first {count} entries are from before "
            "the key and are sealed by it.",
            count=report.unkeyed,
        )
    return _("Every entry is signed with the audit key.")


@audit_app.command(
    "verify",
    help=_("Check every audit entry's hash chain; names any edited, removed or moved entry."),
)
def audit_verify(ctx: typer.Context, db: DbOption = None) -> None:
    from kinesio_tui.maintenance.audit import verify_chain

    conn = existing_db(ctx, db)
    try:
        report = verify_chain(conn)
    finally:
        conn.close()
    if report.ok:
        typer.echo(
            _(
                "Audit trail verified: {entries} entries, {erased} erased on request, "
                "none altered; every record matches it.",
                entries=report.entries,
                erased=report.erased,
            )
        )
        typer.echo(trail_protection(report))
        return
    for problem in report.problems[:50]:
        typer.echo(_("  - {problem}", problem=problem), err=True)
    typer.secho(
        _(
            "Audit trail DOES NOT VERIFY: {count} problem(s) in {entries} entries.",
            count=len(report.problems),
            entries=report.entries,
        ),
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


def _show(value: object) -> str:
    text = "-" if value is None else shown(value)  # never a raw control on the terminal
    return text if len(text) <= 60 else text[:57] + "..."


@audit_app.command(
    "show",
    help=_("List every recorded change to a patient's records: when, who, what, old and new."),
)
def audit_show(
    ctx: typer.Context,
    patient: Annotated[str, typer.Argument(help=_("Patient id (or a unique search)."))],
    db: DbOption = None,
) -> None:
    from kinesio_tui.maintenance.audit import history

    if not _encodable(patient):
        raise fail(KinesioError(_("Not found"), _("That search has bytes that are not text.")))
    conn = existing_db(ctx, db)
    try:
        if patient.isascii() and patient.isdigit() and len(patient) < 19:
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
        raise fail(KinesioError(_("Not found"), _("No audit entries for patient {id}.", id=pid)))
    for e in entries:
        typer.echo(
            _(
                "#{id} {at} {actor}: {action} {table} {record}",
                id=e.id,
                at=e.at[:19],
                actor=_show(e.actor),
                action=e.action,
                table=e.table_name,
                record=e.record_id,
            )
        )
        if e.erased:
            typer.echo(_("    (values erased on request)"))
        for name, (old, new) in e.changes.items():
            typer.echo(_("    {name}: {old} -> {new}", name=name, old=_show(old), new=_show(new)))
