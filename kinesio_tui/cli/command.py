"""The root `kinesio` command: its options, and the sub-apps joined under it.

Each module of this package is one sub-app; nothing registers itself by being imported.
"""

from __future__ import annotations

import sys

import typer

from kinesio_tui.cli.audit import audit_app
from kinesio_tui.cli.day import closures_app, day_app
from kinesio_tui.cli.episodes import episode_app
from kinesio_tui.cli.export import export_app
from kinesio_tui.cli.maintenance import maintenance_app
from kinesio_tui.cli.options import RootDbOption, RootOptions, TherapistOption
from kinesio_tui.cli.outcomes import outcomes_app
from kinesio_tui.cli.patients import patients_app
from kinesio_tui.cli.plan import plan_app
from kinesio_tui.cli.refusal import OneLineUsageErrors, fail
from kinesio_tui.cli.settings import settings_app
from kinesio_tui.cli.templates import templates_app
from kinesio_tui.cli.visits import visit_app
from kinesio_tui.cli.workstation import open_the_workstation, workstation_app
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _

app = typer.Typer(
    name="kinesio",
    help=_("Kinesiotherapy clinician workstation for the radiculitis and sciatica programme."),
    cls=OneLineUsageErrors,
    pretty_exceptions_show_locals=False,
    no_args_is_help=False,
    add_completion=False,
)
# Commands first (init, demo, backup, restore, check, erase, export, outcomes), then the groups.
app.add_typer(workstation_app)
app.add_typer(maintenance_app)
app.add_typer(export_app)
app.add_typer(outcomes_app)
app.add_typer(patients_app, name="patients")
app.add_typer(episode_app, name="episode")
app.add_typer(day_app)
app.add_typer(visit_app, name="visit")
app.add_typer(closures_app, name="closures")
app.add_typer(plan_app, name="plan")
app.add_typer(audit_app, name="audit")
app.add_typer(templates_app, name="templates")
app.add_typer(settings_app, name="settings")


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
