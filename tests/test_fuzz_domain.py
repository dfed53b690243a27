"""Property-based fuzzing of every domain entry point that writes.

Each input either stores a valid record or raises a KinesioError (ValidationError, NotFound,
...); never another exception, and on error nothing was written (row counts of every table,
audit trail included, unchanged). After each test the audit chain still verifies.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from conftest import DAY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain.episodes import close_episode, open_episode, screen_red_flags
from kinesio_tui.domain.models import NewEpisode, NewPatient, PirCycle
from kinesio_tui.domain.patients import (
    archive_patient,
    create_patient,
    get_patient,
    restore_patient,
    update_patient,
)
from kinesio_tui.domain.plan import PlanEdit, tailor_checklist
from kinesio_tui.domain.visits import (
    mark_missed,
    next_visit,
    record_measurement,
    record_pir_cycle,
    reschedule_planned,
    set_visit_note,
    start_visit,
    tick_item,
    untick_item,
    update_pir_cycle,
)
from kinesio_tui.errors import KinesioError
from kinesio_tui.maintenance.audit import verify_chain
from kinesio_tui.maintenance.transfer import Fingerprint, fingerprint
from kinesio_tui.protocol import protocol

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,  # no .hypothesis directory left in the tree
    derandomize=True,  # the same inputs on every run: a red suite is reproducible
)

WEIRD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\n\t",
        "\x1b[31m",
        "Ona\x9b31m",  # an 8-bit CSI
        "\x7f",
        "Anna \u202eanilorak",  # a right-to-left override
        "x\u2066y\u2069",
        "Ž" * 4001,
        "x" * 100_000,
        "'; DROP TABLE patients; --",
        "<script>alert(1)</script>",
        "NaN",
        "inf",
        "-0",
        "1e309",
        "７",  # a full-width digit
        "٣",  # an Arabic-Indic digit
        "\ud800",  # a lone surrogate: not encodable as UTF-8
        "2026-02-30",
        "9999-12-31",
        "0001-01-01",
    ]
)
NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -0.0, 5e-324]),
)
ANYTHING: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    NUMBERS,
    st.text(max_size=30),
    WEIRD_TEXT,
    st.binary(max_size=8),
    st.dates(),
    st.lists(st.integers(), max_size=2),
)
TEXTISH = st.one_of(st.text(max_size=30), WEIRD_TEXT, ANYTHING)
# Ids and dates are typed (mypy strict holds callers to int and date), so their values are
# fuzzed, not their types; text and numbers come from forms and may be anything.
IDS = st.one_of(
    st.integers(min_value=-3, max_value=400),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
)
DATES = st.one_of(st.dates(), st.sampled_from([date(9999, 12, 31), date(9999, 11, 1), date.min]))
#: Codes (checklist items, red flags) are picked from lists in the UI: any text, not any type.
CODES = st.one_of(st.text(max_size=30), WEIRD_TEXT)

# Every entry point fuzzed on both engines (issue 17): what PostgreSQL refuses that SQLite
# stores (a NUL, a 2**80 integer) must still be a KinesioError with nothing written. The
# PostgreSQL run tries 15 of the 60 examples (all 60 pass there too, ~20 s against ~5 s).
pytestmark = [
    pytest.mark.engines("sqlite", "postgresql"),
    pytest.mark.usefixtures("quarter_of_the_examples_on_postgresql"),
]

#: What each fuzzed entry point did in the current test: "stored" or "refused", counted.
outcomes: dict[str, Counter[str]] = {}
#: Entry points whose fuzzed inputs include valid ones: a run that never stores one has
#: stopped reaching the write path (and the checks of what was stored). Not listed, as their
#: inputs are rarely all valid at once: update_patient (every field), record_pir_cycle and
#: update_pir_cycle (eight numbers), record_measurement (a value in the test's range) and the id/version pairs.
STORES = {
    "open_episode",
    "tick_item",
    "untick_item",
    "set_visit_note",
    "start_visit",
    "screen_red_flags",
    "tailor_checklist",
}


def _stored(db: ClinicDB) -> Fingerprint:
    """Every row of every clinical table, the audit trail and its head (the copier's
    fingerprint, the same on both engines): a refused call must leave it as it was."""
    return fingerprint(db)


#: Every stored free text (and who wrote it): none may hold a control a terminal acts on.
TEXT_COLUMNS = [
    ("patients", "first_name"),
    ("patients", "last_name"),
    ("patients", "occupation"),
    ("patients", "notes"),
    ("episodes", "pain_medication"),
    ("visits", "note"),
    ("visits", "therapist"),
    ("checklist_ticks", "note"),
    ("pir_cycles", "muscle"),
    ("measurements", "value_text"),
    ("red_flag_screens", "note"),
    ("plan_changes", "label"),
    ("plan_changes", "dosage"),
    ("plan_changes", "reason"),
    ("plan_changes", "made_by"),
    ("audit_log", "actor"),
]
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_TYPES = {"TEXT": ("text", "null"), "INTEGER": ("integer", "null"), "REAL": ("real", "null")}


def _assert_stored_values_are_valid(db: ClinicDB) -> None:
    """Every stored value has its column's type; no NaN/inf numbers; no NUL in text.

    The types are SQLite's question (a column there holds whatever it is given); a
    PostgreSQL column refuses a value of another type itself."""
    for table in ("patients", "episodes", "visits", "checklist_ticks", "pir_cycles"):
        if db.kind != "sqlite":
            break
        for _, column, declared, *_ in db.execute(f"PRAGMA table_info({table})").fetchall():
            allowed: tuple[str, ...] | None = _TYPES.get(declared)
            if allowed is None:
                continue
            if declared == "REAL":
                allowed = ("real", "integer", "null")
            bad = db.execute(
                f"SELECT count(*) FROM {table} WHERE typeof({column}) NOT IN "
                f"({', '.join(repr(a) for a in allowed)})"
            ).fetchone()[0]
            assert bad == 0, f"{table}.{column} holds a value of the wrong type"
    for table, column in (
        ("measurements", "value_num"),
        ("pir_cycles", "rom_before"),
        ("pir_cycles", "pain_after"),
    ):
        bad = db.execute(
            f"SELECT count(*) FROM {table} WHERE {column} IS NOT NULL "
            f"AND NOT (abs({column}) < 1e300)"
        ).fetchone()[0]
        assert bad == 0, f"{table}.{column} holds NaN or infinity"
    for table, column in TEXT_COLUMNS:
        for (text,) in db.execute(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"):
            assert not CONTROL.search(str(text)), f"{table}.{column} holds {text!r}"


@dataclass
class Clinic:
    db: ClinicDB
    patient_id: int
    fresh_patient_id: int
    episode_id: int
    visit_id: int
    pir_id: int


@pytest.fixture
def clinic(db_target: str) -> Iterator[Clinic]:
    db = connect(db_target, actor="fuzzer")
    if db.kind == "sqlite":  # validation is fuzzed here, not durability (the test cluster
        db.execute("PRAGMA synchronous = NORMAL")  # runs with fsync off)
    pid = create_patient(db, NewPatient("Ona", "Fuzz", "1970-01-01", "F"), today=DAY)
    fresh = create_patient(db, NewPatient("Jonas", "Fresh", "1971-01-01", "M"), today=DAY)
    eid = open_episode(db, pid, NewEpisode("sciatica", "upper", "L"), start=DAY, today=DAY)
    first = next_visit(db, eid)
    assert first is not None
    start_visit(db, first.id, today=DAY)
    from kinesio_tui.domain.visits import complete_visit

    complete_visit(db, first.id)  # visit 1 is the doctor's; visit 2 is a therapy session
    second = next_visit(db, eid)
    assert second is not None
    start_visit(db, second.id, today=DAY)
    pir = record_pir_cycle(db, second.id, PirCycle("piriformis", "L", 7, 30, 20))
    yield Clinic(db, pid, fresh, eid, second.id, pir)
    report = verify_chain(db)
    assert report.ok, report.problems[:3]
    db.close()


@pytest.fixture(autouse=True)
def _both_paths_reached() -> Iterator[None]:
    """Each fuzz test must have refused some inputs and (where valid ones exist) stored some.

    A fuzzer whose every input is refused (or accepted) passes without testing half of what
    it claims; this makes that a failure instead of a number printed on the side.
    """
    outcomes.clear()
    yield
    for name, seen in outcomes.items():
        assert seen["refused"], f"{name}: no fuzzed input was refused ({dict(seen)})"
        if name in STORES:
            assert seen["stored"], f"{name}: no fuzzed input was stored ({dict(seen)})"


def _attempt(name: str, db: ClinicDB, call: Callable[[], object]) -> None:
    """Run one fuzzed call: a stored valid record, or a KinesioError and no write at all."""
    seen = outcomes.setdefault(name, Counter())
    before = _stored(db)
    try:
        call()
    except KinesioError:
        seen["refused"] += 1
        assert _stored(db) == before, f"{name} wrote something and then failed"
        assert not db.in_transaction
        return
    seen["stored"] += 1
    assert not db.in_transaction
    _assert_stored_values_are_valid(db)


@FUZZ
@given(
    first=TEXTISH,
    last=TEXTISH,
    born=TEXTISH,
    sex=TEXTISH,
    phone=TEXTISH,
    occ=TEXTISH,
    notes=TEXTISH,
)
def test_fuzz_create_and_update_patient(
    clinic: Clinic, first: Any, last: Any, born: Any, sex: Any, phone: Any, occ: Any, notes: Any
) -> None:
    data = NewPatient(first, last, born, sex, phone, occ, notes)
    _attempt("create_patient", clinic.db, lambda: create_patient(clinic.db, data, today=DAY))
    version = get_patient(clinic.db, clinic.patient_id).version
    _attempt(
        "update_patient",
        clinic.db,
        lambda: update_patient(
            clinic.db, clinic.patient_id, data, expected_version=version, today=DAY
        ),
    )


@FUZZ
@given(pid=IDS, version=IDS)
def test_fuzz_patient_ids_and_versions(clinic: Clinic, pid: Any, version: Any) -> None:
    data = NewPatient("Ona", "Fuzz", "1970-01-01", "F")
    _attempt(
        "update_patient(id, version)",
        clinic.db,
        lambda: update_patient(clinic.db, pid, data, expected_version=version, today=DAY),
    )
    _attempt("archive_patient", clinic.db, lambda: archive_patient(clinic.db, pid))
    _attempt("restore_patient", clinic.db, lambda: restore_patient(clinic.db, pid))


@FUZZ
@given(
    condition=st.one_of(st.sampled_from(["sciatica", "radiculitis"]), TEXTISH),
    subtype=st.one_of(st.sampled_from(["upper", "lumbar", "cervical"]), TEXTISH),
    side=st.one_of(st.sampled_from(["L", "R", "both"]), TEXTISH),
    course=st.one_of(st.sampled_from(["acute", "chronic"]), TEXTISH),
    onset=TEXTISH,
    medication=TEXTISH,
    flags=st.lists(st.one_of(st.sampled_from(["saddle_numbness"]), TEXTISH), max_size=3),
    start=st.one_of(st.none(), DATES),
    pid=st.one_of(st.just(0), IDS),
)
def test_fuzz_open_episode(
    clinic: Clinic,
    condition: Any,
    subtype: Any,
    side: Any,
    course: Any,
    onset: Any,
    medication: Any,
    flags: list[Any],
    start: date | None,
    pid: Any,
) -> None:
    target = clinic.fresh_patient_id if pid == 0 else pid
    data = NewEpisode(condition, subtype, side, course, onset, medication, tuple(flags))

    def open_and_close() -> None:
        episode_id = open_episode(clinic.db, target, data, start=start, today=DAY)
        close_episode(clinic.db, episode_id, today=DAY)  # so the next example may open again

    _attempt("open_episode", clinic.db, open_and_close)


@FUZZ
@given(item=st.one_of(st.sampled_from(["m1_pir", "m1_pelvic_traction"]), CODES), note=TEXTISH)
def test_fuzz_tick_item(clinic: Clinic, item: Any, note: Any) -> None:
    _attempt("tick_item", clinic.db, lambda: tick_item(clinic.db, clinic.visit_id, item, note))
    _attempt("untick_item", clinic.db, lambda: untick_item(clinic.db, clinic.visit_id, item))


@FUZZ
@given(
    muscle=TEXTISH,
    side=st.one_of(st.sampled_from(["L", "R", "both"]), TEXTISH),
    tension=st.one_of(st.integers(0, 70), NUMBERS, ANYTHING),
    effort=st.one_of(st.integers(0, 110), NUMBERS, ANYTHING),
    relaxation=st.one_of(st.integers(0, 130), NUMBERS, ANYTHING),
    cycles=st.one_of(st.integers(0, 25), NUMBERS, ANYTHING),
    rom=st.one_of(st.none(), NUMBERS, ANYTHING),
    pain=st.one_of(st.none(), st.floats(0, 10), NUMBERS, ANYTHING),
)
def test_fuzz_pir_cycles(
    clinic: Clinic,
    muscle: Any,
    side: Any,
    tension: Any,
    effort: Any,
    relaxation: Any,
    cycles: Any,
    rom: Any,
    pain: Any,
) -> None:
    cycle = PirCycle(muscle, side, tension, effort, relaxation, cycles, rom, rom, pain, pain)
    _attempt(
        "record_pir_cycle", clinic.db, lambda: record_pir_cycle(clinic.db, clinic.visit_id, cycle)
    )
    _attempt(
        "update_pir_cycle", clinic.db, lambda: update_pir_cycle(clinic.db, clinic.pir_id, cycle)
    )


TEST_CODES = [t.code for t in protocol().tests]


@FUZZ
@given(
    code=st.one_of(st.sampled_from(TEST_CODES), TEXTISH),
    value=st.one_of(st.floats(0, 100), st.sampled_from(["positive", "normal", "7,5"]), ANYTHING),
    side=st.one_of(st.sampled_from(["L", "R", None]), TEXTISH),
)
def test_fuzz_record_measurement(clinic: Clinic, code: Any, value: Any, side: Any) -> None:
    _attempt(
        "record_measurement",
        clinic.db,
        lambda: record_measurement(clinic.db, clinic.visit_id, code, value, side),
    )


@FUZZ
@given(visit=st.one_of(st.just(0), IDS), note=TEXTISH, therapist=TEXTISH)
def test_fuzz_visit_note_and_start(clinic: Clinic, visit: Any, note: Any, therapist: Any) -> None:
    target = clinic.visit_id if visit == 0 else visit
    _attempt("set_visit_note", clinic.db, lambda: set_visit_note(clinic.db, target, note))
    _attempt(
        "start_visit",
        clinic.db,
        lambda: start_visit(clinic.db, target, therapist=therapist, today=DAY),
    )


@FUZZ
@given(
    flags=st.lists(st.one_of(st.sampled_from(["saddle_numbness", "recent_trauma"]), CODES)),
    note=TEXTISH,
    episode=st.one_of(st.just(0), IDS),
    visit=st.one_of(st.none(), IDS),
)
def test_fuzz_screen_red_flags(
    clinic: Clinic, flags: Any, note: Any, episode: Any, visit: Any
) -> None:
    target = clinic.episode_id if episode == 0 else episode
    _attempt(
        "screen_red_flags",
        clinic.db,
        lambda: screen_red_flags(clinic.db, target, flags, visit_id=visit, note=note, today=DAY),
    )


@FUZZ
@given(
    visit=IDS,
    episode=IDS,
    status=st.one_of(st.sampled_from(["closed", "completed"]), TEXTISH),
    start=DATES,
)
def test_fuzz_missed_reschedule_close(
    clinic: Clinic, visit: Any, episode: Any, status: Any, start: Any
) -> None:
    _attempt("mark_missed", clinic.db, lambda: mark_missed(clinic.db, visit, today=DAY))
    _attempt("reschedule_planned", clinic.db, lambda: reschedule_planned(clinic.db, episode, start))
    _attempt(
        "close_episode",
        clinic.db,
        lambda: close_episode(clinic.db, episode, today=DAY, status=status),
    )


# Found by fuzzing, in code this suite does not own; fixed in the domain (start date range,
# untick validates its text).


def test_a_start_date_near_year_9999_is_refused_cleanly(clinic: Clinic) -> None:
    with pytest.raises(KinesioError):
        open_episode(
            clinic.db,
            clinic.fresh_patient_id,
            NewEpisode("sciatica", "upper", "L"),
            start=date(9999, 12, 1),
            today=DAY,
        )


def test_untick_with_a_lone_surrogate_is_refused_cleanly(clinic: Clinic) -> None:
    with pytest.raises(KinesioError):
        untick_item(clinic.db, clinic.visit_id, "\ud800")


@pytest.fixture
def appointment(clinic: Clinic) -> int:
    """A doctor's appointment in progress (the fresh patient's first visit): where a plan is
    tailored."""
    episode = open_episode(
        clinic.db, clinic.fresh_patient_id, NewEpisode("radiculitis", "lumbar", "R"), today=DAY
    )
    first = next_visit(clinic.db, episode)
    assert first is not None
    start_visit(clinic.db, first.id, today=DAY)
    return first.id


@FUZZ
@given(
    which=st.one_of(st.sampled_from(["session", "home"]), TEXTISH),
    change=st.one_of(st.sampled_from(["add", "remove", "dosage"]), TEXTISH),
    item=st.one_of(st.sampled_from(["m1_figure_four", "m1_pir", "h1_walking", ""]), CODES),
    label=st.one_of(st.sampled_from(["", "Heat pack"]), TEXTISH),
    dosage=st.one_of(st.sampled_from(["3 x 30 s", ""]), TEXTISH),
    reason=st.one_of(st.sampled_from(["Tight piriformis", ""]), TEXTISH),
)
def test_fuzz_tailor_checklist(
    clinic: Clinic,
    appointment: int,
    which: Any,
    change: Any,
    item: Any,
    label: Any,
    dosage: Any,
    reason: Any,
) -> None:
    edit = PlanEdit(which, change, item, label, dosage, reason)
    _attempt(
        "tailor_checklist", clinic.db, lambda: tailor_checklist(clinic.db, appointment, [edit])
    )
