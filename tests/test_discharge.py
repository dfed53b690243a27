"""The discharge letter's records: the referring doctor on the episode, and what the doctor
types at the final appointment. Real SQLite files; every refusal writes nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import DAY, held_episode
from typer.testing import CliRunner

from kinesio_tui.cli.command import app
from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain.discharge import (
    MAX_RECOMMENDATIONS,
    DischargeText,
    discharge_of,
    final_appointment,
    is_final_appointment,
    record_discharge,
    work_status_label,
    work_statuses,
)
from kinesio_tui.domain.episodes import get_episode, open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient
from kinesio_tui.domain.patients import create_patient, find_patients
from kinesio_tui.domain.referrer import MAX_REFERRER, set_referring_doctor
from kinesio_tui.errors import KinesioError, StaleRecord, ValidationError

runner = CliRunner()
HOSTILE = (
    "bell\x07",
    "esc \x1b[31mred",
    "bidi \u202eevil",
    "isolate \u2066x\u2069",
    "c1 \x9b",
    "two\nlines",
    "W" * (MAX_REFERRER + 1),
)


# The referrer and the discharge on both engines (issue 17); the schema steps' own tests
# take the SQLite file (PostgreSQL's schema: test_pg_schema_parity).
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def snapshot(db: ClinicDB) -> tuple[object, ...]:
    """Everything a refused write must leave as it was."""
    return (
        db.execute("SELECT count(*), max(id) FROM audit_log").fetchone(),
        db.execute("SELECT * FROM episodes ORDER BY id").fetchall(),
        db.execute("SELECT * FROM discharges ORDER BY id").fetchall(),
    )


def test_the_schema_step_adds_the_referrer_and_the_discharge(db_path: Path) -> None:
    connect(db_path).close()
    raw = sqlite3.connect(db_path)
    episode_columns = {row[1] for row in raw.execute("PRAGMA table_info(episodes)")}
    discharge_columns = {row[1] for row in raw.execute("PRAGMA table_info(discharges)")}
    applied = [r[0] for r in raw.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    raw.close()
    assert {"referring_doctor", "referring_institution"} <= episode_columns
    assert {"medication", "work_status", "recommendations", "follow_up", "review_date"} <= (
        discharge_columns
    )
    assert "0011_discharge_letter" in applied


def test_the_referring_doctor_is_recorded_changed_and_audited(db: ClinicDB) -> None:
    pid = create_patient(db, NewPatient("Ona", "Siunčiama", "1970-01-01", "F"), today=DAY)
    eid = open_episode(
        db,
        pid,
        NewEpisode("sciatica", "upper", "L", referring_doctor="Dr A. Jonaitė"),
        start=DAY,
        today=DAY,
    )
    episode = get_episode(db, eid)
    assert (episode.referring_doctor, episode.referring_institution) == ("Dr A. Jonaitė", "")
    changed = set_referring_doctor(
        db, eid, " Dr B. Petraitis ", "Kauno poliklinika", expected_version=episode.version
    )
    assert (changed.referring_doctor, changed.referring_institution) == (
        "Dr B. Petraitis",
        "Kauno poliklinika",
    )
    entry = db.execute(
        "SELECT new FROM audit_log WHERE table_name = 'episodes' ORDER BY id DESC LIMIT 1"
    ).fetchone()[0]
    assert "Dr B. Petraitis" in entry
    # a second terminal still showing the first version is refused, nothing written
    before = snapshot(db)
    with pytest.raises(StaleRecord):
        set_referring_doctor(db, eid, "Dr C", expected_version=episode.version)
    assert snapshot(db) == before


@pytest.mark.parametrize("text", HOSTILE)
def test_a_hostile_referrer_is_refused_and_nothing_written(db: ClinicDB, text: str) -> None:
    pid = create_patient(db, NewPatient("Ona", "Atsisakoma", "1970-01-01", "F"), today=DAY)
    eid = open_episode(db, pid, NewEpisode("sciatica", "upper", "L"), start=DAY, today=DAY)
    before = snapshot(db)
    with pytest.raises(ValidationError):
        set_referring_doctor(db, eid, text)
    with pytest.raises(ValidationError):
        set_referring_doctor(db, eid, "Dr Ok", text + "W" * 120)
    with pytest.raises(ValidationError):
        open_episode(
            db, pid, NewEpisode("sciatica", "upper", "L", referring_doctor=text), today=DAY
        )
    assert snapshot(db) == before


def test_an_institution_needs_a_doctor(db: ClinicDB) -> None:
    pid = create_patient(db, NewPatient("Ona", "Įstaiga", "1970-01-01", "F"), today=DAY)
    eid = open_episode(db, pid, NewEpisode("sciatica", "upper", "L"), start=DAY, today=DAY)
    with pytest.raises(ValidationError, match="institution"):
        set_referring_doctor(db, eid, "", "Kauno poliklinika")


def test_the_discharge_is_recorded_at_a_final_appointment_only(db: ClinicDB) -> None:
    _pid, eid, planned = held_episode(
        db, NewEpisode("radiculitis", "lumbar", "R"), start=DAY.replace(month=10), held=15
    )
    control = planned[7]
    assert not is_final_appointment(control) and is_final_appointment(planned[14])
    before = snapshot(db)
    with pytest.raises(KinesioError, match="final"):
        record_discharge(db, control.id, DischargeText(recommendations="x"), today=DAY)
    with pytest.raises(KinesioError, match="not started"):  # module 2's final: not held
        record_discharge(db, planned[29].id, DischargeText(recommendations="x"), today=DAY)
    assert snapshot(db) == before
    final = final_appointment(db, eid)
    assert final is not None and final.seq == 15
    saved = record_discharge(
        db,
        final.id,
        DischargeText("none", "modified", "no lifting", "Home exercises daily", "GP in 3 months"),
        today=DAY,
        expected_version=0,
    )
    assert discharge_of(db, eid) == saved
    assert work_status_label(saved.work_status) == "working, modified duties"
    # a second form that saw no discharge yet is refused: nothing written
    before = snapshot(db)
    with pytest.raises(StaleRecord):
        record_discharge(db, final.id, DischargeText(follow_up="y"), today=DAY, expected_version=0)
    assert snapshot(db) == before
    changed = record_discharge(
        db, final.id, DischargeText(follow_up="y"), today=DAY, expected_version=saved.version
    )
    assert changed.version == saved.version + 1 and changed.recommendations == ""


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (DischargeText(work_status="on_holiday"), "work status"),
        (DischargeText(review_date="2026-11-24"), "review date"),  # the day before DAY
        (DischargeText(review_date="next week"), "review date"),
        (DischargeText(review_date="2030-01-01"), "review date"),
        (DischargeText(medication="two\nlines"), "medication"),
        (DischargeText(recommendations="x" * (MAX_RECOMMENDATIONS + 1)), "recommendations"),
        (DischargeText(follow_up="\x1b]0;title\x07"), "follow-up"),
        (DischargeText(work_note="\u202e"), "work note"),
    ],
)
def test_a_discharge_field_out_of_bounds_is_refused(
    db: ClinicDB, text: DischargeText, field: str
) -> None:
    _pid, _eid, planned = held_episode(
        db, NewEpisode("radiculitis", "lumbar", "R"), start=DAY.replace(month=10), held=15
    )
    before = snapshot(db)
    with pytest.raises(ValidationError) as refused:
        record_discharge(db, planned[14].id, text, today=DAY)
    assert refused.value.field == field
    assert snapshot(db) == before


def test_work_statuses_are_data() -> None:
    codes = [w.code for w in work_statuses()]
    assert codes == ["as_before", "modified", "sick_leave", "not_working", "retired"]


# --- the command line -------------------------------------------------------------------


def kinesio(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_the_command_line_sets_the_referrer_and_records_the_discharge(
    demo_target: str,
) -> None:
    db = demo_target
    code, out, err = kinesio(
        "episode", "set", "simkus", "--referring-doctor", "Dr J. Petraitis", "--db", db
    )
    assert code == 0, err
    assert "Dr J. Petraitis" in out
    code, out, err = kinesio(
        "episode",
        "discharge",
        "simkus",
        "--work-status",
        "retired",
        "--recommendations",
        "Walk daily",
        "--review-date",
        "2027-02-25",
        "--db",
        db,
    )
    assert code == 0, err
    assert "visit 45" in out
    code, _out, err = kinesio("episode", "discharge", "simkus", "--follow-up", "GP", "--db", db)
    assert code == 0, err
    conn = connect(demo_target)
    try:
        pid = find_patients(conn, "simkus")[0].id
        recorded = discharge_of(conn, final_episode_id(conn, pid))
    finally:
        conn.close()
    assert recorded is not None
    # the options not given kept what was recorded
    assert (recorded.work_status, recorded.recommendations, recorded.follow_up) == (
        "retired",
        "Walk daily",
        "GP",
    )


def final_episode_id(db: ClinicDB, patient_id: int) -> int:
    from kinesio_tui.domain.episodes import current_episode

    episode = current_episode(db, patient_id)
    assert episode is not None
    return episode.id


@pytest.mark.parametrize(
    "args",
    [
        ("episode", "set", "simkus", "--referring-doctor", "Dr \x1b[31mRed"),
        ("episode", "set", "simkus", "--referring-doctor", "W" * (MAX_REFERRER + 1)),
        ("episode", "set", "simkus"),
        ("episode", "discharge", "simkus", "--work-status", "astronaut"),
        ("episode", "discharge", "simkus", "--review-date", "2020-01-01"),
        ("episode", "discharge", "simkus", "--medication", "bidi \u202e"),
        # stopped coming after 5 visits: no final appointment to record it at
        ("episode", "discharge", "tamošiūnienė", "--recommendations", "x"),
    ],
)
def test_a_refused_command_says_one_line_exits_2_and_writes_nothing(
    demo_target: str, args: tuple[str, ...]
) -> None:
    conn = connect(demo_target)
    before = snapshot(conn)
    conn.close()
    code, out, err = kinesio(*args, "--db", demo_target)
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
    conn = connect(demo_target)
    try:
        assert snapshot(conn) == before
    finally:
        conn.close()


def test_a_file_upgraded_with_record_uuids_first_gives_discharges_theirs(db_path: Path) -> None:
    """A clinic file upgraded by a version with step 0012 (record uuids) but not step 0011:
    the discharges table 0011 then makes has its uuids, so the store can write it."""
    connect(db_path).close()
    raw = sqlite3.connect(db_path)
    raw.execute("DROP TABLE discharges")
    raw.execute("ALTER TABLE episodes DROP COLUMN referring_doctor")
    raw.execute("ALTER TABLE episodes DROP COLUMN referring_institution")
    raw.execute("DELETE FROM _sqlite_migrations WHERE name = '0011_discharge_letter'")
    version = raw.execute("PRAGMA user_version").fetchone()[0]
    raw.execute(f"PRAGMA user_version = {version - 1}")
    raw.commit()
    raw.close()
    db = connect(db_path, actor="tester")  # the upgrade runs step 0011 after 0012
    try:
        columns = {row[1] for row in db.execute("PRAGMA table_info(discharges)").fetchall()}
        assert "uuid" in columns
        _pid, eid, planned = held_episode(
            db, NewEpisode("radiculitis", "lumbar", "R"), start=DAY.replace(month=10), held=15
        )
        saved = record_discharge(db, planned[14].id, DischargeText(follow_up="GP"), today=DAY)
        uuid = db.execute("SELECT uuid FROM discharges WHERE id = ?", [saved.id]).fetchone()[0]
        assert uuid and len(uuid) == 36
        set_referring_doctor(db, eid, "Dr A")
    finally:
        db.close()
