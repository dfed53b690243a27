"""Planning on the clinic's open days: public holidays (Easter computed), the clinic's own
closures, weekends, month and year ends, the plan's cadence, and the seed's timing facts."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from conftest import DAY
from hypothesis import given, settings
from hypothesis import strategies as st

from kinesio_tui.domain.calendar import cadence_of, closed_reason, next_open_day, timing_warnings
from kinesio_tui.domain.episodes import plan_visits
from kinesio_tui.holidays import easter_sunday, public_holidays
from kinesio_tui.protocol import protocol
from kinesio_tui.settings import ClosedDay, Closures, load_closures, save_closures

LT = Closures()  # Lithuania's public holidays, the default


def test_easter_is_computed_for_known_years() -> None:
    # published dates of Western Easter
    known = {
        2019: (4, 21),
        2024: (3, 31),
        2025: (4, 20),
        2026: (4, 5),
        2027: (3, 28),
        2038: (4, 25),
    }
    for year, (month, day) in known.items():
        assert easter_sunday(year) == date(year, month, day)


def test_lithuanias_holidays_of_a_year() -> None:
    days = public_holidays("lithuania", 2027)
    assert days[date(2027, 3, 28)] == "Easter Sunday"
    assert days[date(2027, 3, 29)] == "Easter Monday"
    assert days[date(2027, 5, 2)] == "Mother's Day"  # the first Sunday of May
    assert days[date(2027, 6, 6)] == "Father's Day"
    for month, day in ((1, 1), (2, 16), (3, 11), (5, 1), (6, 24), (7, 6), (8, 15), (11, 1),
                       (11, 2), (12, 24), (12, 25), (12, 26)):  # fmt: skip
        assert date(2027, month, day) in days
    assert len(days) == 16
    # All Souls' Day is a holiday from 2020 on
    assert date(2019, 11, 2) not in public_holidays("lithuania", 2019)
    assert public_holidays("none", 2027) == {}


def test_a_plan_across_christmas_and_new_year_keeps_mon_wed_fri_on_open_days() -> None:
    plan = plan_visits(date(2026, 12, 21), closures=LT)
    days = [p.planned_date for p in plan]
    # Mon 21, Wed 23, (Thu 24 - Sat 26 closed: Fri 25 is Christmas) Mon 28, Wed 30,
    # (Fri 1 Jan closed) Mon 4 Jan
    assert days[:6] == [
        date(2026, 12, 21), date(2026, 12, 23), date(2026, 12, 28), date(2026, 12, 30),
        date(2027, 1, 4), date(2027, 1, 6),
    ]  # fmt: skip
    assert all(closed_reason(d, LT) is None for d in days)


def test_a_plan_across_easter_skips_easter_monday() -> None:
    plan = plan_visits(date(2027, 3, 22), closures=LT)
    days = [p.planned_date for p in plan]
    assert date(2027, 3, 29) not in days  # Easter Monday
    assert days[:4] == [date(2027, 3, 22), date(2027, 3, 24), date(2027, 3, 26), date(2027, 3, 31)]


def test_a_start_on_a_closed_day_moves_to_the_next_open_one() -> None:
    assert plan_visits(date(2027, 1, 1), closures=LT)[0].planned_date == date(2027, 1, 4)
    # a month's end: Sat 31 Oct 2026, then All Saints' (Sun) and All Souls' (Mon 2 Nov)
    assert plan_visits(date(2026, 10, 31), closures=LT)[0].planned_date == date(2026, 11, 4)


def test_the_clinics_own_closures_are_kept(tmp_path: object) -> None:
    own = Closures(own=(ClosedDay(date(2026, 11, 27), "Staff training"),))
    days = [p.planned_date for p in plan_visits(DAY, closures=own)]
    assert date(2026, 11, 27) not in days
    assert days[:3] == [DAY, date(2026, 11, 30), date(2026, 12, 2)]
    assert closed_reason(date(2026, 11, 27), own) == "Staff training"


def test_closures_settings_round_trip_and_default() -> None:
    assert load_closures() == Closures(public_holidays="lithuania", own=())
    wanted = Closures(own=(ClosedDay(date(2026, 12, 31), 'Year end "stock-take"'),))
    save_closures(wanted)
    assert load_closures() == wanted


@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31)))
def test_no_plan_lands_on_a_closed_day_or_a_weekend(start: date) -> None:
    weekdays = protocol().timing.visit_weekdays
    days = [p.planned_date for p in plan_visits(start, closures=LT)]
    assert len(set(days)) == 45
    for a, b in itertools.pairwise(days):
        assert a < b
        assert b == next_open_day(a, weekdays, LT)  # no open clinic day skipped
    for day in days:
        assert day.weekday() in weekdays
        assert day not in public_holidays("lithuania", day.year)


def test_cadence_is_what_the_plan_used() -> None:
    tue_thu = [date(2026, 12, 1) + timedelta(days=7 * w + d) for w in range(4) for d in (0, 2)]
    assert cadence_of(tue_thu, (0, 2, 4)) == (1, 3)
    # one visit moved for a holiday does not change the rhythm
    mwf = [date(2026, 11, 30) + timedelta(days=7 * w + d) for w in range(4) for d in (0, 2, 4)]
    assert cadence_of([*mwf, date(2026, 12, 1)], (0, 2, 4)) == (0, 2, 4)
    assert cadence_of([date(2026, 12, 1)], (0, 2, 4)) == (0, 2, 4)  # too few to tell


def test_timing_warnings_name_a_module_too_short_or_too_long() -> None:
    proto = protocol()
    start = date(2026, 11, 2)
    short = [start + timedelta(days=i) for i in range(15)]  # 15 days in a row
    right = [p.planned_date for p in plan_visits(start, closures=LT) if p.module == 1]
    long = [start + timedelta(days=4 * i) for i in range(15)]  # 57 days
    warnings = timing_warnings({1: short, 2: right, 3: long}, proto)
    assert len(warnings) == 2
    assert warnings[0].startswith("Module 1 spans 15 days") and "21 days" in warnings[0]
    assert warnings[1].startswith("Module 3 spans 57 days") and "7 weeks" in warnings[1]
