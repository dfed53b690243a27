"""The clinic outcome report: `kinesio export --kind outcomes` (HTML or Markdown).

Counts only, no patient: the report names no one, so its file name has no patient id.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

from kinesio_tui import clock
from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.clinic_outcomes import (
    ClinicOutcomes,
    GroupOutcome,
    clinic_outcomes,
    period_words,
    prom_words,
    share_words,
)
from kinesio_tui.export.files import ExportWriteFailed, prepare_dir, write_private
from kinesio_tui.export.render import render
from kinesio_tui.i18n import _
from kinesio_tui.private_files import leftover_pid
from kinesio_tui.protocol import protocol
from kinesio_tui.units import number_text

Format = Literal["md", "html"]


def outcomes_name(fmt: str, today: date, since: date | None, until: date | None) -> str:
    """clinic-outcomes-2026-11-25.html, or with the period asked for:
    clinic-outcomes-2026-01-01-to-2026-06-30.html."""
    if since is None and until is None:
        return f"clinic-outcomes-{today.isoformat()}.{fmt}"
    first = since.isoformat() if since else "start"
    return f"clinic-outcomes-{first}-to-{(until or today).isoformat()}.{fmt}"


def _group(g: GroupOutcome) -> dict[str, Any]:
    return {
        "label": g.label,
        "level": "condition" if g.subtype is None else "subtype",
        "ended": g.ended,
        "completed": g.completed,
        "on_hold": g.on_hold,
        "dropped_out": g.dropped_out,
        "with_vas": g.with_vas,
        "pain_gone": share_words(g.pain_gone_share),
        "pain_gone_of_ended": share_words(g.pain_gone_of_ended),
        "improved": share_words(g.improved_share),
        "worsened": share_words(g.worsened_share),
        "published": (
            f"{number_text(g.published_percent)} %" if g.published_percent is not None else None
        ),
        "published_source": g.published_source,
        "proms": [prom_words(p) for p in g.proms],
    }


def outcomes_context(summary: ClinicOutcomes, today: date) -> dict[str, Any]:
    """What the outcome report's templates read: plain words and numbers, no objects."""
    rules = protocol().outcomes
    return {
        "title": _("Clinic outcomes"),
        "today": today.isoformat(),
        "programme": protocol().name,
        "period": period_words(summary, today),
        "ended": summary.ended,
        "rules": {
            "pain_gone": number_text(summary.pain_gone_vas_at_most),
            "pain_points": number_text(summary.pain_points),
            "fewest": summary.fewest_for_percent,
            "source": rules.default,
        },
        "groups": [_group(g) for g in summary.groups],
    }


def render_outcomes(
    db: ClinicDB,
    fmt: Format,
    *,
    since: date | None = None,
    until: date | None = None,
    today: date | None = None,
) -> str:
    """The clinic outcome report as Markdown or self-contained HTML."""
    today = today or clock.today()
    summary = clinic_outcomes(db, since=since, until=until)
    return render("outcomes", fmt, outcomes_context(summary, today))


def export_outcomes(
    db: ClinicDB,
    fmt: Format,
    out_dir: Path,
    *,
    since: date | None = None,
    until: date | None = None,
    overwrite: bool = False,
    today: date | None = None,
) -> Path:
    """Write the clinic outcome report into `out_dir` (0600, whole or not at all); an
    existing file is replaced only with `overwrite` (else `ExportExists`)."""
    today = today or clock.today()
    text = render_outcomes(db, fmt, since=since, until=until, today=today)
    name = outcomes_name(fmt, today, since, until)
    out_dir = Path(out_dir).expanduser()
    try:
        return write_private(prepare_dir(out_dir) / name, text, overwrite=overwrite)
    except OSError as error:
        raise ExportWriteFailed(
            _("Cannot write the export"),
            _("{why}: {path}", why=error.strerror or error, path=_where(error, out_dir / name)),
        ) from None


def _where(error: OSError, target: Path) -> object:
    """The path to name in a write error: the report's, never its hidden temporary name."""
    if not error.filename or leftover_pid(Path(str(error.filename)).name) is not None:
        return target
    return error.filename
