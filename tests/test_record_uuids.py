"""Every clinical record carries a stable UUID: given once when the record is made (or, for a
record older than the schema step, when the file is upgraded), unique in the file, never
changed, and never given again, an erased patient's included.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import DAY, where
from pg_cluster import PgDatabase
from typer.testing import CliRunner

from kinesio_tui.audit_key import load_key
from kinesio_tui.cli import app
from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import create_patient, get_patient, patient_form, update_patient
from kinesio_tui.domain.store import (
    CLINICAL_TABLES,
    content_hash,
    head_signature,
    signed_entry_hash,
)
from kinesio_tui.errors import RecordRefused
from kinesio_tui.maintenance.audit import verify_chain

runner = CliRunner()
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
RUTA_ID = 2

# Every record's uuid on both engines (issue 17); what is about the SQLite file (its index
# list, the bytes an erasure must leave, the upgrade of an old file) stays on it.
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def _uuids(db: ClinicDB | sqlite3.Connection, table: str) -> dict[int, str | None]:
    return {int(i): u for i, u in db.execute(f"SELECT id, uuid FROM {table}").fetchall()}


def _all_uuids(db: ClinicDB | sqlite3.Connection) -> dict[tuple[str, int], str | None]:
    return {(table, rid): u for table in CLINICAL_TABLES for rid, u in _uuids(db, table).items()}


def _raw_bytes(path: Path) -> bytes:
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_every_record_of_the_demo_clinic_has_its_own_random_uuid(demo_db: ClinicDB) -> None:
    found = _all_uuids(demo_db)
    tables = {table for table, _ in found}
    assert {"patients", "episodes", "visits", "measurements", "prom_answers"} <= tables
    assert all(u is not None and UUID4.match(u) for u in found.values()), found
    assert len(set(found.values())) == len(found)  # unique across every table, not per table


@pytest.mark.sqlite_only  # SQLite's index list; PostgreSQL's: test_pg_schema_parity
def test_every_clinical_table_has_a_unique_uuid_column(db: ClinicDB) -> None:
    for table in CLINICAL_TABLES:
        columns = {c[1] for c in db.execute(f"PRAGMA table_info({table})").fetchall()}
        assert "uuid" in columns, table
        unique = [
            index[1]
            for index in db.execute(f"PRAGMA index_list({table})").fetchall()
            if index[2]
            and [c[2] for c in db.execute(f"PRAGMA index_info({index[1]})").fetchall()] == ["uuid"]
        ]
        assert unique, f"{table}.uuid is not unique"


def test_the_uuid_is_given_once_audited_and_never_changed(db: ClinicDB) -> None:
    pid = create_patient(db, NewPatient("Ona", "Stable", "1970-01-01", "F"), today=DAY)
    (given,) = db.execute("SELECT uuid FROM patients WHERE id = ?", [pid]).fetchone()
    assert UUID4.match(given)
    created = db.execute(
        "SELECT new FROM audit_log WHERE table_name = 'patients' AND record_id = ? "
        "AND action = 'create'",
        [pid],
    ).fetchone()[0]
    assert json.loads(created)["uuid"] == given
    form = patient_form(get_patient(db, pid))
    update_patient(
        db,
        pid,
        type(form)(**{**form.__dict__, "last_name": "Renamed"}),
        expected_version=1,
        today=DAY,
    )
    assert db.execute("SELECT uuid FROM patients WHERE id = ?", [pid]).fetchone()[0] == given
    with pytest.raises(RecordRefused, match="uuid never changes"):
        db.execute("UPDATE patients SET uuid = ? WHERE id = ?", [given.replace("4", "5"), pid])
    other = create_patient(db, NewPatient("Jonas", "Other", "1970-01-01", "M"), today=DAY)
    with pytest.raises(RecordRefused) as refused:  # an id of its own: only the uuid is taken
        db.execute(
            "INSERT INTO patients (id, first_name, last_name, birth_date, sex, created_at, "
            "updated_at, uuid) VALUES (999, 'A', 'B', '1970-01-01', 'F', 'x', 'x', ?)",
            [given],
        )
    assert refused.value.kind == "duplicate" and "uuid" in refused.value.reason
    assert verify_chain(db).ok and other != pid


def test_a_uuid_changed_outside_the_program_is_found_by_the_audit_check(
    db: ClinicDB, request: pytest.FixtureRequest
) -> None:
    pid = create_patient(db, NewPatient("Ona", "Tampered", "1970-01-01", "F"), today=DAY)
    target = where(db)
    db.close()
    tampered = "UPDATE patients SET uuid = '00000000-0000-4000-8000-000000000000'"
    if db.kind == "postgresql":  # the server's superuser, past the owner's trigger
        clinic: PgDatabase = request.getfixturevalue("pg_clinic")
        clinic.psql(
            "SET search_path = kinesio; ALTER TABLE patients DISABLE TRIGGER patients_uuid_stays;"
            f" {tampered}"
        )
    else:
        raw = sqlite3.connect(target, isolation_level=None)
        raw.execute("DROP TRIGGER patients_uuid_stays")
        raw.execute(tampered)
        raw.close()
    with connect(target) as again:
        problems = [p.what for p in verify_chain(again).problems]
    assert any(f"patients record {pid} no longer matches" in w and "uuid" in w for w in problems)


def test_an_erased_patients_uuids_are_gone_and_never_given_again(demo_db_path: Path) -> None:
    with connect(demo_db_path) as db:
        owned = _owned_uuids(db, RUTA_ID)
        assert len(owned) > 40  # the patient, the episode, 45 visits and what they record
    assert all(u.encode() in _raw_bytes(demo_db_path) for u in owned)
    erased = runner.invoke(app, ["erase", str(RUTA_ID), "--yes", "--db", str(demo_db_path)])
    assert erased.exit_code == 0, erased.output
    raw = _raw_bytes(demo_db_path)
    assert [u for u in owned if u.encode() in raw] == []
    with connect(demo_db_path) as db:
        for n in range(20):
            create_patient(db, NewPatient("Nora", f"Newcomer{n}", "1980-01-01", "F"), today=DAY)
        now = _all_uuids(db)
        assert not set(now.values()) & set(owned)
        assert len(set(now.values())) == len(now)
        assert verify_chain(db).ok


def _owned_uuids(db: ClinicDB, patient_id: int) -> list[str]:
    """Every uuid of one patient's records (through the tables' links to the patient)."""
    episodes = "SELECT id FROM episodes WHERE patient_id = :p"
    visits = f"SELECT id FROM visits WHERE episode_id IN ({episodes})"
    queries = [
        "SELECT uuid FROM patients WHERE id = :p",
        f"SELECT uuid FROM episodes WHERE id IN ({episodes})",
        f"SELECT uuid FROM visits WHERE id IN ({visits})",
        *(
            f"SELECT uuid FROM {t} WHERE visit_id IN ({visits})"
            for t in ("checklist_ticks", "pir_cycles", "measurements", "prom_answers", "amendments")
        ),
        *(
            f"SELECT uuid FROM {t} WHERE episode_id IN ({episodes})"
            for t in ("red_flag_screens", "episode_holds", "plan_changes")
        ),
    ]
    return [u for q in queries for (u,) in db.execute(q, {"p": patient_id}).fetchall()]


# --- a clinic's file from before the step ----------------------------------------------------


def as_left_before_uuids(path: Path) -> None:
    """Turn a file into what kinesio-tui left before records had uuids: no uuid columns, no
    uuid in any audit entry (the chain signed again with the key, as that version signed
    it), the step not applied."""
    key = load_key(create=False)
    assert key is not None
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("BEGIN")
    for table in CLINICAL_TABLES:
        raw.execute(f"DROP TRIGGER {table}_uuid_stays")
        raw.execute(f"DROP INDEX {table}_uuid")
        raw.execute(f"ALTER TABLE {table} DROP COLUMN uuid")
    raw.execute("DROP TRIGGER audit_log_only_erasure")
    cursor = raw.execute("SELECT * FROM audit_log ORDER BY id")
    names = [c[0] for c in cursor.description]
    entries = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    raw.execute("UPDATE audit_log SET hash = 'x' || id")  # hash is UNIQUE while we rewrite
    prev = entries[0]["prev_hash"]
    for entry in entries:
        new: Any = json.loads(entry["new"]) if entry["new"] else None
        old: Any = json.loads(entry["old"]) if entry["old"] else None
        if isinstance(new, dict) and "uuid" in new:
            del new["uuid"]
            entry["new"] = json.dumps(
                new, sort_keys=True, ensure_ascii=False, separators=(",", ":")
            )
            entry["content_sha"] = content_hash(old, new)
        entry["prev_hash"] = prev
        entry["hash"] = signed_entry_hash(key, prev, entry)
        raw.execute(
            "UPDATE audit_log SET new = ?, content_sha = ?, prev_hash = ?, hash = ? WHERE id = ?",
            [entry["new"], entry["content_sha"], prev, entry["hash"], entry["id"]],
        )
        prev = entry["hash"]
    raw.execute(
        "UPDATE audit_head SET last_hash = ?, mac = ? WHERE id = 1",
        [prev, head_signature(key, entries[-1]["id"], prev)],
    )
    from kinesio_tui.data.migrations import _AUDIT_GUARD_0004

    raw.execute(_AUDIT_GUARD_0004[4])
    raw.execute("DELETE FROM _sqlite_migrations WHERE name = '0012_record_uuids'")
    version = raw.execute("PRAGMA user_version").fetchone()[0]
    raw.execute("COMMIT")
    raw.execute(f"PRAGMA user_version = {version - 1}")
    raw.close()


def verify_chain_ok(path: Path) -> bool:
    """The trail verifies, read without upgrading the file (as the old version would)."""
    from kinesio_tui.data.db import ClinicDB

    raw = sqlite3.connect(path)
    try:
        report = verify_chain(ClinicDB(raw, path, "tester"))
    finally:
        raw.close()
    assert report.ok, report.problems
    return True


def test_upgrading_gives_every_record_a_uuid_and_the_file_still_checks(
    demo_db_path: Path,
) -> None:
    as_left_before_uuids(demo_db_path)
    assert verify_chain_ok(demo_db_path)  # a faithful old file: its trail verifies
    connect(demo_db_path).close()  # opening upgrades
    raw = sqlite3.connect(demo_db_path)
    given = _all_uuids(raw)
    raw.close()
    assert all(u is not None and UUID4.match(u) for u in given.values())
    assert len(set(given.values())) == len(given)
    checked = runner.invoke(app, ["check", "--db", str(demo_db_path)])
    assert checked.exit_code == 0, checked.output
    verified = runner.invoke(app, ["audit", "verify", "--db", str(demo_db_path)])
    assert verified.exit_code == 0, verified.output
    with connect(demo_db_path) as db:  # opening again changes nothing
        assert _all_uuids(db) == given
        pid = create_patient(db, NewPatient("After", "Upgrade", "1970-01-01", "F"), today=DAY)
        assert UUID4.match(str(_uuids(db, "patients")[pid]))
        assert verify_chain(db).ok
