"""Visit rules: in programme order, the right checklist, records only in an open visit."""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta

import pytest
from conftest import DAY

from kinesio_tui.audit_key import GENESIS_HASH, load_key
from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.episodes import close_episode, get_episode, open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient, PirCycle
from kinesio_tui.domain.outcomes import progress
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.store import signed_entry_hash
from kinesio_tui.domain.visits import (
    checklist_for_visit,
    complete_visit,
    delete_pir_cycle,
    doctor_checks_for_visit,
    get_visit,
    mark_missed,
    measurements_of,
    next_visit,
    pir_cycles_of,
    record_measurement,
    record_pir_cycle,
    reschedule_planned,
    start_visit,
    tick_item,
    ticks_of,
    untick_item,
    update_pir_cycle,
    visits_of,
)
from kinesio_tui.errors import KinesioError, ValidationError

# The domain's reads and writes, on both engines (issue 17).
pytestmark = pytest.mark.engines("sqlite", "postgresql")

PIR = PirCycle("piriformis", "L", 7, 20, 15, 3, 30, 40, 5, 3)


def _episode(db: ClinicDB, condition: str = "radiculitis", subtype: str = "lumbar") -> int:
    pid = create_patient(db, NewPatient("Jonas", "Urbonas", "1970-06-01", "M"), today=DAY)
    return open_episode(db, pid, NewEpisode(condition, subtype, "R"), start=DAY, today=DAY)


def _hold(db: ClinicDB, episode_id: int, count: int) -> None:
    for visit in visits_of(db, episode_id)[:count]:
        start_visit(db, visit.id, today=visit.planned_date)
        complete_visit(db, visit.id)


def _audit_count(db: ClinicDB) -> int:
    return int(db.execute("SELECT count(*) FROM audit_log").fetchone()[0])


def test_only_the_next_planned_visit_can_start(db: ClinicDB) -> None:
    eid = _episode(db)
    visits = visits_of(db, eid)
    audit = _audit_count(db)
    with pytest.raises(KinesioError, match="Visit 1 comes before visit 3"):
        start_visit(db, visits[2].id, today=DAY)
    assert get_visit(db, visits[2].id).started_at is None
    assert _audit_count(db) == audit
    started = start_visit(db, visits[0].id, therapist="R. Paupienė", today=DAY)
    assert started.in_progress and started.held_on == DAY and started.therapist == "R. Paupienė"
    assert start_visit(db, visits[0].id, today=DAY) == started  # starting again changes nothing
    with pytest.raises(KinesioError, match="comes before"):
        start_visit(db, visits[1].id, today=DAY)  # visit 1 is still open


def test_a_held_visit_cannot_start_again(db: ClinicDB) -> None:
    eid = _episode(db)
    _hold(db, eid, 1)
    with pytest.raises(KinesioError, match="already held"):
        start_visit(db, visits_of(db, eid)[0].id, today=DAY)


def test_the_therapist_defaults_to_the_actor(db: ClinicDB) -> None:
    eid = _episode(db)
    assert start_visit(db, visits_of(db, eid)[0].id, today=DAY).therapist == "tester"


def test_checklist_follows_module_and_condition(db: ClinicDB) -> None:
    radiculitis = _episode(db)
    pid = create_patient(db, NewPatient("Eglė", "Butkienė", "1985-01-01", "F"), today=DAY)
    sciatica = open_episode(db, pid, NewEpisode("sciatica", "upper", "L"), start=DAY, today=DAY)
    r, s = visits_of(db, radiculitis), visits_of(db, sciatica)
    assert checklist_for_visit(db, r[0]) == ()  # a doctor's appointment has no checklist
    assert "m1_decompression_hangs" in {i.code for i in checklist_for_visit(db, r[1])}
    assert "m1_pelvic_traction" in {i.code for i in checklist_for_visit(db, s[1])}
    assert "m2_taping_lumbar" in {i.code for i in checklist_for_visit(db, r[16])}
    assert "m2_taping_gluteal" in {i.code for i in checklist_for_visit(db, s[16])}
    assert "m3_biofeedback" in {i.code for i in checklist_for_visit(db, s[31])}
    assert [t.code for t in doctor_checks_for_visit(db, r[15])][:2] == ["vas", "emg_amplitude"]
    assert doctor_checks_for_visit(db, r[1]) == ()


def test_ticks_only_items_of_this_visits_checklist(db: ClinicDB) -> None:
    eid = _episode(db)
    _hold(db, eid, 1)
    session = visits_of(db, eid)[1]
    start_visit(db, session.id, today=DAY)
    tick_item(db, session.id, "m1_decompression_hangs", "3 x 30 s, 25 % body weight")
    tick_item(db, session.id, "m1_decompression_hangs", "4 x 30 s")  # corrects the note
    tick_item(db, session.id, "m1_cat_cow")
    for wrong in ("m1_pelvic_traction", "m2_asymmetric", "nonsense"):
        with pytest.raises(ValidationError):
            tick_item(db, session.id, wrong)
    ticks = ticks_of(db, session.id)
    assert set(ticks) == {"m1_decompression_hangs", "m1_cat_cow"}
    assert ticks["m1_decompression_hangs"].note == "4 x 30 s"
    untick_item(db, session.id, "m1_cat_cow")
    untick_item(db, session.id, "m1_cat_cow")  # taking back twice is harmless
    assert set(ticks_of(db, session.id)) == {"m1_decompression_hangs"}


def test_a_doctors_appointment_takes_no_ticks(db: ClinicDB) -> None:
    eid = _episode(db)
    doctor = visits_of(db, eid)[0]
    start_visit(db, doctor.id, today=DAY)
    with pytest.raises(ValidationError, match="not on this visit's checklist"):
        tick_item(db, doctor.id, "m1_pir")


def test_records_only_in_an_open_visit(db: ClinicDB) -> None:
    eid = _episode(db)
    visits = visits_of(db, eid)
    _hold(db, eid, 1)
    done, planned = visits[0], visits[1]
    audit = _audit_count(db)
    for visit, state in ((done, "completed"), (planned, "not started")):
        for action in (
            lambda v=visit: record_measurement(db, v.id, "vas", 5),
            lambda v=visit: record_pir_cycle(db, v.id, PIR),
            lambda v=visit: tick_item(db, v.id, "m1_pir"),
            lambda v=visit: untick_item(db, v.id, "m1_pir"),
            lambda v=visit: complete_visit(db, v.id),
        ):
            with pytest.raises(KinesioError, match=f"is {state}"):
                action()
    assert _audit_count(db) == audit


def test_pir_cycles_can_be_corrected_while_the_visit_is_open(db: ClinicDB) -> None:
    eid = _episode(db)
    _hold(db, eid, 1)
    session = visits_of(db, eid)[1]
    start_visit(db, session.id, today=DAY)
    first = record_pir_cycle(db, session.id, PIR)
    second = record_pir_cycle(db, session.id, PirCycle("iliopsoas", "R", 5, 10, 10))
    update_pir_cycle(db, second, PirCycle("iliopsoas", "R", 5, 10, 10, 4, 20, 35))
    delete_pir_cycle(db, first)
    assert pir_cycles_of(db, session.id) == [
        (second, PirCycle("iliopsoas", "R", 5, 10, 10, 4, 20.0, 35.0))
    ]
    complete_visit(db, session.id)
    with pytest.raises(KinesioError, match="completed"):
        update_pir_cycle(db, second, PIR)
    with pytest.raises(KinesioError, match="completed"):
        delete_pir_cycle(db, second)


def test_complete_moves_the_standing_on(db: ClinicDB) -> None:
    eid = _episode(db)
    before = progress(db, eid, today=DAY).standing
    assert (before.module, before.number, before.seq, before.done) == (1, 1, 1, 0)
    _hold(db, eid, 1)
    after = progress(db, eid, today=DAY).standing
    assert (after.module, after.number, after.seq, after.done) == (1, 2, 2, 1)
    nxt = next_visit(db, eid)
    assert nxt is not None and nxt.seq == 2 and nxt.kind == "therapy"


def test_completing_visit_45_completes_the_episode(db: ClinicDB) -> None:
    eid = _episode(db)
    visits = visits_of(db, eid)
    _hold(db, eid, 44)
    assert get_episode(db, eid).status == "active"
    last = visits[44]
    start_visit(db, last.id, today=last.planned_date)
    record_measurement(db, last.id, "vas", 1)
    complete_visit(db, last.id)
    episode = get_episode(db, eid)
    assert (episode.status, episode.closed_on) == ("completed", last.planned_date)
    assert next_visit(db, eid) is None
    standing = progress(db, eid, today=DAY).standing
    assert standing.finished and (standing.module, standing.number, standing.done) == (3, 15, 45)


def test_mark_missed(db: ClinicDB) -> None:
    eid = _episode(db)
    visits = visits_of(db, eid)
    _hold(db, eid, 1)
    mark_missed(db, visits[1].id, today=DAY)
    missed = get_visit(db, visits[1].id)
    assert (missed.status, missed.held_on) == ("missed", DAY)
    nxt = next_visit(db, eid)
    assert nxt is not None and nxt.seq == 3
    start_visit(db, nxt.id, today=DAY)  # the one after a missed visit may start
    with pytest.raises(KinesioError, match="in progress"):
        mark_missed(db, nxt.id, today=DAY)
    for visit_id in (visits[0].id, visits[1].id):
        with pytest.raises(KinesioError, match="Cannot mark missed"):
            mark_missed(db, visit_id, today=DAY)
    assert progress(db, eid, today=DAY).standing.missed == 1


def test_reschedule_planned_moves_remaining_visits_onto_clinic_days(db: ClinicDB) -> None:
    eid = _episode(db)
    _hold(db, eid, 3)
    held = [(v.id, v.planned_date) for v in visits_of(db, eid)[:3]]
    new_start = DAY + timedelta(days=30)  # Friday 25 December: Christmas, closed
    moved = reschedule_planned(db, eid, new_start)
    visits = visits_of(db, eid)
    assert moved == 42
    assert [(v.id, v.planned_date) for v in visits[:3]] == held
    planned = [v.planned_date for v in visits[3:]]
    assert planned[:3] == [date(2026, 12, 28), date(2026, 12, 30), date(2027, 1, 4)]
    assert all(d.weekday() in (0, 2, 4) for d in planned)
    assert all(b > a for a, b in itertools.pairwise(planned))
    # Mon/Wed/Fri, save a holiday's gap (Fri 1 Jan: Wed 30 Dec to Mon 4 Jan)
    assert all((b - a).days <= 5 for a, b in itertools.pairwise(planned))
    assert reschedule_planned(db, eid, new_start) == 0  # nothing left to move


def test_close_episode_cancels_the_rest(db: ClinicDB) -> None:
    eid = _episode(db)
    _hold(db, eid, 2)
    close_episode(db, eid, today=DAY)
    episode = get_episode(db, eid)
    assert (episode.status, episode.closed_on) == ("closed", DAY)
    statuses = [v.status for v in visits_of(db, eid)]
    assert statuses == ["done"] * 2 + ["cancelled"] * 43
    with pytest.raises(KinesioError, match="already closed"):
        close_episode(db, eid, today=DAY)
    with pytest.raises(KinesioError, match="This episode is closed"):
        start_visit(db, visits_of(db, eid)[2].id, today=DAY)
    standing = progress(db, eid, today=DAY).standing
    # Where it stopped, not the last cancelled visit of module 3.
    assert (standing.module, standing.number, standing.done) == (1, 2, 2)


def test_measurements_one_value_per_test_and_side(db: ClinicDB) -> None:
    eid = _episode(db)
    doctor = visits_of(db, eid)[0]
    start_visit(db, doctor.id, today=DAY)
    record_measurement(db, doctor.id, "hip_flexion", 80, "L")
    record_measurement(db, doctor.id, "hip_flexion", 100, "R")
    record_measurement(db, doctor.id, "hip_flexion", 85, "L")
    got = {(m.side, m.value) for m in measurements_of(db, doctor.id)}
    assert got == {("L", 85.0), ("R", 100.0)}


def test_every_write_is_in_the_hash_chained_audit_trail(db: ClinicDB) -> None:
    eid = _episode(db)
    _hold(db, eid, 2)
    rows = db.execute(
        "SELECT at, actor, action, table_name, record_id, patient_id, content_sha, prev_hash, hash, "
        "key_id FROM audit_log ORDER BY id"
    ).fetchall()
    key = load_key(create=False)
    assert key is not None
    # patient + episode + 45 visits + intake screen, then start/complete twice
    assert len(rows) == 1 + 1 + 45 + 1 + 4
    prev = GENESIS_HASH
    for at, actor, action, table, record_id, pid, sha, prev_hash, digest, key_id in rows:
        assert prev_hash == prev and actor == "tester" and pid == 1 and key_id == key.id
        entry = dict(
            at=at, actor=actor, action=action, table_name=table, record_id=record_id,
            patient_id=pid, content_sha=sha, key_id=key_id,
        )  # fmt: skip
        assert signed_entry_hash(key, prev, entry) == digest
        prev = digest
    assert [r[2] for r in rows[-4:]] == ["start", "complete", "start", "complete"]


def test_intake_screen_and_red_flags(db: ClinicDB) -> None:
    from kinesio_tui.domain.episodes import raised_red_flags, screen_red_flags

    pid = create_patient(db, NewPatient("Ona", "Urbonienė", "1950-01-01", "F"), today=DAY)
    eid = open_episode(
        db,
        pid,
        NewEpisode("sciatica", "lower", "L", red_flags=("saddle_numbness", "bladder_bowel")),
        start=DAY,
        today=DAY,
    )
    assert raised_red_flags(db, eid) == ["bladder_bowel", "saddle_numbness"]
    screen_red_flags(db, eid, [], note="Resolved", today=DAY + timedelta(days=2))
    assert raised_red_flags(db, eid) == []
    flags = db.execute("SELECT flags FROM red_flag_screens ORDER BY id").fetchall()
    assert [json.loads(f[0]) for f in flags] == [["bladder_bowel", "saddle_numbness"], []]


def test_missing_the_last_visit_also_ends_the_programme(db: ClinicDB) -> None:
    eid = _episode(db)
    _hold(db, eid, 44)
    last = visits_of(db, eid)[44]
    mark_missed(db, last.id, today=last.planned_date)
    episode = get_episode(db, eid)
    assert (episode.status, episode.closed_on) == ("completed", last.planned_date)


def test_reschedule_leaves_the_visit_under_way(db: ClinicDB) -> None:
    eid = _episode(db)
    _hold(db, eid, 1)
    under_way = start_visit(db, visits_of(db, eid)[1].id, today=DAY)
    reschedule_planned(db, eid, DAY + timedelta(days=14))
    again = get_visit(db, under_way.id)
    assert (again.planned_date, again.held_on, again.in_progress) == (
        under_way.planned_date,
        DAY,
        True,
    )
    assert visits_of(db, eid)[2].planned_date == DAY + timedelta(days=14)


def test_an_episode_with_a_visit_under_way_cannot_close(db: ClinicDB) -> None:
    eid = _episode(db)
    visit = visits_of(db, eid)[0]
    start_visit(db, visit.id, today=DAY)
    record_measurement(db, visit.id, "vas", 6)
    with pytest.raises(KinesioError, match="Complete visit 1 before closing"):
        close_episode(db, eid, today=DAY)
    assert get_episode(db, eid).status == "active" and get_visit(db, visit.id).in_progress
    complete_visit(db, visit.id)
    close_episode(db, eid, today=DAY)
    assert get_visit(db, visit.id).status == "done"


def test_untick_of_any_text_is_harmless(db: ClinicDB) -> None:
    eid = _episode(db)
    _hold(db, eid, 1)
    session = visits_of(db, eid)[1]
    start_visit(db, session.id, today=DAY)
    tick_item(db, session.id, "m1_pir")
    for odd in ("m1_pir' OR 1=1 --", "", "m2_asymmetric"):
        untick_item(db, session.id, odd)
    with pytest.raises(ValidationError, match="not valid text"):
        untick_item(db, session.id, "\ud800")
    assert set(ticks_of(db, session.id)) == {"m1_pir"}
