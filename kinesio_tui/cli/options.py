"""What the command line chose before the command (`--db`, `--therapist`), and the options
every command shares.

The root callback puts one `RootOptions` in the Typer context; each command reads it from
there (`root_options(ctx)`), so nothing one command line chose outlives its invocation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from kinesio_tui.i18n import _


@dataclass(frozen=True)
class RootOptions:
    """`kinesio [--db FILE|URL] [--therapist NAME] COMMAND`: the database and who signs the
    trail. `db_path` is the text given (a str: a Path would collapse postgresql://'s //)."""

    db_path: str | None = None
    actor: str | None = None


def root_options(ctx: typer.Context) -> RootOptions:
    """The options given before the command (the defaults when a sub-app runs on its own)."""
    return ctx.ensure_object(RootOptions)


# KINESIO_DB is read once, by the root callback: were it also a command option's envvar, it
# would override an explicit `kinesio --db X command`.
RootDbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="KINESIO_DB",
        help=_(
            "Database file, or postgresql://USER@HOST/DBNAME (password from ~/.pgpass; "
            "default: the [database] url setting, else your data directory)."
        ),
        show_default=False,
    ),
]
TherapistOption = Annotated[
    str | None,
    typer.Option(
        "--therapist", envvar="KINESIO_THERAPIST", help=_("Your name for the audit trail.")
    ),
]
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help=_(
            "Database file or postgresql:// URL (default: `kinesio --db`, $KINESIO_DB, the "
            "[database] url setting, or your data directory)."
        ),
        show_default=False,
    ),
]
PatientArgument = Annotated[str, typer.Argument(help=_("Patient id or a unique search."))]
