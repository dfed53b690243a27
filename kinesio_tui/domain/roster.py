"""The patient list as a therapist scans it: one row per patient with programme position."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.search import dialect, search_rows


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
    next_planned: date | None  # the next visit not yet started (never the one under way)
    last_vas: float | None
    red_flags: bool
    next_started: bool = False  # the next visit is under way (started, not completed)
    module_visits: int | None = None  # visits planned in the next visit's module
    on_hold: bool = False  # a red flag holds therapy until a doctor clears it

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


# One lookup of the next planned visit (it was three, each walking a finished episode's
# 45 visits); the page of patients comes as bare rows, not Patient objects.
_EPISODE_SQL = """
WITH chosen AS MATERIALIZED (
  SELECT (SELECT id FROM episodes WHERE patient_id = p.value
          ORDER BY status = 'active' DESC, opened_on DESC, id DESC LIMIT 1) AS id
  FROM {ids})
SELECT e.id, e.patient_id, e.condition, e.subtype, e.side, e.status,
  nv.module, nv.number,
  (SELECT planned_date FROM visits WHERE episode_id = e.id AND status = 'planned'
     AND started_at IS NULL ORDER BY seq LIMIT 1),
  (SELECT m.value_num FROM measurements m JOIN visits v ON v.id = m.visit_id
     WHERE v.episode_id = e.id AND m.test_code = 'vas' ORDER BY v.seq DESC, m.id DESC LIMIT 1),
  (SELECT flags FROM red_flag_screens WHERE episode_id = e.id ORDER BY screened_on DESC, id DESC LIMIT 1),
  nv.started_at IS NOT NULL,
  (SELECT max(number) FROM visits WHERE episode_id = e.id AND module = nv.module),
  EXISTS (SELECT 1 FROM episode_holds WHERE episode_id = e.id AND cleared_on IS NULL)
FROM chosen JOIN episodes e ON e.id = chosen.id
LEFT JOIN visits nv ON nv.id = (
  SELECT id FROM visits WHERE episode_id = e.id AND status = 'planned' ORDER BY seq LIMIT 1)
"""


def roster(
    db: ClinicDB, query: str = "", *, archived: bool = False, limit: int = 200, offset: int = 0
) -> list[RosterRow]:
    """One page of the patient list matching `query` (see `find_patients`)."""
    _, patients = search_rows(
        db,
        query,
        archived=archived,
        limit=limit,
        offset=offset,
        columns=("first_name", "last_name", "birth_date", "phone"),
    )
    if not patients:
        return []
    engine = dialect(db)
    episodes: dict[int, tuple[Any, ...]] = {
        row[1]: row
        for row in db.execute(
            _EPISODE_SQL.format(ids=engine.id_list("p")),
            [engine.id_list_param([p[0] for p in patients])],
        ).fetchall()
    }
    out = []
    for pid, _search_text, first_name, last_name, birth_date, phone in patients:
        e = episodes.get(pid)
        out.append(
            RosterRow(
                patient_id=pid,
                name=f"{last_name}, {first_name}",
                birth_date=date.fromisoformat(birth_date),
                phone=phone,
                condition=e[2] if e else None,
                subtype=e[3] if e else None,
                side=e[4] if e else None,
                episode_status=e[5] if e else None,
                module=e[6] if e else None,
                number=e[7] if e else None,
                next_planned=date.fromisoformat(e[8]) if e and e[8] else None,
                last_vas=e[9] if e else None,
                red_flags=bool(e and e[10] and e[10] != "[]"),
                next_started=bool(e and e[11]),
                module_visits=e[12] if e else None,
                on_hold=bool(e and e[13] and e[5] == "active"),
            )
        )
    return out
