"""`kinesio episode open | close | set | discharge`: an episode of care, its planned visits,
its referring doctor and what the discharge letter says."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kinesio_tui import clock
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
    referring_doctor: Annotated[
        str, typer.Option("--referring-doctor", help=_("Who referred the patient."))
    ] = "",
    referring_institution: Annotated[
        str, typer.Option("--referring-institution", help=_("Their clinic or hospital department."))
    ] = "",
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
            NewEpisode(
                condition,
                subtype,
                side,
                course,
                onset,
                medication,
                tuple(red_flag or ()),
                referring_doctor,
                referring_institution,
            ),
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


def _the_episode(conn: object, patient: str) -> tuple[int, Any]:
    """The patient's id and current episode (the active one, else the latest), or a refusal."""
    from kinesio_tui.data.db import ClinicDB
    from kinesio_tui.domain.episodes import current_episode

    assert isinstance(conn, ClinicDB)
    p = find_one_patient(conn, patient)
    episode = current_episode(conn, p.id)
    if episode is None:
        raise fail(
            KinesioError(
                _("No episode of care"), _("Patient {id} has no episode of care.", id=p.id)
            )
        )
    return p.id, episode


@episode_app.command(
    "set", help=_("Change the episode's referring doctor (the letter's addressee).")
)
def episode_set(
    ctx: typer.Context,
    patient: PatientArgument,
    referring_doctor: Annotated[
        str | None,
        typer.Option("--referring-doctor", help=_("Who referred the patient ('' clears it).")),
    ] = None,
    referring_institution: Annotated[
        str | None,
        typer.Option("--referring-institution", help=_("Their clinic or hospital department.")),
    ] = None,
    db: DbOption = None,
) -> None:
    from kinesio_tui.domain.referrer import set_referring_doctor

    with clinic_db(ctx, db) as conn:
        _pid, episode = _the_episode(conn, patient)
        if referring_doctor is None and referring_institution is None:
            raise fail(
                KinesioError(
                    _("Nothing to change"),
                    _("Give --referring-doctor and/or --referring-institution."),
                )
            )
        name = episode.referring_doctor if referring_doctor is None else referring_doctor
        place = (
            episode.referring_institution
            if referring_institution is None
            else referring_institution
        )
        if referring_doctor == "" and referring_institution is None:
            place = ""  # clearing the doctor clears where they work
        changed = set_referring_doctor(
            conn, episode.id, name, place, expected_version=episode.version
        )
        typer.echo(
            _("Referring doctor: {who}.", who=_referrer_words(changed))
            if changed.referring_doctor
            else _("Referring doctor cleared.")
        )


def _referrer_words(episode: Any) -> str:
    from kinesio_tui.plain_text import shown

    if episode.referring_institution:
        return shown(f"{episode.referring_doctor}, {episode.referring_institution}")
    return shown(episode.referring_doctor)


@episode_app.command(
    "discharge",
    help=_(
        "Record the discharge letter's fields at the episode's final appointment "
        "(options not given keep what is recorded)."
    ),
)
def episode_discharge(
    ctx: typer.Context,
    patient: PatientArgument,
    medication: Annotated[
        str | None, typer.Option("--medication", help=_("Medication at discharge."))
    ] = None,
    work_status: Annotated[
        str | None,
        typer.Option(
            "--work-status",
            help=_("as_before, modified, sick_leave, not_working or retired ('' clears it)."),
        ),
    ] = None,
    work_note: Annotated[
        str | None, typer.Option("--work-note", help=_("Words on the work status."))
    ] = None,
    recommendations: Annotated[str | None, typer.Option("--recommendations")] = None,
    follow_up: Annotated[
        str | None, typer.Option("--follow-up", help=_("The follow-up plan."))
    ] = None,
    review_date: Annotated[
        str | None, typer.Option("--review-date", help=_("A review date, YYYY-MM-DD."))
    ] = None,
    db: DbOption = None,
) -> None:
    from dataclasses import asdict

    from kinesio_tui.domain.discharge import (
        DischargeText,
        discharge_of,
        final_appointment,
        record_discharge,
    )

    with clinic_db(ctx, db) as conn:
        pid, episode = _the_episode(conn, patient)
        visit = final_appointment(conn, episode.id)
        if visit is None:
            raise fail(
                KinesioError(
                    _("No final appointment yet"),
                    _(
                        "Patient {id} has had no final doctor's appointment: the discharge "
                        "is recorded there.",
                        id=pid,
                    ),
                )
            )
        current = discharge_of(conn, episode.id)
        was = (
            DischargeText(
                current.medication,
                current.work_status,
                current.work_note,
                current.recommendations,
                current.follow_up,
                current.review_date,
            )
            if current
            else DischargeText()
        )
        given = {
            "medication": medication,
            "work_status": work_status,
            "work_note": work_note,
            "recommendations": recommendations,
            "follow_up": follow_up,
            "review_date": review_date,
        }
        text = DischargeText(
            **{k: (asdict(was)[k] if value is None else value) for k, value in given.items()}
        )
        record_discharge(
            conn,
            visit.id,
            text,
            today=clock.today(),
            expected_version=current.version if current else 0,
        )
        typer.echo(_("Discharge recorded at visit {seq}.", seq=visit.seq))
