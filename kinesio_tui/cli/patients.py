"""`kinesio patients list | add | show`, and finding one patient from what was typed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from kinesio_tui import clock
from kinesio_tui.cli.database import clinic_db
from kinesio_tui.cli.options import DbOption, PatientArgument
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.plain_text import shown

if TYPE_CHECKING:
    from kinesio_tui.data.db import ClinicDB
    from kinesio_tui.domain.models import Patient

patients_app = typer.Typer(help=_("List, add and show patients."), no_args_is_help=True)


def find_one_patient(conn: ClinicDB, ref: str) -> Patient:
    """A patient by id, or by a search that matches exactly one active or archived patient."""
    from kinesio_tui.domain.patients import find_patients, get_patient

    if ref.isascii() and ref.isdigit():  # not "²": a digit to str, not to int()
        return get_patient(conn, int(ref))
    found = find_patients(conn, ref, limit=5) or find_patients(conn, ref, archived=True, limit=5)
    if not found:
        raise KinesioError(_("Not found"), _("No patient matches {ref!r}.", ref=ref))
    if len(found) > 1:
        listing = "; ".join(f"{p.id}: {p.full_name}" for p in found[:5])  # say_error: shown()
        raise KinesioError(
            _("More than one patient"),
            _("{ref!r} matches several ({listing}); use the id.", ref=ref, listing=listing),
        )
    return found[0]


@patients_app.command("list", help=_("List patients with their place in the programme."))
def patients_list(
    ctx: typer.Context,
    query: Annotated[
        str, typer.Argument(help=_("Filter by name, surname, phone or birth year."))
    ] = "",
    archived: Annotated[
        bool, typer.Option("--archived", help=_("List archived patients instead."))
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 200,
    db: DbOption = None,
) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from kinesio_tui.domain.roster import roster
    from kinesio_tui.protocol import protocol
    from kinesio_tui.units import number_text

    with clinic_db(ctx, db) as conn:
        rows = roster(conn, query, archived=archived, limit=limit)
        proto = protocol()
        today = clock.today()
        table = Table(
            _("Id"), _("Name"), _("Age"), _("Condition"), _("Module"), _("Visit"), _("Next"),
            _("VAS"), _("Alert"), box=None,
        )  # fmt: skip
        for r in rows:
            cells = [
                str(r.patient_id),
                r.name,
                str(r.age_on(today)),
                proto.condition_words(r.condition, r.subtype or "", r.side or "")
                if r.condition
                else _("no episode"),
                str(r.module or "-"),
                f"{r.number}/{r.module_visits}" if r.number else (r.episode_status or "-"),
                _("▶ started")
                if r.next_started
                else r.next_planned.isoformat()
                if r.next_planned
                else "-",
                number_text(r.last_vas) if r.last_vas is not None else "-",
            ]
            # Text, not str: Rich reads a str cell as markup (a surname `Closing[/]` crashed it)
            table.add_row(
                *(Text(shown(cell)) for cell in cells),
                Text(
                    " · ".join(
                        word
                        for word, on in ((_("RED FLAG"), r.red_flags), (_("ON HOLD"), r.on_hold))
                        if on
                    ),
                    style="bold red",
                ),
            )
        console = Console()
        if not console.is_terminal:
            console = Console(width=200)  # piped or redirected: whole rows, not wrapped at 80
        console.print(table)
        if not rows:
            typer.echo(
                _("No patients match.")
                if query
                else _("No patients yet: add one with `kinesio patients add`.")
            )


@patients_app.command("add", help=_("Register a patient; prints the new id."))
def patients_add(
    ctx: typer.Context,
    first: Annotated[str, typer.Option("--first", help=_("First name."), prompt=False)],
    last: Annotated[str, typer.Option("--last", help=_("Surname."))],
    born: Annotated[str, typer.Option("--born", help=_("Birth date, YYYY-MM-DD."))],
    sex: Annotated[str, typer.Option("--sex", help=_("F, M or X."))],
    phone: Annotated[str, typer.Option("--phone")] = "",
    occupation: Annotated[str, typer.Option("--occupation")] = "",
    notes: Annotated[str, typer.Option("--notes")] = "",
    db: DbOption = None,
) -> None:
    from kinesio_tui.domain.models import NewPatient
    from kinesio_tui.domain.patients import create_patient

    with clinic_db(ctx, db) as conn:
        patient_id = create_patient(
            conn, NewPatient(first, last, born, sex.upper(), phone, occupation, notes)
        )
        typer.echo(_("Patient {id} added.", id=patient_id))


@patients_app.command("show", help=_("Show a patient, the current episode and where it stands."))
def patients_show(ctx: typer.Context, patient: PatientArgument, db: DbOption = None) -> None:
    from kinesio_tui.domain.episodes import current_episode
    from kinesio_tui.domain.holds import describe_hold, flags_words, latest_hold
    from kinesio_tui.domain.outcomes import progress
    from kinesio_tui.protocol import protocol
    from kinesio_tui.units import number_text

    with clinic_db(ctx, db) as conn:
        p = find_one_patient(conn, patient)
        today = clock.today()
        typer.echo(
            _(
                "{name} (id {id}), born {born}, age {age}, sex {sex}",
                name=shown(p.full_name),
                id=p.id,
                born=p.birth_date.isoformat(),
                age=p.age_on(today),
                sex=p.sex,
            )
        )
        if p.phone:
            typer.echo(_("Phone: {phone}", phone=shown(p.phone)))
        if p.occupation:
            typer.echo(_("Occupation: {occupation}", occupation=shown(p.occupation)))
        if p.archived:
            typer.echo(_("Archived."))
        episode = current_episode(conn, p.id)
        if episode is None:
            typer.echo(_("No episode of care yet: `kinesio episode open`."))
            return
        pr = progress(conn, episode.id, today=today)
        s = pr.standing
        proto = protocol()
        condition = proto.condition_words(episode.condition, episode.subtype, episode.side)
        typer.echo(
            shown(
                _(
                    "Episode {id}: {condition}; {course}, {status}",
                    id=episode.id,
                    condition=condition,
                    course=episode.course,
                    status=episode.status,
                )
            )
        )
        last = latest_hold(conn, episode.id)
        if pr.red_flags:
            # a flag the doctor cleared, still ticked, reads "cleared", not "refer now"
            typer.secho(
                shown(flags_words(proto.red_flag_words(pr.red_flags), last)),
                fg=typer.colors.RED,
            )
        if last is not None and (last.active or pr.red_flags):
            # the open hold, or the clearance of the flags still raised
            for line in describe_hold(last, proto.red_flag_words(last.flags)):
                typer.secho(shown(line), fg=typer.colors.RED)
        if s.finished:
            typer.echo(
                _(
                    "Programme finished: {done} visits held, {missed} missed.",
                    done=s.done,
                    missed=s.missed,
                )
            )
        else:
            nxt = s.next_visit
            kind = (
                (_("doctor's appointment") if nxt.is_doctor else _("therapy session"))
                if nxt
                else ""
            )
            if nxt is not None and nxt.in_progress and nxt.held_on:
                when = _("{kind} in progress since {day}", kind=kind, day=nxt.held_on.isoformat())
            else:
                when = (
                    _("{kind} on {day}", kind=kind, day=nxt.planned_date.isoformat())
                    if nxt
                    else "-"
                )
            typer.echo(
                _(
                    "Module {module}, visit {number}/{of} (overall {seq}/{total}); next: {when}",
                    module=s.module,
                    number=s.number,
                    of=proto.visits_per_module,
                    seq=s.seq,
                    total=proto.total_visits,
                    when=when,
                )
            )
        if pr.vas_change:
            c = pr.vas_change
            typer.echo(
                _(
                    "VAS {baseline} -> {latest}: {delta}{percent}{important}",
                    baseline=number_text(c.baseline),
                    latest=number_text(c.latest),
                    delta=("+" if c.delta > 0 else "") + number_text(c.delta),
                    percent=_percent_words(c.percent),
                    important=_verdict_words(c.important_improvement, c.important_worsening),
                )
            )
        for outcome in pr.proms:
            q, change = outcome.questionnaire, outcome.change
            scored = [r.score for r in outcome.results if r.score.score is not None]
            if not scored:
                continue
            first_score, last_score = scored[0], scored[-1]
            unit = "%" if q.scoring == "percent" else q.unit
            line = _("{short} {score:g}{unit}", short=q.short, score=first_score.score, unit=unit)
            if change is not None:
                line += _(
                    " -> {latest:g}{unit}: {delta:+g}{percent}{important}",
                    latest=last_score.score,
                    unit=unit,
                    delta=change.delta,
                    percent=_percent_words(change.percent),
                    important=_verdict_words(
                        change.important_improvement, change.important_worsening
                    ),
                )
            typer.echo(line)
        from kinesio_tui.domain.plan import plan_changes_of, tailoring_words

        tailored = plan_changes_of(conn, episode.id)
        if tailored:
            typer.echo(_("Tailored by the doctor (`kinesio plan show` for the plan):"))
            for made in tailored:
                typer.echo("  " + shown(tailoring_words(made)))


def _percent_words(percent: float | None) -> str:
    """The change in percent beside a verdict, as ' (+40%)', or nothing."""
    return _(" ({percent:+.0f}%)", percent=percent) if percent is not None else ""


def _verdict_words(improvement: bool, worsening: bool) -> str:
    """Whether a change is clinically important, and which way."""
    if improvement:
        return _(" clinically important improvement")
    if worsening:
        return _(" clinically important worsening")
    return ""
