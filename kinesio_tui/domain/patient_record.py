"""One patient's whole record with each record's stable uuid, read in one batch of queries.

For what leaves the clinic as data (the FHIR bundle): every episode, visit, ticked item,
PIR set, test result, questionnaire answer and amendment, the plan as the doctor tailored
it, and who made or changed each record (the audit trail's entries about the patient). One
query per kind of record for the whole patient, not per visit. Values are the records as
they are now: a corrected value is the one read.

For the reports (summaries, module reports) what they read of a patient's current episode,
one query per kind of record for a whole page of patients (`ReportPage`: `export --all`
reads 25 at a time with ~11 queries instead of ~14 per patient), or for one (a single
report reads through the same code). The rows are grouped by episode as read and become
records only when a report asks for its patient, so a record the code cannot read fails
that patient's report alone. The rarer records (holds, plan changes, questionnaires) are
read by the domain's own readers, only for the episodes that have any (one query says which).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import date
from typing import Any, TypeVar

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.amendments import Amendment
from kinesio_tui.domain.discharge import Discharge, Screen
from kinesio_tui.domain.episodes import current_episode
from kinesio_tui.domain.models import Episode, Measurement, Patient, PirCycle, Visit
from kinesio_tui.domain.patients import get_patient
from kinesio_tui.domain.plan import EpisodePlan, plan_changes_of
from kinesio_tui.domain.proms import PromAnswer
from kinesio_tui.domain.store import fetch_row
from kinesio_tui.errors import KinesioError, NotFound
from kinesio_tui.i18n import _


@dataclass(frozen=True)
class RecordEvent:
    """One audit entry about a record: what was done to it, by whom (as typed), when."""

    table: str
    record_id: int
    action: str  # create / change / correct / delete / ...
    actor: str
    at: str  # an ISO timestamp, UTC


@dataclass(frozen=True)
class TickRecord:
    uuid: str
    id: int
    item_code: str
    note: str  # the dosage given, as typed


@dataclass(frozen=True)
class PirRecord:
    uuid: str
    id: int
    cycle: PirCycle


@dataclass(frozen=True)
class MeasurementRecord:
    uuid: str
    measurement: Measurement


@dataclass(frozen=True)
class PromAnswerRecord:
    uuid: str
    answer: PromAnswer


@dataclass(frozen=True)
class AmendmentRecord:
    uuid: str
    amendment: Amendment


@dataclass(frozen=True)
class VisitRecord:
    uuid: str
    visit: Visit
    ticks: tuple[TickRecord, ...]
    pir_sets: tuple[PirRecord, ...]
    measurements: tuple[MeasurementRecord, ...]
    prom_answers: tuple[PromAnswerRecord, ...]
    amendments: tuple[AmendmentRecord, ...]


@dataclass(frozen=True)
class EpisodeRecord:
    uuid: str
    episode: Episode
    plan: EpisodePlan
    visits: tuple[VisitRecord, ...]


@dataclass(frozen=True)
class PatientRecord:
    """Everything recorded about one patient, and each record's history on the trail."""

    uuid: str
    patient: Patient
    episodes: tuple[EpisodeRecord, ...]
    #: (table, record id) -> its audit entries, oldest first.
    events: dict[tuple[str, int], tuple[RecordEvent, ...]]

    def history(self, table: str, record_id: int) -> tuple[RecordEvent, ...]:
        return self.events.get((table, record_id), ())


def patients_with_an_episode(db: ClinicDB) -> set[int]:
    """The patients with an episode of care: one query for the whole clinic, so that
    `export --all` tells the others "skipped" without sending them to be read."""
    rows = db.execute("SELECT DISTINCT patient_id FROM episodes").fetchall()
    return {int(row[0]) for row in rows}


def _rows(db: ClinicDB, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = db.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _of_patient(db: ClinicDB, table: str, patient_id: int) -> dict[int, list[dict[str, Any]]]:
    """A visit-level table's rows for every visit of the patient, by visit id, in id order."""
    rows = _rows(
        db,
        f"SELECT r.* FROM {table} r JOIN visits v ON v.id = r.visit_id "
        "JOIN episodes e ON e.id = v.episode_id WHERE e.patient_id = ? ORDER BY r.visit_id, r.id",
        [patient_id],
    )
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        found[int(row["visit_id"])].append(row)
    return found


def _events(db: ClinicDB, patient_id: int) -> dict[tuple[str, int], tuple[RecordEvent, ...]]:
    found: dict[tuple[str, int], list[RecordEvent]] = defaultdict(list)
    for table, record_id, action, actor, at in db.execute(
        "SELECT table_name, record_id, action, actor, at FROM audit_log "
        "WHERE patient_id = ? ORDER BY id",
        [patient_id],
    ).fetchall():
        found[(table, int(record_id))].append(RecordEvent(table, int(record_id), action, actor, at))
    return {key: tuple(events) for key, events in found.items()}


def _visit_record(
    row: dict[str, Any],
    ticks: list[dict[str, Any]],
    pir: list[dict[str, Any]],
    results: list[dict[str, Any]],
    answers: list[dict[str, Any]],
    amendments: list[dict[str, Any]],
) -> VisitRecord:
    return VisitRecord(
        uuid=row["uuid"],
        visit=Visit.from_row(row),
        ticks=tuple(TickRecord(t["uuid"], t["id"], t["item_code"], t["note"]) for t in ticks),
        pir_sets=tuple(
            PirRecord(
                p["uuid"],
                p["id"],
                PirCycle(
                    muscle=p["muscle"],
                    side=p["side"],
                    tension_s=p["tension_s"],
                    effort_pct=p["effort_pct"],
                    relaxation_s=p["relaxation_s"],
                    cycles=p["cycles"],
                    rom_before=p["rom_before"],
                    rom_after=p["rom_after"],
                    pain_before=p["pain_before"],
                    pain_after=p["pain_after"],
                ),
            )
            for p in pir
        ),
        measurements=tuple(
            MeasurementRecord(
                m["uuid"],
                Measurement(
                    id=m["id"],
                    visit_id=m["visit_id"],
                    test_code=m["test_code"],
                    side=m["side"],
                    value_num=m["value_num"],
                    value_text=m["value_text"],
                    recorded_at=m["recorded_at"],
                    version=m["version"],
                ),
            )
            for m in results
        ),
        prom_answers=tuple(
            PromAnswerRecord(
                a["uuid"],
                PromAnswer(
                    a["id"], a["visit_id"], a["questionnaire"], a["item"], a["score"], a["version"]
                ),
            )
            for a in answers
        ),
        amendments=tuple(
            AmendmentRecord(
                a["uuid"],
                Amendment(
                    a["id"],
                    a["visit_id"],
                    a["kind"],
                    a["what"],
                    a["old_value"],
                    a["new_value"],
                    a["reason"],
                    a["amended_by"],
                    a["recorded_at"],
                ),
            )
            for a in amendments
        ),
    )


def patient_record(db: ClinicDB, patient_id: int) -> PatientRecord:
    """The patient's whole record (NotFound for no such patient): one query per kind of
    record, plus one per episode for its plan."""
    patient_row = fetch_row(db, "patients", patient_id)
    episodes = _rows(db, "SELECT * FROM episodes WHERE patient_id = ? ORDER BY id", [patient_id])
    visits = _rows(
        db,
        "SELECT v.* FROM visits v JOIN episodes e ON e.id = v.episode_id "
        "WHERE e.patient_id = ? ORDER BY v.episode_id, v.seq",
        [patient_id],
    )
    ticks = _of_patient(db, "checklist_ticks", patient_id)
    pir = _of_patient(db, "pir_cycles", patient_id)
    results = _of_patient(db, "measurements", patient_id)
    answers = _of_patient(db, "prom_answers", patient_id)
    amendments = _of_patient(db, "amendments", patient_id)
    by_episode: dict[int, list[VisitRecord]] = defaultdict(list)
    for row in visits:
        vid = int(row["id"])
        by_episode[int(row["episode_id"])].append(
            _visit_record(
                row,
                ticks.get(vid, []),
                pir.get(vid, []),
                results.get(vid, []),
                answers.get(vid, []),
                amendments.get(vid, []),
            )
        )
    return PatientRecord(
        uuid=patient_row["uuid"],
        patient=Patient.from_row(patient_row),
        episodes=tuple(
            EpisodeRecord(
                uuid=e["uuid"],
                episode=Episode.from_row(e),
                plan=EpisodePlan(e["condition"], e["subtype"], plan_changes_of(db, e["id"])),
                visits=tuple(by_episode.get(int(e["id"]), [])),
            )
            for e in episodes
        ),
        events=_events(db, patient_id),
    )


# --- what reports read, a page of patients at a time ------------------------------------

Row = dict[str, Any]
_MEASUREMENT = tuple(Measurement.__dataclass_fields__)
_PIR = tuple(PirCycle.__dataclass_fields__)
#: The columns a report reads (not the uuids and edit stamps `SELECT *` would fetch too),
#: a visit's in the order of Visit's fields.
_VISIT = (
    "id, episode_id, module, number, seq, kind, planned_date, status, held_on, started_at, "
    "completed_at, therapist, note, version, doctor, planned_time, absence_reason"
)


_T = TypeVar("_T")


def _maker(cls: type[_T]) -> Callable[[Iterable[Any]], _T]:
    """`cls(*values)` for a frozen dataclass `cls` (every field given, in its order), made
    without the ~20 object.__setattr__ calls of a frozen dataclass's __init__: a page makes
    ~2,000 visits, results and PIR sets, and the __init__ was a third of reading them.
    test_export_pages holds the records to the domain's own readers."""
    if not is_dataclass(cls) or hasattr(cls, "__post_init__") or hasattr(cls, "__slots__"):
        raise TypeError(f"{cls.__name__}: not a plain dataclass")
    names = tuple(f.name for f in fields(cls))
    new = object.__new__

    def make(values: Iterable[Any]) -> _T:
        record = new(cls)
        record.__dict__.update(zip(names, values, strict=True))
        return record

    return make


_new_visit = _maker(Visit)
_new_measurement = _maker(Measurement)
_new_pir_cycle = _maker(PirCycle)


def _visit(r: tuple[Any, ...]) -> Visit:
    """Visit.from_row's visit from the _VISIT columns, without a dict per row (45 visits a
    summary: half its cost). test_export_pages holds it to the domain's visits_of."""
    held_on = r[8]
    return _new_visit(
        (
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            date.fromisoformat(r[6]),
            r[7],
            date.fromisoformat(held_on) if held_on else None,
            r[9],
            r[10],
            r[11],
            r[12],
            r[13],
            r[14] or "",
            r[15],
            r[16] or "",
        )
    )


def no_episode(patient_id: int) -> KinesioError:
    """Why a patient with no episode of care has no summary, visit note or module report."""
    return KinesioError(
        _("No episode of care"),
        _("Patient {id} has no episode of care to report on.", id=patient_id),
    )


@dataclass(frozen=True)
class ReportRecords:
    """One episode's records as its reports read them."""

    patient: Patient
    episode: Episode
    visits: list[Visit]  # in programme order
    results: list[tuple[int, Measurement]]  # (seq, result), programme order, then as recorded
    ticked: dict[int, set[str]]  # visit id -> the checklist items ticked there
    pir: list[tuple[int, PirCycle]]  # (seq, set), programme order, then as recorded
    amendments: list[tuple[int, Amendment]]  # (seq, amendment), oldest first
    screens: list[Screen]  # red-flag screens, in the order screened
    discharge: Discharge | None
    has_holds: bool
    has_plan_changes: bool
    has_proms: bool

    @property
    def raised_red_flags(self) -> list[str]:
        """The flags of the latest screen (as episodes.raised_red_flags reads them)."""
        return list(self.screens[-1].flags) if self.screens else []


@dataclass
class _Rows:
    """An episode's rows as read, before they are records."""

    visits: list[tuple[Any, ...]]  # the _VISIT columns
    results: list[tuple[Any, ...]]  # (seq, the Measurement's fields in order)
    ticks: list[tuple[int, str]]
    pir: list[tuple[Any, ...]]  # (seq, the PirCycle's fields in order)
    amendments: list[tuple[Any, ...]]
    screens: list[tuple[Any, ...]]
    discharge: Row | None
    holds: bool = False
    plan_changes: bool = False
    proms: bool = False


def _marks(ids: Sequence[int]) -> str:
    return ", ".join("?" for _id in ids)


def _read_rows(db: ClinicDB, episode_ids: Sequence[int]) -> dict[int, _Rows]:
    """Every episode's rows: one query per kind of record for all of them."""
    ids = [int(e) for e in episode_ids]
    rows = {e: _Rows([], [], [], [], [], [], None) for e in ids}
    if not ids:
        return rows
    marks = _marks(ids)
    for row in db.execute(
        f"SELECT {_VISIT} FROM visits WHERE episode_id IN ({marks}) ORDER BY episode_id, seq",
        ids,
    ).fetchall():
        rows[row[1]].visits.append(row)
    for row in db.execute(
        "SELECT v.episode_id, v.seq, "
        + ", ".join(f"m.{name}" for name in _MEASUREMENT)
        + " FROM measurements m "
        f"JOIN visits v ON v.id = m.visit_id WHERE v.episode_id IN ({marks}) "
        "ORDER BY v.episode_id, v.seq, m.id",
        ids,
    ).fetchall():
        rows[row[0]].results.append(tuple(row[1:]))
    for episode_id, visit_id, code in db.execute(
        "SELECT v.episode_id, t.visit_id, t.item_code FROM checklist_ticks t "
        f"JOIN visits v ON v.id = t.visit_id WHERE v.episode_id IN ({marks})",
        ids,
    ).fetchall():
        rows[episode_id].ticks.append((visit_id, code))
    for row in db.execute(
        "SELECT v.episode_id, v.seq, "
        + ", ".join(f"p.{name}" for name in _PIR)
        + " FROM pir_cycles p "
        f"JOIN visits v ON v.id = p.visit_id WHERE v.episode_id IN ({marks}) "
        "ORDER BY v.episode_id, v.seq, p.id",
        ids,
    ).fetchall():
        rows[row[0]].pir.append(tuple(row[1:]))
    for row in db.execute(
        "SELECT v.episode_id, v.seq, a.id, a.visit_id, a.kind, a.what, a.old_value, "
        "a.new_value, a.reason, a.amended_by, a.recorded_at FROM amendments a "
        f"JOIN visits v ON v.id = a.visit_id WHERE v.episode_id IN ({marks}) ORDER BY a.id",
        ids,
    ).fetchall():
        rows[row[0]].amendments.append(tuple(row[1:]))
    for row in db.execute(
        "SELECT s.episode_id, s.screened_on, v.seq, s.flags FROM red_flag_screens s "
        f"LEFT JOIN visits v ON v.id = s.visit_id WHERE s.episode_id IN ({marks}) "
        "ORDER BY s.screened_on, s.id",
        ids,
    ).fetchall():
        rows[row[0]].screens.append(tuple(row[1:]))
    for r in _rows(db, f"SELECT * FROM discharges WHERE episode_id IN ({marks})", ids):
        rows[r["episode_id"]].discharge = r
    for episode_id, holds, changes, proms in db.execute(
        "SELECT e.id, "
        "EXISTS (SELECT 1 FROM episode_holds h WHERE h.episode_id = e.id), "
        "EXISTS (SELECT 1 FROM plan_changes c WHERE c.episode_id = e.id), "
        "EXISTS (SELECT 1 FROM prom_answers a JOIN visits v ON v.id = a.visit_id "
        "WHERE v.episode_id = e.id) "
        f"FROM episodes e WHERE e.id IN ({marks})",
        ids,
    ).fetchall():
        found = rows[episode_id]
        found.holds, found.plan_changes, found.proms = bool(holds), bool(changes), bool(proms)
    return rows


def _records(patient: Patient, episode: Episode, rows: _Rows) -> ReportRecords:
    ticked: dict[int, set[str]] = {}
    for visit_id, code in rows.ticks:
        ticked.setdefault(visit_id, set()).add(code)
    return ReportRecords(
        patient=patient,
        episode=episode,
        visits=[_visit(r) for r in rows.visits],
        results=[(r[0], _new_measurement(r[1:])) for r in rows.results],
        ticked=ticked,
        pir=[(r[0], _new_pir_cycle(r[1:])) for r in rows.pir],
        amendments=[(int(a[0]), Amendment(*a[1:])) for a in rows.amendments],
        screens=[
            Screen(date.fromisoformat(on), seq, tuple(json.loads(flags)))
            for on, seq, flags in rows.screens
        ],
        discharge=Discharge.from_row(rows.discharge) if rows.discharge else None,
        has_holds=rows.holds,
        has_plan_changes=rows.plan_changes,
        has_proms=rows.proms,
    )


def episode_records(db: ClinicDB, patient: Patient, episode: Episode) -> ReportRecords:
    """One episode's records (a single report's read)."""
    return _records(patient, episode, _read_rows(db, [episode.id])[episode.id])


def current_records(db: ClinicDB, patient_id: int) -> ReportRecords:
    """The records of the patient's current episode (NotFound, or no_episode)."""
    patient = get_patient(db, patient_id)
    episode = current_episode(db, patient.id)
    if episode is None:
        raise no_episode(patient.id)
    return episode_records(db, patient, episode)


class ReportPage:
    """A page of patients' current episodes, read at once; `of(patient)` gives one's records
    as `current_records` would (NotFound for a patient not in the clinic, no_episode)."""

    def __init__(self, db: ClinicDB, patient_ids: Sequence[int]) -> None:
        ids = [int(p) for p in patient_ids]
        marks = _marks(ids)
        self._patients = {
            r["id"]: r for r in _rows(db, f"SELECT * FROM patients WHERE id IN ({marks})", ids)
        }
        current: dict[int, Row] = {}
        for r in _rows(db, f"SELECT * FROM episodes WHERE patient_id IN ({marks})", ids):
            # as current_episode: the active one, else the latest opened, else the highest id
            known = current.get(r["patient_id"])
            if known is None or _currency(r) > _currency(known):
                current[r["patient_id"]] = r
        self._episodes = current
        self._rows = _read_rows(db, [r["id"] for r in current.values()])

    def of(self, patient_id: int) -> ReportRecords:
        row = self._patients.get(patient_id)
        if row is None:
            raise NotFound("patient", patient_id)
        patient = Patient.from_row(row)
        episode = self._episodes.get(patient_id)
        if episode is None:
            raise no_episode(patient_id)
        return _records(patient, Episode.from_row(episode), self._rows[episode["id"]])


def _currency(row: Row) -> tuple[bool, str, int]:
    return (row["status"] == "active", str(row["opened_on"]), int(row["id"]))
