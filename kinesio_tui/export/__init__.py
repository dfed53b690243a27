"""Reports that leave the workstation: visit note, module report, patient summary, and
the patient's home-exercise sheet.

Public API: `export_patient`, `render_export`, `default_export_dir`, `ExportExists`.
Imports neither Textual nor Jinja2 (Jinja2 loads on the first render).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from kinesio_tui import clock
from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.patient_record import ReportPage
from kinesio_tui.errors import KinesioError
from kinesio_tui.export.context import build_context
from kinesio_tui.export.files import (
    ExportExists,
    ExportWriteFailed,
    default_export_dir,
    export_name,
    prepare_dir,
    write_private,
)
from kinesio_tui.export.render import render
from kinesio_tui.i18n import _
from kinesio_tui.private_files import leftover_pid

if TYPE_CHECKING:
    from kinesio_tui.clinic_identity import ClinicIdentity

Kind = Literal["summary", "visit", "module", "exercises"]
Format = Literal["md", "html"]
KINDS: tuple[Kind, ...] = ("summary", "visit", "module", "exercises")
FORMATS: tuple[Format, ...] = ("md", "html")

__all__ = [
    "FORMATS",
    "KINDS",
    "ExportExists",
    "ExportWriteFailed",
    "Format",
    "Kind",
    "default_export_dir",
    "export_patient",
    "prepare_export",
    "render_export",
    "write_export",
]


def _check(kind: str, fmt: str) -> None:
    if kind not in KINDS:
        raise KinesioError(_("Unknown report"), _("Choose summary, visit, module or exercises."))
    if fmt not in FORMATS:
        raise KinesioError(_("Unknown format"), _("Choose md or html."))


def _rendered(
    db: ClinicDB,
    patient_id: int,
    kind: Kind,
    fmt: Format,
    visit_id: int | None,
    module: int | None,
    today: date | None,
    page: ReportPage | None = None,
    clinic: ClinicIdentity | None = None,
) -> tuple[str, dict[str, Any]]:
    _check(kind, fmt)
    context = build_context(
        db,
        patient_id,
        kind=kind,
        visit_id=visit_id,
        module=module,
        today=today or clock.today(),
        page=page,
        clinic=clinic,
    )
    return render(kind, fmt, context, clinic), context


def render_export(
    db: ClinicDB,
    patient_id: int,
    *,
    kind: Kind,
    fmt: Format,
    visit_id: int | None = None,
    module: int | None = None,
    today: date | None = None,
) -> str:
    """The report as text (Markdown or self-contained HTML), without writing a file."""
    return _rendered(db, patient_id, kind, fmt, visit_id, module, today)[0]


def prepare_export(
    db: ClinicDB,
    patient_id: int,
    *,
    kind: Kind,
    fmt: Format,
    visit_id: int | None = None,
    module: int | None = None,
    today: date | None = None,
    page: ReportPage | None = None,
    clinic: ClinicIdentity | None = None,
) -> tuple[str, str]:
    """The report's file name and text, read and rendered but not written (`export_patient`
    without the file; `export --all` writes a page of them at once, read with `page`, and
    the clinic's settings read once for the run, `clinic`)."""
    today = today or clock.today()
    text, context = _rendered(db, patient_id, kind, fmt, visit_id, module, today, page, clinic)
    name = export_name(
        patient_id,
        kind,
        fmt,
        today,
        visit_seq=context["visit"]["seq"] if kind == "visit" else None,
        module=context["module"]["number"] if kind in ("module", "exercises") else None,
    )
    return name, text


def write_export(
    out_dir: Path, name: str, text: str, *, overwrite: bool = False, sync_name: bool = True
) -> Path:
    """Write a prepared report as `name` into `out_dir` (0600, whole or not at all): the
    file written; ExportExists, or ExportWriteFailed naming the report's path. With
    `sync_name` false the caller fsyncs the folder after its last file (`export --all`)."""
    target = Path(out_dir).expanduser() / name
    try:
        return write_private(
            prepare_dir(out_dir) / name, text, overwrite=overwrite, sync_name=sync_name
        )
    except OSError as error:
        raise ExportWriteFailed(
            _("Cannot write the export"),
            _("{why}: {path}", why=error.strerror or error, path=_where(error, target)),
        ) from None


def export_patient(
    db: ClinicDB,
    patient_id: int,
    *,
    kind: Kind,
    fmt: Format,
    out_dir: Path,
    visit_id: int | None = None,
    module: int | None = None,
    overwrite: bool = False,
    today: date | None = None,
) -> Path:
    """Write one report for a patient into `out_dir`; returns the file written (0600).

    Defaults: the latest held visit for a visit note; the latest module with a control or
    final doctor's appointment held for a module report; the current module for a
    home-exercise sheet (the last one once the programme is completed). Raises
    `ExportExists` when the file is there and `overwrite` is false, `KinesioError` when
    there is nothing to report.
    """
    name, text = prepare_export(
        db, patient_id, kind=kind, fmt=fmt, visit_id=visit_id, module=module, today=today
    )
    return write_export(out_dir, name, text, overwrite=overwrite)


def _where(error: OSError, target: Path) -> object:
    """The path to name in a write error: the report's, never its hidden temporary name."""
    if not error.filename or leftover_pid(Path(str(error.filename)).name) is not None:
        return target
    return error.filename
