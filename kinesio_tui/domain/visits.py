"""Visits: the next one, starting it, its checklist, PIR cycles, test results, completing it.

Every write a screen makes takes `expected_version`: the version of what the screen showed
(the visit row for its note and status; the tick, test result or PIR set itself; 0 for a
tick or result the screen showed as absent). If the record changed since, the write is
refused (StaleRecord) and nothing is written, so two terminals on one visit never overwrite
each other silently. None skips the check (a command that reads and writes in one go).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from kinesio_tui import clock
from kinesio_tui.data.db import ClinicDB, write_transaction
from kinesio_tui.domain import validate as v
from kinesio_tui.domain.calendar import clinic_closures, next_open_day
from kinesio_tui.domain.episodes import check_start
from kinesio_tui.domain.holds import check_therapy_may_start
from kinesio_tui.domain.models import Measurement, PirCycle, Tick, Visit
from kinesio_tui.domain.plan import PlanItem, patient_checklist
from kinesio_tui.domain.store import (
    check_version,
    delete_row,
    fetch_row,
    fresh_version,
    insert_row,
    now_iso,
    same_side,
    update_row,
)
from kinesio_tui.errors import KinesioError, NotFound, ValidationError
from kinesio_tui.i18n import _
from kinesio_tui.protocol import ClinicalTest, protocol

PIR_SIDES = ("L", "R", "both")


def _rows(db: ClinicDB, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = db.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def visits_of(db: ClinicDB, episode_id: int) -> list[Visit]:
    """All visits of an episode in programme order (1..45)."""
    return [
        Visit.from_row(r)
        for r in _rows(db, "SELECT * FROM visits WHERE episode_id = ? ORDER BY seq", [episode_id])
    ]


def get_visit(db: ClinicDB, visit_id: int) -> Visit:
    return Visit.from_row(fetch_row(db, "visits", visit_id))


def visit_at(db: ClinicDB, episode_id: int, module: object, number: object) -> Visit:
    """The visit at `module` (1-3) and `number` (1-15 within the module) of an episode."""
    proto = protocol()
    mod = v.whole_number("module", module, 1, len(proto.modules))
    num = v.whole_number("visit number", number, 1, proto.visits_per_module)
    rows = _rows(
        db,
        "SELECT * FROM visits WHERE episode_id = ? AND module = ? AND number = ?",
        [episode_id, mod, num],
    )
    if not rows:
        raise NotFound("visit", f"{mod}.{num} of episode {episode_id}")
    return Visit.from_row(rows[0])


def next_visit(db: ClinicDB, episode_id: int) -> Visit | None:
    """The visit to hold next: the one in progress, else the first planned one."""
    rows = _rows(
        db,
        "SELECT * FROM visits WHERE episode_id = ? AND status = 'planned' "
        "ORDER BY started_at IS NULL, seq LIMIT 1",
        [episode_id],
    )
    return Visit.from_row(rows[0]) if rows else None


def _episode_of(db: ClinicDB, visit: dict[str, Any]) -> dict[str, Any]:
    return fetch_row(db, "episodes", visit["episode_id"])


def _require_open(db: ClinicDB, visit_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The visit and its episode, if the visit is started and not yet completed."""
    visit = fetch_row(db, "visits", visit_id)
    if visit["status"] != "planned" or visit["started_at"] is None:
        state = (
            "completed"
            if visit["status"] == "done"
            else visit["status"]
            if visit["status"] != "planned"
            else "not started"
        )
        raise KinesioError(
            _("Visit not open"),
            _("Visit {seq} is {state}; start it first.", seq=visit["seq"], state=state),
        )
    return visit, _episode_of(db, visit)


def start_visit(
    db: ClinicDB,
    visit_id: int,
    *,
    therapist: str = "",
    today: date | None = None,
    expected_version: int | None = None,
    hold_override: str | None = None,
) -> Visit:
    """Begin the next visit of an active episode (visits are held in programme order).

    A therapy session of an episode on hold (a red flag raised, no doctor's clearance yet)
    is refused (OnHold) unless `hold_override` gives the reason to go on, which is recorded.
    """
    therapist = v.bounded_text("therapist", therapist, max_len=v.MAX_NAME)
    day = today or clock.today()
    with write_transaction(db):
        visit = fetch_row(db, "visits", visit_id)
        check_version("visit", visit["seq"], visit["version"], expected_version)
        episode = _episode_of(db, visit)
        if episode["status"] != "active":
            raise KinesioError(
                _("Episode not active"), _("This episode is closed; open a new one.")
            )
        if visit["status"] != "planned":
            raise KinesioError(
                _("Visit already held"),
                _("Visit {seq} is {status}.", seq=visit["seq"], status=visit["status"]),
            )
        if visit["started_at"] is not None:
            return Visit.from_row(visit)
        first = db.execute(
            "SELECT seq FROM visits WHERE episode_id = ? AND status = 'planned' ORDER BY seq LIMIT 1",
            [visit["episode_id"]],
        ).fetchone()[0]
        if visit["seq"] != first:
            raise KinesioError(
                _("Not the next visit"),
                _(
                    "Visit {first} comes before visit {seq}; hold or mark it missed first.",
                    first=first,
                    seq=visit["seq"],
                ),
            )
        check_therapy_may_start(db, visit, episode["patient_id"], hold_override)
        who = therapist or getattr(db, "actor", "")
        started = {"started_at": now_iso(), "held_on": day.isoformat(), "therapist": who}
        if visit["kind"] == "doctor":  # the one at the keyboard, until the doctor is named
            started["doctor"] = who
        new = update_row(
            db,
            "visits",
            visit_id,
            {**started, "updated_at": now_iso()},
            patient_id=episode["patient_id"],
            action="start",
        )
    return Visit.from_row(new)


def set_visit_doctor(
    db: ClinicDB, visit_id: int, doctor: str, *, expected_version: int | None = None
) -> Visit:
    """Name the doctor who holds a doctor's appointment (when the person at the keyboard is
    not the doctor); the appointment must be in progress. Audited like every change."""
    doctor = v.required_text("doctor", doctor, max_len=v.MAX_NAME)
    with write_transaction(db):
        visit, episode = _require_open(db, visit_id)
        check_version("visit", visit["seq"], visit["version"], expected_version)
        if visit["kind"] != "doctor":
            raise KinesioError(
                _("Not a doctor's appointment"),
                _("Visit {seq} is a therapy session: it has no doctor.", seq=visit["seq"]),
            )
        new = update_row(
            db,
            "visits",
            visit_id,
            {"doctor": doctor, "updated_at": now_iso()},
            patient_id=episode["patient_id"],
        )
    return Visit.from_row(new)


def checklist_for_visit(db: ClinicDB, visit: Visit) -> tuple[PlanItem, ...]:
    """The therapy session's checklist: the patient's own for the visit's module, as the
    doctor tailored it before the session (the programme's for the condition and subtype,
    with the items added, removed and dosed)."""
    if visit.kind != "therapy":
        return ()
    return patient_checklist(db, visit.episode_id, visit.module, at_seq=visit.seq)


def doctor_checks_for_visit(db: ClinicDB, visit: Visit) -> tuple[ClinicalTest, ...]:
    """The checks of a doctor's appointment, as catalog tests: its module's and role's, for
    the episode's condition and subtype, with the neurological screen."""
    if visit.kind != "doctor":
        return ()
    proto = protocol()
    episode = fetch_row(db, "episodes", visit.episode_id)
    role = proto.slot(visit.number).role
    return proto.doctor_checks_for(visit.module, role, episode["condition"], episode["subtype"])


def ticks_of(db: ClinicDB, visit_id: int) -> dict[str, Tick]:
    return {
        r["item_code"]: Tick(r["visit_id"], r["item_code"], r["note"], r["ticked_at"], r["version"])
        for r in _rows(db, "SELECT * FROM checklist_ticks WHERE visit_id = ?", [visit_id])
    }


def tick_item(
    db: ClinicDB,
    visit_id: int,
    item_code: str,
    note: str = "",
    *,
    expected_version: int | None = None,
) -> int:
    """Mark a checklist item done in an open visit, with an optional dosage/parameter note.

    `expected_version` is the tick's version as shown (0: shown unticked). Returns the
    tick's new version.
    """
    note = v.bounded_text("note", note, max_len=500)
    with write_transaction(db):
        visit, episode = _require_open(db, visit_id)
        items = checklist_for_visit(db, Visit.from_row(visit))
        if item_code not in {i.code for i in items}:
            raise ValidationError(
                "checklist item",
                _("{code!r} is not on this visit's checklist", code=item_code),
            )
        existing = db.execute(
            "SELECT id, version FROM checklist_ticks WHERE visit_id = ? AND item_code = ?",
            [visit_id, item_code],
        ).fetchone()
        check_version("checklist item", item_code, existing[1] if existing else 0, expected_version)
        if existing:
            new = update_row(
                db, "checklist_ticks", existing[0], {"note": note}, patient_id=episode["patient_id"]
            )
            return int(new["version"])
        version = fresh_version(db)
        insert_row(
            db,
            "checklist_ticks",
            {
                "visit_id": visit_id,
                "item_code": item_code,
                "note": note,
                "ticked_at": now_iso(),
                "version": version,
            },
            patient_id=episode["patient_id"],
        )
        return version


def untick_item(
    db: ClinicDB, visit_id: int, item_code: str, *, expected_version: int | None = None
) -> None:
    """Take back a tick in an open visit (`expected_version`: the tick's version as shown)."""
    item_code = v.bounded_text("checklist item", item_code, max_len=200)
    with write_transaction(db):
        _visit, episode = _require_open(db, visit_id)
        # Matched in Python, not bound into SQL: any text (even unencodable) is just "not ticked".
        existing = [
            (row_id, version)
            for row_id, code, version in db.execute(
                "SELECT id, item_code, version FROM checklist_ticks WHERE visit_id = ?", [visit_id]
            ).fetchall()
            if code == item_code
        ]
        current = existing[0][1] if existing else 0
        check_version("checklist item", item_code, current, expected_version)
        if existing:
            delete_row(db, "checklist_ticks", existing[0][0], patient_id=episode["patient_id"])


def validate_pir_cycle(cycle: PirCycle) -> dict[str, Any]:
    return {
        "muscle": v.required_text("muscle", cycle.muscle),
        "side": v.one_of("side", cycle.side, PIR_SIDES),
        "tension_s": v.whole_number("tension", cycle.tension_s, 1, 60, unit="s"),
        "effort_pct": v.whole_number("effort", cycle.effort_pct, 5, 100, unit="%"),
        "relaxation_s": v.whole_number("relaxation", cycle.relaxation_s, 1, 120, unit="s"),
        "cycles": v.whole_number("cycles", cycle.cycles, 1, 20),
        "rom_before": v.optional_number("ROM before", cycle.rom_before, 0, 180, unit="°"),
        "rom_after": v.optional_number("ROM after", cycle.rom_after, 0, 180, unit="°"),
        "pain_before": v.optional_number("pain before", cycle.pain_before, 0, 10),
        "pain_after": v.optional_number("pain after", cycle.pain_after, 0, 10),
    }


def record_pir_cycle(db: ClinicDB, visit_id: int, cycle: PirCycle) -> int:
    """Add post-isometric relaxation cycles on one muscle to an open visit."""
    row = validate_pir_cycle(cycle)
    with write_transaction(db):
        _visit, episode = _require_open(db, visit_id)
        return insert_row(
            db,
            "pir_cycles",
            {"visit_id": visit_id, **row, "recorded_at": now_iso()},
            patient_id=episode["patient_id"],
        )


def update_pir_cycle(
    db: ClinicDB, pir_id: int, cycle: PirCycle, *, expected_version: int | None = None
) -> int:
    """Correct a recorded PIR set (e.g. add ROM and pain after) while its visit is open;
    returns the set's new version."""
    row = validate_pir_cycle(cycle)
    with write_transaction(db):
        existing = fetch_row(db, "pir_cycles", pir_id)
        check_version("PIR set", pir_id, existing["version"], expected_version)
        _visit, episode = _require_open(db, existing["visit_id"])
        new = update_row(db, "pir_cycles", pir_id, row, patient_id=episode["patient_id"])
        return int(new["version"])


def delete_pir_cycle(db: ClinicDB, pir_id: int, *, expected_version: int | None = None) -> None:
    """Remove a PIR set recorded by mistake (open visits only)."""
    with write_transaction(db):
        existing = fetch_row(db, "pir_cycles", pir_id)
        check_version("PIR set", pir_id, existing["version"], expected_version)
        _visit, episode = _require_open(db, existing["visit_id"])
        delete_row(db, "pir_cycles", pir_id, patient_id=episode["patient_id"])


def pir_cycles_of(db: ClinicDB, visit_id: int) -> list[tuple[int, PirCycle]]:
    fields = PirCycle.__dataclass_fields__
    return [
        (r["id"], PirCycle(**{k: r[k] for k in fields}))
        for r in _rows(db, "SELECT * FROM pir_cycles WHERE visit_id = ? ORDER BY id", [visit_id])
    ]


def validate_measurement(test_code: str, value: object, side: str | None) -> dict[str, Any]:
    """Check a test result against the catalog: known test, side where sided, value in range."""
    test = protocol().test(test_code) if isinstance(test_code, str) else None
    if test is None:
        raise ValidationError("test", _("unknown test {code!r}", code=test_code))
    if test.sided:
        side = v.one_of(f"{test.label} side", side, ("L", "R"))
    elif side is not None:
        raise ValidationError(f"{test.label} side", _("this test is not sided; leave side empty"))
    row: dict[str, Any] = {
        "test_code": test.code,
        "side": side,
        "value_num": None,
        "value_text": None,
    }
    if test.kind == "number":
        assert test.min is not None and test.max is not None
        row["value_num"] = v.number(
            test.label, value, test.min, test.max, unit=test.unit, integer=test.integer
        )
    elif test.kind == "scale":
        row["value_text"] = v.one_of(test.label, value, test.choices)
    else:
        row["value_text"] = v.required_text(test.label, value, max_len=1000, single_line=False)
    return row


def record_measurement(
    db: ClinicDB,
    visit_id: int,
    test_code: str,
    value: object,
    side: str | None = None,
    *,
    expected_version: int | None = None,
) -> int:
    """Record (or correct) one clinical test result in an open visit; one value per test and side.

    `expected_version` is the version of this test and side's result as shown (0: shown
    as not recorded), so two terminals recording the same test keep one value, never two.
    """
    row = validate_measurement(test_code, value, side)
    with write_transaction(db):
        _visit, episode = _require_open(db, visit_id)
        pid = episode["patient_id"]
        side_sql, side_args = same_side("side", row["side"])
        existing = db.execute(
            f"SELECT id, version FROM measurements WHERE visit_id = ? AND test_code = ? AND {side_sql}",
            [visit_id, row["test_code"], *side_args],
        ).fetchone()
        check_version(
            "test result", row["test_code"], existing[1] if existing else 0, expected_version
        )
        if existing:
            update_row(
                db,
                "measurements",
                existing[0],
                {
                    "value_num": row["value_num"],
                    "value_text": row["value_text"],
                    "recorded_at": now_iso(),
                },
                patient_id=pid,
            )
            return int(existing[0])
        return insert_row(
            db,
            "measurements",
            {"visit_id": visit_id, **row, "recorded_at": now_iso(), "version": fresh_version(db)},
            patient_id=pid,
        )


def delete_measurement(
    db: ClinicDB, measurement_id: int, *, expected_version: int | None = None
) -> None:
    """Remove a test result recorded by mistake (open visits only); used by the visit's undo."""
    with write_transaction(db):
        existing = fetch_row(db, "measurements", measurement_id)
        check_version("test result", measurement_id, existing["version"], expected_version)
        _visit, episode = _require_open(db, existing["visit_id"])
        delete_row(db, "measurements", measurement_id, patient_id=episode["patient_id"])


def _measurement(r: dict[str, Any]) -> Measurement:
    fields = Measurement.__dataclass_fields__
    return Measurement(**{k: r[k] for k in fields})


def measurements_of(db: ClinicDB, visit_id: int) -> list[Measurement]:
    return [
        _measurement(r)
        for r in _rows(db, "SELECT * FROM measurements WHERE visit_id = ? ORDER BY id", [visit_id])
    ]


# --- a whole episode at once: one query each where per-visit reads take one per visit ----


def results_of_episode(db: ClinicDB, episode_id: int) -> list[tuple[int, Measurement]]:
    """Every test result of an episode with its visit's place in the programme (1..),
    in programme order, then in the order recorded."""
    return [
        (r["seq"], _measurement(r))
        for r in _rows(
            db,
            "SELECT v.seq, m.* FROM measurements m JOIN visits v ON v.id = m.visit_id "
            "WHERE v.episode_id = ? ORDER BY v.seq, m.id",
            [episode_id],
        )
    ]


def ticked_counts(db: ClinicDB, episode_id: int) -> dict[int, int]:
    """How many checklist items each visit of an episode has ticked (visit id -> count;
    visits with none are left out)."""
    return {
        r["visit_id"]: r["ticked"]
        for r in _rows(
            db,
            "SELECT t.visit_id, count(*) AS ticked FROM checklist_ticks t "
            "JOIN visits v ON v.id = t.visit_id WHERE v.episode_id = ? GROUP BY t.visit_id",
            [episode_id],
        )
    }


def pir_cycles_of_episode(db: ClinicDB, episode_id: int) -> list[tuple[int, PirCycle]]:
    """Every PIR set of an episode with its visit's place in the programme, in order."""
    fields = PirCycle.__dataclass_fields__
    return [
        (r["seq"], PirCycle(**{k: r[k] for k in fields}))
        for r in _rows(
            db,
            "SELECT v.seq, p.* FROM pir_cycles p JOIN visits v ON v.id = p.visit_id "
            "WHERE v.episode_id = ? ORDER BY v.seq, p.id",
            [episode_id],
        )
    ]


def set_visit_note(
    db: ClinicDB, visit_id: int, note: str, *, expected_version: int | None = None
) -> int:
    """Save the free-text note of a visit (open or already completed); returns the visit's
    new version (`expected_version`: the visit's version when the note was shown)."""
    note = v.bounded_text("note", note)
    with write_transaction(db):
        visit = fetch_row(db, "visits", visit_id)
        check_version("visit note", visit["seq"], visit["version"], expected_version)
        episode = _episode_of(db, visit)
        new = update_row(
            db,
            "visits",
            visit_id,
            {"note": note, "updated_at": now_iso()},
            patient_id=episode["patient_id"],
        )
        return int(new["version"])


def complete_visit(db: ClinicDB, visit_id: int, *, expected_version: int | None = None) -> Visit:
    """Finish an open visit; completing the programme's last visit completes the episode."""
    with write_transaction(db):
        current = fetch_row(db, "visits", visit_id)
        check_version("visit", current["seq"], current["version"], expected_version)
        visit, episode = _require_open(db, visit_id)
        pid = episode["patient_id"]
        new = update_row(
            db,
            "visits",
            visit_id,
            {"status": "done", "completed_at": now_iso(), "updated_at": now_iso()},
            patient_id=pid,
            action="complete",
        )
        _complete_episode_if_over(db, episode, visit["held_on"])
    return Visit.from_row(new)


def mark_missed(
    db: ClinicDB,
    visit_id: int,
    *,
    today: date | None = None,
    expected_version: int | None = None,
) -> None:
    """The patient did not come: the visit is recorded as missed and the next one is due."""
    with write_transaction(db):
        visit = fetch_row(db, "visits", visit_id)
        check_version("visit", visit["seq"], visit["version"], expected_version)
        if visit["status"] != "planned" or visit["started_at"] is not None:
            raise KinesioError(
                _("Cannot mark missed"),
                _(
                    "Visit {seq} is {status}.",
                    seq=visit["seq"],
                    status=visit["status"] if visit["status"] != "planned" else "in progress",
                ),
            )
        episode = _episode_of(db, visit)
        day = (today or clock.today()).isoformat()
        update_row(
            db,
            "visits",
            visit_id,
            {"status": "missed", "held_on": day, "updated_at": now_iso()},
            patient_id=episode["patient_id"],
            action="miss",
        )
        _complete_episode_if_over(db, episode, day)


def _complete_episode_if_over(db: ClinicDB, episode: dict[str, Any], day: str) -> None:
    """No visit left to hold: the programme is over, whether visit 45 was held or missed."""
    left = db.execute(
        "SELECT count(*) FROM visits WHERE episode_id = ? AND status = 'planned'", [episode["id"]]
    ).fetchone()[0]
    if left == 0 and episode["status"] == "active":
        update_row(
            db,
            "episodes",
            episode["id"],
            {"status": "completed", "closed_on": day, "updated_at": now_iso()},
            patient_id=episode["patient_id"],
            action="complete",
        )


def reschedule_planned(
    db: ClinicDB, episode_id: int, start: date, *, today: date | None = None
) -> int:
    """Re-plan every remaining planned visit on open clinic days from `start`; returns how
    many moved."""
    start = check_start(start, today or clock.today())
    weekdays = protocol().timing.visit_weekdays
    closures = clinic_closures()
    day = next_open_day(start, weekdays, closures, inclusive=True)
    moved = 0
    with write_transaction(db):
        episode = fetch_row(db, "episodes", episode_id)
        for visit in visits_of(db, episode_id):
            if visit.status != "planned" or visit.in_progress:
                continue  # a visit under way stays on the day it is being held
            if visit.planned_date != day:
                update_row(
                    db,
                    "visits",
                    visit.id,
                    {"planned_date": day.isoformat(), "updated_at": now_iso()},
                    patient_id=episode["patient_id"],
                    action="reschedule",
                )
                moved += 1
            day = next_open_day(day, weekdays, closures)
    return moved
