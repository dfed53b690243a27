"""The programme the doctor tailors: items added, removed and dosed for one patient at a
doctor's appointment; the coming sessions show the patient's own list, held ones keep theirs."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DAY

from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.plan import (
    PlanEdit,
    PlanItem,
    add_plan_item,
    items_to_add,
    patient_checklist,
    patient_home_exercises,
    plan_changes_of,
    plan_version,
    preview_plan,
    remove_plan_item,
    set_target_dosage,
    tailor_checklist,
)
from kinesio_tui.domain.visits import (
    checklist_for_visit,
    complete_visit,
    next_visit,
    start_visit,
    tick_item,
    ticks_of,
    visits_of,
)
from kinesio_tui.errors import KinesioError, ProtocolError, StaleRecord, ValidationError
from kinesio_tui.maintenance.audit import record_problems, verify_chain
from kinesio_tui.protocol import CATALOG_FILE, HOME_EXERCISES_FILE, PROTOCOL_FILE, load_protocol
from kinesio_tui.protocol import protocol as programme

# The domain's reads and writes, on both engines (issue 17).
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def hand_edit(db: ClinicDB, sql: str) -> None:
    """A change made outside kinesio-tui (a database shell), committed, on either engine."""
    if db.kind == "sqlite":
        db.conn.execute(sql)
        db.conn.commit()
    else:
        db.execute(sql)  # the connection autocommits outside a write transaction


def _lumbar(db: ClinicDB) -> int:
    pid = create_patient(db, NewPatient("Jonas", "Vairuotojas", "1981-03-04", "M"), today=DAY)
    return open_episode(db, pid, NewEpisode("radiculitis", "lumbar", "R"), start=DAY, today=DAY)


def _at_appointment(db: ClinicDB, episode_id: int) -> int:
    """Hold visits up to the next doctor's appointment and start it; its id."""
    while True:
        visit = next_visit(db, episode_id)
        assert visit is not None
        start_visit(db, visit.id, today=DAY)
        if visit.kind == "doctor":
            return visit.id
        complete_visit(db, visit.id)


def _codes(items: tuple[PlanItem, ...]) -> list[str]:
    return [i.code for i in items]


def test_an_item_the_subtype_filter_left_out_is_added_to_the_coming_sessions(
    db: ClinicDB,
) -> None:
    eid = _lumbar(db)
    doctor = _at_appointment(db, eid)
    assert "m1_figure_four" not in _codes(patient_checklist(db, eid, 1))  # sciatica's
    version = add_plan_item(
        db,
        doctor,
        "m1_figure_four",
        reason="Tight piriformis on the right as well",
        dosage="3 x 30 s",
        expected_version=0,
    )
    assert version == plan_version(db, eid, 1) > 0
    complete_visit(db, doctor)
    session = next_visit(db, eid)
    assert session is not None and session.kind == "therapy"
    items = {i.code: i for i in checklist_for_visit(db, session)}
    added = items["m1_figure_four"]
    assert added.target == "3 x 30 s" and added.origin == "added"
    assert added.marks() == ["added by tester on 2026-11-25: Tight piriformis on the right as well"]
    start_visit(db, session.id, today=DAY)
    tick_item(db, session.id, "m1_figure_four", "3 x 30 s, R tighter")
    assert "m1_figure_four" in ticks_of(db, session.id)


def test_an_item_the_doctor_names_is_added_and_ticked(db: ClinicDB) -> None:
    eid = _lumbar(db)
    doctor = _at_appointment(db, eid)
    add_plan_item(
        db,
        doctor,
        label="Heat pack on the lumbar region before traction",
        reason="Guarding spasm",
        dosage="10 min",
    )
    [own] = [i for i in patient_checklist(db, eid, 1) if i.origin == "own"]
    assert own.code == "own_1" and own.label.startswith("Heat pack")
    assert own.target == "10 min"
    complete_visit(db, doctor)
    session = next_visit(db, eid)
    assert session is not None
    start_visit(db, session.id, today=DAY)
    tick_item(db, session.id, own.code)
    assert own.code in ticks_of(db, session.id)


def test_a_removed_item_leaves_the_coming_sessions_and_held_ones_keep_theirs(
    db: ClinicDB,
) -> None:
    """History must not change: a session held before the control appointment keeps the
    list it had (and its ticks), whatever the doctor changes later."""
    eid = _lumbar(db)
    complete_visit(db, _at_appointment(db, eid))  # the module's first appointment
    first = next_visit(db, eid)
    assert first is not None
    start_visit(db, first.id, today=DAY)
    tick_item(db, first.id, "m1_cat_cow", "10 reps")
    held_before = _codes(checklist_for_visit(db, first))
    complete_visit(db, first.id)
    control = _at_appointment(db, eid)  # sessions 3-7 held on the way
    remove_plan_item(db, control, "m1_cat_cow", reason="Flexion provokes leg pain")
    set_target_dosage(db, control, "m1_decompression_hangs", "3 x 30 s", reason="Progress load")
    assert _codes(checklist_for_visit(db, first)) == held_before
    assert "m1_cat_cow" in held_before
    [held_hangs] = [i for i in checklist_for_visit(db, first) if i.code == "m1_decompression_hangs"]
    assert held_hangs.target == "" and not held_hangs.tailored
    assert ticks_of(db, first.id)["m1_cat_cow"].note == "10 reps"
    complete_visit(db, control)
    coming = next_visit(db, eid)
    assert coming is not None and coming.seq == 9
    now = {i.code: i for i in checklist_for_visit(db, coming)}
    assert "m1_cat_cow" not in now
    assert now["m1_decompression_hangs"].target == "3 x 30 s"
    start_visit(db, coming.id, today=DAY)
    with pytest.raises(ValidationError, match="not on this visit's checklist"):
        tick_item(db, coming.id, "m1_cat_cow")


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (PlanEdit("session", "add", "m1_figure_four", reason=""), "reason"),
        (PlanEdit("session", "add", "m1_figure_four", reason="   "), "reason"),
        (PlanEdit("session", "remove", "m1_cat_cow"), "reason"),
        (PlanEdit("session", "add", "m2_bridge_nonexistent", reason="x"), "checklist item"),
        (PlanEdit("session", "add", "m2_hip_opening", reason="another module's"), "checklist item"),
        (PlanEdit("session", "add", "m1_cat_cow", reason="already there"), "checklist item"),
        (PlanEdit("session", "remove", "m1_figure_four", reason="not on it"), "checklist item"),
        (PlanEdit("session", "dosage", "m1_unknown", dosage="3 x 10"), "checklist item"),
        (PlanEdit("session", "add", "", label="", reason="nothing named"), "checklist item"),
        (PlanEdit("session", "dosage", "m1_cat_cow", dosage="x" * 81), "target dosage"),
        (PlanEdit("session", "dosage", "m1_cat_cow", dosage="3 x\x1b[2J 10"), "target dosage"),
        (PlanEdit("session", "dosage", "m1_cat_cow", dosage="3 x\n10"), "target dosage"),
        (PlanEdit("session", "dosage", "m1_cat_cow", dosage="5", reason="a\u202eb"), "reason"),
        (PlanEdit("home", "add", "m1_figure_four", reason="a session item"), "home exercise"),
        (PlanEdit("home", "remove", "h1_figure_four", reason="sciatica's"), "home exercise"),
        (PlanEdit("garden", "add", "m1_figure_four", reason="x"), "list"),  # type: ignore[arg-type]
    ],
)
def test_a_bad_change_is_refused_and_nothing_is_written(
    db: ClinicDB, edit: PlanEdit, field: str
) -> None:
    eid = _lumbar(db)
    doctor = _at_appointment(db, eid)
    good = PlanEdit("session", "dosage", "m1_pir", dosage="3 cycles")
    trail = db.execute("SELECT count(*) FROM audit_log").fetchone()
    with pytest.raises(ValidationError) as refused:
        tailor_checklist(db, doctor, [good, edit], expected_version=0)
    assert refused.value.field == field
    assert plan_changes_of(db, eid) == []  # the good change before it is not kept either
    assert db.execute("SELECT count(*) FROM audit_log").fetchone() == trail


def test_tailoring_happens_only_at_a_doctors_appointment_in_progress(db: ClinicDB) -> None:
    eid = _lumbar(db)
    doctor = _at_appointment(db, eid)
    complete_visit(db, doctor)
    with pytest.raises(KinesioError, match="doctor's appointment in progress"):
        add_plan_item(db, doctor, "m1_figure_four", reason="after the fact")
    session = next_visit(db, eid)
    assert session is not None
    start_visit(db, session.id, today=DAY)
    with pytest.raises(KinesioError, match="doctor's appointment in progress"):
        add_plan_item(db, session.id, "m1_figure_four", reason="therapist's idea")
    assert plan_changes_of(db, eid) == []


def test_a_stale_edit_from_another_terminal_is_refused_not_overwritten(db_path: Path) -> None:
    """Two terminals on one file show the plan at version 0; the first change lands, the
    second (based on what it showed) is refused and writes nothing."""
    first = connect(db_path, actor="Dr Petraitis")
    second = connect(db_path, actor="Dr Kazlauskas")
    try:
        eid = _lumbar(first)
        doctor = _at_appointment(first, eid)
        shown_here = plan_version(first, eid, 1)
        shown_there = plan_version(second, eid, 1)
        assert shown_here == shown_there == 0
        set_target_dosage(first, doctor, "m1_cat_cow", "10 slow reps", expected_version=shown_here)
        with pytest.raises(StaleRecord):
            set_target_dosage(second, doctor, "m1_cat_cow", "20 reps", expected_version=shown_there)
        [change] = plan_changes_of(second, eid)
        assert change.dosage == "10 slow reps"
        [cat_cow] = [i for i in patient_checklist(second, eid, 1) if i.code == "m1_cat_cow"]
        assert cat_cow.target == "10 slow reps"
        # shown afresh, the second terminal's change is made
        set_target_dosage(
            second,
            doctor,
            "m1_cat_cow",
            "20 reps",
            expected_version=plan_version(second, eid, 1),
        )
        assert [c.dosage for c in plan_changes_of(first, eid)] == ["10 slow reps", "20 reps"]
    finally:
        first.close()
        second.close()


def test_every_change_is_on_the_audit_trail_and_verifies(db: ClinicDB) -> None:
    eid = _lumbar(db)
    doctor = _at_appointment(db, eid)
    tailor_checklist(
        db,
        doctor,
        [
            PlanEdit("session", "add", "m1_figure_four", reason="Piriformis tight"),
            PlanEdit("session", "remove", "m1_cat_cow", reason="Provokes pain"),
            PlanEdit("home", "dosage", "h1_walking", dosage="2 x 15 min a day"),
        ],
        expected_version=0,
    )
    entries = db.execute(
        "SELECT action, actor FROM audit_log WHERE table_name = 'plan_changes'"
    ).fetchall()
    assert entries == [("create", "tester")] * 3
    assert verify_chain(db).ok
    assert record_problems(db) == []
    hand_edit(db, "UPDATE plan_changes SET reason = 'nobody said' WHERE change = 'remove'")
    assert any("plan_changes" in p.what for p in record_problems(db))


def test_home_exercises_are_the_subtypes_and_the_doctor_tailors_them(db: ClinicDB) -> None:
    eid = _lumbar(db)
    home = {e.code: e for e in patient_home_exercises(db, eid, 1)}
    assert "h1_prone_press_up" in home and "h1_figure_four" not in home  # lumbar, not sciatica
    assert "h1_chin_tuck" not in home  # cervical
    walking = home["h1_walking"]
    assert walking.target == "10-20 min, 1-2 times a day" and walking.instructions
    doctor = _at_appointment(db, eid)
    assert "h1_figure_four" in {i.code for i in items_to_add(db, eid, 1, "home")}
    tailor_checklist(
        db,
        doctor,
        [
            PlanEdit("home", "add", "h1_figure_four", dosage="2 x 30 s", reason="Buttock pain"),
            PlanEdit("home", "remove", "h1_prone_press_up", reason="Extension peripheralises"),
            PlanEdit("home", "dosage", "h1_walking", dosage="3 x 10 min a day"),
        ],
    )
    now = {e.code: e for e in patient_home_exercises(db, eid, 1)}
    assert "h1_prone_press_up" not in now
    assert now["h1_figure_four"].target == "2 x 30 s"
    assert now["h1_walking"].target == "3 x 10 min a day"
    assert now["h1_walking"].marks() == ["dosage 3 x 10 min a day set by tester on 2026-11-25"]
    # the session checklist is another list: untouched
    assert "m1_figure_four" not in _codes(patient_checklist(db, eid, 1))


def test_markup_and_escapes_in_a_dosage_or_reason_are_kept_as_typed(db: ClinicDB) -> None:
    eid = _lumbar(db)
    doctor = _at_appointment(db, eid)
    add_plan_item(db, doctor, label="[red]x[/red] [link=file:///etc]", reason="[bold]why")
    set_target_dosage(db, doctor, "m1_pir", "[red]3[/] x 10", reason="[/]")
    items = {i.code: i for i in patient_checklist(db, eid, 1)}
    assert items["own_1"].label == "[red]x[/red] [link=file:///etc]"
    assert items["m1_pir"].target == "[red]3[/] x 10"
    assert items["m1_pir"].marks() == ["dosage [red]3[/] x 10 set by tester on 2026-11-25: [/]"]


def test_a_session_held_before_a_later_module_tailoring_is_unchanged(db: ClinicDB) -> None:
    """Tailoring module 2 changes nothing of module 1's held sessions."""
    eid = _lumbar(db)
    visits = visits_of(db, eid)
    m1_session = visits[1]
    for _ in range(15):
        visit = next_visit(db, eid)
        assert visit is not None
        start_visit(db, visit.id, today=DAY)
        complete_visit(db, visit.id)
    before = _codes(checklist_for_visit(db, visits_of(db, eid)[1]))
    m2_doctor = _at_appointment(db, eid)
    add_plan_item(db, m2_doctor, "m2_hip_opening", reason="Hip stiffness")
    assert _codes(checklist_for_visit(db, visits_of(db, eid)[1])) == before
    assert m1_session.module == 1
    assert "m2_hip_opening" in _codes(patient_checklist(db, eid, 2))


def test_every_home_exercise_says_where_its_default_comes_from() -> None:
    proto = programme()
    for module in proto.modules:
        assert module.home_exercises, f"module {module.number} has no home exercises"
        for exercise in module.home_exercises:
            assert exercise.default, exercise.code
            assert exercise.dosage and exercise.instructions
    for condition in proto.conditions:
        for subtype in condition.subtypes:
            for module in proto.modules:
                assert module.home_exercises_for(condition.code, subtype.code), (
                    condition.code,
                    subtype.code,
                    module.number,
                )


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ('code = "h1_walking"', 'code = "m1_pir"', "is a checklist item's"),
        ('code = "h1_knee_to_chest"', 'code = "h1_walking"', "appears twice"),
        ('only = "radiculitis.lumbar"', 'only = "radiculitis.sacral"', "unknown subtype"),
        ("number = 3", "number = 4", "modules 1 to 3"),
        ('dosage = "10 reps, twice a day"', 'dosage = ""', "dosage: is empty"),
    ],
)
def test_a_broken_home_exercise_file_names_the_key(
    tmp_path: Path, old: str, new: str, where: str
) -> None:
    text = HOME_EXERCISES_FILE.read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / "home_exercises.toml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ProtocolError) as error:
        load_protocol(PROTOCOL_FILE, CATALOG_FILE, broken)
    assert "home_exercises.toml" in error.value.message and where in error.value.message


def test_a_preview_checks_the_changes_and_writes_nothing(db: ClinicDB) -> None:
    eid = _lumbar(db)
    doctor = _at_appointment(db, eid)
    trail = db.execute("SELECT count(*) FROM audit_log").fetchone()
    plan = preview_plan(
        db,
        doctor,
        [
            PlanEdit("session", "add", "", label="Heat pack", reason="Spasm"),
            PlanEdit("session", "dosage", "own_1", dosage="10 min"),
        ],
    )
    [own] = [i for i in plan.checklist(1) if i.origin == "own"]
    assert own.target == "10 min" and own.added is not None and own.added.pending
    with pytest.raises(ValidationError):
        preview_plan(db, doctor, [PlanEdit("session", "remove", "own_1", reason="not there")])
    assert db.execute("SELECT count(*) FROM audit_log").fetchone() == trail
    assert plan_changes_of(db, eid) == []


def test_a_control_character_a_hand_edit_left_is_read_as_a_replacement(db: ClinicDB) -> None:
    """Screens, reports and the command line read the plan here: none gets the escape."""
    eid = _lumbar(db)
    doctor = _at_appointment(db, eid)
    add_plan_item(db, doctor, label="Heat pack", reason="Spasm", dosage="10 min")
    hand_edit(
        db, "UPDATE plan_changes SET reason = 'a\x1b[2Jb', dosage = '1\x9b0', label = 'x\u202ey'"
    )
    [change] = plan_changes_of(db, eid)
    assert (change.reason, change.dosage, change.item_label) == (
        "a\ufffd[2Jb",
        "1\ufffd0",
        "x\ufffdy",
    )
    [own] = [i for i in patient_checklist(db, eid, 1) if i.origin == "own"]
    assert own.label == "x\ufffdy" and own.target == "1\ufffd0"


def test_a_correction_of_a_doctor_named_items_dosage_names_the_item(db: ClinicDB) -> None:
    """The amendment says which item it corrected in the doctor's words, not its code."""
    from kinesio_tui.domain.amendments import amendments_of, correct_dosage

    eid = _lumbar(db)
    doctor = _at_appointment(db, eid)
    add_plan_item(db, doctor, label="Heat pack before traction", reason="Guarding spasm")
    complete_visit(db, doctor)
    session = next_visit(db, eid)
    assert session is not None
    start_visit(db, session.id, today=DAY)
    tick_item(db, session.id, "own_1", "10 min")
    complete_visit(db, session.id)
    correct_dosage(db, session.id, "own_1", "15 min", "typed 10 for 15")
    [amendment] = amendments_of(db, session.id)
    assert "Heat pack before traction" in amendment.what, amendment.what
