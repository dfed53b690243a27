"""A measured value as people read it: one rule for the screens, the command line and reports.

A recorded number keeps up to two decimals (a Schober reading of 4.25 cm is not rounded
away) and drops a whole number's ".0"; a unit that reads as part of the number is closed
up to it (35°, 6/10, 4/5 and any other "of n" scale), every other unit follows a space
(4.5 cm, 900 µV, 40 kg, 42 %). Reports set a no-break space and a true minus sign; that is
typesetting (export/fmt.py), not another rule.
"""

from __future__ import annotations

#: Decimals a recorded value keeps.
DECIMALS = 2
#: What stands where no value was recorded.
NO_VALUE = "—"


def number_text(value: float, *, decimals: int = DECIMALS) -> str:
    """A number with at most `decimals` decimals, none for a whole number: 4, 4.25, 0.5."""
    rounded = round(float(value), decimals) + 0.0  # + 0.0: no "-0"
    if rounded.is_integer():
        return str(int(rounded))
    return f"{rounded:.{decimals}f}".rstrip("0").rstrip(".")


def closed_up(unit: str) -> bool:
    """Whether `unit` is written against its number (degrees, a score out of n)."""
    return unit == "°" or unit.startswith("/")


def attach_unit(text: str, unit: str, *, space: str = " ") -> str:
    """A number already written, with its unit where it goes: 35°, 6/10, 4.5 cm."""
    if not unit:
        return text
    return f"{text}{unit}" if closed_up(unit) else f"{text}{space}{unit}"


def value_with_unit(
    value: float | str | None, unit: str = "", *, decimals: int = DECIMALS, space: str = " "
) -> str:
    """A recorded value as shown: a number with its unit, words (a scale's choice, a
    finding) as written, or a dash when there is none."""
    if value is None:
        return NO_VALUE
    if isinstance(value, str):
        return value
    return attach_unit(number_text(value, decimals=decimals), unit, space=space)
