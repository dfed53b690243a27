"""The plan of an episode's visits over the clinic's days: attendance (a visit missed or
cancelled, with the reason) and rescheduling (one visit, or the rest of the plan from it).

Writes go through the audited write path with optimistic versions. A reschedule carries the
version of the whole plan it was chosen on (`plan_version`: the sum of the episode's visit
versions, which grows with any change to any of its visits), so two terminals moving the
same plan never overwrite each other: the second is refused (StaleRecord).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from kinesio_tui import clock
from kinesio_tui.data.db import ClinicDB, write_transaction
from kinesio_tui.domain import validate as v
from kinesio_tui.domain.calendar import (
    cadence_of,
    clinic_closures,
    closed_reason,
    next_open_day,
    timing_warnings,
)
from kinesio_tui.domain.episodes import MAX_DAYS_AHEAD
from kinesio_tui.domain.models import Visit
from kinesio_tui.domain.store import check_version, fetch_row, now_iso, update_row
from kinesio_tui.errors import KinesioError, ValidationError
from kinesio_tui.i18n import _
from kinesio_tui.protocol import protocol
from kinesio_tui.settings import Closures

#: What a visit the patient did not attend is marked: missed (no-show) or cancelled.
ABSENCES = ("missed", "cancelled")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
MAX_REASON = 200


def parse_time(field: str, value: object) -> str | None:
    """A time of day as HH:MM (00:00-23:59), or None for none given ("" or None)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[0-9]:[0-5][0-9]", text):
            text = "0" + text  # 9:30 is 09:30
        if _TIME.match(text):
            return text
    raise ValidationError(field, _("should be a time of day as HH:MM, 00:00 to 23:59"))


def _visits(db: ClinicDB, episode_id: int) -> list[Visit]:
    cursor = db.execute("SELECT * FROM visits WHERE episode_id = ? ORDER BY seq", [episode_id])
    names = [c[0] for c in cursor.description]
    return [Visit.from_row(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


def plan_version(db: ClinicDB, episode_id: int) -> int:
    """The version of an episode's whole plan: it grows with every change to any visit."""
    return int(
        db.execute(
            "SELECT coalesce(sum(version), 0) FROM visits WHERE episode_id = ?", [episode_id]
        ).fetchone()[0]
    )


def plan_warnings(db: ClinicDB, episode_id: int) -> list[str]:
    """The timing facts the episode's plan breaks (each module's days, held or planned)."""
    by_module: dict[int, list[date]] = {}
    for visit in _visits(db, episode_id):
        if visit.status != "cancelled":
            by_module.setdefault(visit.module, []).append(visit.day)
    return timing_warnings(by_module, protocol())


def _active_episode(db: ClinicDB, visit: dict[str, Any]) -> dict[str, Any]:
    episode = fetch_row(db, "episodes", visit["episode_id"])
    if episode["status"] != "active":
        raise KinesioError(_("Episode not active"), _("This episode is closed; open a new one."))
    return episode


def _require_not_started(visit: dict[str, Any], title: str) -> None:
    if visit["status"] != "planned":
        raise KinesioError(
            title, _("Visit {seq} is {status}.", seq=visit["seq"], status=visit["status"])
        )
    if visit["started_at"] is not None:
        raise KinesioError(
            title, _("Visit {seq} is in progress; complete it first.", seq=visit["seq"])
        )


def record_absence(
    db: ClinicDB,
    visit_id: int,
    status: str,
    reason: object,
    *,
    today: date | None = None,
    expected_version: int | None = None,
) -> Visit:
    """Mark a planned visit missed (the patient did not come; its day has come) or cancelled
    (called off, any day), with the reason; the programme goes on with the next visit.
    Missed and cancelled visits count in the attendance reports."""
    status = v.one_of("status", status, ABSENCES)
    reason_text = v.required_text("reason", reason, max_len=MAX_REASON)
    day = today or clock.today()
    title = _("Cannot mark missed") if status == "missed" else _("Cannot cancel")
    with write_transaction(db):
        visit = fetch_row(db, "visits", visit_id)
        check_version("visit", visit["seq"], visit["version"], expected_version)
        episode = _active_episode(db, visit)
        _require_not_started(visit, title)
        if status == "missed" and date.fromisoformat(visit["planned_date"]) > day:
            raise KinesioError(
                title,
                _(
                    "Visit {seq} is planned for {day}: a visit can be missed on its day or "
                    "later; cancel it instead.",
                    seq=visit["seq"],
                    day=visit["planned_date"],
                ),
            )
        new = update_row(
            db,
            "visits",
            visit_id,
            {
                "status": status,
                # a no-show happens on its day; a cancelled visit was never held
                "held_on": visit["planned_date"] if status == "missed" else None,
                "absence_reason": reason_text,
                "updated_at": now_iso(),
            },
            patient_id=episode["patient_id"],
            action="miss" if status == "missed" else "cancel",
        )
        left = db.execute(
            "SELECT count(*) FROM visits WHERE episode_id = ? AND status = 'planned'",
            [episode["id"]],
        ).fetchone()[0]
        if left == 0:  # the last visit not attended: the programme is over
            update_row(
                db,
                "episodes",
                episode["id"],
                {"status": "completed", "closed_on": day.isoformat(), "updated_at": now_iso()},
                patient_id=episode["patient_id"],
                action="complete",
            )
    return Visit.from_row(new)


@dataclass(frozen=True)
class Moved:
    """One visit a reschedule moved: its place in the programme, from which day to which."""

    seq: int
    module: int
    number: int
    was: date
    now: date
    time: str | None


@dataclass(frozen=True)
class Reschedule:
    moved: tuple[Moved, ...]
    warnings: tuple[str, ...]  # timing facts the new plan breaks


#: `time` left out: the visit keeps its planned time.
KEEP_TIME = object()


def _check_open_day(day: date, closures: Closures, today: date) -> None:
    if day < today:
        raise ValidationError("date", _("should be today or later"))
    if day > today + timedelta(days=MAX_DAYS_AHEAD):
        latest = (today + timedelta(days=MAX_DAYS_AHEAD)).isoformat()
        raise ValidationError("date", _("should be no later than {day}", day=latest))
    why = closed_reason(day, closures)
    if why is not None:
        raise ValidationError(
            "date", _("{day} is closed ({why}); choose an open day", day=day.isoformat(), why=why)
        )


def move_visit(
    db: ClinicDB,
    visit_id: int,
    to: object,
    *,
    time: object = KEEP_TIME,
    shift_rest: bool = False,
    today: date | None = None,
    expected_version: int | None = None,
    closures: Closures | None = None,
) -> Reschedule:
    """Move a planned visit to another open day (and time), or with `shift_rest` move it
    and re-plan every later planned visit after it in the plan's cadence.

    The programme is held in order, so a visit moved alone must stay after the visit before
    it and before the one after it: a move that would cross the next visit (for a module's
    last visit, the next module's first) is refused and names `shift_rest`, which moves the
    later visits, the next modules' too, along with it. `expected_version` is the plan's
    version as shown (`plan_version`).
    """
    day = today or clock.today()
    closures = closures if closures is not None else clinic_closures()
    new_day = v.parse_date("date", to)
    new_time = KEEP_TIME if time is KEEP_TIME else parse_time("time", time)
    _check_open_day(new_day, closures, day)
    with write_transaction(db):
        visit = fetch_row(db, "visits", visit_id)
        episode = _active_episode(db, visit)
        check_version("plan", episode["id"], plan_version(db, episode["id"]), expected_version)
        _require_not_started(visit, _("Cannot move"))
        visits = _visits(db, episode["id"])
        index = next(i for i, x in enumerate(visits) if x.id == visit_id)
        earlier = [x.day for x in visits[:index] if x.status in ("planned", "done")]
        if earlier and new_day <= max(earlier):
            raise ValidationError(
                "date",
                _(
                    "should be after {day}, the day of the visit before it (visits are held "
                    "in order)",
                    day=max(earlier).isoformat(),
                ),
            )
        later = [x for x in visits[index + 1 :] if x.status == "planned"]
        plan: list[tuple[Visit, date, object]] = [(visits[index], new_day, new_time)]
        if shift_rest:
            proto = protocol()
            cadence = cadence_of(
                [x.planned_date for x in visits if x.status == "planned"],
                proto.timing.visit_weekdays,
            )
            previous = new_day
            for x in later:
                previous = next_open_day(previous, cadence, closures)
                plan.append((x, previous, KEEP_TIME))
        elif later and new_day >= later[0].planned_date:
            nxt = later[0]
            crossing = (
                _("module {m}'s first visit", m=nxt.module)
                if nxt.module != visit["module"]
                else _("visit {m}.{n}", m=nxt.module, n=nxt.number)
            )
            raise ValidationError(
                "date",
                _(
                    "should be before {day}, when {what} is planned; to move the visits "
                    "after it too, shift the rest of the plan",
                    day=nxt.planned_date.isoformat(),
                    what=crossing,
                ),
            )
        if plan[-1][1] > day + timedelta(days=MAX_DAYS_AHEAD * 2):
            raise ValidationError("date", _("moves the plan's end more than two years ahead"))
        moved = []
        for x, when, at in plan:
            changes: dict[str, Any] = {"planned_date": when.isoformat()}
            if at is not KEEP_TIME:
                changes["planned_time"] = at
            if when == x.planned_date and changes.get("planned_time", x.planned_time) == (
                x.planned_time
            ):
                continue
            update_row(
                db,
                "visits",
                x.id,
                {**changes, "updated_at": now_iso()},
                patient_id=episode["patient_id"],
                action="reschedule",
            )
            moved.append(
                Moved(
                    x.seq,
                    x.module,
                    x.number,
                    x.planned_date,
                    when,
                    changes.get("planned_time", x.planned_time),
                )
            )
        warnings = plan_warnings(db, episode["id"])
    return Reschedule(tuple(moved), tuple(warnings))
