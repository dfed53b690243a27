"""Derived facts: standing, change from baseline, asymmetry, VAS series, latest results."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from conftest import DAY
from hypothesis import given, settings
from hypothesis import strategies as st

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.episodes import open_episode, plan_visits
from kinesio_tui.domain.models import NewEpisode, NewPatient, Visit
from kinesio_tui.domain.outcomes import (
    asymmetry_pct,
    change_from_baseline,
    latest_results,
    progress,
    series,
    standing,
)
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.visits import complete_visit, record_measurement, start_visit, visits_of

# The domain's reads and writes, on both engines (issue 17).
pytestmark = pytest.mark.engines("sqlite", "postgresql")

START = date(2026, 9, 7)

# --- change from baseline -------------------------------------------------------------------

scores = st.floats(min_value=0, max_value=10, allow_nan=False).map(lambda x: round(x, 1))


@settings(max_examples=200, deadline=None)
@given(st.lists(scores, min_size=2, max_size=8), st.booleans())
def test_change_from_baseline(values: list[float], higher_is_better: bool) -> None:
    change = change_from_baseline(values, higher_is_better=higher_is_better)
    assert change is not None
    baseline, latest = values[0], values[-1]
    # judged in exact decimals, as a clinician reads the chart
    delta = Decimal(str(latest)) - Decimal(str(baseline))
    assert (change.baseline, change.latest) == (baseline, latest)
    assert change.delta == pytest.approx(float(delta))
    improved = delta > 0 if higher_is_better else delta < 0
    assert change.improved == improved
    pct = None if baseline == 0 else delta / Decimal(str(baseline)) * 100
    if pct is None:
        assert change.percent is None
    else:
        assert change.percent == pytest.approx(float(pct))
    # pain is judged by points alone, better or worse; the percentage is only shown
    assert change.important == (abs(delta) >= 2)


def test_change_needs_two_values() -> None:
    assert change_from_baseline([]) is None
    assert change_from_baseline([7]) is None


@pytest.mark.parametrize(
    ("values", "important"),
    [
        ([8, 6], True),  # 2 points
        ([8, 6.5], False),  # 1.5 points, 19 %
        ([8.2, 6.2], True),  # 2 points, though binary floats make it 1.9999...
        ([9.7, 7.7], True),
        ([3, 2], False),  # 1 point, though 33 %: the percentage does not decide
        ([7, 1.4], True),  # the retiree: 80 % less pain
        ([5, 7], True),  # 2 points worse matters as much as 2 points better
        ([0, 0], False),
    ],
)
def test_clinically_important_examples(values: list[float], important: bool) -> None:
    change = change_from_baseline(values)
    assert change is not None and change.important is important


# --- asymmetry ------------------------------------------------------------------------------

sizes = st.floats(min_value=0, max_value=5000, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(sizes, sizes)
def test_asymmetry_pct(left: float, right: float) -> None:
    pct = asymmetry_pct(left, right)
    assert pct == asymmetry_pct(right, left)
    assert 0 <= pct <= 100
    assert asymmetry_pct(left, left) == 0
    if left != right:
        assert pct > 0
    if max(left, right) > 0:
        assert pct == pytest.approx(abs(left - right) / max(left, right) * 100)


def test_asymmetry_examples() -> None:
    assert asymmetry_pct(40, 30) == 25
    assert asymmetry_pct(0, 0) == 0
    assert asymmetry_pct(0, 12) == 100


# --- standing -------------------------------------------------------------------------------


def _visits(statuses: list[str], in_progress: bool) -> list[Visit]:
    out = []
    started = False
    for p, status in zip(plan_visits(START), statuses, strict=True):
        start_now = in_progress and status == "planned" and not started
        started = started or start_now
        held = p.planned_date if status in ("done", "missed") or start_now else None
        out.append(
            Visit(
                p.seq,
                1,
                p.module,
                p.number,
                p.seq,
                p.kind,
                p.planned_date,
                status,
                held,
                "x" if status == "done" or start_now else None,
                "x" if status == "done" else None,
                "",
                "",
                1,
            )
        )
    return out


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[str], bool]:
    """Statuses as the domain allows: held or missed in order, then planned or cancelled."""
    held = draw(st.integers(0, 45))
    past = draw(st.lists(st.sampled_from(["done", "done", "missed"]), min_size=held, max_size=held))
    rest = "cancelled" if draw(st.booleans()) and held < 45 else "planned"
    return past + [rest] * (45 - held), draw(st.booleans())


@settings(max_examples=80, deadline=None)
@given(histories())
def test_standing_follows_the_first_planned_visit(history: tuple[list[str], bool]) -> None:
    statuses, in_progress = history
    visits = _visits(statuses, in_progress)
    s = standing(visits, DAY)
    planned = [v for v in visits if v.status == "planned"]
    assert s.done == statuses.count("done") and s.missed == statuses.count("missed")
    assert s.total == 45
    assert s.finished == (not planned)
    assert 1 <= s.module <= 3 and 1 <= s.number <= 15
    assert s.seq == (s.module - 1) * 15 + s.number
    if planned:
        assert s.next_visit == planned[0]
        assert (s.module, s.number, s.seq) == (planned[0].module, planned[0].number, planned[0].seq)
    else:
        took_place = [v for v in visits if v.status != "cancelled"]
        expected = took_place[-1] if took_place else visits[0]
        assert s.next_visit is None
        assert (s.module, s.number) == (expected.module, expected.number)
        assert s.notes == ()


def test_timing_notes_use_the_21_and_42_day_facts() -> None:
    statuses = ["done"] * 5 + ["planned"] * 40
    visits = _visits(statuses, False)
    first = visits[0].planned_date
    early = standing(visits, first + timedelta(days=10))
    assert early.days_in_programme == 10 and "21 days" in early.notes[0]
    middle = standing(visits, first + timedelta(days=30))
    assert "42 days" in middle.notes[0]
    late = standing(visits, first + timedelta(days=60))
    assert late.days_in_module == 60
    assert any("longer than 7 weeks" in n for n in late.notes)


# --- from the database ----------------------------------------------------------------------


def test_progress_from_recorded_results(db: ClinicDB) -> None:
    pid = create_patient(db, NewPatient("Tomas", "Petrauskas", "1981-03-14", "M"), today=DAY)
    eid = open_episode(db, pid, NewEpisode("radiculitis", "lumbar", "R"), start=START, today=START)
    visits = visits_of(db, eid)
    for visit, vas in zip(visits[:4], [8, 7, 6.5, 5], strict=True):
        start_visit(db, visit.id, today=visit.planned_date)
        record_measurement(db, visit.id, "vas", vas)
        if visit.seq == 1:
            record_measurement(db, visit.id, "strength_kg", 40, "L")
            record_measurement(db, visit.id, "strength_kg", 30, "R")
            record_measurement(db, visit.id, "gait", "antalgic")
        if visit.seq == 4:
            record_measurement(db, visit.id, "strength_kg", 32, "R")
        complete_visit(db, visit.id)
    assert [(p.seq, p.value) for p in series(db, eid, "vas")] == [
        (1, 8.0),
        (2, 7.0),
        (3, 6.5),
        (4, 5.0),
    ]
    assert [p.value for p in series(db, eid, "strength_kg", "R")] == [30.0, 32.0]
    results = {r.code: r for r in latest_results(db, eid)}
    assert list(results) == ["vas", "strength_kg", "gait"]  # catalog order
    strength = results["strength_kg"]
    assert (strength.left, strength.right, strength.seq) == (40.0, 32.0, 4)
    assert strength.asymmetry == pytest.approx(20.0)
    assert (results["gait"].value, results["gait"].asymmetry) == ("antalgic", None)
    pr = progress(db, eid, today=DAY)
    assert pr.vas_change is not None and pr.vas_change.important
    assert (pr.vas_change.delta, pr.vas_change.percent) == (-3.0, -37.5)
    assert (pr.standing.module, pr.standing.number, pr.standing.done) == (1, 5, 4)
    assert pr.red_flags == []


def test_two_points_are_a_pain_scale_rule_not_a_rule_for_every_unit() -> None:
    from kinesio_tui.domain.outcomes import change_for_test, important_threshold
    from kinesio_tui.protocol import protocol

    proto = protocol()
    vas, slr = proto.test("vas"), proto.test("slr_angle")
    assert vas is not None and slr is not None
    # VAS 8 -> 6 is 2 points (25 %): important on the pain scale.
    change = change_for_test(vas, [8, 6])
    assert change is not None and change.important
    # SLR 40 -> 42 degrees is 2 "points" but 5 %: not important.
    change = change_for_test(slr, [40, 42])
    assert change is not None and change.improved and not change.important
    change = change_for_test(slr, [40, 52])
    assert change is not None and change.important
    assert important_threshold(vas, 8) == 6
    assert important_threshold(vas, 5) == 3  # 2 points; 30 % does not decide on pain
    assert important_threshold(slr, 40) == 52
