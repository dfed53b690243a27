"""The clinic's calendar: which days are open, the cadence a plan keeps, and the timing facts a
plan should respect. Pure functions on dates (the closures are passed in); the one reader of
the closures file is `clinic_closures`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

from kinesio_tui.i18n import _
from kinesio_tui.protocol import Protocol
from kinesio_tui.settings import Closures, load_closures

#: Monday .. Friday: a plan never uses a Saturday or a Sunday, whatever the cadence.
WORKING_WEEKDAYS = (0, 1, 2, 3, 4)
#: Looking further than this for an open day means the closures close everything.
_MAX_SEARCH_DAYS = 400


def clinic_closures() -> Closures:
    """The clinic's closures as its settings say (public holidays and its own dates)."""
    return load_closures()


def closed_reason(day: date, closures: Closures) -> str | None:
    """Why no visit can be planned on `day`: a weekend, a holiday, the clinic's own date."""
    if day.weekday() not in WORKING_WEEKDAYS:
        return _("a weekend")
    return closures.closed_on(day)


def next_open_day(
    after: date, weekdays: Iterable[int], closures: Closures, *, inclusive: bool = False
) -> date:
    """The first day on / strictly after `after` that is one of `weekdays` and open."""
    wanted = set(weekdays) & set(WORKING_WEEKDAYS) or set(WORKING_WEEKDAYS)
    day = after if inclusive else after + timedelta(days=1)
    for _step in range(_MAX_SEARCH_DAYS):
        if day.weekday() in wanted and closed_reason(day, closures) is None:
            return day
        day += timedelta(days=1)
    raise ValueError("no open clinic day within a year")  # closures covering a whole year


def cadence_of(days: Iterable[date], default: tuple[int, ...]) -> tuple[int, ...]:
    """The weekdays a plan keeps: those at least a quarter of its days fall on (a visit moved
    once for a holiday does not count), else the clinic's own rhythm (`default`)."""
    counted = Counter(day.weekday() for day in days)
    total = sum(counted.values())
    used = tuple(sorted(d for d, n in counted.items() if n * 4 >= total and d in WORKING_WEEKDAYS))
    return used if total >= 4 and len(used) >= 2 else default


def timing_warnings(days_by_module: dict[int, list[date]], proto: Protocol) -> list[str]:
    """The seed's timing facts a plan breaks: a module shorter than the days root
    inflammation needs to settle, or longer than the weeks a module should take."""
    shortest = proto.timing.inflammation_settles_days
    longest_weeks = proto.timing.module_weeks[1]
    warnings = []
    for module, days in sorted(days_by_module.items()):
        if len(days) < 2:
            continue
        span = (max(days) - min(days)).days + 1
        if span < shortest:
            warnings.append(
                _(
                    "Module {m} spans {n} days: root inflammation needs at least {d} days "
                    "to settle.",
                    m=module,
                    n=span,
                    d=shortest,
                )
            )
        elif span > longest_weeks * 7:
            warnings.append(
                _(
                    "Module {m} spans {n} days: longer than the {w} weeks a module should take.",
                    m=module,
                    n=span,
                    w=longest_weeks,
                )
            )
    return warnings
