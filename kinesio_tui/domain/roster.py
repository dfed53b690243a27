"""The patient list as a therapist scans it: one row per patient with programme position."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.search import dialect, search_rows, search_sql


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


# For each patient of a page, its episode (the active one, else the latest) and where it
# stands. The chosen episode ids are MATERIALIZED: inlined, PostgreSQL's planner hashed all
# 17,538 episodes to join a page of 61 (12-29 ms at 100k, traced).
_CHOSEN = """chosen AS MATERIALIZED (
  SELECT (SELECT id FROM episodes WHERE patient_id = p.id
          ORDER BY status = 'active' DESC, opened_on DESC, id DESC LIMIT 1) AS id
  FROM {patients} AS p)"""
_EPISODES = """
SELECT e.patient_id, e.condition, e.subtype, e.side, e.status,
  nv.module, nv.number,
  (SELECT planned_date FROM visits WHERE episode_id = e.id AND status = 'planned'
     AND started_at IS NULL ORDER BY seq LIMIT 1) AS next_planned,
  (SELECT m.value_num FROM measurements m JOIN visits v ON v.id = m.visit_id
     WHERE v.episode_id = e.id AND m.test_code = 'vas' ORDER BY v.seq DESC, m.id DESC LIMIT 1)
     AS last_vas,
  (SELECT flags FROM red_flag_screens WHERE episode_id = e.id
     ORDER BY screened_on DESC, id DESC LIMIT 1) AS flags,
  nv.started_at IS NOT NULL AS next_started,
  (SELECT max(number) FROM visits WHERE episode_id = e.id AND module = nv.module)
     AS module_visits,
  EXISTS (SELECT 1 FROM episode_holds WHERE episode_id = e.id AND cleared_on IS NULL) AS held
FROM chosen JOIN episodes e ON e.id = chosen.id
LEFT JOIN visits nv ON nv.id = (
  SELECT id FROM visits WHERE episode_id = e.id AND status = 'planned' ORDER BY seq LIMIT 1)
"""
_PAGE_COLUMNS = ("first_name", "last_name", "birth_date", "phone")
#: On PostgreSQL the page and its episodes are one statement: one round trip per keystroke
#: instead of two (p50 6.2 -> 3.6 ms wall at load 10-12). SQLite has no round trip to
#: save, and its planner does the page and the episodes apart faster (0.1-0.4 ms, A/B).
_ROSTER_IN_ONE = (
    "WITH page AS MATERIALIZED ({page}), "
    + _CHOSEN.format(patients="page")
    + ", info AS MATERIALIZED ("
    + _EPISODES
    + """)
SELECT page.id, page.first_name, page.last_name, page.birth_date, page.phone,
  info.condition, info.subtype, info.side, info.status, info.module, info.number,
  info.next_planned, info.last_vas, info.flags, info.next_started, info.module_visits,
  info.held
FROM page LEFT JOIN info ON info.patient_id = page.id
ORDER BY page.search_text, page.id
"""
)


def _page_and_episodes(
    db: ClinicDB, query: str, archived: bool, limit: int, offset: int
) -> list[tuple[Any, ...]]:
    """The page's rows: id, first and last name, birth date, phone, then `_EPISODES`' columns
    after the patient id (all None for a patient without an episode)."""
    if db.kind == "postgresql":
        page, args = search_sql(
            db, query, archived=archived, limit=limit, offset=offset, columns=_PAGE_COLUMNS
        )
        return db.execute(_ROSTER_IN_ONE.format(page=page), args).fetchall()
    _, patients = search_rows(
        db, query, archived=archived, limit=limit, offset=offset, columns=_PAGE_COLUMNS
    )
    if not patients:
        return []
    engine = dialect(db)
    sql = (
        "WITH "
        + _CHOSEN.format(patients=f"(SELECT value AS id FROM {engine.id_list('ids')})")
        + _EPISODES
    )
    episodes = {
        row[0]: row[1:]
        for row in db.execute(sql, [engine.id_list_param([p[0] for p in patients])]).fetchall()
    }
    none = (None,) * 12
    return [(p[0], *p[2:], *episodes.get(p[0], none)) for p in patients]


def roster(
    db: ClinicDB, query: str = "", *, archived: bool = False, limit: int = 200, offset: int = 0
) -> list[RosterRow]:
    """One page of the patient list matching `query` (see `find_patients`)."""
    rows = _page_and_episodes(db, query, archived, limit, offset)
    out = []
    for pid, first_name, last_name, birth_date, phone, *e in rows:
        has = e[3] is not None  # the episode's status: NOT NULL, so None means no episode
        out.append(
            RosterRow(
                patient_id=pid,
                name=f"{last_name}, {first_name}",
                birth_date=date.fromisoformat(birth_date),
                phone=phone,
                condition=e[0],
                subtype=e[1],
                side=e[2],
                episode_status=e[3],
                module=e[4],
                number=e[5],
                next_planned=date.fromisoformat(e[6]) if e[6] else None,
                last_vas=e[7],
                red_flags=bool(e[8] and e[8] != "[]"),
                next_started=bool(has and e[9]),
                module_visits=e[10],
                on_hold=bool(has and e[11] and e[3] == "active"),
            )
        )
    return out
