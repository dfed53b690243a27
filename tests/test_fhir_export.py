"""`kinesio export PATIENT --format fhir`: a FHIR R4B collection Bundle per patient.

Every demo patient's bundle is checked with the fhir.resources R4B models (a test-only
dependency), every reference must name an entry of the same bundle, the code systems are
the ones promised, ids are the records' stored uuids, a second export is the same bytes,
typed text stays data, and a refused export leaves every file as it was (real process).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DAY, held_episode
from fhir.resources.R4B.bundle import Bundle
from real_cli import assert_one_line_refusal, assert_unchanged, files_state, run

from kinesio_tui.data.db import ClinicDB, connect, write_transaction
from kinesio_tui.domain.amendments import correct_measurement
from kinesio_tui.domain.diagnosis import episode_diagnosis
from kinesio_tui.domain.models import NewEpisode, NewPatient, PirCycle, Visit
from kinesio_tui.domain.plan import add_plan_item
from kinesio_tui.domain.visits import (
    record_measurement,
    record_pir_cycle,
    set_visit_note,
    tick_item,
)
from kinesio_tui.export.fhir import (
    ACT_CODE,
    CONDITION_CATEGORY,
    CONDITION_CLINICAL,
    DATA_OPERATION,
    LOINC,
    OBSERVATION_CATEGORY,
    PARTICIPANT_TYPE,
    UCUM,
    bundle_json,
    export_fhir,
    fhir_coding,
    patient_bundle,
)
from kinesio_tui.protocol import protocol

LOCAL = "urn:uuid:bd81dad5-5ed5-4342-ba00-facc6bd508ae"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"

# Bundles built from what either engine reads back (issue 17): the same stored uuids, the
# same bytes twice.
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def _validated(bundle: dict[str, Any]) -> Bundle:
    return Bundle.model_validate(bundle)


def _resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"]]


def _of(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in _resources(bundle) if r["resourceType"] == kind]


def _walk(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair at any depth."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield k, v
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def _patients(db: ClinicDB) -> list[int]:
    return [int(r[0]) for r in db.execute("SELECT id FROM patients ORDER BY id").fetchall()]


@pytest.fixture
def demo_bundles(demo_db: ClinicDB) -> dict[int, dict[str, Any]]:
    return {pid: patient_bundle(demo_db, pid) for pid in _patients(demo_db)}


@pytest.mark.sqlite_only  # the bundle's FHIR shape is the exporter's (6 s on PostgreSQL)
def test_every_demo_patients_bundle_validates_as_fhir_r4b(
    demo_bundles: dict[int, dict[str, Any]],
) -> None:
    kinds: set[str] = set()
    for bundle in demo_bundles.values():
        parsed = _validated(bundle)
        assert parsed.type == "collection"
        kinds |= {r["resourceType"] for r in _resources(bundle)}
    assert kinds >= {
        "Patient",
        "EpisodeOfCare",
        "Condition",
        "CarePlan",
        "Encounter",
        "Procedure",
        "Observation",
        "QuestionnaireResponse",
        "Provenance",
        "Practitioner",
        "CodeSystem",
        "ClinicalImpression",
    }


def test_every_reference_names_an_entry_of_the_same_bundle(
    demo_bundles: dict[int, dict[str, Any]],
) -> None:
    for bundle in demo_bundles.values():
        urls = [e["fullUrl"] for e in bundle["entry"]]
        assert len(urls) == len(set(urls))
        for entry in bundle["entry"]:
            assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
        references = [v for k, v in _walk(bundle) if k == "reference"]
        assert references and all(r in urls for r in references), set(references) - set(urls)


def test_the_code_systems_are_icd10_loinc_ucum_hl7_and_the_local_one(
    demo_db: ClinicDB, demo_bundles: dict[int, dict[str, Any]]
) -> None:
    proto = protocol()
    expected = {
        LOINC,
        UCUM,
        LOCAL,
        OBSERVATION_CATEGORY,
        ACT_CODE,
        PARTICIPANT_TYPE,
        DATA_OPERATION,
        CONDITION_CLINICAL,
        CONDITION_CATEGORY,
        PARTICIPATION,
    }
    loinc_used: set[str] = set()
    for pid, bundle in demo_bundles.items():
        icd = set()
        for condition, subtype in demo_db.execute(
            "SELECT condition, subtype FROM episodes WHERE patient_id = ?", [pid]
        ).fetchall():
            dx = episode_diagnosis(proto, condition, subtype)
            icd.add(dx.system)
            codes = {c["code"] for r in _of(bundle, "Condition") for c in r["code"]["coding"]}
            assert dx.code in codes
        systems = {v for k, v in _walk(bundle) if k == "system"}
        assert systems - {"phone"} <= expected | icd, systems - expected - icd
        loinc_used |= {
            c["code"] for k, v in _walk(bundle) if k == "coding" for c in v if c["system"] == LOINC
        }
        for key, quantity in _walk(bundle):
            if key == "valueQuantity" and "unit" in quantity:
                assert quantity["system"] == UCUM
                assert quantity["code"] == fhir_coding().ucum[quantity["unit"]]
        (system,) = _of(bundle, "CodeSystem")
        assert system["url"] == LOCAL
        defined = {c["code"] for c in system["concept"]}
        used = {
            c["code"] for k, v in _walk(bundle) if k == "coding" for c in v if c["system"] == LOCAL
        }
        assert used <= defined, used - defined
    assert {"97909-6", "82237-9"} <= loinc_used  # ODI and NDI scores of the demo's patients


def test_ids_are_the_stored_uuids_and_a_second_export_is_the_same_bytes(
    demo_db: ClinicDB,
) -> None:
    pid = 1
    bundle = patient_bundle(demo_db, pid)
    stored = {
        table: {r[0] for r in demo_db.execute(f"SELECT uuid FROM {table}").fetchall()}
        for table in ("patients", "episodes", "visits", "checklist_ticks", "pir_cycles",
                      "measurements", "amendments")
    }  # fmt: skip
    (patient,) = _of(bundle, "Patient")
    assert patient["id"] == demo_db.execute("SELECT uuid FROM patients WHERE id = 1").fetchone()[0]
    held = {
        r[0]
        for r in demo_db.execute(
            "SELECT v.uuid FROM visits v JOIN episodes e ON e.id = v.episode_id "
            "WHERE e.patient_id = 1 AND v.status = 'done'"
        ).fetchall()
    }
    assert {r["id"] for r in _of(bundle, "Encounter")} == held
    assert {r["id"] for r in _of(bundle, "EpisodeOfCare")} <= stored["episodes"]
    procedures = {r["id"] for r in _of(bundle, "Procedure")}
    assert procedures and procedures <= stored["checklist_ticks"] | stored["pir_cycles"]
    own = {
        r["id"]
        for r in _of(bundle, "Observation")
        if "component" not in r and "derivedFrom" not in r
    }
    assert own and own <= stored["measurements"]
    derived = [r["id"] for r in _resources(bundle) if r["resourceType"] != "CodeSystem"]
    derived = [i for i in derived if i not in set().union(*stored.values())]
    assert derived and all(uuid.UUID(i).version == 5 for i in derived)
    assert uuid.UUID(bundle["id"]).version == 5
    assert (
        bundle["timestamp"]
        == demo_db.execute("SELECT max(at) FROM audit_log WHERE patient_id = 1").fetchone()[0]
    )
    first = bundle_json(bundle)
    assert bundle_json(patient_bundle(demo_db, pid)) == first
    assert demo_db.execute("SELECT count(*) FROM visits").fetchone()[0] > 0


def _held_visit(db: ClinicDB, patient_id: int) -> tuple[int, int]:
    """(visit id, measurement id) of a VAS result at a held visit of the patient."""
    row = db.execute(
        "SELECT v.id, m.id FROM measurements m JOIN visits v ON v.id = m.visit_id "
        "JOIN episodes e ON e.id = v.episode_id WHERE e.patient_id = ? AND v.status = 'done' "
        "AND m.test_code = 'vas' ORDER BY v.seq DESC LIMIT 1",
        [patient_id],
    ).fetchone()
    return int(row[0]), int(row[1])


def test_a_corrected_value_is_the_one_exported_with_its_amendment(demo_db: ClinicDB) -> None:
    _visit, measurement = _held_visit(demo_db, 1)
    correct_measurement(demo_db, measurement, 9.5, "typed 5 for 9.5")
    bundle = patient_bundle(demo_db, 1)
    _validated(bundle)
    stored = demo_db.execute(
        "SELECT uuid FROM measurements WHERE id = ?", [measurement]
    ).fetchone()[0]
    (observation,) = [r for r in _of(bundle, "Observation") if r["id"] == stored]
    assert observation["valueQuantity"]["value"] == 9.5
    assert observation["status"] == "corrected"
    amendment = demo_db.execute("SELECT uuid FROM amendments ORDER BY id DESC LIMIT 1").fetchone()[
        0
    ]
    (provenance,) = [r for r in _of(bundle, "Provenance") if r["id"] == amendment]
    assert provenance["reason"] == [{"text": "typed 5 for 9.5"}]
    assert provenance["activity"]["coding"][0]["code"] == "UPDATE"


HOSTILE = (
    '<script>alert("x")</script> & {{ 7*7 }} {% raw %} ]]> \'quoted\' "double" `tick`'
    " שלום عربى mixed RTL ‏ zero\u200bwidth \U0001f600 " + "long " * 700
)


def _hostile_patient(db: ClinicDB) -> int:
    def record(visit: Visit) -> None:
        if visit.kind == "therapy":
            tick_item(db, visit.id, "m1_pelvic_traction", HOSTILE[:80].replace("\n", " "))
            record_pir_cycle(db, visit.id, PirCycle('<b>piriformis</b> "m."', "L", 7, 20, 15))
        else:
            record_measurement(db, visit.id, "emg_finding", HOSTILE[:1000], None)
            add_plan_item(
                db, visit.id, label='<i>own</i> "item" & more', reason=HOSTILE[:300].strip(),
                dosage="3 x <30> s",
            )  # fmt: skip
        set_visit_note(db, visit.id, HOSTILE[:3900] + "\nline two\ttabbed")

    pid, _eid, _visits = held_episode(
        db,
        NewEpisode("sciatica", "upper", "L"),
        patient=NewPatient(
            '<b>Ona</b> "O\'Brien"', "Žemaitė-שלום & <Co>", "1975-04-05", "F", notes=HOSTILE[:3000]
        ),
        held=2,
        at=record,
    )
    return pid


def test_typed_text_survives_as_data_and_the_bundle_validates(db: ClinicDB, tmp_path: Path) -> None:
    pid = _hostile_patient(db)
    path = export_fhir(db, pid, out_dir=tmp_path / "out", today=DAY)
    raw = path.read_text(encoding="utf-8")
    bundle = json.loads(raw)
    _validated(bundle)
    strings = {v for _k, v in _walk(bundle) if isinstance(v, str)}
    assert HOSTILE[:3900] + "\nline two\ttabbed" in strings  # the visit note, whole
    assert HOSTILE[:1000].strip() in strings  # a text result
    assert '<b>Ona</b> "O\'Brien" Žemaitė-שלום & <Co>' in strings
    assert '<b>piriformis</b> "m." (left)' in strings
    assert '<i>own</i> "item" & more' in strings
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", raw)


def test_text_a_hand_edit_left_with_controls_is_escaped_in_the_file(
    db: ClinicDB, tmp_path: Path
) -> None:
    """The input layer refuses controls and text-direction codes; a value an older version
    or a hand edit left in the file still comes out exactly, as JSON escapes."""
    pid = _hostile_patient(db)
    nasty = "\x1b[31mred\x1b[0m \x85 \u202edesrever\u202c \u2066iso\u2069 \x7f\x9b end"
    with write_transaction(db):  # by hand, past the domain's checks
        db.execute("UPDATE visits SET note = ? WHERE status = 'done'", [nasty])
    path = export_fhir(db, pid, out_dir=tmp_path / "out", today=DAY)
    raw = path.read_text(encoding="utf-8")
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", raw)
    assert "\\u001b[31mred" in raw and "\\u202e" in raw
    bundle = json.loads(raw)
    _validated(bundle)
    assert [r["summary"] for r in _of(bundle, "ClinicalImpression")] == [nasty, nasty]


# --- the real `kinesio` process ---------------------------------------------------------------


def test_the_command_writes_a_private_bundle_and_refuses_to_replace_it(
    demo_target: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = ("export", "1", "--format", "fhir", "--out", str(out), "--db", demo_target)
    first = run(*args)
    assert first.code == 0, first
    path = Path(first.out.strip())
    assert path.parent == out and path.suffix == ".json" and "fhir" in path.name
    assert path.stat().st_mode & 0o777 == 0o600
    written = path.read_bytes()
    with connect(demo_target) as db:
        assert (
            json.loads(written)["entry"][0]["resource"]["id"]
            == db.execute("SELECT uuid FROM patients WHERE id = 1").fetchone()[0]
        )
    before = files_state(tmp_path, folder_mtimes=False)
    again = run(*args)
    assert_one_line_refusal(again)
    assert "--force" in again.err
    assert_unchanged(before, tmp_path, again, folder_mtimes=False)
    unknown = run("export", "9999", "--format", "fhir", "--out", str(out), "--db", demo_target)
    assert_one_line_refusal(unknown)
    assert_unchanged(before, tmp_path, unknown, folder_mtimes=False)
    forced = run(*args, "--force")
    assert forced.code == 0, forced
    assert path.read_bytes() == written  # the same record: the same bytes


@pytest.mark.sqlite_only  # --all on PostgreSQL: test_export_cli, test_export_all
def test_all_patients_each_get_a_bundle(demo_target: str, tmp_path: Path) -> None:
    out = tmp_path / "all"
    ran = run("export", "--all", "--format", "fhir", "--out", str(out), "--db", demo_target)
    assert ran.code == 0, ran
    files = sorted(out.iterdir())
    assert len(files) == len(ran.out.split()) > 30
    for path in files[:3]:
        _validated(json.loads(path.read_text(encoding="utf-8")))
    refused = run("export", "1", "--format", "fhir", "--kind", "visit", "--db", demo_target)
    assert_one_line_refusal(refused)


@pytest.mark.sqlite_only  # counts the statements through SQLite's trace hook
def test_a_patients_record_is_read_in_one_batch_of_queries(demo_db: ClinicDB) -> None:
    """One query per kind of record for the whole patient (and one per episode for its
    plan), however many visits: not one per visit."""
    from kinesio_tui.domain.patient_record import patient_record

    counts = {}
    for pid in _patients(demo_db):
        statements: list[str] = []
        demo_db.conn.set_trace_callback(statements.append)
        try:
            record = patient_record(demo_db, pid)
        finally:
            demo_db.conn.set_trace_callback(None)
        visits = sum(len(er.visits) for er in record.episodes)
        counts[pid] = (len(statements), len(record.episodes), visits)
    assert all(n == 9 + episodes for n, episodes, _visits in counts.values()), counts
    assert max(visits for *_rest, visits in counts.values()) >= 45


def test_the_export_dialog_writes_the_bundle(demo_target: str) -> None:
    import asyncio

    from textual.pilot import Pilot

    from kinesio_tui.app import KinesioApp, build_app
    from kinesio_tui.export import default_export_dir
    from kinesio_tui.views.patient import PatientScreen

    async def main() -> None:
        app: KinesioApp = build_app(demo_target)
        pilot: Pilot[None]
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_patient(1)
            await pilot.pause()
            await pilot.press("e", "tab", "down", "down", "space", "ctrl+s")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, PatientScreen)

    asyncio.run(main())
    (written,) = default_export_dir().iterdir()
    assert written.name.startswith("patient-0001-fhir-") and written.suffix == ".json"
    bundle = json.loads(written.read_text(encoding="utf-8"))
    _validated(bundle)
    assert bundle["type"] == "collection"


def test_a_programme_ended_early_revokes_the_modules_not_finished(db: ClinicDB) -> None:
    from kinesio_tui.domain.episodes import close_episode

    pid, eid, _visits = held_episode(db, NewEpisode("sciatica", "upper", "L"), held=3)
    assert [p["status"] for p in _of(patient_bundle(db, pid), "CarePlan")] == ["active"] * 3
    close_episode(db, eid, today=DAY)
    bundle = patient_bundle(db, pid)
    _validated(bundle)
    assert [p["status"] for p in _of(bundle, "CarePlan")] == ["revoked"] * 3
    (episode,) = _of(bundle, "EpisodeOfCare")
    assert episode["status"] == "finished" and episode["period"]["end"] == DAY.isoformat()
