"""Two terminals on one clinic (file or PostgreSQL), for the red-flag hold and the
questionnaires: the other terminal (a real second process, tests/writer_child.py) writes
first from the same screen; ours is then refused, and what the other terminal wrote is what
the clinic holds."""

from __future__ import annotations

import pytest
from conftest import DAY
from test_reliability_versions import other_terminal

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.holds import active_hold, clear_hold, holds_of, record_referral
from kinesio_tui.domain.models import NewEpisode, NewPatient
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.proms import prom_answers_of, record_prom_answer
from kinesio_tui.domain.visits import complete_visit, get_visit, start_visit, visits_of
from kinesio_tui.errors import KinesioError, StaleRecord

pytestmark = pytest.mark.engines("sqlite", "postgresql")


def _on_hold(db: ClinicDB) -> int:
    """A lumbar radiculitis episode put on hold by a red flag at intake."""
    pid = create_patient(db, NewPatient("Ona", "Sulaikyta", "1960-02-02", "F"), today=DAY)
    return open_episode(
        db,
        pid,
        NewEpisode("radiculitis", "lumbar", "R", red_flags=("saddle_numbness",)),
        start=DAY,
        today=DAY,
    )


def test_a_stale_referral_is_refused(db: ClinicDB) -> None:
    eid = _on_hold(db)
    hold = active_hold(db, eid)
    assert hold is not None
    theirs = dict(to="Emergency department", why="Saddle numbness since last night")
    assert other_terminal(db, op="refer", episode=eid, expected=hold.version, **theirs) == "ok"
    with pytest.raises(StaleRecord):
        record_referral(
            db, eid, to="GP", on=DAY, why="Numbness", today=DAY, expected_version=hold.version
        )
    now = active_hold(db, eid)
    assert now is not None
    assert (now.referred_to, now.referral_reason) == (theirs["to"], theirs["why"])


def test_a_clearance_from_a_screen_that_missed_the_referral_is_refused(db: ClinicDB) -> None:
    eid = _on_hold(db)
    doctor = visits_of(db, eid)[0].id
    start_visit(db, doctor, today=DAY)
    shown = active_hold(db, eid)
    assert shown is not None
    answer = other_terminal(
        db, op="refer", episode=eid, expected=shown.version, to="Neurologist", why="Numbness"
    )
    assert answer == "ok"
    with pytest.raises(StaleRecord):
        clear_hold(
            db,
            eid,
            visit_id=doctor,
            doctor="Dr Jonaitis",
            note="Seen",
            expected_version=shown.version,
        )
    assert active_hold(db, eid) is not None  # still on hold: the doctor saw the referral first


def test_a_second_clearance_does_not_overwrite_the_first(db: ClinicDB) -> None:
    eid = _on_hold(db)
    doctor = visits_of(db, eid)[0].id
    start_visit(db, doctor, today=DAY)
    shown = active_hold(db, eid)
    assert shown is not None
    theirs = dict(doctor="Dr Petraitė", note="MRI normal")
    answer = other_terminal(
        db, op="clear", episode=eid, expected=shown.version, visit=doctor, **theirs
    )
    assert answer == "ok"
    with pytest.raises(KinesioError, match="not on hold"):
        clear_hold(
            db,
            eid,
            visit_id=doctor,
            doctor="Dr Jonaitis",
            note="ok",
            expected_version=shown.version,
        )
    [hold] = holds_of(db, eid)
    assert (hold.cleared_by, hold.clearance_note) == (theirs["doctor"], theirs["note"])


def test_two_terminals_overriding_the_same_session_record_one_override(db: ClinicDB) -> None:
    eid = _on_hold(db)
    doctor, session = visits_of(db, eid)[:2]
    start_visit(db, doctor.id, today=DAY)
    complete_visit(db, doctor.id)
    shown = get_visit(db, session.id)
    answer = other_terminal(
        db, op="override", visit=session.id, expected=shown.version, reason="Doctor phoned: go on"
    )
    assert answer == "ok"
    with pytest.raises(StaleRecord):
        start_visit(
            db, session.id, today=DAY, expected_version=shown.version, hold_override="Mild; go on"
        )
    hold = active_hold(db, eid)
    assert hold is not None
    assert [o.reason for o in hold.overrides] == ["Doctor phoned: go on"]


def test_a_stale_questionnaire_answer_is_refused(db: ClinicDB) -> None:
    pid = create_patient(db, NewPatient("Ona", "Klausimynas", "1960-02-02", "F"), today=DAY)
    eid = open_episode(db, pid, NewEpisode("sciatica", "upper", "L"), start=DAY, today=DAY)
    doctor = visits_of(db, eid)[0].id
    start_visit(db, doctor, today=DAY)
    prom = dict(visit=doctor, questionnaire="odi", item="odi01")
    # both screens show the item unanswered (version 0); theirs is saved first
    assert other_terminal(db, op="prom", expected=0, score=3, **prom) == "ok"
    with pytest.raises(StaleRecord):
        record_prom_answer(db, doctor, "odi", "odi01", 1, expected_version=0)
    answer = prom_answers_of(db, doctor, "odi")["odi01"]
    assert answer.score == 3
    # a correction from a screen that showed their first answer is refused after theirs
    assert other_terminal(db, op="prom", expected=answer.version, score=4, **prom) == "ok"
    with pytest.raises(StaleRecord):
        record_prom_answer(db, doctor, "odi", "odi01", 2, expected_version=answer.version)
    with pytest.raises(StaleRecord):  # and so is clearing it
        record_prom_answer(db, doctor, "odi", "odi01", None, expected_version=answer.version)
    assert prom_answers_of(db, doctor, "odi")["odi01"].score == 4
    stale = other_terminal(db, op="prom", expected=answer.version, score=0, **prom)
    assert stale == "stale"  # the other terminal is refused the same way
