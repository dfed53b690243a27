"""Red-flag holds: a raised red flag stops therapy until a doctor clears the patient.

A red-flag screen that raises a flag not raised at the screen before it puts the episode on
hold (or adds the flag to the hold already open). While on hold:

- a therapy session starts only with an explicit override and its reason (recorded, audited);
- a doctor's appointment starts as usual: that is where the patient is seen;
- the referral is recorded on the hold: to whom, when, why;
- the hold ends only by a doctor's clearance recorded at a doctor's appointment in progress,
  with the doctor's name and the reason. Unticking the flags does not end it.

After a clearance, flags the doctor saw stay on the screen without a new hold while they
stay raised; a flag raised anew (or again, after a screen without it) puts a new hold on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from kinesio_tui import clock
from kinesio_tui.data.db import ClinicDB, write_transaction
from kinesio_tui.domain import validate as v
from kinesio_tui.domain.store import check_version, fetch_row, insert_row, now_iso, update_row
from kinesio_tui.errors import KinesioError, ValidationError
from kinesio_tui.i18n import _

#: Longest referral or clearance reason, and an override's reason.
MAX_REASON = 500


class OnHold(KinesioError):
    """A therapy session was to start while the episode is on hold, without an override."""


@dataclass(frozen=True)
class Override:
    """A therapy session started while on hold, and why."""

    id: int
    visit_id: int
    seq: int
    reason: str
    by: str
    recorded_at: str


@dataclass(frozen=True)
class Hold:
    """One hold of an episode: raised by red flags, ended by a doctor's clearance."""

    id: int
    episode_id: int
    flags: tuple[str, ...]
    raised_on: date
    referred_to: str
    referred_on: date | None
    referral_reason: str
    cleared_on: date | None
    cleared_by: str
    clearance_note: str
    cleared_visit_id: int | None
    version: int
    overrides: tuple[Override, ...] = ()

    @property
    def active(self) -> bool:
        return self.cleared_on is None

    @property
    def referred(self) -> bool:
        return bool(self.referred_to)

    @classmethod
    def from_row(cls, row: dict[str, Any], overrides: tuple[Override, ...] = ()) -> Hold:
        def day(value: str | None) -> date | None:
            return date.fromisoformat(value) if value else None

        return cls(
            id=row["id"],
            episode_id=row["episode_id"],
            flags=tuple(json.loads(row["flags"])),
            raised_on=date.fromisoformat(row["raised_on"]),
            referred_to=row["referred_to"],
            referred_on=day(row["referred_on"]),
            referral_reason=row["referral_reason"],
            cleared_on=day(row["cleared_on"]),
            cleared_by=row["cleared_by"],
            clearance_note=row["clearance_note"],
            cleared_visit_id=row["cleared_visit_id"],
            version=row["version"],
            overrides=overrides,
        )


def _rows(db: ClinicDB, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = db.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _overrides(db: ClinicDB, hold_id: int) -> tuple[Override, ...]:
    return tuple(
        Override(r["id"], r["visit_id"], r["seq"], r["reason"], r["overridden_by"], r["at"])
        for r in _rows(
            db,
            "SELECT o.id, o.visit_id, v.seq, o.reason, o.overridden_by, o.recorded_at AS at "
            "FROM hold_overrides o JOIN visits v ON v.id = o.visit_id "
            "WHERE o.hold_id = ? ORDER BY o.id",
            [hold_id],
        )
    )


def holds_of(db: ClinicDB, episode_id: int) -> list[Hold]:
    """Every hold of an episode, oldest first, each with its overrides."""
    return [
        Hold.from_row(r, _overrides(db, r["id"]))
        for r in _rows(
            db, "SELECT * FROM episode_holds WHERE episode_id = ? ORDER BY id", [episode_id]
        )
    ]


def active_hold(db: ClinicDB, episode_id: int) -> Hold | None:
    """The episode's open hold (therapy stopped), or None."""
    rows = _rows(
        db,
        "SELECT * FROM episode_holds WHERE episode_id = ? AND cleared_on IS NULL",
        [episode_id],
    )
    return Hold.from_row(rows[0], _overrides(db, rows[0]["id"])) if rows else None


def latest_hold(db: ClinicDB, episode_id: int) -> Hold | None:
    """The episode's most recent hold, open or cleared, or None."""
    rows = _rows(
        db,
        "SELECT * FROM episode_holds WHERE episode_id = ? ORDER BY id DESC LIMIT 1",
        [episode_id],
    )
    return Hold.from_row(rows[0], _overrides(db, rows[0]["id"])) if rows else None


def flags_words(labels: list[str], last: Hold | None) -> str:
    """The raised flags' warning. With no hold open, flags still raised were all seen by the
    doctor who cleared the last hold (a new flag would have put a new hold on)."""
    flags = "; ".join(labels)
    if last is not None and not last.active:
        return _(
            "⚠ RED FLAG: {flags} — cleared for therapy by {doctor} on {day}",
            flags=flags,
            doctor=last.cleared_by,
            day=last.cleared_on,
        )
    return _("⚠ RED FLAG — refer to a doctor now: {flags}", flags=flags)


def hold_after_screen(
    db: ClinicDB,
    episode_id: int,
    patient_id: int,
    screen_id: int,
    flags: list[str],
    previous: list[str],
    day: date,
) -> None:
    """Put the episode on hold for flags this screen raised anew (inside the screen's write).

    `previous` are the flags of the screen before (none at intake).
    """
    new = sorted(set(flags) - set(previous))
    if not new:
        return
    stamp = now_iso()
    hold = active_hold(db, episode_id)
    if hold is None:
        insert_row(
            db,
            "episode_holds",
            {
                "episode_id": episode_id,
                "screen_id": screen_id,
                "flags": json.dumps(new),
                "raised_on": day.isoformat(),
                "recorded_at": stamp,
                "updated_at": stamp,
            },
            patient_id=patient_id,
        )
        return
    update_row(
        db,
        "episode_holds",
        hold.id,
        {"flags": json.dumps(sorted({*hold.flags, *new})), "updated_at": stamp},
        patient_id=patient_id,
    )


def _open_hold(db: ClinicDB, episode_id: int, expected_version: int | None) -> dict[str, Any]:
    rows = _rows(
        db,
        "SELECT * FROM episode_holds WHERE episode_id = ? AND cleared_on IS NULL",
        [episode_id],
    )
    if not rows:
        raise KinesioError(_("Not on hold"), _("This episode is not on hold."))
    check_version("hold", rows[0]["id"], rows[0]["version"], expected_version)
    return rows[0]


def record_referral(
    db: ClinicDB,
    episode_id: int,
    *,
    to: object,
    on: object,
    why: object,
    today: date | None = None,
    expected_version: int | None = None,
) -> int:
    """Record (or correct) the referral of the episode's open hold; returns its new version."""
    today = today or clock.today()
    to_text = v.bounded_text("referred to", to, max_len=v.MAX_NAME).strip()
    if not to_text:
        raise ValidationError("referred to", _("should name the doctor or service"))
    why_text = v.bounded_text("reason", why, max_len=MAX_REASON).strip()
    if not why_text:
        raise ValidationError("reason", _("should say why the patient is referred"))
    day = v.past_date("referral date", on, today)
    with write_transaction(db):
        episode = fetch_row(db, "episodes", episode_id)
        hold = _open_hold(db, episode_id, expected_version)
        if day < date.fromisoformat(hold["raised_on"]):
            raise ValidationError(
                "referral date", _("should be on or after {day}", day=hold["raised_on"])
            )
        new = update_row(
            db,
            "episode_holds",
            hold["id"],
            {
                "referred_to": to_text,
                "referred_on": day.isoformat(),
                "referral_reason": why_text,
                "updated_at": now_iso(),
            },
            patient_id=episode["patient_id"],
            action="refer",
        )
    return int(new["version"])


def clear_hold(
    db: ClinicDB,
    episode_id: int,
    *,
    visit_id: int,
    doctor: object,
    note: object,
    expected_version: int | None = None,
) -> None:
    """End the open hold: a doctor's clearance, recorded at a doctor's appointment in progress."""
    doctor_name = v.bounded_text("doctor", doctor, max_len=v.MAX_NAME).strip()
    if not doctor_name:
        raise ValidationError("doctor", _("should name the doctor who clears the patient"))
    note_text = v.bounded_text("reason", note, max_len=MAX_REASON).strip()
    if not note_text:
        raise ValidationError("reason", _("should say why therapy may go on"))
    with write_transaction(db):
        episode = fetch_row(db, "episodes", episode_id)
        visit = fetch_row(db, "visits", visit_id)
        if visit["episode_id"] != episode_id:
            raise ValidationError("visit", _("belongs to another episode of care"))
        if visit["kind"] != "doctor" or visit["status"] != "planned" or not visit["started_at"]:
            raise KinesioError(
                _("Not at a doctor's appointment"),
                _("A hold is cleared only at a doctor's appointment in progress."),
            )
        hold = _open_hold(db, episode_id, expected_version)
        update_row(
            db,
            "episode_holds",
            hold["id"],
            {
                "cleared_on": visit["held_on"],
                "cleared_visit_id": visit_id,
                "cleared_by": doctor_name,
                "clearance_note": note_text,
                "updated_at": now_iso(),
            },
            patient_id=episode["patient_id"],
            action="clear",
        )


def check_therapy_may_start(
    db: ClinicDB, visit: dict[str, Any], patient_id: int, override: str | None
) -> None:
    """Inside start_visit's write: refuse a therapy session on hold unless overridden with a
    reason, which is then recorded against the hold."""
    if visit["kind"] != "therapy":
        return
    hold = active_hold(db, visit["episode_id"])
    if hold is None:
        return
    reason = v.bounded_text("override reason", override or "", max_len=MAX_REASON).strip()
    if not reason:
        raise OnHold(
            _("Therapy on hold"),
            _(
                "Red flag raised on {day}: a therapy session needs an override with a reason, "
                "or a doctor's clearance at a doctor's appointment.",
                day=hold.raised_on.isoformat(),
            ),
        )
    insert_row(
        db,
        "hold_overrides",
        {
            "hold_id": hold.id,
            "visit_id": visit["id"],
            "reason": reason,
            "overridden_by": str(getattr(db, "actor", "")),
            "recorded_at": now_iso(),
        },
        patient_id=patient_id,
    )


def describe_hold(hold: Hold, labels: list[str]) -> list[str]:
    """A hold in words, for the command line and reports (`labels`: its flags' labels).

    Text a person typed (the referral, the reasons) is returned as typed: callers that
    print or render it keep it text.
    """
    flags = "; ".join(labels)
    if hold.active:
        lines = [
            _("Therapy on hold since {day}: red flag {flags}.", day=hold.raised_on, flags=flags)
        ]
    else:
        lines = [
            _(
                "On hold {start} to {end}: red flag {flags}.",
                start=hold.raised_on,
                end=hold.cleared_on,
                flags=flags,
            )
        ]
    if hold.referred:
        lines.append(
            _(
                "Referred to {to} on {day}: {why}",
                to=hold.referred_to,
                day=hold.referred_on,
                why=hold.referral_reason,
            )
        )
    else:
        lines.append(_("Referral not recorded."))
    for override in hold.overrides:
        lines.append(
            _(
                "Therapy session (visit {seq}) started on hold by {by}: {reason}",
                seq=override.seq,
                by=override.by or _("unknown"),
                reason=override.reason,
            )
        )
    if hold.active:
        lines.append(_("Ends only with a doctor's clearance at a doctor's appointment."))
    else:
        lines.append(
            _("Cleared by {doctor}: {note}", doctor=hold.cleared_by, note=hold.clearance_note)
        )
    return lines
