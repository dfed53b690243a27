"""Formatting for people: dates, numbers with their units, and Markdown-safe user text.

Pure functions, no Jinja2: the context builder and the template filters share them.
Formatted numbers come back as `markupsafe.Markup` because they carry no user text, so
the Markdown escaper leaves them readable (`-2` is not turned into `\\-2`).
"""

from __future__ import annotations

import functools
import math
import re
from datetime import date

from markupsafe import Markup

from kinesio_tui.units import DECIMALS, attach_unit, number_text

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MINUS = "\u2212"
NBSP = "\u00a0"  # keeps a number and its unit on one line in narrow table cells
DASH = "\u2014"

#: Characters that can start Markdown structure anywhere in a line (inline syntax, tables,
#: raw HTML, entities, GFM strikethrough). Escaped with a backslash wherever they occur.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~&!])")
#: Characters that only matter at the start of a line (headings, lists, quotes, breaks).
_MD_LEADING = re.compile(r"^(\s*)([#+\-=>]|\d+[.)])")
_NEWLINES = re.compile(r"\r\n|\r|\n")


def day(value: date | None) -> str:
    """25 Nov 2026 (independent of the system locale)."""
    if value is None:
        return DASH
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


#: A report shows the same few hundred values again and again (VAS in tenths, angles,
#: centimetres, their changes): each formatting below is worked out once per value, unit
#: and precision, and kept (a pure function of them; typed: 1 and 1.0 are kept apart; -0.0
#: and 0.0 are one key, and each gives what the other would).
_remembered = functools.lru_cache(maxsize=4096, typed=True)


def number(value: float | int | None, *, decimals: int = 1) -> str:
    """A number with sensible precision: whole numbers without a decimal point."""
    return _number(value, decimals)


@_remembered
def _number(value: float | int | None, decimals: int) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return DASH
    return number_text(value, decimals=decimals).replace("-", MINUS)


def with_unit(text: str, unit: str) -> str:
    """Attach a unit the way it is written (kinesio_tui.units): 35°, 6/10, 42 %, 4.5 cm."""
    return attach_unit(text, unit, space=NBSP)


def measure(value: float | int | None, unit: str, *, decimals: int = DECIMALS) -> Markup:
    """A value with its unit as the screens show it (a recorded value keeps its
    decimals), or a dash when missing."""
    return _measure(value, unit, decimals)


@_remembered
def _measure(value: float | int | None, unit: str, decimals: int) -> Markup:
    if value is None:
        return Markup(DASH)
    return Markup(with_unit(number(value, decimals=decimals), unit))


def signed(value: float | None, unit: str = "", *, decimals: int = 1) -> Markup:
    """A change with its sign: +12°, −2/10 becomes −2 points on a /10 scale."""
    return _signed(value, unit, decimals)


@_remembered
def _signed(value: float | None, unit: str, decimals: int) -> Markup:
    if value is None or not math.isfinite(value):
        return Markup(DASH)
    text = number(abs(value), decimals=decimals)
    sign = "+" if value > 0 else MINUS if value < 0 else "±"
    if unit.startswith("/"):
        unit = "points" if abs(round(value, decimals)) != 1 else "point"
    return Markup(with_unit(f"{sign}{text}", unit))


def percent(value: float | None, *, signed_: bool = False) -> Markup:
    """42 % (or +42 % for a change). Not kept like the others: -0.0 (−0 %) and 0.0 are one
    key to a cache."""
    if value is None or not math.isfinite(value):
        return Markup(DASH)
    text = f"{value:+.0f}" if signed_ else f"{value:.0f}"
    return Markup(f"{text.replace('-', MINUS)}{NBSP}%")


def md_text(value: object) -> str:
    """User text made inert for Markdown: no structure, links, HTML or table breaks.

    Every newline becomes `<br>` so the text stays inside its table cell or paragraph.
    """
    text = "" if value is None else str(value)
    text = _MD_INLINE.sub(r"\\\1", text)
    lines = _NEWLINES.split(text)
    lines = [_MD_LEADING.sub(_escape_leading, line) for line in lines]
    return "<br>".join(lines)


def _escape_leading(match: re.Match[str]) -> str:
    indent, marker = match.group(1), match.group(2)
    if marker[0].isdigit():
        return f"{indent}{marker[:-1]}\\{marker[-1]}"
    return f"{indent}\\{marker}"
