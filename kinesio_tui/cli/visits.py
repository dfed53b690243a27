"""`kinesio visit ...`: acting on one visit of a patient's programme from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from kinesio_tui.cli.database import clinic_db
from kinesio_tui.cli.options import DbOption, PatientArgument
from kinesio_tui.cli.patients import find_one_patient
from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.models import Visit
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.plain_text import shown

visit_app = typer.Typer(help=_("Act on one visit of a patient's programme."), no_args_is_help=True)

VisitNumberOption = Annotated[
    int, typer.Option("--visit", min=1, help=_("Visit number in the programme (1-45)."))
]
ReasonOption = Annotated[
    str, typer.Option("--reason", help=_("Why (kept with the visit and on the audit trail)."))
]


def visit_of_patient(conn: ClinicDB, patient_id: int, seq: int) -> Visit:
    """Visit number `seq` of the patient's current (or latest) episode."""
    from kinesio_tui.domain.episodes import current_episode
    from kinesio_tui.domain.visits import visits_of

    episode = current_episode(conn, patient_id)
    if episode is None:
        raise KinesioError(_("No episode"), _("Patient {id} has no episode.", id=patient_id))
    for v in visits_of(conn, episode.id):
        if v.seq == seq:
            return v
    raise KinesioError(_("No such visit"), _("The programme has no visit {n}.", n=seq))


@visit_app.command(
    "reopen",
    help=_(
        "Reopen a visit completed by mistake (a session or a doctor's appointment): it is in "
        "progress again. Only while the next visit has not started."
    ),
)
def visit_reopen(
    ctx: typer.Context,
    patient: PatientArgument,
    visit: VisitNumberOption,
    reason: ReasonOption,
    db: DbOption = None,
) -> None:
    from kinesio_tui.domain.amendments import checked_reason, reopen_visit

    with clinic_db(ctx, db) as conn:
        why = checked_reason(reason)  # before anything is looked up
        found = find_one_patient(conn, patient)
        held = visit_of_patient(conn, found.id, visit)
        reopen_visit(conn, held.id, why)
        typer.echo(
            shown(
                _(
                    "Visit {n} of {name} reopened: in progress again.",
                    n=held.seq,
                    name=found.full_name,
                )
            )
        )
