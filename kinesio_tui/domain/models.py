"""Plain records the domain hands to screens, exports and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Side = Literal["L", "R", "both"]
VisitStatus = Literal["planned", "done", "missed", "cancelled"]


@dataclass(frozen=True)
class Patient:
    id: int
    first_name: str
    last_name: str
    birth_date: date
    sex: str
    phone: str
    occupation: str
    notes: str
    archived: bool
    version: int

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Patient:
        return cls(
            id=row["id"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            birth_date=date.fromisoformat(row["birth_date"]),
            sex=row["sex"],
            phone=row["phone"],
            occupation=row["occupation"],
            notes=row["notes"],
            archived=row["archived_at"] is not None,
            version=row["version"],
        )


@dataclass(frozen=True)
class Episode:
    id: int
    patient_id: int
    condition: str
    subtype: str
    side: str
    course: str
    onset_date: date | None
    pain_medication: str
    status: str
    opened_on: date
    closed_on: date | None
    version: int
    #: Who referred the patient (the discharge letter's addressee), '' when not recorded.
    referring_doctor: str = ""
    referring_institution: str = ""

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Episode:
        return cls(
            id=row["id"],
            patient_id=row["patient_id"],
            condition=row["condition"],
            subtype=row["subtype"],
            side=row["side"],
            course=row["course"],
            onset_date=date.fromisoformat(row["onset_date"]) if row["onset_date"] else None,
            pain_medication=row["pain_medication"],
            status=row["status"],
            opened_on=date.fromisoformat(row["opened_on"]),
            closed_on=date.fromisoformat(row["closed_on"]) if row["closed_on"] else None,
            version=row["version"],
            referring_doctor=row.get("referring_doctor") or "",
            referring_institution=row.get("referring_institution") or "",
        )


@dataclass(frozen=True)
class Visit:
    id: int
    episode_id: int
    module: int
    number: int  # 1..15 within the module
    seq: int  # 1..45 within the programme
    kind: str  # doctor / therapy
    planned_date: date
    status: str
    held_on: date | None
    started_at: str | None
    completed_at: str | None
    therapist: str
    note: str
    version: int
    #: Who held a doctor's appointment ('' at a session, and before it was recorded).
    doctor: str = ""
    planned_time: str | None = None  # "HH:MM", optional: orders the day's list
    absence_reason: str = ""  # why it was missed or cancelled

    @property
    def is_doctor(self) -> bool:
        return self.kind == "doctor"

    @property
    def day(self) -> date:
        """When it happened, else when it is planned."""
        return self.held_on or self.planned_date

    @property
    def in_progress(self) -> bool:
        return self.status == "planned" and self.started_at is not None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Visit:
        return cls(
            id=row["id"],
            episode_id=row["episode_id"],
            module=row["module"],
            number=row["number"],
            seq=row["seq"],
            kind=row["kind"],
            planned_date=date.fromisoformat(row["planned_date"]),
            status=row["status"],
            held_on=date.fromisoformat(row["held_on"]) if row["held_on"] else None,
            started_at=row["started_at"],
            completed_at=row["completed_at"],
            therapist=row["therapist"],
            note=row["note"],
            version=row["version"],
            doctor=row.get("doctor") or "",
            planned_time=row.get("planned_time"),
            absence_reason=row.get("absence_reason") or "",
        )


@dataclass(frozen=True)
class Tick:
    visit_id: int
    item_code: str
    note: str
    ticked_at: str
    version: int = 1


@dataclass(frozen=True)
class PirCycle:
    """One post-isometric relaxation set on one muscle, as recorded."""

    muscle: str
    side: str
    tension_s: int
    effort_pct: int
    relaxation_s: int
    cycles: int = 1
    rom_before: float | None = None
    rom_after: float | None = None
    pain_before: float | None = None
    pain_after: float | None = None


@dataclass(frozen=True)
class Measurement:
    id: int
    visit_id: int
    test_code: str
    side: str | None
    value_num: float | None
    value_text: str | None
    recorded_at: str
    version: int = 1

    @property
    def value(self) -> float | str | None:
        return self.value_num if self.value_num is not None else self.value_text


@dataclass(frozen=True)
class NewPatient:
    first_name: str
    last_name: str
    birth_date: date | str
    sex: str
    phone: str = ""
    occupation: str = ""
    notes: str = ""


@dataclass(frozen=True)
class NewEpisode:
    condition: str
    subtype: str
    side: str
    course: str = "acute"
    onset_date: date | str | None = None
    pain_medication: str = ""
    red_flags: tuple[str, ...] = field(default_factory=tuple)
    referring_doctor: str = ""
    referring_institution: str = ""
