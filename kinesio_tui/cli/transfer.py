"""`kinesio migrate --to TARGET`: the clinic copied into an empty database, and checked.

Exit codes: 0 copied and verified, 2 refused (a target that is not empty, a source whose
trail does not verify, a copy that did not compare equal: the target is left as it was).
"""

from __future__ import annotations

from typing import Annotated

import typer

from kinesio_tui.cli.app_role import AppRoleOption, refuse_app_role_for_a_file, say_granted
from kinesio_tui.cli.database import clinic_db
from kinesio_tui.cli.options import DbOption, root_options
from kinesio_tui.cli.refusal import fail
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _

transfer_app = typer.Typer()


@transfer_app.command(
    help=_(
        "Copy the clinic into an empty database (postgresql://OWNER@HOST/DB, or a new "
        "FILE.db), checking record counts, every value and both audit trails before the copy "
        "is kept. On PostgreSQL, --app-role grants the workstations' role as `kinesio init` "
        "does."
    )
)
def migrate(
    ctx: typer.Context,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help=_("Where the copy goes: an empty PostgreSQL database (its owner), or a new file."),
            show_default=False,
        ),
    ],
    db: DbOption = None,
    app_role: AppRoleOption = None,
) -> None:
    from kinesio_tui.locations import is_postgres_url
    from kinesio_tui.maintenance.transfer import copy_clinic

    if app_role is not None and not is_postgres_url(to):  # before the source is opened
        raise refuse_app_role_for_a_file()
    actor = root_options(ctx).actor or "migrate"
    with clinic_db(ctx, db) as source:
        try:
            done = copy_clinic(source, to, actor=actor, app_role=app_role)
        except KinesioError as error:
            raise fail(error) from None
        except OSError as error:
            raise fail(
                KinesioError(
                    _("Cannot copy the clinic"),
                    _("{why}: {path}", why=error.strerror, path=error.filename),
                )
            ) from None
    records = sum(done.fingerprint.counts[t] for t in done.fingerprint.counts if t != "audit_head")
    typer.echo(
        _(
            "Copied {source} to {target}: {records} rows in {tables} tables, {entries} audit "
            "entries; counts, SHA-256 {digest} and both audit trails verified.",
            source=done.source,
            target=done.target,
            records=records,
            tables=len(done.fingerprint.counts) - 1,
            entries=done.audit_entries,
            digest=done.fingerprint.digest[:16],
        )
    )
    if app_role is not None:
        say_granted(app_role)
