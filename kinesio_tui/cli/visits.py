"""`kinesio visit ...`: acting on one visit of a patient's programme from the command line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from kinesio_tui.cli.database import clinic_db
from kinesio_tui.cli.options import DbOption, PatientArgument
from kinesio_tui.cli.patients import find_one_patient
from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.models import Visit
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.plain_text import shown

if TYPE_CHECKING:
    from kinesio_tui.domain.models import Episode

visit_app = typer.Typer(
    help=_(
        "Act on one visit of a patient's programme: reopen it, mark it missed or cancelled, "
        "move it."
    ),
    no_args_is_help=True,
)

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


VisitOption = Annotated[
    int | None,
    typer.Option(
        "--visit",
        help=_("The visit's number in the programme, 1-45 (default: the current visit)."),
        show_default=False,
    ),
]


def _episode_and_visit(conn: ClinicDB, patient: str, seq: int | None) -> tuple[Episode, Visit]:
    from kinesio_tui.domain import validate as v
    from kinesio_tui.domain.episodes import current_episode
    from kinesio_tui.domain.visits import next_visit, visits_of

    p = find_one_patient(conn, patient)
    episode = current_episode(conn, p.id)
    if episode is None or episode.status != "active":
        raise KinesioError(_("No active episode"), _("Patient {id} has no open episode.", id=p.id))
    if seq is None:
        current = next_visit(conn, episode.id)
        if current is None:
            raise KinesioError(_("No visit left"), _("No visit is left to hold."))
        return episode, current
    number = v.whole_number("visit", seq, 1, 45)
    for visit in visits_of(conn, episode.id):
        if visit.seq == number:
            return episode, visit
    raise KinesioError(_("Not found"), _("The episode has no visit {n}.", n=number))


def _absence(
    ctx: typer.Context, db: str | None, patient: str, seq: int | None, reason: str, status: str
) -> None:
    from kinesio_tui.domain.schedule import record_absence

    with clinic_db(ctx, db) as conn:
        _episode, visit = _episode_and_visit(conn, patient, seq)
        record_absence(conn, visit.id, status, reason, expected_version=visit.version)
        where = {"seq": visit.seq, "m": visit.module, "n": visit.number}
        if status == "missed":
            typer.echo(_("Visit {seq} ({m}.{n}) marked missed.", **where))
        else:
            typer.echo(_("Visit {seq} ({m}.{n}) cancelled.", **where))


@visit_app.command("miss", help=_("The patient did not come: mark the visit missed."))
def visit_miss(
    ctx: typer.Context,
    patient: PatientArgument,
    reason: ReasonOption,
    visit: VisitOption = None,
    db: DbOption = None,
) -> None:
    _absence(ctx, db, patient, visit, reason, "missed")


@visit_app.command("cancel", help=_("Call off a planned visit; the programme goes on."))
def visit_cancel(
    ctx: typer.Context,
    patient: PatientArgument,
    reason: ReasonOption,
    visit: VisitOption = None,
    db: DbOption = None,
) -> None:
    _absence(ctx, db, patient, visit, reason, "cancelled")


@visit_app.command(
    "move",
    help=_(
        "Move a planned visit to another day (and time), or with --shift-rest move it and "
        "re-plan every later visit after it in the plan's rhythm."
    ),
)
def visit_move(
    ctx: typer.Context,
    patient: PatientArgument,
    to: Annotated[str, typer.Option("--to", help=_("The new date, YYYY-MM-DD."))],
    visit: VisitOption = None,
    time: Annotated[
        str | None, typer.Option("--time", help=_("Planned time of day, HH:MM."))
    ] = None,
    shift_rest: Annotated[
        bool, typer.Option("--shift-rest", help=_("Move the visits after it along."))
    ] = False,
    db: DbOption = None,
) -> None:
    from kinesio_tui.domain.schedule import KEEP_TIME, move_visit, plan_version

    with clinic_db(ctx, db) as conn:
        episode, chosen = _episode_and_visit(conn, patient, visit)
        result = move_visit(
            conn,
            chosen.id,
            to,
            time=KEEP_TIME if time is None else time,
            shift_rest=shift_rest,
            expected_version=plan_version(conn, episode.id),
        )
        if not result.moved:
            typer.echo(_("Nothing to move: the visit is planned then already."))
        for m in result.moved:
            typer.echo(
                _(
                    "Visit {seq} ({m}.{n}): {was} -> {now}{at}",
                    seq=m.seq,
                    m=m.module,
                    n=m.number,
                    was=m.was.isoformat(),
                    now=m.now.isoformat(),
                    at=f" {m.time}" if m.time else "",
                )
            )
        for warning in result.warnings:
            typer.secho(_("Warning: {w}", w=shown(warning)), fg=typer.colors.YELLOW)
