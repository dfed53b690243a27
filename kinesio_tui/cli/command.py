"""The root `kinesio` command: its options, and the sub-apps joined under it.

Each module of this package is one sub-app; nothing registers itself by being imported.
The root knows them by name (`KinesioCommands.MOUNTED`) and imports one only when a command
line names it (`lazy.py`): a command pays for its own imports, not every command's.
"""

from __future__ import annotations

import sys

import typer

from kinesio_tui.cli.lazy import LazyGroup, Mounted
from kinesio_tui.cli.options import RootDbOption, RootOptions, TherapistOption
from kinesio_tui.cli.refusal import fail
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _


class KinesioCommands(LazyGroup):
    """`kinesio`'s commands, in the order `--help` lists them: commands first (init, demo,
    backup, restore, check, erase, export, outcomes, today), then the groups. A new command
    or sub-app is a row here; its module is imported only when a command line names it."""

    MOUNTED = (
        Mounted("init", "kinesio_tui.cli.workstation", "workstation_app"),
        Mounted("demo", "kinesio_tui.cli.workstation", "workstation_app"),
        Mounted("backup", "kinesio_tui.cli.maintenance", "maintenance_app"),
        Mounted("restore", "kinesio_tui.cli.maintenance", "maintenance_app"),
        Mounted("check", "kinesio_tui.cli.maintenance", "maintenance_app"),
        Mounted("erase", "kinesio_tui.cli.maintenance", "maintenance_app"),
        Mounted("migrate", "kinesio_tui.cli.transfer", "transfer_app"),
        Mounted("export", "kinesio_tui.cli.export", "export_app"),
        Mounted("outcomes", "kinesio_tui.cli.outcomes", "outcomes_app"),
        Mounted("patients", "kinesio_tui.cli.patients", "patients_app", group=True),
        Mounted("episode", "kinesio_tui.cli.episodes", "episode_app", group=True),
        Mounted("today", "kinesio_tui.cli.day", "day_app"),
        Mounted("visit", "kinesio_tui.cli.visits", "visit_app", group=True),
        Mounted("closures", "kinesio_tui.cli.day", "closures_app", group=True),
        Mounted("plan", "kinesio_tui.cli.plan", "plan_app", group=True),
        Mounted("audit", "kinesio_tui.cli.audit", "audit_app", group=True),
        Mounted("templates", "kinesio_tui.cli.templates", "templates_app", group=True),
        Mounted("settings", "kinesio_tui.cli.settings", "settings_app", group=True),
    )


app = typer.Typer(
    name="kinesio",
    help=_("Kinesiotherapy clinician workstation for the radiculitis and sciatica programme."),
    cls=KinesioCommands,
    pretty_exceptions_show_locals=False,
    no_args_is_help=False,
    add_completion=False,
)


@app.callback(invoke_without_command=True)
def root(ctx: typer.Context, db: RootDbOption = None, therapist: TherapistOption = None) -> None:
    """Open the workstation (with no command), or run a command."""
    from kinesio_tui.domain.therapist import who_treats

    try:
        # before any command opens the file; without one, the name the workstation was
        # given last by this OS user, else (None) the OS user's name as always
        actor = who_treats(therapist)
    except KinesioError as error:
        raise fail(error) from None
    ctx.obj = RootOptions(db_path=db, actor=actor)
    if ctx.invoked_subcommand is None:
        from kinesio_tui.cli.workstation import open_the_workstation

        open_the_workstation(ctx)


def main() -> None:
    """Console-script entry point (through launch.py, which takes the bare command itself)."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # unexpected: a scrubbed report, one calm line, exit 1
        from kinesio_tui.crash import report_and_exit

        report_and_exit(error)
