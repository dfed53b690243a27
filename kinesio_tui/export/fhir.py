"""A patient's record as a FHIR R4B `collection` Bundle (JSON).

`build_bundle` is a pure function of the patient's record (domain/patient_record.py), the
programme and the clinic's ICD-10 edition: the same record gives the same bytes, so a
re-export is identical. Every resource's id is the stored uuid of the record it comes from;
resources with no row of their own (the Condition and the CarePlans of an episode, a
side-by-side Observation, a questionnaire's response and score, a Provenance, a named
Practitioner, the Bundle) get a version-5 uuid derived from their owner's uuid. Each entry's
fullUrl is `urn:uuid:<id>` and every reference names a fullUrl of the same bundle. The
bundle's timestamp is the latest moment the audit trail recorded for the patient.

What is in it: Patient; per episode an EpisodeOfCare, its Condition (ICD-10, the clinic's
edition) and a CarePlan per module (the tailored session list and home exercises); per held
visit an Encounter, a Procedure per ticked item and per PIR set, an Observation per test
(left and right as components; LOINC where data/fhir.toml names one, else the local code
system, which the bundle includes; UCUM units), a QuestionnaireResponse and a score
Observation per questionnaire, the visit's note as a ClinicalImpression; a Provenance per
held visit (who held it, who recorded it), per amendment, and for the patient's own records;
a Practitioner per person named. Visits not held (planned, in progress, missed, cancelled)
and red-flag screens and holds are not in it.

The tests check every shape this code makes with the fhir.resources R4B models (a test-only
dependency: checking each bundle here would cost seconds to load the models and ~0.6 s per
bundle, ten times making it). What typed text can change is kept valid here: a FHIR string
is never empty, so blank text is left out; every other character is kept.
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from kinesio_tui import clock
from kinesio_tui.clinic_identity import ClinicIdentity
from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.diagnosis import episode_diagnosis
from kinesio_tui.domain.patient_record import (
    EpisodeRecord,
    MeasurementRecord,
    PatientRecord,
    VisitRecord,
    patient_record,
)
from kinesio_tui.domain.prom_scoring import ScoreRefused, score_questionnaire
from kinesio_tui.errors import KinesioError
from kinesio_tui.export.files import (
    ExportWriteFailed,
    export_name,
    prepare_dir,
    write_private,
)
from kinesio_tui.i18n import _
from kinesio_tui.protocol import DATA_DIR, ClinicalTest, Protocol, protocol
from kinesio_tui.questionnaires import questionnaire
from kinesio_tui.settings import current_settings
from kinesio_tui.units import number_text

FHIR_FILE = DATA_DIR / "fhir.toml"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
_HL7 = "http://terminology.hl7.org/CodeSystem/"
OBSERVATION_CATEGORY = _HL7 + "observation-category"
ACT_CODE = _HL7 + "v3-ActCode"
PARTICIPANT_TYPE = _HL7 + "provenance-participant-type"
DATA_OPERATION = _HL7 + "v3-DataOperation"
CONDITION_CLINICAL = _HL7 + "condition-clinical"
CONDITION_CATEGORY = _HL7 + "condition-category"
SIDE_WORDS = {"L": "left", "R": "right", "both": "both sides"}


@dataclass(frozen=True)
class FhirCoding:
    """data/fhir.toml: the local code system's URI and names, LOINC codes, UCUM units."""

    local_system: str
    local_name: str
    local_title: str
    loinc: dict[str, str]
    ucum: dict[str, str]


@functools.lru_cache(maxsize=2)
def fhir_coding(path: Path = FHIR_FILE) -> FhirCoding:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return FhirCoding(
            local_system=str(data["local_system"]),
            local_name=str(data["local_system_name"]),
            local_title=str(data["local_system_title"]),
            loinc={str(k): str(v) for k, v in data.get("loinc", {}).items()},
            ucum={str(k): str(v) for k, v in data.get("ucum", {}).items()},
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError) as error:
        raise KinesioError(
            _("Cannot read the FHIR codes"), _("{path}: {why}", path=path, why=error)
        ) from None


def derived_id(owner: str, what: str) -> str:
    """The id of a resource with no row of its own: a version-5 uuid of its owner's uuid and
    what it is, so every export gives it the same id and no other resource has it."""
    return str(uuid.uuid5(uuid.UUID(owner), what))


def _url(resource_id: str) -> str:
    return f"urn:uuid:{resource_id}"


def _ref(resource_id: str, display: str | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"reference": _url(resource_id)}
    if display:
        ref["display"] = display
    return ref


def _text(value: str | None) -> str | None:
    """Text as FHIR takes it: absent when empty or only blank (a FHIR string is never
    empty); otherwise exactly as recorded."""
    return value if value and value.strip() else None


def _concept(text: str | None, *codings: dict[str, str]) -> dict[str, Any]:
    concept: dict[str, Any] = {}
    if codings:
        concept["coding"] = list(codings)
    if t := _text(text):
        concept["text"] = t
    return concept


def _coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    coding = {"system": system, "code": code}
    if d := _text(display):
        coding["display"] = d
    return coding


def _clean(resource: dict[str, Any]) -> dict[str, Any]:
    """Leave out the elements with nothing in them (FHIR allows no empty element)."""
    return {k: v for k, v in resource.items() if v not in (None, "", [], {})}


class _Builder:
    """Collects the bundle's entries for one patient; see `build_bundle`."""

    def __init__(
        self, record: PatientRecord, proto: Protocol, coding: FhirCoding, variant: str | None
    ) -> None:
        self.record = record
        self.proto = proto
        self.coding = coding
        self.variant = variant
        self.entries: list[dict[str, Any]] = []
        self.provenances: list[dict[str, Any]] = []
        self.practitioners: dict[str, str] = {}  # name -> id
        self.patient_ref = _ref(record.uuid)

    # --- helpers -----------------------------------------------------------------------

    def add(self, resource: dict[str, Any]) -> str:
        resource = _clean(resource)
        self.entries.append({"fullUrl": _url(resource["id"]), "resource": resource})
        return str(resource["id"])

    def practitioner(self, name: str) -> dict[str, Any] | None:
        """A reference to the Practitioner named `name` (as typed), made on first use."""
        if not _text(name):
            return None
        if name not in self.practitioners:
            self.practitioners[name] = derived_id(self.record.uuid, f"practitioner:{name}")
        return _ref(self.practitioners[name], name)

    def local(self, code: str, display: str | None = None) -> dict[str, str]:
        return _coding(self.coding.local_system, code, display)

    def test_code(self, test: ClinicalTest) -> dict[str, Any]:
        if code := self.coding.loinc.get(test.code):
            return _concept(test.label, _coding(LOINC, code))
        return _concept(test.label, self.local(f"test/{test.code}", test.label))

    def quantity(self, value: float, unit: str) -> dict[str, Any]:
        quantity: dict[str, Any] = {"value": value}
        if unit:
            ucum = self.coding.ucum.get(unit)
            if ucum is None:
                raise KinesioError(
                    _("No UCUM unit"),
                    _("{file} names no UCUM code for the unit {unit!r}.", file=FHIR_FILE.name,
                      unit=unit),
                )  # fmt: skip
            quantity |= {"unit": unit, "system": UCUM, "code": ucum}
        return quantity

    def latest(self, keys: Iterable[tuple[str, int]]) -> str | None:
        moments = [e.at for key in keys for e in self.record.history(*key)]
        return max(moments) if moments else None

    def actors(self, keys: Iterable[tuple[str, int]]) -> list[str]:
        return list(dict.fromkeys(e.actor for key in keys for e in self.record.history(*key)))

    def provenance(
        self,
        resource_id: str,
        targets: list[str],
        recorded: str | None,
        agents: list[tuple[str, str]],
        **more: Any,
    ) -> None:
        """A Provenance: `agents` are (role, name) pairs; none named, none made."""
        made = []
        for role, name in dict.fromkeys(agents):
            who = self.practitioner(name)
            if who is not None:
                made.append({"type": _concept(None, _coding(PARTICIPANT_TYPE, role)), "who": who})
        if not made or recorded is None or not targets:
            return
        self.provenances.append(
            _clean(
                {
                    "resourceType": "Provenance",
                    "id": resource_id,
                    "target": [_ref(t) for t in targets],
                    "recorded": recorded,
                    "agent": made,
                    **more,
                }
            )
        )

    # --- the patient and their episodes ----------------------------------------------

    def patient(self) -> None:
        p = self.record.patient
        self.add(
            {
                "resourceType": "Patient",
                "id": self.record.uuid,
                "active": not p.archived,
                "name": [
                    _clean(
                        {
                            "text": _text(p.full_name),
                            "family": _text(p.last_name),
                            "given": [g] if (g := _text(p.first_name)) else None,
                        }
                    )
                ],
                "telecom": [{"system": "phone", "value": p.phone}] if _text(p.phone) else None,
                "gender": {"F": "female", "M": "male"}.get(p.sex, "other"),
                "birthDate": p.birth_date.isoformat(),
            }
        )

    def episode(self, er: EpisodeRecord) -> None:
        e = er.episode
        condition = self.proto.condition(e.condition)
        subtype = condition.subtype(e.subtype) if condition else None
        dx = episode_diagnosis(self.proto, e.condition, e.subtype, self.variant)
        condition_id = derived_id(er.uuid, "condition")
        words = [
            condition.label if condition else e.condition,
            subtype.label if subtype else e.subtype,
            _(SIDE_WORDS.get(e.side, e.side)),
        ]
        self.add(
            {
                "resourceType": "EpisodeOfCare",
                "id": er.uuid,
                "status": "active" if e.status == "active" else "finished",
                "type": [_concept(self.proto.name)],
                "diagnosis": [{"condition": _ref(condition_id), "rank": 1}],
                "patient": self.patient_ref,
                "period": _clean(
                    {
                        "start": e.opened_on.isoformat(),
                        "end": e.closed_on.isoformat() if e.closed_on else None,
                    }
                ),
            }
        )
        self.add(
            {
                "resourceType": "Condition",
                "id": condition_id,
                "clinicalStatus": _concept(None, _coding(CONDITION_CLINICAL, "active"))
                if e.status == "active"
                else None,
                "category": [_concept(None, _coding(CONDITION_CATEGORY, "encounter-diagnosis"))],
                "code": _concept(", ".join(words), _coding(dx.system, dx.code, dx.title)),
                "subject": self.patient_ref,
                "onsetDateTime": e.onset_date.isoformat() if e.onset_date else None,
                "recordedDate": e.opened_on.isoformat(),
            }
        )
        for module in self.proto.modules:
            self.care_plan(er, module.number, condition_id)
        for vr in er.visits:
            if vr.visit.status == "done":
                self.visit(er, vr)

    def care_plan(self, er: EpisodeRecord, number: int, condition_id: str) -> None:
        module = self.proto.module(number)
        visits = [vr.visit for vr in er.visits if vr.visit.module == number]
        if not visits:
            return
        if any(v.status == "planned" for v in visits):
            status, activity = "active", "in-progress"
        elif er.episode.status == "closed" and any(v.status == "cancelled" for v in visits):
            status, activity = "revoked", "cancelled"  # the programme was ended before it
        else:
            status, activity = "completed", "completed"
        activities = []
        for which, items in (
            (_("Session"), er.plan.checklist(number)),
            (_("Home exercise"), er.plan.home(number)),
        ):
            for item in items:
                coded = () if item.origin == "own" else (self.local(f"item/{item.code}", None),)
                activities.append(
                    {
                        "detail": _clean(
                            {
                                "code": _concept(item.label, *coded),
                                "status": activity,
                                "description": f"{which}: {item.target}"
                                if _text(item.target)
                                else which,
                            }
                        )
                    }
                )
        days = [v.day for v in visits]
        self.add(
            {
                "resourceType": "CarePlan",
                "id": derived_id(er.uuid, f"careplan:module-{number}"),
                "status": status,
                "intent": "plan",
                "title": _text(_("Module {n}: {title}", n=number, title=module.title)),
                "description": _text(module.goal),
                "subject": self.patient_ref,
                "period": {"start": min(days).isoformat(), "end": max(days).isoformat()},
                "addresses": [_ref(condition_id)],
                "activity": activities,
            }
        )

    # --- a held visit ------------------------------------------------------------------

    def visit(self, er: EpisodeRecord, vr: VisitRecord) -> None:
        v = vr.visit
        held = (v.held_on or v.planned_date).isoformat()
        slot = self.proto.slot(v.number)
        performer = (v.doctor or v.therapist) if v.is_doctor else v.therapist
        participants: list[dict[str, Any]] = []
        for name, role in ((performer, "PPRF"), (v.therapist, "PART")):
            who = self.practitioner(name)
            if who is not None and all(p["individual"] != who for p in participants):
                participants.append(
                    {
                        "type": [_concept(None, _coding(_HL7 + "v3-ParticipationType", role))],
                        "individual": who,
                    }
                )
        encounter = self.add(
            {
                "resourceType": "Encounter",
                "id": vr.uuid,
                "status": "finished",
                "class": _coding(ACT_CODE, "AMB", "ambulatory"),
                "type": [
                    _concept(
                        _(
                            "Visit {seq} of the programme, module {m}: {label}",
                            seq=v.seq,
                            m=v.module,
                            label=slot.label,
                        )
                    )
                ],
                "subject": self.patient_ref,
                "episodeOfCare": [_ref(er.uuid)],
                "participant": participants,
                "period": {"start": v.started_at or held, "end": v.completed_at or held},
            }
        )
        enc = _ref(encounter)
        made = [encounter]
        items = {i.code: i for i in er.plan.checklist(v.module, v.seq)}
        performer_ref = self.practitioner(performer)
        for tick in vr.ticks:
            item = items.get(tick.item_code)
            label = item.label if item else tick.item_code
            coded = () if item is not None and item.origin == "own" else (
                self.local(f"item/{tick.item_code}", label),
            )  # fmt: skip
            made.append(
                self.add(
                    {
                        "resourceType": "Procedure",
                        "id": tick.uuid,
                        "status": "completed",
                        "code": _concept(label, *coded),
                        "subject": self.patient_ref,
                        "encounter": enc,
                        "performedDateTime": held,
                        "performer": [{"actor": performer_ref}] if performer_ref else None,
                        "note": [{"text": n}] if (n := _text(tick.note)) else None,
                    }
                )
            )
        for pir in vr.pir_sets:
            c = pir.cycle
            made.append(
                self.add(
                    {
                        "resourceType": "Procedure",
                        "id": pir.uuid,
                        "status": "completed",
                        "code": _concept(
                            _("Post-isometric relaxation"),
                            self.local("treatment/pir", _("Post-isometric relaxation")),
                        ),
                        "subject": self.patient_ref,
                        "encounter": enc,
                        "performedDateTime": held,
                        "performer": [{"actor": performer_ref}] if performer_ref else None,
                        "bodySite": [_concept(f"{c.muscle} ({_(SIDE_WORDS.get(c.side, c.side))})")],
                        "note": [{"text": _pir_words(pir.cycle)}],
                    }
                )
            )
        made += self.observations(vr, enc, held)
        made += self.questionnaires(vr, enc, held)
        if note := _text(v.note):
            made.append(
                self.add(
                    {
                        "resourceType": "ClinicalImpression",
                        "id": derived_id(vr.uuid, "note"),
                        "status": "completed",
                        "subject": self.patient_ref,
                        "encounter": enc,
                        "effectiveDateTime": held,
                        "assessor": performer_ref,
                        "summary": note,
                    }
                )
            )
        keys = [("visits", v.id)]
        keys += [("checklist_ticks", t.id) for t in vr.ticks]
        keys += [("pir_cycles", p.id) for p in vr.pir_sets]
        keys += [("measurements", m.measurement.id) for m in vr.measurements]
        keys += [("prom_answers", a.answer.id) for a in vr.prom_answers]
        self.provenance(
            derived_id(vr.uuid, "provenance"),
            made,
            self.latest(keys) or v.completed_at,
            [("performer", performer), ("performer", v.therapist)]
            + [("enterer", actor) for actor in self.actors(keys)],
        )
        for ar in vr.amendments:
            a = ar.amendment
            operation = "DELETE" if a.kind == "remove" else "UPDATE"
            self.provenance(
                ar.uuid,
                [encounter],
                a.recorded_at,
                [("author", a.amended_by)]
                + [("enterer", actor) for actor in self.actors([("amendments", a.id)])],
                activity=_concept(
                    f"{a.kind}: {a.what}" if _text(a.what) else a.kind,
                    _coding(DATA_OPERATION, operation),
                ),
                reason=[_concept(a.reason)] if _text(a.reason) else None,
            )

    def observations(self, vr: VisitRecord, enc: dict[str, Any], held: str) -> list[str]:
        by_test: dict[str, list[MeasurementRecord]] = {}
        for mr in vr.measurements:
            by_test.setdefault(mr.measurement.test_code, []).append(mr)
        made = []
        for code, found in by_test.items():
            test = self.proto.test(code)
            if test is None:  # a test a later catalog no longer has: not coded, left out
                continue
            corrected = any(
                e.action == "correct"
                for mr in found
                for e in self.record.history("measurements", mr.measurement.id)
            )
            observation: dict[str, Any] = {
                "resourceType": "Observation",
                "id": "",  # below: the record's uuid, or one derived for two sides
                "status": "corrected" if corrected else "final",
                "category": [_concept(None, _coding(OBSERVATION_CATEGORY, "exam"))],
                "code": self.test_code(test),
                "subject": self.patient_ref,
                "encounter": enc,
                "effectiveDateTime": held,
            }
            if test.sided:
                observation["id"] = derived_id(vr.uuid, f"observation:{code}")
                observation["component"] = [
                    {
                        "code": _concept(
                            f"{test.label}, {_(SIDE_WORDS[side])}",
                            self.local(
                                f"test/{code}/{SIDE_WORDS[side]}",
                                f"{test.label}, {SIDE_WORDS[side]}",
                            ),
                        ),
                        **self.value(test, mr.measurement.value),
                    }
                    for side in ("L", "R")
                    for mr in found
                    if mr.measurement.side == side and mr.measurement.value is not None
                ]
                if not observation["component"]:
                    continue
            else:
                mr = found[-1]
                if mr.measurement.value is None:
                    continue
                observation["id"] = mr.uuid
                observation |= self.value(test, mr.measurement.value)
            made.append(self.add(observation))
        return made

    def value(self, test: ClinicalTest, value: float | str | None) -> dict[str, Any]:
        if test.kind == "number" and isinstance(value, int | float):
            return {"valueQuantity": self.quantity(float(value), test.unit)}
        if test.kind == "scale":
            return {"valueCodeableConcept": _concept(str(value))}
        return {"valueString": str(value)} if _text(str(value)) else {}

    def questionnaires(self, vr: VisitRecord, enc: dict[str, Any], held: str) -> list[str]:
        forms: dict[str, dict[str, int | None]] = {}
        for ar in vr.prom_answers:
            forms.setdefault(ar.answer.questionnaire, {})[ar.answer.item] = ar.answer.score
        made = []
        for code, answers in forms.items():
            q = questionnaire(code)
            if q is None:  # a questionnaire a later data file no longer has
                continue
            response_id = self.add(
                {
                    "resourceType": "QuestionnaireResponse",
                    "id": derived_id(vr.uuid, f"questionnaire-response:{code}"),
                    "status": "completed",
                    "subject": self.patient_ref,
                    "encounter": enc,
                    "authored": held,
                    "item": [
                        _clean(
                            {
                                "linkId": item.id,
                                "text": _text(item.label),
                                "answer": [{"valueInteger": answers[item.id]}],
                            }
                        )
                        for item in q.items
                        if answers.get(item.id) is not None
                    ],
                }
            )
            made.append(response_id)
            try:
                scored = score_questionnaire(q, answers)
            except ScoreRefused:
                continue
            if scored.score is None:
                continue
            loinc = self.coding.loinc.get(code)
            made.append(
                self.add(
                    {
                        "resourceType": "Observation",
                        "id": derived_id(vr.uuid, f"score:{code}"),
                        "status": "final",
                        "category": [_concept(None, _coding(OBSERVATION_CATEGORY, "survey"))],
                        "code": _concept(
                            q.label,
                            _coding(LOINC, loinc)
                            if loinc
                            else self.local(f"score/{code}", q.label),
                        ),
                        "subject": self.patient_ref,
                        "encounter": enc,
                        "effectiveDateTime": held,
                        "valueQuantity": self.quantity(scored.score, q.unit),
                        "interpretation": [_concept(scored.band)] if scored.band else None,
                        "derivedFrom": [_ref(response_id)],
                    }
                )
            )
        return made

    # --- the bundle ----------------------------------------------------------------------

    def code_system(self) -> dict[str, Any]:
        """The local code system, complete: every test (and side), every programme item and
        home exercise, PIR, and the scores without a LOINC code, from the programme's data."""
        concepts: dict[str, str] = {}
        for test in self.proto.tests:
            if test.code not in self.coding.loinc:
                concepts[f"test/{test.code}"] = test.label
            if test.sided:
                for side in ("left", "right"):
                    concepts[f"test/{test.code}/{side}"] = f"{test.label}, {side}"
        for module in self.proto.modules:
            for item in module.checklist:
                concepts.setdefault(f"item/{item.code}", item.label)
            for exercise in module.home_exercises:
                concepts.setdefault(f"item/{exercise.code}", exercise.label)
        concepts["treatment/pir"] = "Post-isometric relaxation"
        from kinesio_tui.questionnaires import questionnaires

        for q in questionnaires():
            if q.code not in self.coding.loinc:
                concepts[f"score/{q.code}"] = q.label
        system_id = self.coding.local_system.removeprefix("urn:uuid:")
        return {
            "resourceType": "CodeSystem",
            "id": system_id,
            "url": self.coding.local_system,
            "name": self.coding.local_name,
            "title": self.coding.local_title,
            "status": "active",
            "caseSensitive": True,
            "content": "complete",
            "count": len(concepts),
            "concept": [{"code": code, "display": label} for code, label in concepts.items()],
        }

    def bundle(self) -> dict[str, Any]:
        self.patient()
        for er in self.record.episodes:
            self.episode(er)
        own = [("patients", self.record.patient.id)]
        own += [("episodes", er.episode.id) for er in self.record.episodes]
        own += [("plan_changes", c.id) for er in self.record.episodes for c in er.plan.changes]
        targets = [self.record.uuid]
        targets += [
            e["resource"]["id"]
            for e in self.entries
            if e["resource"]["resourceType"] in ("EpisodeOfCare", "Condition", "CarePlan")
        ]
        self.provenance(
            derived_id(self.record.uuid, "provenance"),
            targets,
            self.latest(own),
            [("author", c.made_by) for er in self.record.episodes for c in er.plan.changes]
            + [("enterer", actor) for actor in self.actors(own)],
        )
        head = self.entries[:1]
        people = [
            {
                "fullUrl": _url(pid),
                "resource": {"resourceType": "Practitioner", "id": pid, "name": [{"text": name}]},
            }
            for name, pid in sorted(self.practitioners.items())
        ]
        system = self.code_system()
        entries = [
            *head,
            *people,
            {"fullUrl": self.coding.local_system, "resource": system},
            *self.entries[1:],
            *({"fullUrl": _url(p["id"]), "resource": p} for p in self.provenances),
        ]
        moments = [e.at for events in self.record.events.values() for e in events]
        return _clean(
            {
                "resourceType": "Bundle",
                "id": derived_id(self.record.uuid, "bundle"),
                "type": "collection",
                "timestamp": max(moments) if moments else None,
                "entry": entries,
            }
        )


def _pir_words(c: Any) -> str:
    def pair(a: float | None, b: float | None, unit: str) -> str:
        shown = [number_text(x) if x is not None else "?" for x in (a, b)]
        return f"{shown[0]}→{shown[1]}{unit}"

    parts = [
        _("{n} cycles", n=c.cycles),
        _("tension {s} s at {pct} %", s=c.tension_s, pct=c.effort_pct),
        _("relaxation {s} s", s=c.relaxation_s),
    ]
    if c.rom_before is not None or c.rom_after is not None:
        parts.append(_("ROM {rom}", rom=pair(c.rom_before, c.rom_after, "°")))
    if c.pain_before is not None or c.pain_after is not None:
        parts.append(_("pain {pain}", pain=pair(c.pain_before, c.pain_after, "/10")))
    return "; ".join(parts)


def build_bundle(
    record: PatientRecord,
    *,
    proto: Protocol | None = None,
    coding: FhirCoding | None = None,
    icd10_variant: str | None = None,
) -> dict[str, Any]:
    """The patient's record as a FHIR R4B collection Bundle (plain JSON data): a pure
    function of its arguments. KinesioError when the programme has no ICD-10 code for an
    episode or no UCUM code for a unit."""
    builder = _Builder(record, proto or protocol(), coding or fhir_coding(), icd10_variant)
    return builder.bundle()


#: Characters written as \\u escapes although JSON allows them raw (json.dumps escapes the
#: C0 controls itself): DEL, the C1 controls, the text-direction codes and the line and
#: paragraph separators, which a terminal or an editor showing the file would act on. The
#: text is exactly as recorded once the JSON is read.
_SHOWN_ESCAPED = {
    ch: f"\\u{ord(ch):04x}"
    for lo, hi in (
        ("\x7f", "\x9f"),
        ("\u202a", "\u202e"),
        ("\u2066", "\u2069"),
        ("\u2028", "\u2029"),
    )
    for ch in map(chr, range(ord(lo), ord(hi) + 1))
}
#: The same characters found by one pattern: str.translate with a table of them took a
#: third of a bundle's time (it looks each character of the text up), the pattern a fiftieth.
_TO_ESCAPE = re.compile("[" + "".join(_SHOWN_ESCAPED) + "]")


def _escaped(found: re.Match[str]) -> str:
    return _SHOWN_ESCAPED[found[0]]


def bundle_json(bundle: dict[str, Any]) -> str:
    """The bundle as the file holds it: UTF-8 JSON, indented, one fixed key order."""
    text = json.dumps(bundle, ensure_ascii=False, indent=2, allow_nan=False)
    return _TO_ESCAPE.sub(_escaped, text) + "\n"


def patient_bundle(
    db: ClinicDB, patient_id: int, clinic: ClinicIdentity | None = None
) -> dict[str, Any]:
    """A patient's bundle from the database (the clinic's ICD-10 edition from `clinic` as
    the caller read it, else from the settings file)."""
    variant = (current_settings().clinic if clinic is None else clinic).icd10_variant or None
    return build_bundle(patient_record(db, patient_id), icd10_variant=variant)


def fhir_export(
    db: ClinicDB,
    patient_id: int,
    *,
    today: date | None = None,
    clinic: ClinicIdentity | None = None,
) -> tuple[str, str]:
    """The bundle's file name (patient-0001-fhir-DATE.json) and its JSON, not written
    (`clinic`: the settings' clinic as `export --all` read it for the run)."""
    today = today or clock.today()
    return export_name(patient_id, "fhir", "json", today), bundle_json(
        patient_bundle(db, patient_id, clinic)
    )


def write_fhir(
    out_dir: Path, name: str, text: str, *, overwrite: bool = False, sync_name: bool = True
) -> Path:
    """Write a prepared bundle into `out_dir` (0600): whole or not at all, an existing file
    refused without `overwrite` (ExportExists); `sync_name` as `write_export`'s."""
    target = Path(out_dir).expanduser() / name
    try:
        return write_private(
            prepare_dir(out_dir) / name, text, overwrite=overwrite, sync_name=sync_name
        )
    except OSError as error:
        raise ExportWriteFailed(
            _("Cannot write the export"),
            _("{why}: {path}", why=error.strerror or error, path=target),
        ) from None


def export_fhir(
    db: ClinicDB,
    patient_id: int,
    *,
    out_dir: Path,
    overwrite: bool = False,
    today: date | None = None,
) -> Path:
    """Write a patient's FHIR bundle into `out_dir` (patient-0001-fhir-DATE.json, 0600):
    whole or not at all, an existing file refused without `overwrite` (ExportExists)."""
    name, text = fhir_export(db, patient_id, today=today)
    return write_fhir(out_dir, name, text, overwrite=overwrite)
