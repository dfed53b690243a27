"""Patients: create, change, archive, find."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from kinesio_tui import clock
from kinesio_tui.data.db import ClinicDB, write_transaction
from kinesio_tui.domain import validate as v
from kinesio_tui.domain.models import NewPatient, Patient
from kinesio_tui.domain.search import count_patients as count_patients  # the list's count
from kinesio_tui.domain.search import fold, search_rows
from kinesio_tui.domain.store import fetch_row, insert_row, now_iso, update_row
from kinesio_tui.errors import ValidationError
from kinesio_tui.i18n import _

SEXES = ("F", "M", "X")


def search_text_for(first_name: str, last_name: str, phone: str, birth_date: date) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"{fold(last_name)} {fold(first_name)} {digits} {birth_date.year}"


def validate_patient(data: NewPatient, today: date) -> dict[str, Any]:
    """Check every field of a patient; return the clean row values or raise ValidationError."""
    first = v.required_text("first name", data.first_name)
    last = v.required_text("last name", data.last_name)
    birth = v.past_date("birth date", data.birth_date, today)
    if today.year - birth.year > 120:
        raise ValidationError("birth date", _("gives an age over 120 years"))
    return {
        "first_name": first,
        "last_name": last,
        "birth_date": birth.isoformat(),
        "sex": v.one_of("sex", data.sex, SEXES),
        "phone": v.phone("phone", data.phone),
        "occupation": v.bounded_text("occupation", data.occupation, max_len=v.MAX_NAME),
        "notes": v.bounded_text("notes", data.notes),
    }


def create_patient(db: ClinicDB, data: NewPatient, *, today: date | None = None) -> int:
    """Register a patient; returns the new patient id."""
    row = validate_patient(data, today or clock.today())
    stamp = now_iso()
    row |= {
        "search_text": search_text_for(
            row["first_name"], row["last_name"], row["phone"], date.fromisoformat(row["birth_date"])
        ),
        "created_at": stamp,
        "updated_at": stamp,
    }
    with write_transaction(db):
        return insert_row(db, "patients", row, patient_id=None)


def update_patient(
    db: ClinicDB,
    patient_id: int,
    data: NewPatient,
    *,
    expected_version: int,
    today: date | None = None,
) -> Patient:
    """Change a patient's details; refused if someone changed them since `expected_version`."""
    row = validate_patient(data, today or clock.today())
    row["search_text"] = search_text_for(
        row["first_name"], row["last_name"], row["phone"], date.fromisoformat(row["birth_date"])
    )
    row["updated_at"] = now_iso()
    with write_transaction(db):
        new = update_row(
            db,
            "patients",
            patient_id,
            row,
            patient_id=patient_id,
            expected_version=expected_version,
        )
    return Patient.from_row(new)


def archive_patient(db: ClinicDB, patient_id: int) -> None:
    """Move a patient out of the active list; nothing is deleted."""
    with write_transaction(db):
        update_row(
            db,
            "patients",
            patient_id,
            {"archived_at": now_iso()},
            patient_id=patient_id,
            action="archive",
        )


def restore_patient(db: ClinicDB, patient_id: int) -> None:
    """Bring an archived patient back to the active list."""
    with write_transaction(db):
        update_row(
            db,
            "patients",
            patient_id,
            {"archived_at": None},
            patient_id=patient_id,
            action="unarchive",
        )


def get_patient(db: ClinicDB, patient_id: int) -> Patient:
    return Patient.from_row(fetch_row(db, "patients", patient_id))


def patient_form(patient: Patient) -> NewPatient:
    """The editable fields of a patient, as a form."""
    fields = asdict(patient)
    return NewPatient(**{k: fields[k] for k in NewPatient.__dataclass_fields__})


def find_patients(
    db: ClinicDB, query: str = "", *, archived: bool = False, limit: int = 200, offset: int = 0
) -> list[Patient]:
    """Patients whose name, surname, phone or birth year match every word of `query`.

    Each word is matched as the start of a name word (case and diacritics ignored); a word of
    digits matches anywhere in the phone number or birth year. Results are ordered by surname,
    then first name, and paged.
    """
    names, rows = search_rows(db, query, archived=archived, limit=limit, offset=offset)
    return [Patient.from_row(dict(zip(names, row, strict=True))) for row in rows]
