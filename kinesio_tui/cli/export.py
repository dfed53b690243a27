"""`kinesio export`: a patient summary, visit note, module report or home-exercise sheet, or
one for everyone.

Output: the written paths on stdout; the progress bar and per-patient problems on stderr
(ids only, never patient text).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, cast

import typer

from kinesio_tui.cli.database import clinic_db
from kinesio_tui.cli.options import DbOption
from kinesio_tui.cli.outcomes import FromOption, ToOption
from kinesio_tui.cli.patients import find_one_patient
from kinesio_tui.cli.refusal import fail
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.plain_text import shown

if TYPE_CHECKING:
    from kinesio_tui.data.db import ClinicDB
    from kinesio_tui.export import Format, Kind
    from kinesio_tui.export.batch import Job


class KindChoice(StrEnum):
    summary = "summary"
    visit = "visit"
    module = "module"
    exercises = "exercises"
    outcomes = "outcomes"


class FormatChoice(StrEnum):
    md = "md"
    html = "html"
    fhir = "fhir"


export_app = typer.Typer()


@export_app.command(
    "export",
    help=_(
        "Write a patient summary, visit note, module report or home-exercise sheet, or the "
        "clinic's outcome report (--kind outcomes, no patient), as Markdown or printable HTML; "
        "or a patient's whole record as a FHIR R4B bundle (--format fhir)."
    ),
)
def export(
    ctx: typer.Context,
    patient: Annotated[
        str | None, typer.Argument(help=_("Patient id or a unique search (or use --all)."))
    ] = None,
    kind: Annotated[
        KindChoice,
        typer.Option(
            "--kind",
            help=_(
                "Report: summary, visit note, module report, the patient's home exercises "
                "(exercises), or the clinic's outcomes."
            ),
        ),
    ] = KindChoice.summary,
    fmt: Annotated[
        FormatChoice,
        typer.Option("--format", help=_("md, html, or fhir (the whole record, JSON).")),
    ] = FormatChoice.html,
    out: Annotated[
        Path | None,
        typer.Option("--out", help=_("Folder for the files (default: your exports folder).")),
    ] = None,
    visit: Annotated[
        int | None,
        typer.Option(
            "--visit", min=1, help=_("Visit number in the programme (default: the latest held).")
        ),
    ] = None,
    module: Annotated[
        int | None,
        typer.Option(
            "--module",
            min=1,
            help=_("Module number (default: the latest reported; for exercises, the current one)."),
        ),
    ] = None,
    all_patients: Annotated[
        bool, typer.Option("--all", help=_("Every active patient, with a progress bar."))
    ] = False,
    force: Annotated[bool, typer.Option("--force", help=_("Replace files that exist."))] = False,
    since: FromOption = None,
    until: ToOption = None,
    db: DbOption = None,
) -> None:
    from kinesio_tui.export import export_patient
    from kinesio_tui.export.files import export_dir_path

    if fmt is FormatChoice.fhir and (
        kind is not KindChoice.summary or visit is not None or module is not None
    ):
        raise fail(
            KinesioError(
                _("The whole record"),
                _("--format fhir writes the whole record: leave out --kind, --visit and --module."),
            )
        )
    if kind is KindChoice.outcomes:
        _export_outcomes(
            ctx, patient, all_patients, visit, module, fmt, out, force, since, until, db
        )
        return
    if since is not None or until is not None:
        raise fail(KinesioError(_("Which report?"), _("--from and --to are for --kind outcomes.")))
    if all_patients == (patient is not None):
        raise fail(KinesioError(_("Which patient?"), _("Give a patient id or search, or --all.")))
    if kind is KindChoice.exercises and visit is not None:
        raise fail(KinesioError(_("Which visit?"), _("--visit is for --kind visit.")))
    if all_patients and visit is not None:
        raise fail(KinesioError(_("Which visit?"), _("--visit needs one patient, not --all.")))
    # Created (0700, with any missing parents) only when a report is written into it.
    out_dir = out.expanduser() if out else export_dir_path()
    with clinic_db(ctx, db) as conn:
        if all_patients:
            from kinesio_tui import clock
            from kinesio_tui.domain.patients import count_patients
            from kinesio_tui.domain.search import search_rows
            from kinesio_tui.export.batch import Job, without_episode

            # the list's order, ids only (not 100,000 Patients made to be dropped)
            names, rows = search_rows(conn, "", limit=max(1, count_patients(conn)), columns=("id",))
            at = names.index("id")
            patients = [int(row[at]) for row in rows]
            from kinesio_tui.settings import current_settings

            job = Job(
                conn.target,
                kind.value,
                fmt.value,
                out_dir,
                module,
                force,
                clock.today(),
                # read once for the run: a broken file is said once, before anything starts
                clinic=current_settings().clinic,
            )
            no_episode = without_episode(conn, job, patients)
        else:
            assert patient is not None
            found = find_one_patient(conn, patient).id
            if fmt is FormatChoice.fhir:
                from kinesio_tui.export.fhir import export_fhir

                written = export_fhir(conn, found, out_dir=out_dir, overwrite=force)
            else:
                visit_id = _visit_id(conn, found, visit) if visit is not None else None
                written = export_patient(
                    conn,
                    found,
                    kind=cast("Kind", kind.value),  # outcomes and fhir are handled above
                    fmt=cast("Format", fmt.value),
                    out_dir=out_dir,
                    visit_id=visit_id,
                    module=module,
                    overwrite=force,
                )
            typer.echo(shown(written))
            return
    # every patient: by a pool of processes, after this one's connection is closed
    _export_all(job, patients, no_episode)


def _visit_id(conn: ClinicDB, patient_id: int, seq: int) -> int:
    """The id of visit number `seq` in the patient's current episode."""
    from kinesio_tui.domain.episodes import current_episode
    from kinesio_tui.domain.visits import visits_of

    episode = current_episode(conn, patient_id)
    if episode is None:
        raise KinesioError(
            _("No episode of care"), _("Patient {id} has no episode of care.", id=patient_id)
        )
    for v in visits_of(conn, episode.id):
        if v.seq == seq:
            return v.id
    raise KinesioError(_("No such visit"), _("The programme has no visit {n}.", n=seq))


def _export_all(job: Job, patients: list[int], no_episode: frozenset[int]) -> None:
    """Every active patient; patients with nothing to report are skipped and counted.

    A patient whose report cannot be made (a broken template, a record the code cannot
    read) is named by id and the rest go on; exit 1 then. A file that cannot be written
    (full disk, read-only folder) stops the run: the rest would fail the same way. Exit 2
    when a file could not be written or existed (refused without --force).
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from kinesio_tui.export.batch import EveryoneExport, Outcome, default_workers

    written = skipped = refused = failed = 0
    stopped = False
    err = Console(stderr=True)

    def say(line: str) -> None:
        err.print(line, markup=False, highlight=False, soft_wrap=True)

    def told(outcome: Outcome) -> str | None:
        """Count one patient's outcome; the line to say about it (None: its path, or
        nothing after the run stopped)."""
        nonlocal written, skipped, refused, failed, stopped
        pid, why = outcome.patient_id, outcome.why
        if outcome.status == "written":
            written += 1
            typer.echo(shown(outcome.path))
            return None
        if stopped:
            return None  # after the write failure: the rest of that page is not told
        if outcome.status == "exists":
            refused += 1
            return _("patient {id}: {why}", id=pid, why=why)
        if outcome.status == "skipped":
            skipped += 1
            return _("patient {id} skipped: {why}", id=pid, why=why)
        if outcome.status == "failed":
            failed += 1
            return _("patient {id} failed: {why}", id=pid, why=why)
        stopped = True  # unwritable
        return _("patient {id} not written: {why}", id=pid, why=why)

    # the workers are forked first, before the bar starts its thread
    with (
        EveryoneExport(job, patients, workers=default_workers(), without_episode=no_episode) as run,
        Progress(
            TextColumn(_("Exporting")),
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            transient=True,
        ) as bar,
    ):
        task = bar.add_task("export", total=len(patients))
        for page in run.pages():
            # a page's lines in one print: the bar is redrawn once a page, not once a line
            lines = [line for outcome in page if (line := told(outcome)) is not None]
            if lines:
                say("\n".join(lines))
            bar.advance(task, len(page))
            if stopped:
                run.stop()
    if stopped:
        say(
            _(
                "Stopped: {written} written, {left} not written; nothing half-written was left.",
                written=written,
                left=len(patients) - written - skipped - refused - failed,
            )
        )
        raise typer.Exit(code=2)
    summary = _(
        "{written} written, {skipped} skipped, {refused} refused (exist; use --force).",
        written=written,
        skipped=skipped,
        refused=refused,
    )
    if failed:
        summary += " " + _("{failed} failed (named above).", failed=failed)
    say(summary)
    if failed:
        raise typer.Exit(code=1)
    if refused:
        raise typer.Exit(code=2)


def _export_outcomes(
    ctx: typer.Context,
    patient: str | None,
    all_patients: bool,
    visit: int | None,
    module: int | None,
    fmt: FormatChoice,
    out: Path | None,
    force: bool,
    since: str | None,
    until: str | None,
    db: str | None,
) -> None:
    """The clinic's outcome report: counts over every patient, so no patient is named."""
    from kinesio_tui.domain.validate import parse_date
    from kinesio_tui.export.files import export_dir_path
    from kinesio_tui.export.outcomes import export_outcomes

    if patient is not None or all_patients or visit is not None or module is not None:
        raise fail(
            KinesioError(
                _("One report for the clinic"),
                _("--kind outcomes takes no patient, --all, --visit or --module."),
            )
        )
    with clinic_db(ctx, db) as conn:
        first = parse_date("--from", since) if since is not None else None
        last = parse_date("--to", until) if until is not None else None
        out_dir = out.expanduser() if out else export_dir_path()
        report: Literal["md", "html"] = "md" if fmt is FormatChoice.md else "html"
        written = export_outcomes(conn, report, out_dir, since=first, until=last, overwrite=force)
        typer.echo(shown(written))
