"""Episodes of care: open one for a condition, plan its 45 visits, screen red flags."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from kinesio_tui import clock
from kinesio_tui.data.db import ClinicDB, write_transaction
from kinesio_tui.domain import validate as v
from kinesio_tui.domain.calendar import clinic_closures, next_open_day
from kinesio_tui.domain.holds import hold_after_screen
from kinesio_tui.domain.models import Episode, NewEpisode
from kinesio_tui.domain.referrer import checked_referrer
from kinesio_tui.domain.store import check_version, fetch_row, insert_row, now_iso, update_row
from kinesio_tui.errors import KinesioError, ValidationError
from kinesio_tui.i18n import _
from kinesio_tui.protocol import Protocol, protocol
from kinesio_tui.settings import Closures

SIDES = ("L", "R", "both")
COURSES = ("acute", "chronic")


@dataclass(frozen=True)
class PlannedVisit:
    module: int
    number: int
    seq: int
    kind: str
    planned_date: date


def next_visit_day(after: date, weekdays: tuple[int, ...], *, inclusive: bool = False) -> date:
    """The first clinic day (one of `weekdays`) on or after / strictly after `after`."""
    day = after if inclusive else after + timedelta(days=1)
    while day.weekday() not in weekdays:
        day += timedelta(days=1)
    return day


#: How far ahead a programme may be planned; beyond is a typo (and date arithmetic overflows
#: near year 9999).
MAX_DAYS_AHEAD = 366


def check_start(start: object, today: date) -> date:
    """The first visit's date: a date from 1900 up to a year from today."""
    day = v.parse_date("start", start)
    latest = today + timedelta(days=MAX_DAYS_AHEAD)
    if day > latest:
        raise ValidationError("start", _("should be no later than {day}", day=latest.isoformat()))
    if day.year < 1900:
        raise ValidationError("start", _("should be after 1900"))
    return day


def plan_visits(
    start: date, proto: Protocol | None = None, closures: Closures | None = None
) -> list[PlannedVisit]:
    """The programme's visits, in order, on the clinic's visit weekdays from `start` on,
    never on a weekend or a day the clinic is closed (public holidays, its own dates)."""
    proto = proto or protocol()
    closures = closures if closures is not None else clinic_closures()
    weekdays = proto.timing.visit_weekdays
    day = next_open_day(start, weekdays, closures, inclusive=True)
    plan = []
    seq = 0
    for module in proto.modules:
        for slot in proto.cycle:
            seq += 1
            plan.append(PlannedVisit(module.number, slot.number, seq, slot.kind, day))
            day = next_open_day(day, weekdays, closures)
    return plan


def validate_episode(data: NewEpisode, today: date, proto: Protocol) -> dict[str, Any]:
    condition = proto.condition(data.condition) if isinstance(data.condition, str) else None
    if condition is None:
        raise ValidationError(
            "condition",
            _("should be one of: {codes}", codes=", ".join(c.code for c in proto.conditions)),
        )
    subtypes = [s.code for s in condition.subtypes]
    onset = v.past_date("onset date", data.onset_date, today) if data.onset_date else None
    for flag in data.red_flags:
        if proto.red_flag(flag) is None:
            raise ValidationError(
                "red flags",
                _(
                    "unknown flag {flag!r}; known: {codes}",
                    flag=flag,
                    codes=", ".join(f.code for f in proto.red_flags),
                ),
            )
    return {
        "condition": condition.code,
        "subtype": v.one_of("subtype", data.subtype, subtypes),
        "side": v.one_of("side", data.side, SIDES),
        "course": v.one_of("course", data.course, COURSES),
        "onset_date": onset.isoformat() if onset else None,
        "pain_medication": v.bounded_text("pain medication", data.pain_medication, max_len=200),
        **dict(
            zip(
                ("referring_doctor", "referring_institution"),
                checked_referrer(data.referring_doctor, data.referring_institution),
                strict=True,
            )
        ),
    }


def open_episode(
    db: ClinicDB,
    patient_id: int,
    data: NewEpisode,
    *,
    start: date | None = None,
    today: date | None = None,
) -> int:
    """Open an episode of care, record the intake red-flag screen and plan all visits."""
    proto = protocol()
    today = today or clock.today()
    row = validate_episode(data, today, proto)
    start = check_start(start or today, today)
    with write_transaction(db):
        patient = fetch_row(db, "patients", patient_id)
        if patient["archived_at"] is not None:
            raise KinesioError(
                _("Patient archived"), _("Restore the patient before opening an episode.")
            )
        active = db.execute(
            "SELECT count(*) FROM episodes WHERE patient_id = ? AND status = 'active'", [patient_id]
        ).fetchone()[0]
        if active:
            raise KinesioError(
                _("Episode already open"), _("Close the current episode before opening another.")
            )
        stamp = now_iso()
        episode_id = insert_row(
            db,
            "episodes",
            {
                **row,
                "patient_id": patient_id,
                "status": "active",
                "opened_on": start.isoformat(),
                "created_at": stamp,
                "updated_at": stamp,
            },
            patient_id=patient_id,
        )
        for visit in plan_visits(start, proto):
            insert_row(
                db,
                "visits",
                {
                    "episode_id": episode_id,
                    "module": visit.module,
                    "number": visit.number,
                    "seq": visit.seq,
                    "kind": visit.kind,
                    "planned_date": visit.planned_date.isoformat(),
                    "status": "planned",
                    "updated_at": stamp,
                },
                patient_id=patient_id,
            )
        _insert_screen(db, episode_id, patient_id, None, data.red_flags, start, "intake")
    return episode_id


def _insert_screen(
    db: ClinicDB,
    episode_id: int,
    patient_id: int,
    visit_id: int | None,
    flags: tuple[str, ...] | list[str],
    day: date,
    note: str,
) -> int:
    """Record a screen; a flag it raises anew puts the episode on hold (domain/holds.py)."""
    _latest, previous = latest_red_flag_screen(db, episode_id)
    screen_id = insert_row(
        db,
        "red_flag_screens",
        {
            "episode_id": episode_id,
            "visit_id": visit_id,
            "screened_on": day.isoformat(),
            "flags": json.dumps(sorted(set(flags))),
            "note": note,
            "recorded_at": now_iso(),
        },
        patient_id=patient_id,
    )
    hold_after_screen(db, episode_id, patient_id, screen_id, list(flags), previous, day)
    return screen_id


def screen_red_flags(
    db: ClinicDB,
    episode_id: int,
    flags: list[str] | tuple[str, ...],
    *,
    visit_id: int | None = None,
    note: str = "",
    today: date | None = None,
    expected_version: int | None = None,
) -> int:
    """Record a red-flag screen; the latest screen says which flags are raised now.

    `expected_version` is the id of the latest screen the form showed (0: none): the
    episode's red-flag state moves on with every screen, so a form showing an older one
    is refused (StaleRecord) instead of taking back flags it never showed.
    """
    proto = protocol()
    for flag in flags:
        if proto.red_flag(flag) is None:
            raise ValidationError(
                "red flags",
                _(
                    "unknown flag {flag!r}; known: {codes}",
                    flag=flag,
                    codes=", ".join(f.code for f in proto.red_flags),
                ),
            )
    note = v.bounded_text("note", note, max_len=500)
    with write_transaction(db):
        episode = fetch_row(db, "episodes", episode_id)
        if visit_id is not None and fetch_row(db, "visits", visit_id)["episode_id"] != episode_id:
            raise ValidationError("visit", _("belongs to another episode of care"))
        latest, _flags = latest_red_flag_screen(db, episode_id)
        check_version("red-flag screen", episode_id, latest, expected_version)
        return _insert_screen(
            db, episode_id, episode["patient_id"], visit_id, flags, today or clock.today(), note
        )


def latest_red_flag_screen(db: ClinicDB, episode_id: int) -> tuple[int, list[str]]:
    """The latest screen's id (0: none yet) and the flags it raised: the episode's red-flag
    state and its version."""
    row = db.execute(
        "SELECT id, flags FROM red_flag_screens WHERE episode_id = ? "
        "ORDER BY screened_on DESC, id DESC LIMIT 1",
        [episode_id],
    ).fetchone()
    return (int(row[0]), list(json.loads(row[1]))) if row else (0, [])


def raised_red_flags(db: ClinicDB, episode_id: int) -> list[str]:
    """Red flags raised at the latest screen (any one: refer to a doctor now)."""
    return latest_red_flag_screen(db, episode_id)[1]


def get_episode(db: ClinicDB, episode_id: int) -> Episode:
    return Episode.from_row(fetch_row(db, "episodes", episode_id))


def current_episode(db: ClinicDB, patient_id: int) -> Episode | None:
    """The patient's active episode, else the most recent one, else None."""
    cursor = db.execute(
        "SELECT * FROM episodes WHERE patient_id = ? "
        "ORDER BY status = 'active' DESC, opened_on DESC, id DESC LIMIT 1",
        [patient_id],
    )
    row = cursor.fetchone()
    if row is None:
        return None
    return Episode.from_row(dict(zip([c[0] for c in cursor.description], row, strict=True)))


def close_episode(
    db: ClinicDB,
    episode_id: int,
    *,
    today: date | None = None,
    status: str = "closed",
    expected_version: int | None = None,
) -> None:
    """End an episode early (closed) or mark it completed; remaining planned visits are cancelled."""
    v.one_of("status", status, ("closed", "completed"))
    day = (today or clock.today()).isoformat()
    with write_transaction(db):
        episode = fetch_row(db, "episodes", episode_id)
        check_version("episode", episode_id, episode["version"], expected_version)
        if episode["status"] != "active":
            raise KinesioError(_("Episode not active"), _("This episode is already closed."))
        pid = episode["patient_id"]
        under_way = db.execute(
            "SELECT seq FROM visits WHERE episode_id = ? AND status = 'planned' "
            "AND started_at IS NOT NULL",
            [episode_id],
        ).fetchone()
        if under_way:
            # Cancelling it would hide what was recorded in it.
            raise KinesioError(
                _("Visit in progress"),
                _("Complete visit {seq} before closing the episode.", seq=under_way[0]),
            )
        for (visit_id,) in db.execute(
            "SELECT id FROM visits WHERE episode_id = ? AND status = 'planned'", [episode_id]
        ).fetchall():
            update_row(
                db,
                "visits",
                visit_id,
                {"status": "cancelled", "updated_at": now_iso()},
                patient_id=pid,
            )
        update_row(
            db,
            "episodes",
            episode_id,
            {"status": status, "closed_on": day, "updated_at": now_iso()},
            patient_id=pid,
        )
