"""`kinesio export` and `kinesio templates path|copy`.

Registered on the main app from the end of cli.py. Jinja2 and the export code load inside
the commands, so `kinesio --help` stays fast. Output: the written paths on stdout; the
progress bar and per-patient problems on stderr (ids only, never patient text).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from kinesio_tui.cli import DbOption, clinic_db, fail, find_one_patient
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.plain_text import shown


class KindChoice(StrEnum):
    summary = "summary"
    visit = "visit"
    module = "module"


class FormatChoice(StrEnum):
    md = "md"
    html = "html"


templates_app = typer.Typer(
    help="Report templates: where a clinic's own versions go.", no_args_is_help=True
)


def export(
    patient: Annotated[
        str | None, typer.Argument(help="Patient id or a unique search (or use --all).")
    ] = None,
    kind: Annotated[
        KindChoice, typer.Option("--kind", help="Report: summary, visit note or module report.")
    ] = KindChoice.summary,
    fmt: Annotated[FormatChoice, typer.Option("--format", help="md or html.")] = FormatChoice.html,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the files (default: your exports folder)."),
    ] = None,
    visit: Annotated[
        int | None,
        typer.Option(
            "--visit", min=1, help="Visit number in the programme (default: the latest held)."
        ),
    ] = None,
    module: Annotated[
        int | None,
        typer.Option("--module", min=1, help="Module number (default: the latest reported)."),
    ] = None,
    all_patients: Annotated[
        bool, typer.Option("--all", help="Every active patient, with a progress bar.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace files that exist.")] = False,
    db: DbOption = None,
) -> None:
    """Write a patient summary, visit note or module report as Markdown or printable HTML."""
    from kinesio_tui.export import export_patient
    from kinesio_tui.export.files import export_dir_path

    if all_patients == (patient is not None):
        raise fail(KinesioError(_("Which patient?"), _("Give a patient id or search, or --all.")))
    if all_patients and visit is not None:
        raise fail(KinesioError(_("Which visit?"), _("--visit needs one patient, not --all.")))
    with clinic_db(db) as conn:
        # Created (0700, with any missing parents) only when a report is written into it.
        out_dir = out.expanduser() if out else export_dir_path()
        options: dict[str, Any] = {
            "kind": kind.value,
            "fmt": fmt.value,
            "out_dir": out_dir,
            "module": module,
            "overwrite": force,
        }
        if not all_patients:
            assert patient is not None
            found = find_one_patient(conn, patient)
            visit_id = _visit_id(conn, found.id, visit) if visit is not None else None
            typer.echo(shown(export_patient(conn, found.id, visit_id=visit_id, **options)))
            return
        _export_all(conn, options)


def _visit_id(conn: Any, patient_id: int, seq: int) -> int:
    """The id of visit number `seq` in the patient's current episode."""
    from kinesio_tui.domain import current_episode, visits_of

    episode = current_episode(conn, patient_id)
    if episode is None:
        raise KinesioError(
            _("No episode of care"), _("Patient {id} has no episode of care.", id=patient_id)
        )
    for v in visits_of(conn, episode.id):
        if v.seq == seq:
            return v.id
    raise KinesioError(_("No such visit"), _("The programme has no visit {n}.", n=seq))


def _export_all(conn: Any, options: dict[str, Any]) -> None:
    """Every active patient; patients with nothing to report are skipped and counted.

    A file that cannot be written (full disk, read-only folder) stops the run: the rest
    would fail the same way. Exit 2 when anything was refused or could not be written.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from kinesio_tui.domain import count_patients, find_patients
    from kinesio_tui.export import ExportExists, ExportWriteFailed, export_patient

    patients = find_patients(conn, "", limit=max(1, count_patients(conn)))
    written = skipped = refused = 0
    failed: ExportWriteFailed | None = None
    err = Console(stderr=True)

    def say(line: str) -> None:
        err.print(line, markup=False, highlight=False, soft_wrap=True)

    with Progress(
        TextColumn(_("Exporting")),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("export", total=len(patients))
        for p in patients:
            try:
                path = export_patient(conn, p.id, **options)
            except ExportExists as error:
                refused += 1
                say(_("patient {id}: {why}", id=p.id, why=error.message))
            except ExportWriteFailed as error:
                failed = error
                say(_("patient {id} not written: {why}", id=p.id, why=error.message))
                break
            except KinesioError as error:
                skipped += 1
                say(_("patient {id} skipped: {why}", id=p.id, why=error.message))
            else:
                written += 1
                typer.echo(shown(path))
            bar.advance(task)
    if failed is not None:
        say(
            _(
                "Stopped: {written} written, {left} not written; nothing half-written was left.",
                written=written,
                left=len(patients) - written - skipped - refused,
            )
        )
        raise typer.Exit(code=2)
    say(
        _(
            "{written} written, {skipped} skipped, {refused} refused (exist; use --force).",
            written=written,
            skipped=skipped,
            refused=refused,
        )
    )
    if refused:
        raise typer.Exit(code=2)


@templates_app.command("path")
def templates_path() -> None:
    """Print the folder where a clinic's own templates override the built-in ones."""
    from kinesio_tui.export.render import override_dir

    typer.echo(str(override_dir()))


@templates_app.command("copy")
def templates_copy() -> None:
    """Seed the override folder with the built-in templates (existing files are kept)."""
    from kinesio_tui.export.render import builtin_template_dir, override_dir
    from kinesio_tui.locations import private_dir
    from kinesio_tui.private_files import TargetExists, write_private_file

    try:
        source = builtin_template_dir()
    except KinesioError as error:
        raise fail(error) from None
    target = override_dir()
    copied = kept = 0
    try:
        private_dir(target)
        for path in sorted(source.rglob("*")):
            if not path.is_file() or path.suffix not in {".j2", ".css"}:
                continue
            dest = target / path.relative_to(source)
            if not dest.parent.is_dir():
                private_dir(dest.parent)  # 0700 like the folder above, whatever the umask
            try:
                write_private_file(dest, path.read_bytes())  # 0600, whole or not at all
            except TargetExists:
                kept += 1
            else:
                copied += 1
    except OSError as error:
        from kinesio_tui.crash import known_failure

        raise fail(
            known_failure(error)
            or KinesioError(_("Cannot copy templates"), f"{error.strerror}: {error.filename}")
        ) from None
    typer.echo(
        _(
            "{copied} templates copied, {kept} already there: {dir}",
            copied=copied,
            kept=kept,
            dir=target,
        )
    )


def register(app: typer.Typer) -> None:
    """Add `export` and `templates` to the main `kinesio` app."""
    app.command("export")(export)
    app.add_typer(templates_app, name="templates")
