"""`kinesio outcomes`: the clinic's results counted from its own ended episodes."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kinesio_tui import clock
from kinesio_tui.cli.database import clinic_db
from kinesio_tui.cli.options import DbOption
from kinesio_tui.i18n import _
from kinesio_tui.plain_text import shown

if TYPE_CHECKING:
    from datetime import date

    from kinesio_tui.domain.clinic_outcomes import ClinicOutcomes, GroupOutcome, Share


class OutcomesFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


outcomes_app = typer.Typer()

FromOption = Annotated[
    str | None,
    typer.Option("--from", help=_("Count episodes that ended on or after this day (YYYY-MM-DD).")),
]
ToOption = Annotated[
    str | None,
    typer.Option("--to", help=_("Count episodes that ended on or before this day (YYYY-MM-DD).")),
]


@outcomes_app.command(
    "outcomes",
    help=_(
        "The clinic's results by condition and subtype, counted from its ended episodes: "
        "pain gone, better, worse, on hold, dropped out, beside the clinic's published figures."
    ),
)
def outcomes(
    ctx: typer.Context,
    since: FromOption = None,
    until: ToOption = None,
    fmt: Annotated[
        OutcomesFormat, typer.Option("--format", help=_("text, json or markdown."))
    ] = OutcomesFormat.text,
    db: DbOption = None,
) -> None:
    from kinesio_tui.domain.clinic_outcomes import clinic_outcomes
    from kinesio_tui.domain.validate import parse_date

    with clinic_db(ctx, db) as conn:
        first = parse_date("--from", since) if since is not None else None
        last = parse_date("--to", until) if until is not None else None
        today = clock.today()
        summary = clinic_outcomes(conn, since=first, until=last)
        if fmt is OutcomesFormat.json:
            typer.echo(json.dumps(_as_json(summary, today), ensure_ascii=False, indent=2))
        elif fmt is OutcomesFormat.markdown:
            from kinesio_tui.export.outcomes import outcomes_context
            from kinesio_tui.export.render import render

            report = render("outcomes", "md", outcomes_context(summary, today))
            typer.echo(report, nl=False)
        else:
            for line in _text(summary, today):
                typer.echo(shown(line))


def _text(summary: ClinicOutcomes, today: date) -> list[str]:
    from kinesio_tui.domain.clinic_outcomes import period_words, prom_words, share_words
    from kinesio_tui.units import number_text

    lines = [
        _(
            "Clinic outcomes: {period} ({n} episodes)",
            period=period_words(summary, today),
            n=summary.ended,
        ),
        _(
            "Pain gone: the last VAS of a completed programme at most {vas}/10 (a standard "
            "default in protocol.toml the clinic can change). Better or worse: the VAS moved "
            "at least {points} points. Under {fewest} episodes: counts only.",
            vas=number_text(summary.pain_gone_vas_at_most),
            points=number_text(summary.pain_points),
            fewest=summary.fewest_for_percent,
        ),
    ]
    for g in summary.groups:
        indent = "  " if g.subtype is not None else ""
        lines.append("")
        lines.append(
            indent
            + _(
                "{label}: {ended} ended: {completed} completed, {held} on hold / referred, "
                "{dropped} dropped out",
                label=g.label,
                ended=g.ended,
                completed=g.completed,
                held=g.on_hold,
                dropped=g.dropped_out,
            )
        )
        if g.ended == 0:
            continue
        pain = _(
            "Pain gone (completed, with baseline and final VAS): {share}",
            share=share_words(g.pain_gone_share),
        )
        if g.published_percent is not None:
            pain += _(
                "; the clinic publishes {percent} %", percent=number_text(g.published_percent)
            )
        lines.append(f"{indent}  {pain}")
        lines.append(
            indent
            + "  "
            + _("Pain gone (of all ended): {share}", share=share_words(g.pain_gone_of_ended))
        )
        lines.append(
            indent
            + "  "
            + _(
                "VAS better by {points} points or more: {better}; worse: {worse}",
                points=number_text(summary.pain_points),
                better=share_words(g.improved_share),
                worse=share_words(g.worsened_share),
            )
        )
        lines.extend(f"{indent}  {prom_words(p)}" for p in g.proms)
    return lines


def _share(share: Share) -> dict[str, Any]:
    interval = share.interval
    return {
        "count": share.count,
        "of": share.of,
        "percent": round(share.percent, 1) if share.percent is not None else None,
        "ci95": [round(interval[0], 1), round(interval[1], 1)] if interval else None,
    }


def _group(g: GroupOutcome) -> dict[str, Any]:
    return {
        "condition": g.condition,
        "subtype": g.subtype,
        "label": g.label,
        "ended": g.ended,
        "completed": g.completed,
        "on_hold_or_referred": g.on_hold,
        "dropped_out": g.dropped_out,
        "completed_with_baseline_and_final_vas": g.with_vas,
        "pain_gone": _share(g.pain_gone_share),
        "pain_gone_of_ended": _share(g.pain_gone_of_ended),
        "improved": _share(g.improved_share),
        "worsened": _share(g.worsened_share),
        "published_pain_gone_percent": g.published_percent,
        "questionnaires": [
            {
                "questionnaire": p.code,
                "mcid": p.mcid,
                "measured": p.measured,
                "improved": p.improved,
                "worsened": p.worsened,
            }
            for p in g.proms
        ],
    }


def _as_json(summary: ClinicOutcomes, today: date) -> dict[str, Any]:
    return {
        "from": summary.since.isoformat() if summary.since else None,
        "to": (summary.until or today).isoformat(),
        "rules": {
            "pain_gone_vas_at_most": summary.pain_gone_vas_at_most,
            "vas_change_points": summary.pain_points,
            "fewest_for_percent": summary.fewest_for_percent,
        },
        "groups": [_group(g) for g in summary.groups],
    }
