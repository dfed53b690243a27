"""Who referred the patient for an episode: the discharge letter's addressee.

A name and, optionally, the institution, kept on the episode as plain text ('' when not
recorded), checked like every name: one line, no control or bidirectional characters.
"""

from __future__ import annotations

from kinesio_tui.data.db import ClinicDB, write_transaction
from kinesio_tui.domain import validate as v
from kinesio_tui.domain.models import Episode
from kinesio_tui.domain.store import check_version, fetch_row, now_iso, update_row
from kinesio_tui.errors import ValidationError
from kinesio_tui.i18n import _

#: A referring doctor's name, and their institution (a clinic, a hospital department).
MAX_REFERRER = 80
MAX_INSTITUTION = 120


def checked_name(field: str, value: object, max_len: int) -> str:
    """An optional name: one line of plain text (no control or bidirectional characters)."""
    text = v.bounded_text(field, value, max_len=max_len)
    if any(ch in text for ch in "\n\t"):
        raise ValidationError(field, _("should be on one line"))
    return text


def checked_referrer(name: object, institution: object) -> tuple[str, str]:
    """The referring doctor's name and institution as stored; an institution needs a name."""
    doctor = checked_name("referring doctor", name, MAX_REFERRER)
    place = checked_name("institution", institution, MAX_INSTITUTION)
    if place and not doctor:
        raise ValidationError("referring doctor", _("is required with an institution"))
    return doctor, place


def set_referring_doctor(
    db: ClinicDB,
    episode_id: int,
    name: object,
    institution: object = "",
    *,
    expected_version: int | None = None,
) -> Episode:
    """Record (or change, or clear with '') who referred the patient for this episode."""
    doctor, place = checked_referrer(name, institution)
    with write_transaction(db):
        episode = fetch_row(db, "episodes", episode_id)
        check_version("episode", episode_id, episode["version"], expected_version)
        new = update_row(
            db,
            "episodes",
            episode_id,
            {"referring_doctor": doctor, "referring_institution": place, "updated_at": now_iso()},
            patient_id=episode["patient_id"],
        )
    return Episode.from_row(new)
