"""Amending a held visit: reopening one completed by mistake, correcting or removing a
recorded value (a test result, a PIR set, a dosage) after the fact.

Each amendment asks for a reason and is kept twice: the changed record's audit entry holds
the old and new values (as every write does), and an `amendments` row says what was
amended, the value as it was and as it is now, why, who and when (reports and the
read-only visit read it). The record itself holds the corrected value, so every screen,
report and command shows that one. Every write takes `expected_version`, the version of
what the screen showed: an amendment made from a stale screen (another terminal amended
first) is refused and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kinesio_tui.data.db import ClinicDB, write_transaction
from kinesio_tui.domain import validate as v
from kinesio_tui.domain.models import PirCycle, Visit
from kinesio_tui.domain.store import (
    check_version,
    delete_row,
    fetch_row,
    insert_row,
    now_iso,
    update_row,
)
from kinesio_tui.domain.visits import (
    checklist_for_visit,
    validate_measurement,
    validate_pir_cycle,
)
from kinesio_tui.errors import KinesioError, ValidationError
from kinesio_tui.i18n import _
from kinesio_tui.protocol import protocol
from kinesio_tui.units import value_with_unit

#: A reason is one line a person reads in a list of amendments.
MAX_REASON = 500


@dataclass(frozen=True)
class Amendment:
    """One amendment of a visit, as recorded."""

    id: int
    visit_id: int
    kind: str  # reopen / correct / remove
    what: str
    old_value: str
    new_value: str
    reason: str
    amended_by: str
    recorded_at: str


def checked_reason(reason: object) -> str:
    """A reason: required, one line, no control characters, at most MAX_REASON characters."""
    return v.required_text("reason", reason, max_len=MAX_REASON)


def amendments_of(db: ClinicDB, visit_id: int) -> list[Amendment]:
    """A visit's amendments, oldest first."""
    cursor = db.execute(
        "SELECT id, visit_id, kind, what, old_value, new_value, reason, amended_by, recorded_at "
        "FROM amendments WHERE visit_id = ? ORDER BY id",
        [visit_id],
    )
    return [Amendment(*row) for row in cursor.fetchall()]


def amendments_of_episode(db: ClinicDB, episode_id: int) -> list[tuple[int, Amendment]]:
    """Every amendment of an episode's visits with the visit's number (seq), oldest first:
    one query for a whole report."""
    cursor = db.execute(
        "SELECT v.seq, a.id, a.visit_id, a.kind, a.what, a.old_value, a.new_value, a.reason, "
        "a.amended_by, a.recorded_at FROM amendments a JOIN visits v ON v.id = a.visit_id "
        "WHERE v.episode_id = ? ORDER BY a.id",
        [episode_id],
    )
    return [(int(row[0]), Amendment(*row[1:])) for row in cursor.fetchall()]


# --- what an amendment names: one wording for recording it and for finding it again -------


def result_what(test_code: str, side: str | None) -> str:
    """A test result as an amendment names it: the test's label and its side ('… R')."""
    test = protocol().test(test_code)
    label = test.label if test else test_code
    return f"{label} {side}" if side else label


def pir_what(muscle: str, side: str) -> str:
    """A PIR set as an amendment names it: the muscle and side."""
    return _("PIR {muscle} {side}", muscle=muscle, side=side)


def dosage_what(item_label: str) -> str:
    """A checklist item's dosage as an amendment names it."""
    return _("dosage of {item}", item=item_label)


def tick_what(item_label: str) -> str:
    """A checklist item's tick as an amendment names it."""
    return _("tick of {item}", item=item_label)


def _record(
    db: ClinicDB,
    visit: dict[str, Any],
    patient_id: int,
    kind: str,
    what: str,
    old: str,
    new: str,
    reason: str,
) -> None:
    insert_row(
        db,
        "amendments",
        {
            "visit_id": visit["id"],
            "kind": kind,
            "what": what,
            "old_value": old,
            "new_value": new,
            "reason": reason,
            "amended_by": str(getattr(db, "actor", "")),
            "recorded_at": now_iso(),
        },
        patient_id=patient_id,
    )


def _patient_of(db: ClinicDB, visit: dict[str, Any]) -> int:
    return int(fetch_row(db, "episodes", visit["episode_id"])["patient_id"])


# --- reopening ---------------------------------------------------------------------------


def reopen_refusal(db: ClinicDB, visit_id: int) -> str | None:
    """Why this visit cannot be reopened now (one line), or None if it can."""
    visit = fetch_row(db, "visits", visit_id)
    if visit["status"] != "done":
        return _(
            "Visit {seq} is not completed: only a completed visit is reopened.", seq=visit["seq"]
        )
    episode = fetch_row(db, "episodes", visit["episode_id"])
    if episode["status"] == "closed":
        return _("The episode is closed: open a new one instead.")
    later = db.execute(
        "SELECT seq FROM visits WHERE episode_id = ? AND seq > ? AND started_at IS NOT NULL "
        "ORDER BY seq LIMIT 1",
        [visit["episode_id"], visit["seq"]],
    ).fetchone()
    if later is not None:
        return _(
            "Visit {next} has already started: visit {seq} can no longer be reopened "
            "(correct its values instead).",
            next=later[0],
            seq=visit["seq"],
        )
    return None


def reopen_visit(
    db: ClinicDB, visit_id: int, reason: str, *, expected_version: int | None = None
) -> Visit:
    """Reopen a visit completed by mistake: it is in progress again (its records kept), the
    reason is recorded. Allowed only while no later visit of the episode has started; a
    completed programme becomes active again."""
    reason = checked_reason(reason)
    with write_transaction(db):
        visit = fetch_row(db, "visits", visit_id)
        check_version("visit", visit["seq"], visit["version"], expected_version)
        refusal = reopen_refusal(db, visit_id)
        if refusal is not None:
            raise KinesioError(_("Cannot reopen"), refusal)
        episode = fetch_row(db, "episodes", visit["episode_id"])
        pid = episode["patient_id"]
        new = update_row(
            db,
            "visits",
            visit_id,
            {"status": "planned", "completed_at": None, "updated_at": now_iso()},
            patient_id=pid,
            action="reopen",
        )
        if episode["status"] == "completed":
            update_row(
                db,
                "episodes",
                episode["id"],
                {"status": "active", "closed_on": None, "updated_at": now_iso()},
                patient_id=pid,
                action="reopen",
            )
        what = _("visit {seq}", seq=visit["seq"])
        _record(db, visit, pid, "reopen", what, _("completed"), _("in progress"), reason)
    return Visit.from_row(new)


# --- correcting a recorded value ----------------------------------------------------------


def _amendable_visit(db: ClinicDB, visit_id: int) -> dict[str, Any]:
    """The visit of a recorded value: held or in progress (a planned visit records nothing)."""
    visit = fetch_row(db, "visits", visit_id)
    if visit["status"] != "done" and visit["started_at"] is None:
        raise KinesioError(
            _("Nothing to correct"),
            _("Visit {seq} was not held: it has no recorded values.", seq=visit["seq"]),
        )
    return visit


def measurement_words(row: dict[str, Any]) -> tuple[str, str]:
    """(which test and side, its value with unit) of a measurement row, for an amendment."""
    test = protocol().test(row["test_code"])
    value = row["value_num"] if row["value_num"] is not None else row["value_text"]
    return result_what(row["test_code"], row["side"]), value_with_unit(
        value, test.unit if test else ""
    )


def correct_measurement(
    db: ClinicDB,
    measurement_id: int,
    value: object,
    reason: str,
    *,
    expected_version: int | None = None,
) -> int:
    """Correct a recorded test result to `value`; returns its new version."""
    reason = checked_reason(reason)
    with write_transaction(db):
        old = fetch_row(db, "measurements", measurement_id)
        check_version("test result", measurement_id, old["version"], expected_version)
        row = validate_measurement(old["test_code"], value, old["side"])
        visit = _amendable_visit(db, old["visit_id"])
        pid = _patient_of(db, visit)
        new = update_row(
            db,
            "measurements",
            measurement_id,
            {"value_num": row["value_num"], "value_text": row["value_text"]},
            patient_id=pid,
            action="correct",
        )
        what, was = measurement_words(old)
        _record(db, visit, pid, "correct", what, was, measurement_words(new)[1], reason)
        return int(new["version"])


def remove_measurement(
    db: ClinicDB, measurement_id: int, reason: str, *, expected_version: int | None = None
) -> None:
    """Remove a test result recorded by mistake; the amendment keeps what it was."""
    reason = checked_reason(reason)
    with write_transaction(db):
        old = fetch_row(db, "measurements", measurement_id)
        check_version("test result", measurement_id, old["version"], expected_version)
        visit = _amendable_visit(db, old["visit_id"])
        pid = _patient_of(db, visit)
        delete_row(db, "measurements", measurement_id, patient_id=pid)
        what, was = measurement_words(old)
        _record(db, visit, pid, "remove", what, was, "", reason)


def pir_set_versions(db: ClinicDB, visit_id: int) -> dict[int, int]:
    """Each PIR set's version at a visit (set id -> version): what a correction is based on."""
    rows = db.execute("SELECT id, version FROM pir_cycles WHERE visit_id = ?", [visit_id])
    return {int(r[0]): int(r[1]) for r in rows.fetchall()}


def pir_words(row: dict[str, Any]) -> tuple[str, str]:
    """(which PIR set, what it recorded) of a pir_cycles row, for an amendment."""

    def pair(a: float | None, b: float | None, unit: str = "") -> str:
        return f"{value_with_unit(a, unit)}→{value_with_unit(b, unit)}"

    what = pir_what(row["muscle"], row["side"])
    value = _(
        "×{n}, ROM {rom}, pain {pain}",
        n=row["cycles"],
        rom=pair(row["rom_before"], row["rom_after"], "°"),
        pain=pair(row["pain_before"], row["pain_after"]),
    )
    return what, value


def correct_pir_set(
    db: ClinicDB,
    pir_id: int,
    cycle: PirCycle,
    reason: str,
    *,
    expected_version: int | None = None,
) -> int:
    """Correct a recorded PIR set; returns its new version."""
    reason = checked_reason(reason)
    row = validate_pir_cycle(cycle)
    with write_transaction(db):
        old = fetch_row(db, "pir_cycles", pir_id)
        check_version("PIR set", pir_id, old["version"], expected_version)
        visit = _amendable_visit(db, old["visit_id"])
        pid = _patient_of(db, visit)
        new = update_row(db, "pir_cycles", pir_id, row, patient_id=pid, action="correct")
        what, was = pir_words(old)
        _record(db, visit, pid, "correct", what, was, pir_words(new)[1], reason)
        return int(new["version"])


def remove_pir_set(
    db: ClinicDB, pir_id: int, reason: str, *, expected_version: int | None = None
) -> None:
    """Remove a PIR set recorded by mistake; the amendment keeps what it was."""
    reason = checked_reason(reason)
    with write_transaction(db):
        old = fetch_row(db, "pir_cycles", pir_id)
        check_version("PIR set", pir_id, old["version"], expected_version)
        visit = _amendable_visit(db, old["visit_id"])
        pid = _patient_of(db, visit)
        delete_row(db, "pir_cycles", pir_id, patient_id=pid)
        what, was = pir_words(old)
        _record(db, visit, pid, "remove", what, was, "", reason)


def _tick_row(db: ClinicDB, visit_id: int, item_code: str) -> dict[str, Any]:
    for row_id, code in db.execute(
        "SELECT id, item_code FROM checklist_ticks WHERE visit_id = ?", [visit_id]
    ).fetchall():
        if code == item_code:
            return fetch_row(db, "checklist_ticks", row_id)
    raise ValidationError(
        "checklist item", _("{code!r} is not ticked at this visit", code=item_code)
    )


def _item_label(db: ClinicDB, visit: dict[str, Any], item_code: str) -> str:
    """The item as the visit's own list named it (a doctor's own item by its words)."""
    for item in checklist_for_visit(db, Visit.from_row(visit)):
        if item.code == item_code:
            return item.label
    for standard in protocol().module(visit["module"]).checklist:
        if standard.code == item_code:
            return standard.label
    return item_code


def correct_dosage(
    db: ClinicDB,
    visit_id: int,
    item_code: str,
    note: str,
    reason: str,
    *,
    expected_version: int | None = None,
) -> int:
    """Correct the dosage/parameter note of a ticked checklist item; returns its new version."""
    reason = checked_reason(reason)
    note = v.bounded_text("dosage", note, max_len=500)
    with write_transaction(db):
        visit = _amendable_visit(db, visit_id)
        old = _tick_row(db, visit_id, item_code)
        check_version("checklist item", item_code, old["version"], expected_version)
        pid = _patient_of(db, visit)
        new = update_row(
            db, "checklist_ticks", old["id"], {"note": note}, patient_id=pid, action="correct"
        )
        what = dosage_what(_item_label(db, visit, item_code))
        _record(db, visit, pid, "correct", what, old["note"], note, reason)
        return int(new["version"])


def remove_tick(
    db: ClinicDB,
    visit_id: int,
    item_code: str,
    reason: str,
    *,
    expected_version: int | None = None,
) -> None:
    """Take back a checklist item ticked by mistake (with its dosage) at a held visit."""
    reason = checked_reason(reason)
    with write_transaction(db):
        visit = _amendable_visit(db, visit_id)
        old = _tick_row(db, visit_id, item_code)
        check_version("checklist item", item_code, old["version"], expected_version)
        pid = _patient_of(db, visit)
        delete_row(db, "checklist_ticks", old["id"], patient_id=pid)
        what = tick_what(_item_label(db, visit, item_code))
        _record(db, visit, pid, "remove", what, old["note"] or _("ticked"), "", reason)
