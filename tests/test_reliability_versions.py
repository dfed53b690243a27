"""Two terminals on one clinic: every clinical write carries the version its screen showed.

The "other terminal" is a real second process (tests/writer_child.py) on the same clinic
(the same file, or the same PostgreSQL database as the application's role). In
each test both terminals start from the same screen; the other one commits first; ours is
then refused as stale, and the other terminal's value is what the file holds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from conftest import DAY, where

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.episodes import (
    close_episode,
    get_episode,
    latest_red_flag_screen,
    open_episode,
    screen_red_flags,
)
from kinesio_tui.domain.models import NewEpisode, NewPatient, PirCycle
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.visits import (
    checklist_for_visit,
    complete_visit,
    delete_measurement,
    get_visit,
    measurements_of,
    pir_cycles_of,
    record_measurement,
    record_pir_cycle,
    set_visit_note,
    start_visit,
    tick_item,
    ticks_of,
    untick_item,
    update_pir_cycle,
    visits_of,
)
from kinesio_tui.errors import StaleRecord

pytestmark = pytest.mark.engines("sqlite", "postgresql")

CHILD = Path(__file__).with_name("writer_child.py")
PIR = PirCycle("piriformis", "L", 7, 20, 15, 3)


def other_terminal(db: ClinicDB, **request: object) -> str:
    """One write by a second process; returns its answer (`ok` or `stale`)."""
    done = subprocess.run(
        [sys.executable, str(CHILD), "write", where(db), json.dumps(request)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode in (0, 3), done.stderr
    return done.stdout.strip()


def _episode(db: ClinicDB) -> int:
    pid = create_patient(db, NewPatient("Ona", "Dviterminale", "1975-05-05", "F"), today=DAY)
    return open_episode(db, pid, NewEpisode("sciatica", "lower", "L"), start=DAY, today=DAY)


@pytest.fixture
def doctor_visit(db: ClinicDB) -> int:
    """Visit 1 (the first doctor's appointment), started."""
    visit = visits_of(db, _episode(db))[0]
    start_visit(db, visit.id, today=DAY)
    return visit.id


@pytest.fixture
def session(db: ClinicDB) -> int:
    """Visit 2 (a therapy session), started."""
    first, second = visits_of(db, _episode(db))[:2]
    start_visit(db, first.id, today=DAY)
    complete_visit(db, first.id)
    start_visit(db, second.id, today=DAY)
    return second.id


def _item(db: ClinicDB, visit_id: int) -> str:
    return checklist_for_visit(db, get_visit(db, visit_id))[0].code


# --- the visit note -----------------------------------------------------------------------


def test_a_stale_visit_note_is_refused(db: ClinicDB, doctor_visit: int) -> None:
    shown = get_visit(db, doctor_visit)
    assert (
        other_terminal(db, op="note", visit=doctor_visit, expected=shown.version, text="theirs")
        == "ok"
    )
    with pytest.raises(StaleRecord) as refused:
        set_visit_note(db, doctor_visit, "ours", expected_version=shown.version)
    assert "changed in another terminal" in refused.value.message
    assert get_visit(db, doctor_visit).note == "theirs"


def test_the_others_stale_note_is_refused_and_ours_returns_the_new_version(
    db: ClinicDB, doctor_visit: int
) -> None:
    shown = get_visit(db, doctor_visit)
    version = set_visit_note(db, doctor_visit, "ours", expected_version=shown.version)
    assert version == get_visit(db, doctor_visit).version == shown.version + 1
    assert (
        other_terminal(db, op="note", visit=doctor_visit, expected=shown.version, text="x")
        == "stale"
    )
    assert get_visit(db, doctor_visit).note == "ours"


def test_concurrent_note_edits_lose_nothing(db: ClinicDB, doctor_visit: int) -> None:
    """Two terminals each add 150 lines to the note as fast as they can: all 300 remain."""
    children = [
        subprocess.Popen(
            [
                sys.executable,
                str(CHILD),
                "append-notes",
                where(db),
                str(doctor_visit),
                tag,
                "150",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("a", "b")
    ]
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    refused = 0
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0 and out.startswith("done"), err
        refused += int(out.split()[1])
    lines = get_visit(db, doctor_visit).note.split("\n")
    assert sorted(lines) == sorted(f"{t}{n}" for t in "ab" for n in range(150))
    print(f"{refused} of 300 note edits were refused as stale and made again")


# --- visit status -------------------------------------------------------------------------


def test_a_stale_start_is_refused(db: ClinicDB) -> None:
    visit = visits_of(db, _episode(db))[0]
    assert other_terminal(db, op="start", visit=visit.id, expected=visit.version) == "ok"
    with pytest.raises(StaleRecord):
        start_visit(db, visit.id, today=DAY, expected_version=visit.version)


def test_a_stale_completion_is_refused(db: ClinicDB, doctor_visit: int) -> None:
    shown = get_visit(db, doctor_visit)
    assert (
        other_terminal(db, op="note", visit=doctor_visit, expected=shown.version, text="wait")
        == "ok"
    )
    with pytest.raises(StaleRecord):
        complete_visit(db, doctor_visit, expected_version=shown.version)
    assert get_visit(db, doctor_visit).status == "planned"
    assert other_terminal(db, op="complete", visit=doctor_visit, expected=shown.version) == "stale"
    now = get_visit(db, doctor_visit)
    assert complete_visit(db, doctor_visit, expected_version=now.version).status == "done"


# --- measurements -------------------------------------------------------------------------


def test_a_stale_measurement_is_refused(db: ClinicDB, doctor_visit: int) -> None:
    record_measurement(db, doctor_visit, "vas", 5)
    [shown] = measurements_of(db, doctor_visit)
    assert (
        other_terminal(
            db, op="measure", visit=doctor_visit, expected=shown.version, test="vas", value=6
        )
        == "ok"
    )
    with pytest.raises(StaleRecord):
        record_measurement(db, doctor_visit, "vas", 7, expected_version=shown.version)
    assert [m.value for m in measurements_of(db, doctor_visit)] == [6.0]


def test_two_terminals_recording_the_same_new_measurement_keep_one_value(
    db: ClinicDB, doctor_visit: int
) -> None:
    """Both screens showed no SLR angle on the left: the second one to save is refused."""
    assert (
        other_terminal(
            db, op="measure", visit=doctor_visit, expected=0, test="slr_angle", value=40, side="L"
        )
        == "ok"
    )
    with pytest.raises(StaleRecord):
        record_measurement(db, doctor_visit, "slr_angle", 55, "L", expected_version=0)
    assert [(m.side, m.value) for m in measurements_of(db, doctor_visit)] == [("L", 40.0)]
    # the other side was never shown to anyone else: recorded
    record_measurement(db, doctor_visit, "slr_angle", 70, "R", expected_version=0)
    assert len(measurements_of(db, doctor_visit)) == 2


def test_a_measurement_taken_back_and_recorded_again_is_not_overwritten(
    db: ClinicDB, doctor_visit: int
) -> None:
    record_measurement(db, doctor_visit, "vas", 5)
    [shown] = measurements_of(db, doctor_visit)
    assert other_terminal(db, op="unmeasure", measurement=shown.id, expected=shown.version) == "ok"
    assert (
        other_terminal(db, op="measure", visit=doctor_visit, expected=0, test="vas", value=6)
        == "ok"
    )
    with pytest.raises(StaleRecord):
        record_measurement(db, doctor_visit, "vas", 7, expected_version=shown.version)
    assert [m.value for m in measurements_of(db, doctor_visit)] == [6.0]


def test_a_stale_undo_of_a_measurement_is_refused(db: ClinicDB, doctor_visit: int) -> None:
    record_measurement(db, doctor_visit, "vas", 5)
    [shown] = measurements_of(db, doctor_visit)
    assert (
        other_terminal(
            db, op="measure", visit=doctor_visit, expected=shown.version, test="vas", value=6
        )
        == "ok"
    )
    with pytest.raises(StaleRecord):
        delete_measurement(db, shown.id, expected_version=shown.version)
    assert [m.value for m in measurements_of(db, doctor_visit)] == [6.0]


# --- checklist ticks and dosage -----------------------------------------------------------


def test_two_terminals_ticking_the_same_item_keep_one_tick(db: ClinicDB, session: int) -> None:
    item = _item(db, session)
    assert (
        other_terminal(db, op="tick", visit=session, expected=0, item=item, note="3 x 10") == "ok"
    )
    with pytest.raises(StaleRecord):
        tick_item(db, session, item, "", expected_version=0)
    assert ticks_of(db, session)[item].note == "3 x 10"


def test_a_stale_dosage_is_refused(db: ClinicDB, session: int) -> None:
    item = _item(db, session)
    tick_item(db, session, item, "2 x 10")
    shown = ticks_of(db, session)[item]
    assert (
        other_terminal(
            db, op="tick", visit=session, expected=shown.version, item=item, note="3 x 10"
        )
        == "ok"
    )
    with pytest.raises(StaleRecord):
        tick_item(db, session, item, "4 x 10", expected_version=shown.version)
    assert ticks_of(db, session)[item].note == "3 x 10"


def test_a_stale_untick_is_refused(db: ClinicDB, session: int) -> None:
    item = _item(db, session)
    tick_item(db, session, item)
    shown = ticks_of(db, session)[item]
    assert (
        other_terminal(
            db, op="tick", visit=session, expected=shown.version, item=item, note="5 min"
        )
        == "ok"
    )
    with pytest.raises(StaleRecord):
        untick_item(db, session, item, expected_version=shown.version)
    assert ticks_of(db, session)[item].note == "5 min"


def test_a_tick_taken_back_and_given_again_is_not_overwritten(db: ClinicDB, session: int) -> None:
    item = _item(db, session)
    tick_item(db, session, item, "2 x 10")
    shown = ticks_of(db, session)[item]
    assert other_terminal(db, op="untick", visit=session, expected=shown.version, item=item) == "ok"
    assert other_terminal(db, op="tick", visit=session, expected=0, item=item, note="new") == "ok"
    with pytest.raises(StaleRecord):
        tick_item(db, session, item, "mine", expected_version=shown.version)
    assert ticks_of(db, session)[item].note == "new"


# --- PIR sets -----------------------------------------------------------------------------


def test_a_stale_pir_set_is_refused(db: ClinicDB, session: int) -> None:
    pir_id = record_pir_cycle(db, session, PIR)
    version = db.execute("SELECT version FROM pir_cycles WHERE id = ?", [pir_id]).fetchone()[0]
    theirs = asdict(replace(PIR, rom_after=60))
    assert other_terminal(db, op="pir", pir=pir_id, expected=version, cycle=theirs) == "ok"
    with pytest.raises(StaleRecord):
        update_pir_cycle(db, pir_id, replace(PIR, rom_after=45), expected_version=version)
    assert pir_cycles_of(db, session)[0][1].rom_after == 60
    assert other_terminal(db, op="unpir", pir=pir_id, expected=version) == "stale"
    assert len(pir_cycles_of(db, session)) == 1


# --- red-flag screen and episode ----------------------------------------------------------


def test_a_stale_red_flag_screen_is_refused(db: ClinicDB, doctor_visit: int) -> None:
    episode_id = get_visit(db, doctor_visit).episode_id
    shown, flags = latest_red_flag_screen(db, episode_id)
    assert flags == []
    assert (
        other_terminal(
            db,
            op="flags",
            episode=episode_id,
            expected=shown,
            flags=["saddle_numbness"],
            visit=doctor_visit,
        )
        == "ok"
    )
    with pytest.raises(StaleRecord):
        screen_red_flags(
            db, episode_id, [], visit_id=doctor_visit, today=DAY, expected_version=shown
        )
    assert latest_red_flag_screen(db, episode_id)[1] == ["saddle_numbness"]


def test_a_stale_episode_close_is_refused(db: ClinicDB) -> None:
    episode = get_episode(db, _episode(db))
    assert other_terminal(db, op="close", episode=episode.id, expected=episode.version) == "ok"
    with pytest.raises(StaleRecord):
        close_episode(
            db, episode.id, today=DAY, status="completed", expected_version=episode.version
        )
    assert get_episode(db, episode.id).status == "closed"
