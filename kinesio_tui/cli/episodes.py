"""`kinesio episode open | close`: an episode of care and its planned visits."""

from __future__ import annotations

from typing import Annotated

import typer

from kinesio_tui.cli.database import clinic_db
from kinesio_tui.cli.options import DbOption, PatientArgument
from kinesio_tui.cli.patients import find_one_patient
from kinesio_tui.cli.refusal import fail
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _

episode_app = typer.Typer(help=_("Open or close an episode of care."), no_args_is_help=True)


@episode_app.command("open", help=_("Open an episode of care and plan its visits."))
def episode_open(
    ctx: typer.Context,
    patient: PatientArgument,
    condition: Annotated[str, typer.Option("--condition", help=_("radiculitis or sciatica."))],
    subtype: Annotated[
        str, typer.Option("--subtype", help=_("cervical/thoracic/lumbar or upper/middle/lower."))
    ],
    side: Annotated[str, typer.Option("--side", help=_("L, R or both."))],
    course: Annotated[str, typer.Option("--course", help=_("acute or chronic."))] = "acute",
    onset: Annotated[str | None, typer.Option("--onset", help=_("Onset date, YYYY-MM-DD."))] = None,
    medication: Annotated[str, typer.Option("--medication")] = "",
    red_flag: Annotated[
        list[str] | None, typer.Option("--red-flag", help=_("A red flag raised at intake."))
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", help=_("First visit date (default today)."))
    ] = None,
    db: DbOption = None,
) -> None:
    from kinesio_tui.domain.episodes import open_episode
    from kinesio_tui.domain.models import NewEpisode
    from kinesio_tui.domain.validate import parse_date
    from kinesio_tui.protocol import protocol

    with clinic_db(ctx, db) as conn:
        p = find_one_patient(conn, patient)
        start_day = parse_date("start", start) if start else None
        episode_id = open_episode(
            conn,
            p.id,
            NewEpisode(condition, subtype, side, course, onset, medication, tuple(red_flag or ())),
            start=start_day,
        )
        typer.echo(
            _(
                "Episode {id} opened: {n} visits planned.",
                id=episode_id,
                n=protocol().total_visits,
            )
        )


@episode_app.command(
    "close", help=_("End the patient's active episode; the visits still planned are cancelled.")
)
def episode_close(
    ctx: typer.Context,
    patient: PatientArgument,
    completed: Annotated[
        bool,
        typer.Option("--completed", help=_("The programme is done (default: ended early).")),
    ] = False,
    db: DbOption = None,
) -> None:
    from kinesio_tui.domain.episodes import close_episode, current_episode

    with clinic_db(ctx, db) as conn:
        p = find_one_patient(conn, patient)
        episode = current_episode(conn, p.id)
        if episode is None or episode.status != "active":
            raise fail(
                KinesioError(
                    _("No active episode"), _("Patient {id} has no open episode.", id=p.id)
                )
            )
        close_episode(
            conn,
            episode.id,
            status="completed" if completed else "closed",
            expected_version=episode.version,  # as read above: refused if changed since
        )
        typer.echo(
            _("Episode {id} completed.", id=episode.id)
            if completed
            else _("Episode {id} closed.", id=episode.id)
        )
