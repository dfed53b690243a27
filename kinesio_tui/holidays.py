"""Public holidays from their rules in `data/holidays.toml`: fixed dates, days counted from
Easter, the n-th Sunday of a month. Pure: no clock, no settings; the year is passed in."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from kinesio_tui.errors import KinesioError

#: The choice that turns public holidays off.
NO_HOLIDAYS = "none"
#: Beside the protocol's data files (read as protocol.py reads them: importlib.resources
#: added five modules to the workstation's start, which reads settings, for this one file).
HOLIDAYS_FILE = Path(__file__).parent / "data" / "holidays.toml"


@dataclass(frozen=True)
class HolidayRules:
    """One country's public holidays as its law lists them."""

    code: str
    name: str
    source: str
    rules: tuple[dict[str, Any], ...]


def easter_sunday(year: int) -> date:
    """Western (Gregorian) Easter Sunday: the anonymous Gregorian algorithm (Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _broken(what: str) -> KinesioError:
    return KinesioError("Broken holidays file", f"data/holidays.toml: {what}.")


@cache
def holiday_tables() -> dict[str, HolidayRules]:
    """Every country's rules, by code (read once)."""
    raw = tomllib.loads(HOLIDAYS_FILE.read_text(encoding="utf-8"))
    tables = {}
    for code, table in raw.items():
        if not isinstance(table, dict):
            raise _broken(f"[{code}] should be a table")
        rules: list[dict[str, Any]] = []
        for kind in ("fixed", "easter", "nth_sunday"):
            for rule in table.get(kind, []):
                if not isinstance(rule, dict) or not isinstance(rule.get("name"), str):
                    raise _broken(f"{code}.{kind}: each rule needs a name")
                rules.append({"kind": kind, **rule})
        tables[code] = HolidayRules(
            code, str(table.get("name", code)), str(table.get("source", "")), tuple(rules)
        )
    return tables


def _day_of(rule: dict[str, Any], year: int) -> date:
    kind = rule["kind"]
    try:
        if kind == "fixed":
            month, day = (int(part) for part in str(rule["date"]).split("-"))
            return date(year, month, day)
        if kind == "easter":
            return easter_sunday(year) + timedelta(days=int(rule["days"]))
        first = date(year, int(rule["month"]), 1)
        sunday = first + timedelta(days=(6 - first.weekday()) % 7)
        return sunday + timedelta(weeks=int(rule["n"]) - 1)
    except (KeyError, ValueError) as error:
        raise _broken(f"the rule {rule['name']!r} is incomplete ({error})") from None


@cache
def public_holidays(country: str, year: int) -> dict[date, str]:
    """The country's public holidays in `year`: day -> name (empty for "none")."""
    if country == NO_HOLIDAYS:
        return {}
    table = holiday_tables().get(country)
    if table is None:
        raise KinesioError(
            "Unknown public holidays",
            f"{country!r}: known are {', '.join([*holiday_tables(), NO_HOLIDAYS])}.",
        )
    days = {}
    for rule in table.rules:
        if not rule.get("since", year) <= year <= rule.get("until", year):
            continue
        days[_day_of(rule, year)] = rule["name"]
    return dict(sorted(days.items()))
