"""Where exports go and how they are written: predictable names, private files, no clobbering."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _


class ExportExists(KinesioError):
    """The target file exists and overwriting was not asked for."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            _("File exists"), _("{path} already exists; use --force to replace it.", path=path)
        )
        self.path = path


def default_export_dir() -> Path:
    """The user's export folder (created private, 0700)."""
    from kinesio_tui.locations import data_dir, private_dir

    return private_dir(data_dir() / "exports")


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
    return f"patient-{int(patient_id):04d}-{what}-{today.isoformat()}.{fmt}"


def prepare_dir(out_dir: Path) -> Path:
    """Create `out_dir` private (0700) if missing; an existing folder is left as it is."""
    out_dir = Path(out_dir).expanduser()
    if not out_dir.exists():
        out_dir.mkdir(parents=True, mode=0o700)
        os.chmod(out_dir, 0o700)
    elif not out_dir.is_dir():
        raise KinesioError(_("Not a folder"), _("{path} is not a folder.", path=out_dir))
    return out_dir


def write_private(path: Path, text: str, *, overwrite: bool = False) -> Path:
    """Write `text` to `path` readable by the owner only (0600).

    Without `overwrite` the file is created exclusively (O_EXCL: an existing file or a
    planted symlink is refused). With it, a temporary file is renamed over the target, so
    a reader never sees half a report.
    """
    data = text.encode("utf-8")
    if not overwrite:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise ExportExists(path) from None
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(path, 0o600)
        return path
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".export-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
