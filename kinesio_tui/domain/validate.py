"""Rules for input. Each check names the field and what is allowed; nothing is written first."""

from __future__ import annotations

import math
import re
from datetime import date, datetime

from kinesio_tui.errors import ValidationError
from kinesio_tui.i18n import _
from kinesio_tui.plain_text import has_control

MAX_NAME = 80
MAX_TEXT = 4000
_PHONE = re.compile(r"^\+?[0-9 ()\-]{5,20}$")


def required_text(
    field: str, value: object, *, max_len: int = MAX_NAME, single_line: bool = True
) -> str:
    """Text that must be given; by default one line (a name, a muscle), as lists show it."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, _("is required"))
    text = bounded_text(field, value, max_len=max_len)
    if single_line and any(ch in text for ch in "\n\t"):
        raise ValidationError(field, _("should be on one line"))
    return text


def bounded_text(field: str, value: object, *, max_len: int = MAX_TEXT) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(field, _("should be text"))
    text = value.strip()
    if len(text) > max_len:
        raise ValidationError(field, _("is too long (at most {n} characters)", n=max_len))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: a broken paste, or bytes from the OS
        raise ValidationError(field, _("contains characters that are not valid text")) from None
    if has_control(text):  # C0/C1 controls, DEL, bidi overrides (plain_text.CONTROL_CHARS)
        raise ValidationError(
            field, _("contains control characters (terminal or text-direction codes)")
        )
    return text


def therapist_name(value: str | None) -> str | None:
    """The name for the audit trail from `--therapist` or KINESIO_THERAPIST, or None (unset).

    Checked like a patient's name, and before anything opens the file: it is written into
    every audit entry and printed by `audit show` and the reports. Bytes the OS could not
    decode (kept as lone surrogates) get their own message: the cause is the terminal's or
    the variable's encoding, not the name.
    """
    if value is None or value == "":
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            "therapist",
            _("is not valid text (check the terminal's or KINESIO_THERAPIST's encoding)"),
        ) from None
    return required_text("therapist", value, max_len=MAX_NAME)


def parse_date(field: str, value: object) -> date:
    """A date from a date or 'YYYY-MM-DD'; a datetime counts as its day."""
    if isinstance(value, datetime):
        return value.date()  # else it would be stored with a time and not read back as a date
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError(field, _("should be a date as YYYY-MM-DD"))


def past_date(field: str, value: object, today: date) -> date:
    day = parse_date(field, value)
    if day > today:
        raise ValidationError(
            field, _("cannot be in the future (today is {day})", day=today.isoformat())
        )
    if day.year < 1900:
        raise ValidationError(field, _("should be after 1900"))
    return day


def one_of(field: str, value: object, allowed: list[str] | tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValidationError(field, _("should be one of: {codes}", codes=", ".join(allowed)))
    return value


def phone(field: str, value: object) -> str:
    text = bounded_text(field, value, max_len=30)
    if text and not _PHONE.match(text):
        raise ValidationError(field, _("should be digits, spaces, + ( ) or - (5 to 20 characters)"))
    return text


def number(
    field: str,
    value: object,
    low: float,
    high: float,
    *,
    unit: str = "",
    integer: bool = False,
) -> float:
    """A finite number within [low, high]; strings like '7.5' or '7,5' are accepted."""
    if isinstance(value, bool):
        raise ValidationError(field, _("should be a number"))
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", "."))
        except ValueError:
            raise ValidationError(field, _range_text(low, high, unit, integer)) from None
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(field, _range_text(low, high, unit, integer))
    if integer and not float(value).is_integer():
        raise ValidationError(field, _range_text(low, high, unit, integer))
    if not low <= value <= high:
        raise ValidationError(field, _range_text(low, high, unit, integer))
    return float(value)


def whole_number(field: str, value: object, low: int, high: int, *, unit: str = "") -> int:
    return int(number(field, value, low, high, unit=unit, integer=True))


def optional_number(
    field: str, value: object, low: float, high: float, *, unit: str = ""
) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return number(field, value, low, high, unit=unit)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _range_text(low: float, high: float, unit: str, integer: bool) -> str:
    kind = "a whole number" if integer else "a number"
    # a scale's unit ("/10") is already said by its top: "from 0 to 10", not "to 10 /10"
    shown_unit = f" {unit}" if unit and not unit.startswith("/") else ""
    return f"should be {kind} from {_fmt(low)} to {_fmt(high)}{shown_unit}"
