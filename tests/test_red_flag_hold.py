"""A raised red flag stops therapy: the hold, its override, referral and clearance."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import DAY

from kinesio_tui.data.db import ClinicDB, connect, write_transaction
from kinesio_tui.domain.episodes import open_episode, screen_red_flags
from kinesio_tui.domain.holds import active_hold, clear_hold, holds_of, record_referral
from kinesio_tui.domain.models import NewEpisode, NewPatient
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.roster import roster
from kinesio_tui.domain.store import insert_row, now_iso
from kinesio_tui.domain.visits import complete_visit, next_visit, start_visit, visits_of
from kinesio_tui.errors import KinesioError, RecordRefused, StaleRecord, ValidationError
from kinesio_tui.protocol import protocol

# The domain's reads and writes, on both engines (issue 17).
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def _episode(db: ClinicDB, flags: tuple[str, ...] = ()) -> int:
    pid = create_patient(db, NewPatient("Ona", "Urbonienė", "1950-01-01", "F"), today=DAY)
    return open_episode(
        db, pid, NewEpisode("radiculitis", "lumbar", "R", red_flags=flags), start=DAY, today=DAY
    )


def _hold_doctor_visit(db: ClinicDB, episode_id: int) -> int:
    """Start the next visit (a doctor's appointment) and return its id."""
    visit = next_visit(db, episode_id)
    assert visit is not None and visit.kind == "doctor"
    start_visit(db, visit.id, today=DAY)
    return visit.id


def test_a_flag_raised_at_the_doctors_appointment_stops_the_next_therapy_session(
    db: ClinicDB,
) -> None:
    """Today: tick a flag, complete the appointment, and the session starts. It must not."""
    eid = _episode(db)
    doctor = _hold_doctor_visit(db, eid)
    screen_red_flags(db, eid, ["saddle_numbness"], visit_id=doctor, today=DAY)
    complete_visit(db, doctor)
    session = next_visit(db, eid)
    assert session is not None and session.kind == "therapy"
    with pytest.raises(KinesioError) as refused:
        start_visit(db, session.id, today=DAY)
    assert refused.value.title == "Therapy on hold"
    visit = db.execute("SELECT started_at FROM visits WHERE id = ?", [session.id]).fetchone()
    assert visit[0] is None


def test_an_override_needs_a_reason_and_is_recorded_and_audited(db: ClinicDB) -> None:

    eid = _episode(db, ("progressive_weakness",))
    doctor = _hold_doctor_visit(db, eid)
    complete_visit(db, doctor)
    session = next_visit(db, eid)
    assert session is not None
    with pytest.raises(KinesioError):
        start_visit(db, session.id, today=DAY, hold_override="   ")
    started = start_visit(
        db, session.id, today=DAY, hold_override="Neurologist saw her today, cleared by phone"
    )
    assert started.started_at is not None
    hold = active_hold(db, eid)
    assert hold is not None and hold.active  # an override does not end the hold
    [override] = hold.overrides
    assert override.reason == "Neurologist saw her today, cleared by phone"
    assert (override.visit_id, override.seq, override.by) == (session.id, 2, "tester")
    audited = db.execute(
        "SELECT action, new FROM audit_log WHERE table_name = 'hold_overrides'"
    ).fetchall()
    assert [a for a, _new in audited] == ["create"]
    assert json.loads(audited[0][1])["reason"] == override.reason


def test_a_doctors_appointment_starts_while_on_hold(db: ClinicDB) -> None:
    eid = _episode(db, ("cancer_history",))
    _hold_doctor_visit(db, eid)  # no override asked


def test_referral_records_to_whom_when_and_why(db: ClinicDB) -> None:

    eid = _episode(db, ("bladder_bowel",))
    hold = active_hold(db, eid)
    assert hold is not None and not hold.referred and hold.raised_on == DAY
    with pytest.raises(ValidationError, match="referred to"):
        record_referral(db, eid, to=" ", on=DAY, why="Retention", today=DAY)
    with pytest.raises(ValidationError, match="reason"):
        record_referral(db, eid, to="Emergency department", on=DAY, why="", today=DAY)
    with pytest.raises(ValidationError, match="future"):
        record_referral(db, eid, to="ED", on=DAY + timedelta(days=1), why="Retention", today=DAY)
    with pytest.raises(ValidationError, match="on or after"):
        record_referral(db, eid, to="ED", on=DAY - timedelta(days=1), why="x", today=DAY)
    version = record_referral(
        db,
        eid,
        to="Emergency department, Santaros klinikos",
        on=DAY,
        why="Urinary retention since yesterday",
        today=DAY,
        expected_version=hold.version,
    )
    hold = active_hold(db, eid)
    assert hold is not None and hold.version == version
    assert (hold.referred_to, hold.referred_on, hold.referral_reason) == (
        "Emergency department, Santaros klinikos",
        DAY,
        "Urinary retention since yesterday",
    )
    with pytest.raises(StaleRecord):  # a form showing the hold before the referral
        record_referral(db, eid, to="GP", on=DAY, why="x", today=DAY, expected_version=1)
    actions = db.execute(
        "SELECT action FROM audit_log WHERE table_name = 'episode_holds' ORDER BY id"
    ).fetchall()
    assert [a for (a,) in actions] == ["create", "refer"]


def test_only_a_doctors_clearance_at_a_doctors_appointment_ends_the_hold(db: ClinicDB) -> None:

    eid = _episode(db, ("saddle_numbness",))
    visits = visits_of(db, eid)
    # unticking the flag does not end the hold
    screen_red_flags(db, eid, [], note="Numbness gone", today=DAY)
    assert active_hold(db, eid) is not None
    # not before the appointment has started
    with pytest.raises(KinesioError, match="doctor's appointment in progress"):
        clear_hold(db, eid, visit_id=visits[0].id, doctor="Dr Jonaitis", note="MRI normal")
    doctor = _hold_doctor_visit(db, eid)
    with pytest.raises(ValidationError, match="doctor"):
        clear_hold(db, eid, visit_id=doctor, doctor="", note="MRI normal")
    with pytest.raises(ValidationError, match="reason"):
        clear_hold(db, eid, visit_id=doctor, doctor="Dr Jonaitis", note=" ")
    clear_hold(db, eid, visit_id=doctor, doctor="Dr Jonaitis", note="MRI normal, no compression")
    assert active_hold(db, eid) is None
    [hold] = holds_of(db, eid)
    assert (hold.cleared_on, hold.cleared_by, hold.cleared_visit_id) == (
        DAY,
        "Dr Jonaitis",
        doctor,
    )
    assert hold.clearance_note == "MRI normal, no compression"
    with pytest.raises(KinesioError, match="not on hold"):
        clear_hold(db, eid, visit_id=doctor, doctor="Dr Jonaitis", note="again")
    complete_visit(db, doctor)
    session = next_visit(db, eid)
    assert session is not None
    start_visit(db, session.id, today=DAY)  # no override needed any more
    complete_visit(db, session.id)
    # a therapy session is no place for a clearance
    second = next_visit(db, eid)
    assert second is not None and second.kind == "therapy"
    screen_red_flags(db, eid, ["recent_trauma"], today=DAY)
    start_visit(db, second.id, today=DAY, hold_override="Fall was minor; doctor on the phone")
    with pytest.raises(KinesioError, match="doctor's appointment"):
        clear_hold(db, eid, visit_id=second.id, doctor="Dr Jonaitis", note="ok")


def test_a_flag_the_doctor_cleared_holds_again_only_when_raised_anew(db: ClinicDB) -> None:

    eid = _episode(db, ("cancer_history",))
    doctor = _hold_doctor_visit(db, eid)
    clear_hold(db, eid, visit_id=doctor, doctor="Dr Petraitė", note="Remission for 10 years")
    # the same flag stays ticked at the next screen: no new hold
    screen_red_flags(db, eid, ["cancer_history"], visit_id=doctor, today=DAY)
    assert active_hold(db, eid) is None
    # a new flag: a new hold, naming it
    screen_red_flags(db, eid, ["cancer_history", "fever_weight_loss"], today=DAY)
    hold = active_hold(db, eid)
    assert hold is not None and hold.flags == ("fever_weight_loss",)
    # another flag while on hold joins the open hold
    screen_red_flags(db, eid, ["cancer_history", "fever_weight_loss", "recent_trauma"], today=DAY)
    hold = active_hold(db, eid)
    assert hold is not None and hold.flags == ("fever_weight_loss", "recent_trauma")
    assert len(holds_of(db, eid)) == 2


def test_at_most_one_open_hold_per_episode_is_kept_by_the_schema(db: ClinicDB) -> None:
    eid = _episode(db, ("cancer_history",))
    with pytest.raises(RecordRefused):
        db.execute(
            "INSERT INTO episode_holds (episode_id, raised_on, recorded_at, updated_at) "
            "VALUES (?, ?, '', '')",
            [eid, DAY.isoformat()],
        )


def test_the_seeds_red_flags_are_protocol_data_with_a_source() -> None:
    proto = protocol()
    codes = {f.code for f in proto.red_flags}
    assert {
        "visual_disturbance",
        "dizziness",
        "blood_pressure_crisis",
        "tinnitus_hearing_loss",
        "thrombophlebitis",
        "foot_ulcer",
        "diabetes",
        "pelvic_organ",
    } <= codes
    assert all(f.source for f in proto.red_flags)
    cervical = {f.code for f in proto.red_flags_for("radiculitis", "cervical")}
    lumbar = {f.code for f in proto.red_flags_for("radiculitis", "lumbar")}
    middle = {f.code for f in proto.red_flags_for("sciatica", "middle")}
    lower = {f.code for f in proto.red_flags_for("sciatica", "lower")}
    assert {"visual_disturbance", "dizziness", "tinnitus_hearing_loss"} <= cervical
    assert "dizziness" not in lumbar and "pelvic_organ" in lumbar
    assert "thrombophlebitis" in middle and "thrombophlebitis" not in lower
    assert {"foot_ulcer", "diabetes"} <= lower and "foot_ulcer" not in middle
    assert "saddle_numbness" in cervical & lumbar & middle & lower


def test_a_red_flag_for_an_unknown_subtype_is_refused(tmp_path: Path) -> None:
    from kinesio_tui.errors import ProtocolError
    from kinesio_tui.protocol import PROTOCOL_FILE, load_protocol

    text = PROTOCOL_FILE.read_text(encoding="utf-8").replace(
        'subtypes = ["middle"]', 'subtypes = ["knee"]'
    )
    broken = tmp_path / "protocol.toml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(ProtocolError, match=r"red_flags\[\d+\]\.subtypes: unknown subtype 'knee'"):
        load_protocol(broken)


def test_upgrading_a_file_puts_an_active_flagged_episode_on_hold(db_path: Path) -> None:
    """A clinic's file from before holds: its flagged active episode is on hold after the
    upgrade, written through the audited path, and the trail still verifies."""
    from kinesio_tui.maintenance.audit import verify_chain

    with connect(db_path, actor="tester") as db:
        flagged = _episode(db)
        calm = _episode(db)
        # the screen as the version before holds wrote it: audited, no hold beside it
        with write_transaction(db):
            insert_row(
                db,
                "red_flag_screens",
                {
                    "episode_id": flagged,
                    "screened_on": DAY.isoformat(),
                    "flags": '["saddle_numbness"]',
                    "recorded_at": now_iso(),
                },
                patient_id=1,
            )
    raw = sqlite3.connect(db_path, isolation_level=None)
    raw.executescript(
        "DROP TABLE hold_overrides; DROP TABLE episode_holds;"
        "DELETE FROM _sqlite_migrations WHERE name = '0006_red_flag_holds';"
        "PRAGMA user_version = 5;"
    )
    raw.close()
    with connect(db_path, actor="tester") as db:
        hold = active_hold(db, flagged)
        assert hold is not None and hold.flags == ("saddle_numbness",) and hold.raised_on == DAY
        assert active_hold(db, calm) is None
        actor = db.execute(
            "SELECT actor FROM audit_log WHERE table_name = 'episode_holds'"
        ).fetchone()[0]
        assert actor == "schema upgrade"
        report = verify_chain(db)
        assert report.ok, report.problems


def _referred_demo_patient(db: ClinicDB) -> tuple[int, int]:
    """The demo's patient referred at intake for a red flag: (patient id, episode id)."""
    row = db.execute(
        "SELECT e.patient_id, e.id FROM red_flag_screens s JOIN episodes e ON e.id = s.episode_id "
        "WHERE s.flags != '[]' AND e.status = 'active'"
    ).fetchone()
    return int(row[0]), int(row[1])


def test_the_demos_referred_patient_is_on_hold_with_the_referral(demo_db: ClinicDB) -> None:

    pid, eid = _referred_demo_patient(demo_db)
    hold = active_hold(demo_db, eid)
    assert hold is not None and hold.flags == ("progressive_weakness",)
    assert hold.referred_to.startswith("Neurologist") and hold.referred_on == hold.raised_on
    assert "Progressive leg weakness" in hold.referral_reason
    assert hold.overrides == ()  # no therapy session held behind the hold
    held = demo_db.execute(
        "SELECT count(*) FROM visits WHERE episode_id = ? AND kind = 'therapy' "
        "AND started_at IS NOT NULL",
        [eid],
    ).fetchone()[0]
    assert held == 0
    rows = roster(demo_db, limit=1000)
    assert [r.patient_id for r in rows if r.on_hold] == [pid]


def test_every_report_shows_the_hold(demo_db: ClinicDB) -> None:
    from kinesio_tui.export import render_export

    pid, _eid = _referred_demo_patient(demo_db)
    for fmt in ("md", "html"):
        for kind in ("summary", "visit"):
            text = render_export(demo_db, pid, kind=kind, fmt=fmt, today=DAY)
            assert "THERAPY ON HOLD" in text, (kind, fmt)
            assert "Referred to Neurologist, Santaros klinikos on" in text, (kind, fmt)
            assert "Ends only with a doctor&#39;s clearance" in text or (
                "Ends only with a doctor's clearance" in text
            )


def test_a_report_keeps_a_cleared_hold_and_its_override(db: ClinicDB) -> None:
    from kinesio_tui.export import render_export

    eid = _episode(db, ("recent_trauma",))
    record_referral(db, eid, to="Trauma <b>unit</b>", on=DAY, why="Fall on ice", today=DAY)
    doctor = _hold_doctor_visit(db, eid)
    clear_hold(db, eid, visit_id=doctor, doctor="Dr Jonaitis", note="X-ray: no fracture")
    complete_visit(db, doctor)
    pid = db.execute("SELECT patient_id FROM episodes WHERE id = ?", [eid]).fetchone()[0]
    html = render_export(db, pid, kind="summary", fmt="html", today=DAY)
    assert "Red-flag hold, cleared by a doctor" in html and "THERAPY ON HOLD" not in html
    assert "Trauma &lt;b&gt;unit&lt;/b&gt;" in html  # typed text stays text
    assert "Cleared by Dr Jonaitis: X-ray: no fracture" in html
    md = render_export(db, pid, kind="summary", fmt="md", today=DAY)
    assert "Red-flag hold, cleared by a doctor" in md


def test_patients_show_and_list_say_on_hold(demo_db_path: Path) -> None:
    """The real `kinesio` process."""
    from real_cli import run

    with connect(demo_db_path) as db:
        pid, _eid = _referred_demo_patient(db)
    shown = run("patients", "show", str(pid), "--db", demo_db_path)
    assert shown.code == 0, shown
    assert "Therapy on hold since" in shown.out
    assert "Referred to Neurologist, Santaros klinikos" in shown.out
    assert "Ends only with a doctor's clearance at a doctor's appointment." in shown.out
    listed = run("patients", "list", "--db", demo_db_path)
    [line] = [row for row in listed.out.splitlines() if row.strip().startswith(f"{pid} ")]
    assert "ON HOLD" in line


def test_erasure_removes_the_hold_and_its_referral(
    demo_db: ClinicDB, demo_db_path: Path, engine: str
) -> None:
    from kinesio_tui.maintenance.erase import erase_patient

    pid, eid = _referred_demo_patient(demo_db)
    erasure = erase_patient(demo_db, pid)
    # PostgreSQL keeps old row versions until autovacuum, and says so (tested in test_erase)
    assert erasure.complete or engine == "postgresql", erasure.pending
    assert erasure.counts["episode_holds"] == 1
    left = demo_db.execute(
        "SELECT count(*) FROM episode_holds WHERE episode_id = ?", [eid]
    ).fetchone()[0]
    assert left == 0
    if engine == "sqlite":
        assert b"Santaros klinikos" not in demo_db_path.read_bytes()


def test_patients_show_says_cleared_after_the_doctors_clearance(db_path: Path) -> None:
    """The real `kinesio` process: a flag the doctor cleared, still ticked, is no longer
    "refer to a doctor now"; show says who cleared it, when and why."""
    from real_cli import run

    with connect(db_path, actor="tester") as db:
        eid = _episode(db, ("cancer_history",))
        record_referral(db, eid, to="Oncologist", on=DAY, why="History of cancer", today=DAY)
        doctor = _hold_doctor_visit(db, eid)
        clear_hold(db, eid, visit_id=doctor, doctor="Dr Petraitė", note="Remission for 10 years")
        screen_red_flags(db, eid, ["cancer_history"], visit_id=doctor, today=DAY)
        pid = db.execute("SELECT patient_id FROM episodes WHERE id = ?", [eid]).fetchone()[0]
    shown = run("patients", "show", str(pid), "--db", db_path)
    assert shown.code == 0, shown
    assert "refer to a doctor now" not in shown.out
    assert "Therapy on hold since" not in shown.out
    assert f"cleared for therapy by Dr Petraitė on {DAY}" in shown.out
    assert "Cleared by Dr Petraitė: Remission for 10 years" in shown.out
