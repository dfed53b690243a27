"""`kinesio today` (the day's visits) and `kinesio closures` (the days the clinic is closed)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from kinesio_tui import clock
from kinesio_tui.cli.database import clinic_db
from kinesio_tui.cli.options import DbOption
from kinesio_tui.cli.refusal import fail
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.plain_text import shown

day_app = typer.Typer()
closures_app = typer.Typer(
    help=_("List, add or remove the days the clinic is closed (no visit is planned on them)."),
    no_args_is_help=True,
)


def _date(field: str, value: str) -> date:
    from kinesio_tui.domain.validate import parse_date

    try:
        return parse_date(field, value)
    except KinesioError as error:
        raise fail(error) from None


@day_app.command("today", help=_("The visits due today (and overdue ones), in time order."))
def today(
    ctx: typer.Context,
    on: Annotated[
        str | None, typer.Option("--date", help=_("Another day, YYYY-MM-DD."), show_default=False)
    ] = None,
    therapist: Annotated[
        str | None,
        typer.Option(
            "--therapist",
            help=_("Only the visits this therapist holds, and those no one has started."),
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from kinesio_tui.domain import validate as v
    from kinesio_tui.domain.today import day_list, day_row_cells

    day = _date("date", on) if on else clock.today()
    try:
        who = v.bounded_text("therapist", therapist, max_len=v.MAX_NAME) if therapist else None
    except KinesioError as error:
        raise fail(error) from None
    with clinic_db(ctx, db) as conn:
        rows = day_list(conn, day, therapist=who)
        table = Table(
            _("Time"), _("Patient"), _("Visit"), _("Kind"), _("Therapist"), _("Status"),
            _("Alert"), box=None,
        )  # fmt: skip
        for row in rows:
            cells = day_row_cells(row, day)
            # Text, not str: Rich reads a str cell as markup
            table.add_row(
                *(Text(shown(cell)) for cell in cells[:-1]), Text(cells[-1], style="bold red")
            )
        console = Console()
        if not console.is_terminal:
            console = Console(width=200)
        console.print(Text(_("Visits of {day}", day=day.strftime("%A %Y-%m-%d")), style="bold"))
        if rows:
            console.print(table)
        else:
            typer.echo(_("No visits due."))


@closures_app.command(
    "list", help=_("The closed days of a year: public holidays and the clinic's own.")
)
def closures_list(
    year: Annotated[
        int | None,
        typer.Option(
            "--year",
            min=1900,
            max=2999,
            help=_("Which year (default: this one)."),
            show_default=False,
        ),
    ] = None,
) -> None:
    from kinesio_tui.holidays import holiday_tables, public_holidays
    from kinesio_tui.settings import closures_path, load_closures

    try:
        closures = load_closures()
    except KinesioError as error:
        raise fail(error) from None
    year = year or clock.today().year
    days = {d: name for d, name in public_holidays(closures.public_holidays, year).items()}
    own = {c.day: c.reason or _("clinic closed") for c in closures.own if c.day.year == year}
    table = holiday_tables().get(closures.public_holidays)
    typer.echo(
        _(
            "Closed days in {year} ({holidays}; the clinic's own from {path}):",
            year=year,
            holidays=_("public holidays of {name}", name=table.name)
            if table
            else _("no public holidays"),
            path=closures_path(),
        )
    )
    for day in sorted({*days, *own}):
        what = own.get(day) or days[day]
        mark = _("clinic") if day in own else _("holiday")
        typer.echo(
            _(
                "{day}  {weekday}  {mark} {what}",
                day=day.isoformat(),
                weekday=day.strftime("%a"),
                mark=mark.ljust(8),
                what=shown(what),
            )
        )


@closures_app.command("add", help=_("Close the clinic on a day (no visit is planned on it)."))
def closures_add(
    day: Annotated[str, typer.Argument(help=_("The date, YYYY-MM-DD."))],
    reason: Annotated[str, typer.Option("--reason", help=_("Why (shown in lists)."))] = "",
) -> None:
    from dataclasses import replace

    from kinesio_tui.domain import validate as v
    from kinesio_tui.settings import ClosedDay, load_closures, save_closures

    closed = _date("date", day)
    try:
        why = v.bounded_text("reason", reason, max_len=200)
        if "\n" in why or "\t" in why:
            raise KinesioError(_("Invalid reason"), _("reason: should be on one line."))
        closures = load_closures()
        own = [c for c in closures.own if c.day != closed]
        save_closures(replace(closures, own=(*own, ClosedDay(closed, why))))
    except KinesioError as error:
        raise fail(error) from None
    except OSError as error:
        raise fail(KinesioError(_("Cannot save closures"), str(error.strerror))) from None
    typer.echo(_("Closed on {day}.", day=closed.isoformat()))


@closures_app.command("remove", help=_("Open the clinic again on a day the clinic had closed."))
def closures_remove(day: Annotated[str, typer.Argument(help=_("The date, YYYY-MM-DD."))]) -> None:
    from dataclasses import replace

    from kinesio_tui.settings import load_closures, save_closures

    closed = _date("date", day)
    try:
        closures = load_closures()
        own = tuple(c for c in closures.own if c.day != closed)
        if len(own) == len(closures.own):
            raise KinesioError(
                _("Not closed"),
                _(
                    "date: {day} is not one of the clinic's own closed days (public holidays stay).",
                    day=day,
                ),
            )
        save_closures(replace(closures, own=own))
    except KinesioError as error:
        raise fail(error) from None
    except OSError as error:
        raise fail(KinesioError(_("Cannot save closures"), str(error.strerror))) from None
    typer.echo(_("Open again on {day}.", day=closed.isoformat()))
