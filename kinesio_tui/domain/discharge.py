"""The discharge letter's own records: who referred the patient, and what the doctor types
at the final appointment (medication and work status at discharge, recommendations, the
follow-up plan).

The referring doctor is kept on the episode; the discharge is one row per episode, typed at
a module's final doctor's appointment (the programme ends at one). Both are written through
the audited store with the version the screen showed: a second terminal's older form is
refused and nothing is written.
"""

from __future__ import annotations

import functools
import json
import tomllib
from dataclasses import dataclass
from datetime import date
from typing import Any

from kinesio_tui.data.db import ClinicDB, write_transaction
from kinesio_tui.domain import validate as v
from kinesio_tui.domain.models import Visit
from kinesio_tui.domain.referrer import checked_name
from kinesio_tui.domain.store import check_version, fetch_row, insert_row, now_iso, update_row
from kinesio_tui.domain.visits import visits_of
from kinesio_tui.errors import KinesioError, ProtocolError, ValidationError
from kinesio_tui.i18n import _
from kinesio_tui.protocol import DATA_DIR, protocol

DISCHARGE_FILE = DATA_DIR / "discharge.toml"
#: The letter is one A4 page, two at most: each typed field is kept to a paragraph.
MAX_MEDICATION = 200
MAX_WORK_NOTE = 200
MAX_RECOMMENDATIONS = 800
MAX_FOLLOW_UP = 400
#: A review date this far ahead is a typo.
MAX_REVIEW_DAYS = 2 * 366


@dataclass(frozen=True)
class WorkStatus:
    code: str
    label: str


@functools.cache
def work_statuses() -> tuple[WorkStatus, ...]:
    """The work statuses a discharge offers (data/discharge.toml), in its order."""
    try:
        data = tomllib.loads(DISCHARGE_FILE.read_text(encoding="utf-8"))
        found = tuple(WorkStatus(str(w["code"]), str(w["label"])) for w in data["work_status"])
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as error:
        raise ProtocolError(
            _("Broken programme file"),
            _("{file}: work_status: {why}", file=DISCHARGE_FILE.name, why=type(error).__name__),
        ) from None
    if not found or len({w.code for w in found}) != len(found):
        raise ProtocolError(
            _("Broken programme file"),
            _("{file}: work_status: codes must be given and differ", file=DISCHARGE_FILE.name),
        )
    return found


def work_status_label(code: str) -> str:
    """The words for a recorded work status ('' when none; the code if no longer listed)."""
    return next((w.label for w in work_statuses() if w.code == code), code)


@dataclass(frozen=True)
class Discharge:
    """What the doctor typed for the letter at the final appointment."""

    id: int
    episode_id: int
    visit_id: int
    medication: str
    work_status: str  # a code of work_statuses(), or ''
    work_note: str
    recommendations: str
    follow_up: str
    review_date: date | None
    recorded_by: str
    recorded_at: str
    version: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Discharge:
        review = row["review_date"]
        return cls(
            id=row["id"],
            episode_id=row["episode_id"],
            visit_id=row["visit_id"],
            medication=row["medication"],
            work_status=row["work_status"],
            work_note=row["work_note"],
            recommendations=row["recommendations"],
            follow_up=row["follow_up"],
            review_date=date.fromisoformat(review) if review else None,
            recorded_by=row["recorded_by"],
            recorded_at=row["recorded_at"],
            version=row["version"],
        )


@dataclass(frozen=True)
class DischargeText:
    """The discharge as typed, before it is checked."""

    medication: str = ""
    work_status: str = ""
    work_note: str = ""
    recommendations: str = ""
    follow_up: str = ""
    review_date: date | str | None = None


# --- the discharge -------------------------------------------------------------------------


def is_final_appointment(visit: Visit) -> bool:
    """A module's final doctor's appointment: where the doctor may end the programme."""
    return visit.is_doctor and protocol().slot(visit.number).role == "final"


def final_appointment(db: ClinicDB, episode_id: int) -> Visit | None:
    """The episode's latest final appointment held or under way (the letter's signatory's)."""
    found = [
        visit
        for visit in visits_of(db, episode_id)
        if is_final_appointment(visit) and (visit.status == "done" or visit.in_progress)
    ]
    return found[-1] if found else None


def discharge_of(db: ClinicDB, episode_id: int) -> Discharge | None:
    """The episode's discharge as recorded, or None."""
    cursor = db.execute("SELECT * FROM discharges WHERE episode_id = ?", [episode_id])
    row = cursor.fetchone()
    if row is None:
        return None
    return Discharge.from_row(dict(zip([c[0] for c in cursor.description], row, strict=True)))


def checked_discharge(text: DischargeText, today: date) -> dict[str, Any]:
    """Each field checked, as stored; ValidationError names the first one refused."""
    codes = [w.code for w in work_statuses()]
    status = text.work_status or ""
    if status:
        v.one_of("work status", status, codes)
    review = None
    if text.review_date not in (None, ""):
        review = v.parse_date("review date", text.review_date)
        if review < today:
            raise ValidationError(
                "review date", _("cannot be in the past (today is {day})", day=today.isoformat())
            )
        if (review - today).days > MAX_REVIEW_DAYS:
            raise ValidationError("review date", _("should be within two years"))
    return {
        "medication": checked_name("medication", text.medication, MAX_MEDICATION),
        "work_status": status,
        "work_note": checked_name("work note", text.work_note, MAX_WORK_NOTE),
        "recommendations": v.bounded_text(
            "recommendations", text.recommendations, max_len=MAX_RECOMMENDATIONS
        ),
        "follow_up": v.bounded_text("follow-up", text.follow_up, max_len=MAX_FOLLOW_UP),
        "review_date": review.isoformat() if review else None,
    }


def record_discharge(
    db: ClinicDB,
    visit_id: int,
    text: DischargeText,
    *,
    today: date,
    expected_version: int | None = None,
) -> Discharge:
    """Record what the letter says at discharge, at this final appointment (held or under
    way). `expected_version` is the version of the discharge the form showed (0: none)."""
    row = checked_discharge(text, today)
    with write_transaction(db):
        visit = Visit.from_row(fetch_row(db, "visits", visit_id))
        if not is_final_appointment(visit):
            raise KinesioError(
                _("Not a final appointment"),
                _("The discharge is recorded at a module's final doctor's appointment."),
            )
        if visit.status != "done" and not visit.in_progress:
            raise KinesioError(
                _("Appointment not held"),
                _("Visit {seq} has not started: record the discharge there once it has.",
                  seq=visit.seq),
            )  # fmt: skip
        episode = fetch_row(db, "episodes", visit.episode_id)
        pid = episode["patient_id"]
        current = discharge_of(db, visit.episode_id)
        check_version(
            "discharge", visit.episode_id, current.version if current else 0, expected_version
        )
        stamp = {"visit_id": visit_id, "recorded_by": str(getattr(db, "actor", ""))}
        if current is None:
            new_id = insert_row(
                db,
                "discharges",
                {"episode_id": visit.episode_id, **row, **stamp, "recorded_at": now_iso()},
                patient_id=pid,
            )
            return Discharge.from_row(fetch_row(db, "discharges", new_id))
        changes = {**row, **stamp}
        if any(fetch_row(db, "discharges", current.id)[k] != value for k, value in row.items()):
            changes["recorded_at"] = now_iso()
        return Discharge.from_row(update_row(db, "discharges", current.id, changes, patient_id=pid))


# --- what the letter reads -----------------------------------------------------------------


@dataclass(frozen=True)
class Screen:
    """One red-flag screen: when, at which visit (None: at intake), the flags ticked."""

    screened_on: date
    seq: int | None
    flags: tuple[str, ...]


def red_flag_screens_of(db: ClinicDB, episode_id: int) -> list[Screen]:
    """Every red-flag screen of the episode, in the order screened."""
    rows = db.execute(
        "SELECT s.screened_on, v.seq, s.flags FROM red_flag_screens s "
        "LEFT JOIN visits v ON v.id = s.visit_id WHERE s.episode_id = ? "
        "ORDER BY s.screened_on, s.id",
        [episode_id],
    ).fetchall()
    return [
        Screen(date.fromisoformat(on), seq, tuple(json.loads(flags))) for on, seq, flags in rows
    ]


def ticked_items_of_episode(db: ClinicDB, episode_id: int) -> dict[int, set[str]]:
    """The checklist items ticked at each visit of the episode (visit id -> item codes)."""
    ticked: dict[int, set[str]] = {}
    for visit_id, code in db.execute(
        "SELECT t.visit_id, t.item_code FROM checklist_ticks t "
        "JOIN visits v ON v.id = t.visit_id WHERE v.episode_id = ?",
        [episode_id],
    ).fetchall():
        ticked.setdefault(visit_id, set()).add(code)
    return ticked
