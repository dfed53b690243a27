"""Attendance and rescheduling in the domain: missed and cancelled with a reason, the next
visit becoming current, moves that keep the programme's order and the plan's cadence, and two
terminals rescheduling one plan."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import DAY

from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain.calendar import next_open_day
from kinesio_tui.domain.episodes import get_episode, open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient
from kinesio_tui.domain.outcomes import standing
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.schedule import move_visit, plan_version, record_absence
from kinesio_tui.domain.visits import complete_visit, next_visit, start_visit, visits_of
from kinesio_tui.errors import KinesioError, StaleRecord, ValidationError
from kinesio_tui.export.context import attendance
from kinesio_tui.settings import ClosedDay, Closures

pytestmark = pytest.mark.engines("sqlite", "postgresql")

LT = Closures()


def _episode(db: ClinicDB, start: date = DAY) -> int:
    pid = create_patient(db, NewPatient("Jonas", "Urbonas", "1970-06-01", "M"), today=DAY)
    return open_episode(db, pid, NewEpisode("radiculitis", "lumbar", "R"), start=start, today=DAY)


def _snapshot(db: ClinicDB) -> tuple[object, ...]:
    return (
        db.execute("SELECT * FROM visits ORDER BY id").fetchall(),
        db.execute("SELECT count(*) FROM audit_log").fetchone(),
    )


def test_a_missed_visit_needs_a_reason_and_the_next_becomes_current(db: ClinicDB) -> None:
    eid = _episode(db)
    first = visits_of(db, eid)[0]
    before = _snapshot(db)
    for reason in ("", "   ", "a\x1b[2Jb", "x" * 201, "two\nlines"):
        with pytest.raises(ValidationError, match="reason"):
            record_absence(db, first.id, "missed", reason, today=DAY)
    with pytest.raises(ValidationError, match="status"):
        record_absence(db, first.id, "forgotten", "no", today=DAY)
    assert _snapshot(db) == before
    record_absence(db, first.id, "missed", "No-show, did not call", today=DAY)
    missed = visits_of(db, eid)[0]
    assert (missed.status, missed.absence_reason, missed.held_on) == (
        "missed",
        "No-show, did not call",
        DAY,
    )
    nxt = next_visit(db, eid)
    assert nxt is not None and nxt.seq == 2
    start_visit(db, nxt.id, today=DAY)  # the programme goes on
    entry = db.execute(
        "SELECT action, new FROM audit_log WHERE table_name = 'visits' AND record_id = ? "
        "ORDER BY id DESC LIMIT 1",
        [first.id],
    ).fetchone()
    assert entry[0] == "miss" and "No-show" in entry[1]


def test_a_future_visit_can_be_cancelled_not_missed(db: ClinicDB) -> None:
    eid = _episode(db)
    third = visits_of(db, eid)[2]  # Mon 30 Nov
    with pytest.raises(KinesioError, match="cancel it instead"):
        record_absence(db, third.id, "missed", "?", today=DAY)
    record_absence(db, third.id, "cancelled", "Patient phoned: ill", today=DAY)
    visits = visits_of(db, eid)
    counts = attendance(visits)
    assert (counts["cancelled"], counts["missed"], counts["planned"]) == (1, 0, 44)
    assert standing(visits, DAY).next_visit == visits[0]


def test_a_visit_in_progress_or_held_cannot_be_marked(db: ClinicDB) -> None:
    eid = _episode(db)
    first = visits_of(db, eid)[0]
    start_visit(db, first.id, today=DAY)
    with pytest.raises(KinesioError, match="in progress"):
        record_absence(db, first.id, "missed", "no", today=DAY)
    complete_visit(db, first.id)
    with pytest.raises(KinesioError, match="done"):
        record_absence(db, first.id, "cancelled", "no", today=DAY)


def test_marking_from_a_stale_screen_is_refused(db: ClinicDB) -> None:
    eid = _episode(db)
    first = visits_of(db, eid)[0]
    move_visit(db, first.id, DAY, time="09:30", today=DAY, closures=LT)
    with pytest.raises(StaleRecord):
        record_absence(db, first.id, "missed", "no", today=DAY, expected_version=first.version)


def test_the_last_visit_not_attended_ends_the_programme(db: ClinicDB) -> None:
    eid = _episode(db)
    for visit in visits_of(db, eid):
        record_absence(db, visit.id, "cancelled", "Moved abroad", today=DAY)
    assert get_episode(db, eid).status == "completed"


def test_move_one_visit_within_its_neighbours(db: ClinicDB) -> None:
    eid = _episode(db)  # Wed 25, Fri 27, Mon 30 Nov, Wed 2 Dec ...
    second = visits_of(db, eid)[1]
    result = move_visit(db, second.id, "2026-11-26", time="14:30", today=DAY, closures=LT)
    assert [(m.seq, m.was, m.now, m.time) for m in result.moved] == [
        (2, date(2026, 11, 27), date(2026, 11, 26), "14:30")
    ]
    moved = visits_of(db, eid)[1]
    assert (moved.planned_date, moved.planned_time) == (date(2026, 11, 26), "14:30")
    assert visits_of(db, eid)[2].planned_date == date(2026, 11, 30)  # the rest stays


@pytest.mark.parametrize(
    ("to", "words"),
    [
        ("2026-12-25", "closed (Christmas Day)"),
        ("2026-11-28", "closed (a weekend)"),
        ("2026-11-24", "today or later"),
        ("2026-11-31", "YYYY-MM-DD"),
        ("2026-11-25", "after 2026-11-25"),  # on the day of the visit before it
        ("2026-11-30", "before 2026-11-30"),  # onto the next visit's day
        ("2028-01-05", "no later than"),
    ],
)
def test_a_bad_move_names_the_field_and_writes_nothing(db: ClinicDB, to: str, words: str) -> None:
    eid = _episode(db)
    second = visits_of(db, eid)[1]
    before = _snapshot(db)
    with pytest.raises(ValidationError, match="date") as raised:
        move_visit(db, second.id, to, today=DAY, closures=LT)
    assert words in raised.value.message
    for bad_time in ("25:00", "9.30", "noon", "12:60"):
        with pytest.raises(ValidationError, match="time"):
            move_visit(db, second.id, "2026-11-26", time=bad_time, today=DAY, closures=LT)
    assert _snapshot(db) == before


def test_a_move_across_into_the_next_module_is_refused_and_shift_rest_moves_both(
    db: ClinicDB,
) -> None:
    eid = _episode(db)
    visits = visits_of(db, eid)
    last_of_1, first_of_2 = visits[14], visits[15]
    assert (last_of_1.module, last_of_1.number, first_of_2.module) == (1, 15, 2)
    later = next_open_day(first_of_2.planned_date, (0, 2, 4), LT)  # past module 2's first
    before = _snapshot(db)
    with pytest.raises(ValidationError, match="module 2's first visit"):
        move_visit(db, last_of_1.id, later, today=DAY, closures=LT)
    assert _snapshot(db) == before
    result = move_visit(db, last_of_1.id, later, shift_rest=True, today=DAY, closures=LT)
    after = visits_of(db, eid)
    assert after[14].planned_date == later
    assert after[15].planned_date > later  # module 2 follows module 1, still in order
    days = [v.planned_date for v in after]
    assert days == sorted(days) and len(set(days)) == 45
    assert all(d.weekday() in (0, 2, 4) for d in days[14:])  # the Mon/Wed/Fri rhythm kept
    assert {m.seq for m in result.moved} == set(range(15, 46))


def test_shift_rest_keeps_a_tue_thu_plan_and_skips_closures(db: ClinicDB) -> None:
    eid = _episode(db, start=date(2026, 11, 26))
    closures = Closures(own=(ClosedDay(date(2026, 12, 17), "Audit day"),))
    # put the plan on Tue/Thu first, one visit at a time from the end (each stays in order)
    plan = [date(2026, 12, 1)]
    while len(plan) < 44:
        plan.append(next_open_day(plan[-1], (1, 3), LT))
    visits = visits_of(db, eid)
    for visit, day in reversed(list(zip(visits[1:], plan, strict=True))):
        move_visit(db, visit.id, day, today=DAY, closures=LT)
    second = visits_of(db, eid)[1]
    move_visit(db, second.id, "2026-12-08", shift_rest=True, today=DAY, closures=closures)
    days = [v.planned_date for v in visits_of(db, eid)[1:]]
    assert days[:4] == [
        date(2026, 12, 8),
        date(2026, 12, 10),
        date(2026, 12, 15),
        date(2026, 12, 22),
    ]
    assert all(d.weekday() in (1, 3) for d in days)
    assert date(2026, 12, 24) not in days  # Christmas Eve, a Thursday


def test_two_terminals_rescheduling_the_same_plan(db_target: str) -> None:
    first = connect(db_target, actor="Rasa")
    eid = _episode(first)
    second = connect(db_target, actor="Tomas")
    try:
        shown_first = plan_version(first, eid)
        shown_second = plan_version(second, eid)
        visit = visits_of(second, eid)[3]
        move_visit(
            first, visit.id, "2026-12-03", shift_rest=True, today=DAY,
            expected_version=shown_first, closures=LT,
        )  # fmt: skip
        before = _snapshot(second)
        with pytest.raises(StaleRecord):
            move_visit(
                second, visits_of(second, eid)[5].id, "2026-12-11", today=DAY,
                expected_version=shown_second, closures=LT,
            )  # fmt: skip
        assert _snapshot(second) == before
        assert visits_of(second, eid)[3].planned_date == date(2026, 12, 3)
    finally:
        first.close()
        second.close()
