"""Bad input never reaches the file: one clear message naming the field, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from conftest import DAY, SharedClinics

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.episodes import close_episode, open_episode, screen_red_flags
from kinesio_tui.domain.models import NewEpisode, NewPatient, PirCycle
from kinesio_tui.domain.patients import create_patient, get_patient, update_patient
from kinesio_tui.domain.visits import (
    complete_visit,
    record_measurement,
    record_pir_cycle,
    reschedule_planned,
    set_visit_note,
    start_visit,
    tick_item,
    visit_at,
    visits_of,
)
from kinesio_tui.errors import KinesioError, ValidationError

OK_PATIENT = NewPatient("Tomas", "Petrauskas", "1981-03-14", "M", "+370 612 40451", "Driver")


# Every refusal on both engines (issue 17): what PostgreSQL would refuse itself (a NUL, a
# number past bigint) must be refused first, in the same words, with nothing written.
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def snapshot(db: ClinicDB) -> dict[str, list[Any]]:
    """Every row of every table (audit_log included; SQLite: its search tables too)."""
    return {
        t: sorted(db.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)
        for t in sorted(db.table_names())
    }


def _build_clinic(db: ClinicDB) -> dict[str, int]:
    """A sciatica patient whose first visit (doctor) is done and second (therapy) is open;
    `other_episode`, another patient's open episode; `fresh`, a patient with no episode."""
    pid = create_patient(db, OK_PATIENT, today=DAY)
    eid = open_episode(db, pid, NewEpisode("sciatica", "upper", "L"), start=DAY, today=DAY)
    visits = visits_of(db, eid)
    start_visit(db, visits[0].id, today=DAY)
    complete_visit(db, visits[0].id)
    start_visit(db, visits[1].id, today=DAY)
    other = create_patient(db, OK_PATIENT, today=DAY)
    other_episode = open_episode(db, other, NewEpisode("sciatica", "lower", "R"), today=DAY)
    fresh = create_patient(db, _patient(last_name="Pradžia"), today=DAY)
    return {
        "patient": pid,
        "episode": eid,
        "visit": visits[1].id,
        "other_episode": other_episode,
        "fresh": fresh,
    }


@pytest.fixture
def clinic(db: ClinicDB) -> dict[str, int]:
    """The clinic above, the test's own (for the tests that write)."""
    return _build_clinic(db)


@pytest.fixture
def shared(
    request: pytest.FixtureRequest, shared_clinics: SharedClinics, engine: str
) -> tuple[ClinicDB, dict[str, int]]:
    """The clinic above, one per engine for the whole module: only for tests that read, or
    that are `refused` (every row as it was, no transaction left open), so each test finds
    it as built. Building it afresh for each of the ~100 refusals was most of this module's
    time on PostgreSQL."""
    return shared_clinics.clinic(request, engine, _build_clinic)


def refused(
    db: ClinicDB, field: str, allowed: str, action: Callable[[], object]
) -> ValidationError:
    """Run `action`, expect a ValidationError on `field` saying `allowed`, and no write."""
    before = snapshot(db)
    with pytest.raises(ValidationError) as caught:
        action()
    error = caught.value
    assert error.field == field
    assert allowed in error.reason, error.reason
    assert error.message == f"{field}: {error.reason}"
    assert "\n" not in error.message
    assert snapshot(db) == before
    assert not db.in_transaction
    return error


# --- patients -------------------------------------------------------------------------------


def _patient(**changes: Any) -> NewPatient:
    fields = {**OK_PATIENT.__dict__, **changes}
    return NewPatient(**fields)


@pytest.mark.parametrize(
    ("changes", "field", "allowed"),
    [
        ({"first_name": ""}, "first name", "is required"),
        ({"first_name": "   "}, "first name", "is required"),
        ({"last_name": ""}, "last name", "is required"),
        ({"last_name": None}, "last name", "is required"),
        ({"last_name": "x" * 81}, "last name", "at most 80 characters"),
        ({"first_name": "Tom\x00as"}, "first name", "control characters"),
        ({"first_name": "Tom\ud800as"}, "first name", "not valid text"),
        ({"first_name": "Tomas\nPetrauskas"}, "first name", "on one line"),
        ({"last_name": "Petrauskas\tTomas"}, "last name", "on one line"),
        ({"birth_date": "2026-11-26"}, "birth date", "cannot be in the future"),
        ({"birth_date": "14.03.1981"}, "birth date", "YYYY-MM-DD"),
        ({"birth_date": "1899-12-31"}, "birth date", "after 1900"),
        ({"birth_date": "1901-01-01"}, "birth date", "over 120 years"),
        ({"sex": "male"}, "sex", "one of: F, M, X"),
        ({"sex": ""}, "sex", "one of: F, M, X"),
        ({"phone": "call me"}, "phone", "digits, spaces"),
        ({"phone": "12"}, "phone", "5 to 20 characters"),
        ({"occupation": "o" * 81}, "occupation", "at most 80"),
        ({"notes": "n" * 4001}, "notes", "at most 4000"),
        ({"notes": 42}, "notes", "should be text"),
    ],
)
def test_bad_patient_is_refused(
    shared: tuple[ClinicDB, dict[str, int]], changes: dict[str, Any], field: str, allowed: str
) -> None:
    db, _ = shared
    refused(db, field, allowed, lambda: create_patient(db, _patient(**changes), today=DAY))


def test_a_good_patient_is_accepted_with_optional_fields_empty(db: ClinicDB) -> None:
    pid = create_patient(db, NewPatient(" Ona ", "Butkienė", date(1990, 1, 1), "F"), today=DAY)
    row = db.execute("SELECT first_name, phone FROM patients WHERE id = ?", [pid]).fetchone()
    assert row == ("Ona", "")
    assert create_patient(db, _patient(birth_date=DAY), today=DAY)  # born today is allowed
    from datetime import datetime

    pid = create_patient(db, _patient(birth_date=datetime(1981, 3, 14, 9, 30)), today=DAY)
    assert get_patient(db, pid).birth_date == date(1981, 3, 14)


def test_bad_change_to_a_patient_is_refused(shared: tuple[ClinicDB, dict[str, int]]) -> None:
    db, clinic = shared
    refused(
        db,
        "birth date",
        "cannot be in the future",
        lambda: update_patient(
            db, clinic["patient"], _patient(birth_date="2030-01-01"), expected_version=1, today=DAY
        ),
    )


# --- episodes -------------------------------------------------------------------------------


def _episode(**changes: Any) -> NewEpisode:
    fields = {"condition": "radiculitis", "subtype": "lumbar", "side": "R", **changes}
    return NewEpisode(**fields)


@pytest.mark.parametrize(
    ("changes", "field", "allowed"),
    [
        ({"condition": "scoliosis"}, "condition", "one of: radiculitis, sciatica"),
        ({"condition": None}, "condition", "one of: radiculitis, sciatica"),
        ({"subtype": "upper"}, "subtype", "one of: cervical, thoracic, lumbar"),
        ({"side": "left"}, "side", "one of: L, R, both"),
        ({"course": "sudden"}, "course", "one of: acute, chronic"),
        ({"onset_date": "2026-12-01"}, "onset date", "cannot be in the future"),
        ({"onset_date": "yesterday"}, "onset date", "YYYY-MM-DD"),
        ({"red_flags": ("headache",)}, "red flags", "known: bladder_bowel"),
        ({"pain_medication": "p" * 201}, "pain medication", "at most 200"),
    ],
)
def test_bad_episode_is_refused(
    shared: tuple[ClinicDB, dict[str, int]], changes: dict[str, Any], field: str, allowed: str
) -> None:
    db, clinic = shared
    pid = clinic["fresh"]
    refused(db, field, allowed, lambda: open_episode(db, pid, _episode(**changes), today=DAY))


def test_an_unknown_red_flag_at_a_later_screen_is_refused(
    shared: tuple[ClinicDB, dict[str, int]],
) -> None:
    db, clinic = shared
    refused(
        db,
        "red flags",
        "unknown flag 'dizzy'",
        lambda: screen_red_flags(db, clinic["episode"], ["saddle_numbness", "dizzy"], today=DAY),
    )


def test_a_red_flag_screen_on_another_episodes_visit_is_refused(
    shared: tuple[ClinicDB, dict[str, int]],
) -> None:
    db, clinic = shared
    other_episode = clinic["other_episode"]
    refused(
        db,
        "visit",
        "another episode",
        lambda: screen_red_flags(db, other_episode, [], visit_id=clinic["visit"], today=DAY),
    )


def test_closing_with_an_unknown_status_is_refused(shared: tuple[ClinicDB, dict[str, int]]) -> None:
    db, clinic = shared
    refused(
        db,
        "status",
        "one of: closed, completed",
        lambda: close_episode(db, clinic["episode"], status="paused", today=DAY),
    )


# --- visits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "number", "field", "allowed"),
    [
        (1, 16, "visit number", "from 1 to 15"),
        (1, 0, "visit number", "from 1 to 15"),
        (2, "16", "visit number", "from 1 to 15"),
        (4, 1, "module", "from 1 to 3"),
        (0, 1, "module", "from 1 to 3"),
        (1.5, 1, "module", "a whole number"),
    ],
)
def test_a_visit_outside_the_programme_is_refused(
    shared: tuple[ClinicDB, dict[str, int]], module: Any, number: Any, field: str, allowed: str
) -> None:
    db, clinic = shared
    refused(db, field, allowed, lambda: visit_at(db, clinic["episode"], module, number))


def test_visit_at_finds_the_visit(shared: tuple[ClinicDB, dict[str, int]]) -> None:
    db, clinic = shared
    visit = visit_at(db, clinic["episode"], 2, 8)
    assert (visit.module, visit.number, visit.seq, visit.kind) == (2, 8, 23, "doctor")
    assert visit_at(db, clinic["episode"], "3", "15").seq == 45


def test_tick_with_an_item_not_on_the_checklist_is_refused(
    shared: tuple[ClinicDB, dict[str, int]],
) -> None:
    db, clinic = shared
    # cat-cow is the radiculitis variant; this patient has sciatica
    refused(
        db,
        "checklist item",
        "not on this visit's checklist",
        lambda: tick_item(db, clinic["visit"], "m1_cat_cow"),
    )
    refused(
        db,
        "checklist item",
        "not on this visit's checklist",
        lambda: tick_item(db, clinic["visit"], "m2_asymmetric"),
    )
    refused(db, "note", "at most 500", lambda: tick_item(db, clinic["visit"], "m1_pir", "x" * 501))


def test_bad_visit_note_and_therapist_are_refused(shared: tuple[ClinicDB, dict[str, int]]) -> None:
    db, clinic = shared
    refused(db, "note", "control characters", lambda: set_visit_note(db, clinic["visit"], "a\x1bb"))
    nxt = visits_of(db, clinic["episode"])[2]
    refused(db, "therapist", "at most 80", lambda: start_visit(db, nxt.id, therapist="t" * 81))


# --- measurements ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("test", "value", "side", "field", "allowed"),
    [
        ("vas", 11, None, "VAS pain", "a number from 0 to 10"),
        ("vas", -0.5, None, "VAS pain", "from 0 to 10"),
        ("vas", "eleven", None, "VAS pain", "from 0 to 10"),
        ("vas", float("nan"), None, "VAS pain", "from 0 to 10"),
        ("vas", float("inf"), None, "VAS pain", "from 0 to 10"),
        ("vas", True, None, "VAS pain", "should be a number"),
        ("nrs", 7.5, None, "NRS pain", "a whole number from 0 to 10"),
        ("hip_flexion", -5, "L", "Hip flexion", "from 0 to 150 °"),
        ("slr_angle", 91, "R", "Straight-leg raise (Lasegue) angle", "from 0 to 90 °"),
        ("strength_mrc", 6, "L", "Strength (MRC)", "whole number from 0 to 5"),
        ("schober", 16, None, "Lumbar flexion (Schober)", "from 0 to 15 cm"),
        ("slr_sign", "maybe", "L", "Lasegue sign", "one of: negative, positive"),
        ("palpation_tone", "tight", "R", "Palpation: muscle tone", "one of: normal, mildly raised"),
        ("gait", "fine", None, "Gait", "one of: normal, antalgic"),
        ("emg_finding", "  ", None, "EMG finding", "is required"),
        ("hip_flexion", 90, None, "Hip flexion side", "one of: L, R"),
        ("heel_walk", "normal", "both", "Heel walk side", "one of: L, R"),
        ("vas", 5, "L", "VAS pain side", "not sided"),
        ("grip", 5, None, "test", "unknown test 'grip'"),
    ],
)
def test_bad_measurement_is_refused(
    shared: tuple[ClinicDB, dict[str, int]],
    test: str,
    value: object,
    side: str | None,
    field: str,
    allowed: str,
) -> None:
    db, clinic = shared
    refused(db, field, allowed, lambda: record_measurement(db, clinic["visit"], test, value, side))


def test_good_measurements_are_accepted(db: ClinicDB, clinic: dict[str, int]) -> None:
    visit = clinic["visit"]
    record_measurement(db, visit, "vas", "7,5")
    record_measurement(db, visit, "vas", 0)
    record_measurement(db, visit, "hip_flexion", 150, "L")
    record_measurement(db, visit, "slr_sign", "positive", "R")
    record_measurement(db, visit, "emg_finding", "L5: reduced\nS1: normal")  # notes may wrap
    rows = db.execute(
        "SELECT test_code, side, value_num, value_text FROM measurements ORDER BY id"
    ).fetchall()
    assert rows == [
        ("vas", None, 0.0, None),  # one value per test and side: corrected, not duplicated
        ("hip_flexion", "L", 150.0, None),
        ("slr_sign", "R", None, "positive"),
        ("emg_finding", None, None, "L5: reduced\nS1: normal"),
    ]


# --- PIR ------------------------------------------------------------------------------------

GOOD_PIR: dict[str, Any] = {
    "muscle": "piriformis",
    "side": "L",
    "tension_s": 7,
    "effort_pct": 20,
    "relaxation_s": 15,
    "cycles": 3,
    "rom_before": 30,
    "rom_after": 40,
    "pain_before": 5,
    "pain_after": 3,
}


@pytest.mark.parametrize(
    ("changes", "field", "allowed"),
    [
        ({"effort_pct": 0}, "effort", "whole number from 5 to 100 %"),
        ({"effort_pct": 101}, "effort", "from 5 to 100 %"),
        ({"effort_pct": 4}, "effort", "from 5 to 100 %"),
        ({"tension_s": 0}, "tension", "from 1 to 60 s"),
        ({"tension_s": 61}, "tension", "from 1 to 60 s"),
        ({"tension_s": 7.5}, "tension", "a whole number"),
        ({"relaxation_s": 121}, "relaxation", "from 1 to 120 s"),
        ({"cycles": 0}, "cycles", "from 1 to 20"),
        ({"cycles": 21}, "cycles", "from 1 to 20"),
        ({"rom_before": -10}, "ROM before", "from 0 to 180 °"),
        ({"rom_after": 181}, "ROM after", "from 0 to 180 °"),
        ({"pain_before": 11}, "pain before", "from 0 to 10"),
        ({"pain_after": -1}, "pain after", "from 0 to 10"),
        ({"muscle": ""}, "muscle", "is required"),
        ({"muscle": "piri\nformis"}, "muscle", "on one line"),
        ({"side": "left"}, "side", "one of: L, R, both"),
    ],
)
def test_bad_pir_cycle_is_refused(
    shared: tuple[ClinicDB, dict[str, int]], changes: dict[str, Any], field: str, allowed: str
) -> None:
    db, clinic = shared
    cycle = PirCycle(**{**GOOD_PIR, **changes})
    refused(db, field, allowed, lambda: record_pir_cycle(db, clinic["visit"], cycle))


def test_pir_limits_are_inclusive(db: ClinicDB, clinic: dict[str, int]) -> None:
    for changes in ({"effort_pct": 5}, {"effort_pct": 100}, {"rom_before": 0, "pain_after": 10}):
        record_pir_cycle(db, clinic["visit"], PirCycle(**{**GOOD_PIR, **changes}))
    record_pir_cycle(db, clinic["visit"], PirCycle("iliopsoas", "both", 5, 10, 10))
    assert db.execute("SELECT count(*) FROM pir_cycles").fetchone()[0] == 4


def test_a_refused_write_is_a_kinesio_error_with_a_title(db: ClinicDB) -> None:
    with pytest.raises(KinesioError) as caught:
        create_patient(db, _patient(last_name=""), today=DAY)
    assert caught.value.title == "Invalid input"


@pytest.mark.parametrize(
    ("start", "allowed"),
    [
        (date(2027, 12, 1), "no later than 2027-11-26"),
        (date(9999, 12, 1), "no later than"),
        ("1899-01-02", "after 1900"),
        ("next week", "YYYY-MM-DD"),
    ],
)
def test_a_programme_start_out_of_range_is_refused(
    shared: tuple[ClinicDB, dict[str, int]], start: object, allowed: str
) -> None:
    db, clinic = shared
    pid = clinic["fresh"]
    refused(
        db,
        "start",
        allowed,
        lambda: open_episode(db, pid, _episode(), start=start, today=DAY),  # type: ignore[arg-type]
    )
    refused(
        db,
        "start",
        allowed,
        lambda: reschedule_planned(db, clinic["episode"], start, today=DAY),  # type: ignore[arg-type]
    )


# --- characters a terminal would act on -------------------------------------------------------

#: C0 and C1 controls, DEL, and the bidirectional overrides and isolates (they reorder text).
CONTROLS = [
    "\x00",
    "\x07",
    "\r",
    "\x1b",
    "\x7f",
    "\x85",
    "\x9b",
    "\u202a",
    "\u202e",
    "\u2066",
    "\u2069",
]


def _every_text_field(
    db: ClinicDB, clinic: dict[str, int], text: str, fresh: int
) -> list[tuple[str, Callable[[], object]]]:
    """(field, write) for every free-text field a person fills in; `fresh` is a patient
    without an episode yet."""
    visit = clinic["visit"]
    version = get_patient(db, clinic["patient"]).version
    return [
        ("first name", lambda: create_patient(db, _patient(first_name=f"A{text}b"), today=DAY)),
        ("last name", lambda: create_patient(db, _patient(last_name=f"A{text}b"), today=DAY)),
        ("occupation", lambda: create_patient(db, _patient(occupation=f"A{text}b"), today=DAY)),
        ("notes", lambda: create_patient(db, _patient(notes=f"A{text}b"), today=DAY)),
        (
            "notes",
            lambda: update_patient(
                db,
                clinic["patient"],
                _patient(notes=f"A{text}b"),
                expected_version=version,
                today=DAY,
            ),
        ),
        (
            "pain medication",
            lambda: open_episode(
                db,
                fresh,
                NewEpisode("sciatica", "upper", "L", pain_medication=f"A{text}b"),
                today=DAY,
            ),
        ),
        (
            "note",
            lambda: screen_red_flags(
                db, clinic["episode"], [], visit_id=visit, note=f"A{text}b", today=DAY
            ),
        ),
        ("note", lambda: set_visit_note(db, visit, f"A{text}b")),
        ("note", lambda: tick_item(db, visit, "m1_pelvic_traction", f"A{text}b")),
        ("muscle", lambda: record_pir_cycle(db, visit, PirCycle(f"A{text}b", "L", 7, 30, 20))),
        ("EMG finding", lambda: record_measurement(db, visit, "emg_finding", f"A{text}b")),
        ("therapist", lambda: start_visit(db, visit, therapist=f"A{text}b", today=DAY)),
    ]


@pytest.mark.parametrize("control", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_controls_are_refused_in_every_text_field(
    shared: tuple[ClinicDB, dict[str, int]], control: str
) -> None:
    db, clinic = shared
    for field, write in _every_text_field(db, clinic, control, clinic["fresh"]):
        before = snapshot(db)
        with pytest.raises(ValidationError) as caught:
            write()
        assert caught.value.field == field, (field, control)
        assert "control" in caught.value.reason, caught.value.reason
        assert snapshot(db) == before
        assert not db.in_transaction


def test_brackets_accents_and_other_scripts_are_text(db: ClinicDB, clinic: dict[str, int]) -> None:
    for text in ("Closing[/] [b]x[/b]", "Žemaitė", "Ἀθηνᾶ", "مريم", "李", "a\u200db"):
        fresh = create_patient(db, _patient(), today=DAY)
        for _field, write in _every_text_field(db, clinic, text, fresh):
            write()


def test_a_score_out_of_range_reads_as_words_not_a_doubled_scale() -> None:
    """VAS is "/10": the message says "from 0 to 10", never "from 0 to 10 /10"."""
    from kinesio_tui.domain import validate

    with pytest.raises(ValidationError) as refused:
        validate.number("VAS pain", 11, 0, 10, unit="/10")
    assert str(refused.value.reason).endswith("from 0 to 10")
    with pytest.raises(ValidationError) as refused:
        validate.number("Hip flexion", 500, 0, 180, unit="°")
    assert str(refused.value.reason).endswith("from 0 to 180 °")
