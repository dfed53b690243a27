"""One patient's whole record with each record's stable uuid, read in one batch of queries.

For what leaves the clinic as data (the FHIR bundle): every episode, visit, ticked item,
PIR set, test result, questionnaire answer and amendment, the plan as the doctor tailored
it, and who made or changed each record (the audit trail's entries about the patient). One
query per kind of record for the whole patient, not per visit. Values are the records as
they are now: a corrected value is the one read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.amendments import Amendment
from kinesio_tui.domain.models import Episode, Measurement, Patient, PirCycle, Visit
from kinesio_tui.domain.plan import EpisodePlan, plan_changes_of
from kinesio_tui.domain.proms import PromAnswer
from kinesio_tui.domain.store import fetch_row


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
