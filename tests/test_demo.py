"""The demo clinic: deterministic, the published cases where the clinic says, a real audit trail."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import DAY

from kinesio_tui.audit_key import GENESIS_HASH, load_key
from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.demo import build_demo
from kinesio_tui.domain.episodes import current_episode, raised_red_flags
from kinesio_tui.domain.outcomes import progress
from kinesio_tui.domain.patients import find_patients, get_patient
from kinesio_tui.domain.store import signed_entry_hash
from kinesio_tui.domain.today import day_list
from kinesio_tui.domain.visits import (
    checklist_for_visit,
    doctor_checks_for_visit,
    measurements_of,
    next_visit,
    ticks_of,
    visits_of,
)
from kinesio_tui.protocol import protocol

pytestmark = pytest.mark.engines("sqlite", "postgresql")

#: Columns that hold wall-clock times or hashes over them.
VOLATILE = {
    "created_at", "updated_at", "started_at", "completed_at", "ticked_at", "recorded_at",
    "archived_at", "at", "content_sha", "prev_hash", "hash", "last_hash", "mac", "old", "new", "applied_at",
    "uuid",
}  # fmt: skip


def contents(db: ClinicDB) -> dict[str, list[tuple[Any, ...]]]:
    """Rows of the ordinary tables (search indexes are derived from them, so left out)."""
    tables = db.sqlite_utils()
    virtual = [t for t in db.table_names() if tables.table(t).virtual_table_using]
    out = {}
    for table in db.table_names():
        if any(table == v or table.startswith(f"{v}_") for v in virtual):
            continue
        cursor = db.execute(f"SELECT * FROM [{table}]")
        volatile = [c[0] in VOLATILE for c in cursor.description]
        rows = (
            tuple(v is not None if vol else v for v, vol in zip(row, volatile, strict=True))
            for row in cursor.fetchall()
        )  # a time or hash only says whether it is there
        out[table] = sorted(rows, key=repr)
    return out


def _patient(db: ClinicDB, surname: str) -> Any:
    found = find_patients(db, surname) or find_patients(db, surname, archived=True)
    assert len(found) == 1, surname
    return found[0]


@pytest.mark.sqlite_only  # the builder, file against file
def test_two_builds_on_the_same_day_are_identical(demo_db: ClinicDB, tmp_path: Path) -> None:
    again = connect(build_demo(tmp_path / "again.db", today=DAY))
    try:
        first, second = contents(demo_db), contents(again)
    finally:
        again.close()
    assert first.keys() == second.keys()
    for table in first:
        assert first[table] == second[table], table
    assert len(first["patients"]) == 41


def test_the_driver_is_in_module_3_and_pain_free(demo_db: ClinicDB) -> None:
    p = _patient(demo_db, "Petrauskas")
    assert (p.first_name, p.age_on(DAY), p.sex, p.occupation) == (
        "Tomas",
        45,
        "M",
        "Professional driver",
    )
    episode = current_episode(demo_db, p.id)
    assert episode is not None
    assert (episode.condition, episode.subtype, episode.side, episode.course, episode.status) == (
        "radiculitis", "lumbar", "R", "acute", "active",
    )  # fmt: skip
    pr = progress(demo_db, episode.id, today=DAY)
    assert pr.standing.module == 3 and not pr.standing.finished
    assert pr.vas[0].value == 8 and pr.vas[-1].value == 0
    # pain-free after 8 weeks of the programme
    first_day = pr.visits[0].day
    assert all(pt.value == 0 for pt in pr.vas if pt.day >= first_day + timedelta(weeks=8))
    assert pr.vas_change is not None and pr.vas_change.important
    sitting = [
        m for m in measurements_of(demo_db, pr.visits[0].id) if m.test_code == "sitting_tolerance"
    ]
    assert [m.value for m in sitting] == [20.0]  # could not sit over 20 minutes


def test_the_office_worker_has_a_visit_in_progress_today(demo_db: ClinicDB) -> None:
    p = _patient(demo_db, "Žemaitė")
    assert (p.first_name, p.age_on(DAY), p.occupation) == ("Rūta", 38, "Office worker")
    episode = current_episode(demo_db, p.id)
    assert episode is not None and (episode.condition, episode.subtype) == ("sciatica", "upper")
    nxt = next_visit(demo_db, episode.id)
    assert nxt is not None and nxt.in_progress and nxt.held_on == DAY
    assert nxt.module == 2
    pr = progress(demo_db, episode.id, today=DAY)
    assert pr.standing.module == 2 and pr.standing.next_visit == nxt
    assert pr.vas[-1].value == 0
    # no pain after 5 weeks (15 visits)
    assert all(pt.value == 0 for pt in pr.vas if pt.seq >= 15)
    codes = {i.code for i in protocol().module(2).checklist_for("sciatica", "upper")}
    assert set(ticks_of(demo_db, nxt.id)) <= codes


def test_the_retiree_completed_with_80_percent_less_pain(demo_db: ClinicDB) -> None:
    p = _patient(demo_db, "Šimkus")
    assert (p.first_name, p.age_on(DAY), p.occupation) == ("Algirdas", 62, "Retired")
    episode = current_episode(demo_db, p.id)
    assert episode is not None
    assert (episode.condition, episode.course, episode.status) == (
        "radiculitis",
        "chronic",
        "completed",
    )
    assert "stopped" in episode.pain_medication
    pr = progress(demo_db, episode.id, today=DAY)
    assert pr.standing.finished and pr.standing.done == 43 and pr.standing.missed == 2
    change = pr.vas_change
    assert change is not None and change.important
    assert change.percent is not None and round(change.percent) == -80
    final = pr.visits[-1]
    assert "80% less pain" in final.note and "no medication" in final.note
    assert episode.closed_on == final.held_on


def test_the_rest_of_the_clinic(demo_db: ClinicDB) -> None:
    active = find_patients(demo_db, limit=1000)
    archived = find_patients(demo_db, archived=True, limit=1000)
    assert len(active) == 40 and len(archived) == 1
    without = [p for p in active if current_episode(demo_db, p.id) is None]
    assert [p.last_name for p in without] == ["Mockutė"]
    flagged = [
        p
        for p in active
        if (e := current_episode(demo_db, p.id)) is not None and raised_red_flags(demo_db, e.id)
    ]
    assert len(flagged) == 1


def test_histories_obey_the_programme(demo_db: ClinicDB) -> None:
    """Ticks only from the visit's own checklist; records only on held visits."""
    proto = protocol()
    overdue = []
    for p in find_patients(demo_db, limit=1000) + find_patients(demo_db, archived=True):
        episode = current_episode(demo_db, p.id)
        if episode is None:
            continue
        for visit in visits_of(demo_db, episode.id):
            ticks = set(ticks_of(demo_db, visit.id))
            if visit.kind == "doctor":
                assert not ticks
            else:
                # the patient's own list, as the doctor had tailored it by then: the module's
                # items, or one the doctor named
                items = checklist_for_visit(demo_db, visit)
                assert ticks <= {i.code for i in items}
                module_items = {i.code for i in proto.module(visit.module).checklist}
                assert all(i.code in module_items or i.origin == "own" for i in items)
            if visit.kind == "doctor" and visit.status == "done":
                # every value at a doctor's appointment is one of its checks for this patient
                checks = {t.code for t in doctor_checks_for_visit(demo_db, visit)}
                assert {m.test_code for m in measurements_of(demo_db, visit.id)} <= checks
            if visit.status != "done" and not visit.in_progress:
                assert not ticks and not measurements_of(demo_db, visit.id)
            if visit.held_on is not None:
                assert visit.held_on <= DAY  # nothing recorded in the future
                assert visit.held_on == DAY or not visit.in_progress
            else:
                assert visit.status in ("planned", "cancelled")
                # what is still planned lies ahead (one patient's visit is overdue); an
                # ended episode's rest is cancelled
                if visit.planned_date < DAY and episode.status == "active":
                    overdue.append(visit.seq)
    assert len(overdue) == 1  # the demo's one patient who did not come on the last clinic day


def test_the_demo_has_a_believable_day(demo_db: ClinicDB) -> None:
    rows = day_list(demo_db, DAY)
    statuses = [row.status for row in rows]
    assert statuses[0] == "overdue" and statuses.count("overdue") == 1
    assert statuses.count("missed") == 1
    assert statuses.count("in progress") >= 1
    due = [row for row in rows if row.status == "due"]
    assert len(due) >= 3
    times = [row.visit.planned_time or "" for row in rows if row.status in ("due", "missed")]
    assert all(times) and times == sorted(times)  # in time order
    missed = next(row for row in rows if row.status == "missed")
    assert missed.visit.absence_reason


def test_the_audit_trail_is_populated_and_chained(demo_db: ClinicDB) -> None:
    rows = demo_db.execute(
        "SELECT at, actor, action, table_name, record_id, patient_id, content_sha, prev_hash, hash, "
        "key_id FROM audit_log ORDER BY id"
    ).fetchall()
    key = load_key(create=False)
    assert key is not None
    assert len(rows) > 5000
    assert {r[1] for r in rows} == {"demo"}
    assert {"create", "start", "complete", "miss", "archive"} <= {r[2] for r in rows}
    prev = GENESIS_HASH
    for at, actor, action, table, record_id, pid, sha, prev_hash, digest, key_id in rows:
        assert prev_hash == prev and key_id == key.id
        entry = dict(
            at=at, actor=actor, action=action, table_name=table, record_id=record_id,
            patient_id=pid, content_sha=sha, key_id=key_id,
        )  # fmt: skip
        assert signed_entry_hash(key, prev, entry) == digest
        prev = digest
    patients_with_history = {r[5] for r in rows}
    assert all(p.id in patients_with_history for p in find_patients(demo_db, limit=1000))
    assert get_patient(demo_db, 1).last_name == "Petrauskas"


# --- every subtype reads true -------------------------------------------------------------------

LUMBAR_ONLY = {"slr_angle", "slr_sign", "schober", "hip_flexion", "hip_internal_rotation"}


def _episodes(db: ClinicDB) -> list[Any]:
    patients = find_patients(db, limit=1000) + find_patients(db, archived=True, limit=1000)
    return [e for p in patients if (e := current_episode(db, p.id)) is not None]


def _values(db: ClinicDB, visit: Any) -> dict[tuple[str, str | None], Any]:
    return {(m.test_code, m.side): m.value for m in measurements_of(db, visit.id)}


def test_the_demo_has_every_subtype(demo_db: ClinicDB) -> None:
    shown = {(e.condition, e.subtype) for e in _episodes(demo_db) if e.status == "active"}
    for condition in protocol().conditions:
        for subtype in condition.subtypes:
            assert (condition.code, subtype.code) in shown


def test_neck_and_thoracic_patients_have_their_regions_tests(demo_db: ClinicDB) -> None:
    region = {
        "cervical": {"cervical_rotation", "spurling", "ultt", "grip_strength", "sensation_c6"},
        "thoracic": {"thoracic_rotation", "chest_expansion", "rib_springing", "sensation_thoracic"},
    }
    seen = set()
    for episode in _episodes(demo_db):
        if episode.subtype not in region:
            continue
        for visit in visits_of(demo_db, episode.id):
            values = _values(demo_db, visit)
            codes = {code for code, _side in values}
            assert not codes & LUMBAR_ONLY, (episode.subtype, visit.seq, codes & LUMBAR_ONLY)
            if visit.seq == 1 and visit.status == "done":
                assert region[episode.subtype] <= codes
                seen.add(episode.subtype)
            finding = str(values.get(("emg_finding", None), ""))
            assert "L5" not in finding and "S1" not in finding
            posture = str(values.get(("posture_note", None), ""))
            assert "lumbar" not in posture
        ticks = {code for v in visits_of(demo_db, episode.id) for code in ticks_of(demo_db, v.id)}
        assert not ticks & {"m1_decompression_hangs", "m2_taping_lumbar"}
        pir = demo_db.execute(
            "SELECT DISTINCT p.muscle FROM pir_cycles p JOIN visits v ON v.id = p.visit_id "
            "WHERE v.episode_id = ?",
            [episode.id],
        ).fetchall()
        assert not {m for (m,) in pir} & {"piriformis", "quadratus lumborum"}
    assert seen == {"cervical", "thoracic"}


def test_the_chronic_case_has_had_pain_for_3_years(demo_db: ClinicDB) -> None:
    episode = current_episode(demo_db, _patient(demo_db, "Šimkus").id)
    assert episode is not None and episode.onset_date is not None
    assert round((episode.opened_on - episode.onset_date).days / 365.25) == 3
    for other in _episodes(demo_db):  # chronic: over 3 months; acute: under 6 weeks
        assert other.onset_date is not None
        weeks = (other.opened_on - other.onset_date).days / 7
        assert weeks > 13 if other.course == "chronic" else weeks < 6


def test_the_driver_is_back_at_work_at_the_end_of_module_2(demo_db: ClinicDB) -> None:
    episode = current_episode(demo_db, _patient(demo_db, "Petrauskas").id)
    assert episode is not None
    end_of_module = visits_of(demo_db, episode.id)[29]
    assert (end_of_module.module, end_of_module.number, end_of_module.status) == (2, 15, "done")
    assert "back at work" in end_of_module.note and "Pain-free" in end_of_module.note
    assert _values(demo_db, end_of_module)[("vas", None)] == 0


def test_the_office_workers_sensation_is_normal_at_5_weeks(demo_db: ClinicDB) -> None:
    episode = current_episode(demo_db, _patient(demo_db, "Žemaitė").id)
    assert episode is not None
    visits = visits_of(demo_db, episode.id)
    intake, five_weeks = visits[0], visits[14]
    assert (five_weeks.module, five_weeks.number, five_weeks.status) == (1, 15, "done")
    assert 4 <= (five_weeks.day - intake.day).days / 7 <= 6
    assert "sensation normal" in five_weeks.note
    before = _values(demo_db, intake)
    after = _values(demo_db, five_weeks)
    assert before[("sensation_s1", "L")] == "reduced"  # numbness in the left leg
    sensation = {k: v for k, v in after.items() if k[0].startswith("sensation_")}
    assert len(sensation) == 6 and set(sensation.values()) == {"normal"}


def test_the_clinic_outcome_summary_has_something_to_show(demo_db: ClinicDB) -> None:
    """Past patients whose programmes ended: each condition has enough completed ones for a
    percentage, each subtype is counted (its small n said), one of each condition dropped
    out, and the referred patient is on hold."""
    from kinesio_tui.domain.clinic_outcomes import clinic_outcomes

    summary = clinic_outcomes(demo_db)
    conditions = [g for g in summary.groups if g.subtype is None]
    for g in conditions:
        assert g.with_vas >= summary.fewest_for_percent, g.label
        assert g.pain_gone_share.percent is not None
        assert g.dropped_out == 1 and g.published_percent is not None
        assert 0 < g.pain_gone < g.with_vas  # most, not all: the retiree's pain is 80 % less
        assert g.proms and all(p.measured for p in g.proms)
    counted = {(g.condition, g.subtype) for g in summary.groups if g.subtype is not None}
    assert counted == {(c.code, s.code) for c in protocol().conditions for s in c.subtypes}
    assert sum(g.on_hold for g in conditions) == 1
    for episode in _episodes(demo_db):
        if episode.status == "completed":  # ended at a module's final appointment
            last = [v for v in visits_of(demo_db, episode.id) if v.status == "done"][-1]
            assert last.is_doctor and last.number == protocol().visits_per_module
            assert episode.closed_on == last.held_on
