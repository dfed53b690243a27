"""The patient list as a therapist scans it: one row per patient with programme position."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlite_utils import Database

from kinesio_tui.domain.patients import find_patients


@dataclass(frozen=True)
class RosterRow:
    patient_id: int
    name: str  # "Surname, First"
    birth_date: date
    phone: str
    condition: str | None
    subtype: str | None
    side: str | None
    episode_status: str | None
    module: int | None
    number: int | None  # visit n of 15 within the module
    next_planned: date | None
    last_vas: float | None
    red_flags: bool

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


_EPISODE_SQL = """
SELECT e.id, e.patient_id, e.condition, e.subtype, e.side, e.status,
  (SELECT module FROM visits WHERE episode_id = e.id AND status = 'planned' ORDER BY seq LIMIT 1),
  (SELECT number FROM visits WHERE episode_id = e.id AND status = 'planned' ORDER BY seq LIMIT 1),
  (SELECT planned_date FROM visits WHERE episode_id = e.id AND status = 'planned' ORDER BY seq LIMIT 1),
  (SELECT m.value_num FROM measurements m JOIN visits v ON v.id = m.visit_id
     WHERE v.episode_id = e.id AND m.test_code = 'vas' ORDER BY v.seq DESC, m.id DESC LIMIT 1),
  (SELECT flags FROM red_flag_screens WHERE episode_id = e.id ORDER BY screened_on DESC, id DESC LIMIT 1)
FROM episodes e
WHERE e.id IN (
  SELECT (SELECT id FROM episodes WHERE patient_id = p.value
          ORDER BY status = 'active' DESC, opened_on DESC, id DESC LIMIT 1)
  FROM json_each(?) p)
"""


def roster(
    db: Database, query: str = "", *, archived: bool = False, limit: int = 200, offset: int = 0
) -> list[RosterRow]:
    """One page of the patient list matching `query` (see `find_patients`)."""
    import json

    patients = find_patients(db, query, archived=archived, limit=limit, offset=offset)
    if not patients:
        return []
    episodes: dict[int, tuple[Any, ...]] = {
        row[1]: row
        for row in db.execute(_EPISODE_SQL, [json.dumps([p.id for p in patients])]).fetchall()
    }
    out = []
    for p in patients:
        e = episodes.get(p.id)
        out.append(
            RosterRow(
                patient_id=p.id,
                name=f"{p.last_name}, {p.first_name}",
                birth_date=p.birth_date,
                phone=p.phone,
                condition=e[2] if e else None,
                subtype=e[3] if e else None,
                side=e[4] if e else None,
                episode_status=e[5] if e else None,
                module=e[6] if e else None,
                number=e[7] if e else None,
                next_planned=date.fromisoformat(e[8]) if e and e[8] else None,
                last_vas=e[9] if e else None,
                red_flags=bool(e and e[10] and e[10] != "[]"),
            )
        )
    return out
