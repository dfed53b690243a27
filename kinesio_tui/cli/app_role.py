"""`--app-role ROLE`: the PostgreSQL role the rooms connect as, for the commands that make a
clinic's schema as its owner (`init`, `migrate --to`, `demo --db`). Shared so that each says
the same thing and refuses a file the same way."""

from __future__ import annotations

from typing import Annotated

import typer

from kinesio_tui.cli.refusal import fail
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _

AppRoleOption = Annotated[
    str | None,
    typer.Option(
        "--app-role",
        help=_(
            "PostgreSQL: the role the workstations connect as, granted what they need "
            "(records, appending to the audit trail) and nothing more. Run it as the "
            "database owner."
        ),
        show_default=False,
    ),
]


def refuse_app_role_for_a_file() -> typer.Exit:
    """The one line for --app-role with a database file (before anything is made)."""
    return fail(
        KinesioError(
            _("Not a PostgreSQL database"),
            _(
                "--app-role names a PostgreSQL role; who may write a database file is up "
                "to the operating system's permissions. Nothing was changed."
            ),
        )
    )


def say_granted(role: str) -> None:
    """What the rooms' role may now do."""
    typer.echo(
        _(
            "The role {role} may read and write records and append to the audit trail; "
            "only the owner may change the schema or the trail.",
            role=role,
        )
    )
