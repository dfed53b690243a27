"""Episodes: planning the 45 visits on clinic days, one active episode per patient."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from conftest import DAY
from hypothesis import given, settings
from hypothesis import strategies as st

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.episodes import (
    close_episode,
    current_episode,
    next_visit_day,
    open_episode,
    plan_visits,
)
from kinesio_tui.domain.models import NewEpisode, NewPatient
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.visits import visits_of
from kinesio_tui.errors import KinesioError
from kinesio_tui.protocol import protocol
from kinesio_tui.settings import Closures

# The domain's reads and writes, on both engines (issue 17).
pytestmark = pytest.mark.engines("sqlite", "postgresql")


@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_plan_visits_for_any_start(start: date) -> None:
    proto = protocol()
    weekdays = proto.timing.visit_weekdays
    # with no closed days the plan is the plain Mon/Wed/Fri rhythm (closures: test_day_planning)
    plan = plan_visits(start, closures=Closures(public_holidays="none"))
    assert len(plan) == 45
    assert [p.seq for p in plan] == list(range(1, 46))
    # the cycle, module by module
    assert [(p.module, p.number, p.kind) for p in plan] == [
        (m.number, s.number, s.kind) for m in proto.modules for s in proto.cycle
    ]
    days = [p.planned_date for p in plan]
    assert all(d.weekday() in weekdays for d in days)
    # the first clinic day on or after the start, then every following clinic day
    assert start <= days[0] < start + timedelta(days=7)
    assert days[0] == next_visit_day(start, weekdays, inclusive=True)
    for a, b in itertools.pairwise(days):
        assert b == next_visit_day(a, weekdays)
    # each module starts len(cycle)/visits-a-week weeks after the previous one: 5 weeks,
    # inside the programme's 5-7 weeks per module
    low, high = proto.timing.module_weeks
    firsts = [p.planned_date for p in plan if p.number == 1]
    for a, b in itertools.pairwise(firsts):
        assert (b - a).days == 7 * len(proto.cycle) // len(weekdays)
        assert low * 7 <= (b - a).days <= high * 7
    for module in (1, 2, 3):
        span = [p.planned_date for p in plan if p.module == module]
        assert (span[-1] - span[0]).days < low * 7


@settings(max_examples=40, deadline=None)
@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    st.sets(st.integers(0, 6), min_size=1, max_size=7).map(lambda s: tuple(sorted(s))),
)
def test_next_visit_day(after: date, weekdays: tuple[int, ...]) -> None:
    nxt = next_visit_day(after, weekdays)
    assert nxt > after and nxt.weekday() in weekdays
    assert all(
        (after + timedelta(days=k)).weekday() not in weekdays for k in range(1, (nxt - after).days)
    )
    same = next_visit_day(after, weekdays, inclusive=True)
    assert same == after if after.weekday() in weekdays else same == nxt


def _patient(db: ClinicDB) -> int:
    return create_patient(db, NewPatient("Darius", "Jankauskas", "1975-09-09", "M"), today=DAY)


def test_open_episode_plans_the_programme(db: ClinicDB) -> None:
    pid = _patient(db)
    eid = open_episode(
        db,
        pid,
        NewEpisode("radiculitis", "lumbar", "both", "chronic", "2026-09-01", "Diclofenac"),
        start=date(2026, 11, 28),  # a Saturday: the first visit is on Monday
        today=DAY,
    )
    visits = visits_of(db, eid)
    plan = plan_visits(date(2026, 11, 28))
    assert [(v.module, v.number, v.seq, v.kind, v.planned_date) for v in visits] == [
        (p.module, p.number, p.seq, p.kind, p.planned_date) for p in plan
    ]
    assert visits[0].planned_date == date(2026, 11, 30)
    assert {v.status for v in visits} == {"planned"}
    episode = current_episode(db, pid)
    assert episode is not None and episode.id == eid
    assert (episode.side, episode.course, episode.onset_date, episode.pain_medication) == (
        "both",
        "chronic",
        date(2026, 9, 1),
        "Diclofenac",
    )
    assert (episode.status, episode.opened_on) == ("active", date(2026, 11, 28))


def test_one_active_episode_per_patient(db: ClinicDB) -> None:
    pid = _patient(db)
    first = open_episode(db, pid, NewEpisode("sciatica", "middle", "R"), start=DAY, today=DAY)
    rows = db.execute("SELECT count(*) FROM visits").fetchone()[0]
    with pytest.raises(KinesioError, match="Close the current episode"):
        open_episode(db, pid, NewEpisode("sciatica", "middle", "R"), start=DAY, today=DAY)
    assert db.execute("SELECT count(*) FROM visits").fetchone()[0] == rows
    close_episode(db, first, today=DAY)
    later = DAY + timedelta(days=60)
    second = open_episode(
        db, pid, NewEpisode("radiculitis", "cervical", "L"), start=later, today=later
    )
    current = current_episode(db, pid)
    assert current is not None and current.id == second


def test_no_episode_yet(db: ClinicDB) -> None:
    assert current_episode(db, _patient(db)) is None


def test_open_episode_for_an_unknown_patient(db: ClinicDB) -> None:
    with pytest.raises(KinesioError, match="No patient with id 42"):
        open_episode(db, 42, NewEpisode("sciatica", "upper", "L"), start=DAY, today=DAY)
    assert db.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 0
