"""The clinic's day: every visit due on a day (and the ones overdue), in time order.

One row per active episode whose current visit (the one in progress, else the first planned
one) is due on or before the day, and one per visit held, missed or cancelled that day; the
current visit's later planned visits are not listed (they cannot start before it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.models import Visit
from kinesio_tui.i18n import _

#: What a row's visit is on the day: to start, started, held, or not attended.
DAY_STATUSES = ("overdue", "due", "in progress", "done", "missed", "cancelled")


@dataclass(frozen=True)
class DayVisit:
    """One line of the day's list."""

    patient_id: int
    patient: str  # "Surname, First"
    visit: Visit
    status: str  # one of DAY_STATUSES
    on_hold: bool  # a red flag holds therapy until a doctor clears it
    plan_version: int  # the episode's plan as read (for a reschedule from the list)

    @property
    def therapist(self) -> str:
        return self.visit.therapist


_DAY_SQL = """
SELECT v.*, p.id AS p_id, p.first_name, p.last_name,
  EXISTS (SELECT 1 FROM episode_holds h WHERE h.episode_id = e.id AND h.cleared_on IS NULL)
    AS p_hold,
  (SELECT sum(version) FROM visits WHERE episode_id = e.id) AS p_plan
FROM visits v JOIN episodes e ON e.id = v.episode_id JOIN patients p ON p.id = e.patient_id
WHERE p.archived_at IS NULL AND (
  (e.status = 'active' AND v.id = (
     SELECT id FROM visits WHERE episode_id = e.id AND status = 'planned'
     ORDER BY started_at IS NULL, seq LIMIT 1)
   AND (v.planned_date <= :day OR v.started_at IS NOT NULL))
  OR (v.status != 'planned' AND v.held_on = :day)
  OR (v.status = 'cancelled' AND v.planned_date = :day AND v.absence_reason != '')
)
"""


def _status(visit: Visit, day: date) -> str:
    if visit.status != "planned":
        return visit.status
    if visit.started_at is not None:
        return "in progress"
    return "overdue" if visit.planned_date < day else "due"


def day_list(db: ClinicDB, day: date, *, therapist: str | None = None) -> list[DayVisit]:
    """The visits of `day`: overdue first, then by planned time (untimed last), then name.

    `therapist` keeps the visits that therapist holds or held, and those no one has
    started yet (anyone may take them); matched without regard to case.
    """
    cursor = db.execute(_DAY_SQL, {"day": day.isoformat()})
    names = [c[0] for c in cursor.description]
    rows: list[DayVisit] = []
    for raw in cursor.fetchall():
        row: dict[str, Any] = dict(zip(names, raw, strict=True))
        visit = Visit.from_row(row)
        if therapist and visit.therapist and visit.therapist.casefold() != therapist.casefold():
            continue
        rows.append(
            DayVisit(
                patient_id=row["p_id"],
                patient=f"{row['last_name']}, {row['first_name']}",
                visit=visit,
                status=_status(visit, day),
                on_hold=bool(row["p_hold"]),
                plan_version=int(row["p_plan"] or 0),
            )
        )
    rows.sort(key=_order)
    return rows


def _order(row: DayVisit) -> tuple[int, str, str]:
    """Overdue first (they need a decision), then the visits under way, then the rest by
    planned time (untimed last: "~" sorts after digits), then by name."""
    rank = 0 if row.status == "overdue" else 1 if row.status == "in progress" else 2
    return rank, row.visit.planned_time or "~", row.patient.casefold()


def status_words(row: DayVisit, day: date) -> str:
    """A row's status as the list says it ("overdue since Mon 23 Nov", "missed: reason")."""
    visit = row.visit
    if row.status == "overdue":
        return _("overdue since {day}", day=visit.planned_date.strftime("%a %d %b"))
    if row.status in ("missed", "cancelled") and visit.absence_reason:
        return f"{_(row.status)}: {visit.absence_reason}"
    return _(row.status)


def day_row_cells(row: DayVisit, day: date) -> list[str]:
    """Time, patient, visit, kind, therapist, status, alert: one row of the day's list, as
    the screen and `kinesio today` show it."""
    visit = row.visit
    return [
        visit.planned_time or "-",
        row.patient,
        _("{m}.{n} ({seq}/45)", m=visit.module, n=visit.number, seq=visit.seq),
        _("doctor's") if visit.is_doctor else _("session"),
        visit.therapist or "-",
        status_words(row, day),
        _("ON HOLD") if row.on_hold and row.status in ("overdue", "due", "in progress") else "",
    ]
