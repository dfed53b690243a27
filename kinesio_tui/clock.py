"""The product's one clock: the clinic's day and the current moment.

Everything that needs "today" or "now" (a visit's day, an age, an audit entry's time, a
backup's or a crash report's name) asks here, through the module (`clock.today()`), so the
day turns at local midnight everywhere at once and a test fixes time in one place.

The PIR pacer's monotonic seconds are not a clock of the day: they only measure how long a
hold lasts, and the visit screen is handed its own (`time.monotonic`, or a fake in tests).
"""

from __future__ import annotations

from datetime import date, datetime


def now() -> datetime:
    """The current moment, aware of the local time zone."""
    return datetime.now().astimezone()


def today() -> date:
    """The clinic's day: the local date of `now()`."""
    return now().date()
