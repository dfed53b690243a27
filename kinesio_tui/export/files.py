"""Where exports go and how they are written: predictable names, private files, no clobbering."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.locations import data_dir, private_dir
from kinesio_tui.private_files import TargetExists, write_private_file


class ExportExists(KinesioError):
    """The target file exists and overwriting was not asked for."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            _("File exists"), _("{path} already exists; use --force to replace it.", path=path)
        )
        self.path = path


class ExportWriteFailed(KinesioError):
    """The system would not let the report be written (full disk, read-only, no access)."""


def export_dir_path() -> Path:
    """Where exports go by default; not created until a report is written there."""
    return data_dir() / "exports"


def default_export_dir() -> Path:
    """The user's export folder (created private, 0700)."""
    return private_dir(export_dir_path())


def export_name(
    patient_id: int,
    kind: str,
    fmt: str,
    today: date,
    *,
    visit_seq: int | None = None,
    module: int | None = None,
) -> str:
    """patient-0001-summary-2026-11-25.html: ids, kind and date only, never patient text."""
    what = kind
    if kind == "visit" and visit_seq is not None:
        what = f"visit-{int(visit_seq):02d}"
    elif kind == "module" and module is not None:
        what = f"module-{int(module)}"
    elif kind == "exercises" and module is not None:
        what = f"exercises-module-{int(module)}"
    return f"patient-{int(patient_id):04d}-{what}-{today.isoformat()}.{fmt}"


def prepare_dir(out_dir: Path) -> Path:
    """Create `out_dir` and every missing folder above it private (0700), whatever the umask.

    An existing folder is left as it is.
    """
    out_dir = Path(out_dir).expanduser()
    if not out_dir.exists():
        private_dir(out_dir)
    elif not out_dir.is_dir():
        raise KinesioError(_("Not a folder"), _("{path} is not a folder.", path=out_dir))
    return out_dir


def write_private(
    path: Path, text: str, *, overwrite: bool = False, sync_name: bool = True
) -> Path:
    """Write `text` to `path` readable by the owner only (0600), whole or not at all.

    The report is written under a hidden temporary name in the same folder, fsynced, then
    named: a full disk leaves no file behind (a retry is not refused), a reader never sees
    half a report. Without `overwrite` an existing file (or a planted link) is refused.
    `sync_name` false leaves the folder's fsync to the caller (`export --all`: once a page).
    """
    try:
        return write_private_file(
            path, text.encode("utf-8"), replace=overwrite, sync_name=sync_name
        )
    except TargetExists:
        raise ExportExists(path) from None
