"""`kinesio plan show`: the patient's own programme for a module, as the doctor tailored it."""

from __future__ import annotations

from typing import Annotated

import typer

from kinesio_tui import clock
from kinesio_tui.cli.database import clinic_db
from kinesio_tui.cli.options import DbOption, PatientArgument
from kinesio_tui.cli.patients import find_one_patient
from kinesio_tui.cli.refusal import fail
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.plain_text import shown

plan_app = typer.Typer(help=_("Show the patient's own plan."), no_args_is_help=True)


@plan_app.command(
    "show",
    help=_(
        "The session checklist and home exercises of a module (default: the current one) for "
        "the coming sessions, with target dosages and what the doctor tailored."
    ),
)
def plan_show(
    ctx: typer.Context,
    patient: PatientArgument,
    module: Annotated[
        int | None, typer.Option("--module", help=_("Module 1-3 (default: the current one)."))
    ] = None,
    db: DbOption = None,
) -> None:
    from kinesio_tui.domain.episodes import current_episode
    from kinesio_tui.domain.outcomes import standing
    from kinesio_tui.domain.plan import coming_sessions, episode_plan
    from kinesio_tui.domain.validate import whole_number
    from kinesio_tui.domain.visits import visits_of
    from kinesio_tui.protocol import protocol

    with clinic_db(ctx, db) as conn:
        p = find_one_patient(conn, patient)
        episode = current_episode(conn, p.id)
        if episode is None:
            raise fail(
                KinesioError(_("No episode"), _("Patient {id} has no episode of care.", id=p.id))
            )
        proto = protocol()
        if module is None:
            number = standing(visits_of(conn, episode.id), clock.today()).module
        else:
            try:
                number = whole_number("module", module, 1, len(proto.modules))
            except KinesioError as error:
                raise fail(error) from None
        plan = episode_plan(conn, episode.id)
        mod = proto.module(number)
        typer.echo(
            shown(
                _(
                    "{name} (id {id}) · module {m}: {title}",
                    name=p.full_name,
                    id=p.id,
                    m=number,
                    title=mod.title,
                )
            )
        )
        coming = coming_sessions(conn, episode.id, number)
        typer.echo(
            _("Sessions {first}-{last} (not started yet):", first=coming[0], last=coming[-1])
            if coming
            else _("Sessions (none of this module left to start):")
        )
        for heading, items in (
            (None, plan.checklist(number)),
            (_("Home exercises:"), plan.home(number)),
        ):
            if heading:
                typer.echo(heading)
            for item in items:
                line = f"  - {item.label}"
                if item.target:
                    line += _(" · target {dosage}", dosage=item.target)
                typer.echo(shown(line))
                for mark in item.marks():
                    typer.echo("      " + shown(mark))
