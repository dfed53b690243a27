"""The audit trail: every change recorded, tampering found and named, history readable.

Tampering goes straight at the file with sqlite3, dropping the guard triggers first as an
attacker with the file would.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinesio_tui.cli import app
from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain import (
    NewPatient,
    archive_patient,
    create_patient,
    get_patient,
    update_patient,
)
from kinesio_tui.domain.patients import patient_form
from kinesio_tui.domain.store import canonical, content_hash, entry_hash
from kinesio_tui.maintenance.audit import history, verify_chain

DAY = date(2026, 11, 25)
runner = CliRunner()


@pytest.fixture
def trail(db_path: Path) -> Path:
    """A small clinic: three patients, one renamed, one archived (5 entries)."""
    db = connect(db_path, actor="Dr Audit")
    try:
        ids = [
            create_patient(db, NewPatient(f"Name{i}", f"Surname{i}", "1970-01-01", "F"), today=DAY)
            for i in range(3)
        ]
        form = patient_form(get_patient(db, ids[0]))
        changed = NewPatient(**{**form.__dict__, "last_name": "Renamed"})
        update_patient(db, ids[0], changed, expected_version=1, today=DAY)
        archive_patient(db, ids[2])
        assert db.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 5
    finally:
        db.close()
    return db_path


@pytest.fixture
def attacker(trail: Path) -> Iterator[sqlite3.Connection]:
    raw = sqlite3.connect(trail)
    for trigger in ("audit_log_only_erasure", "audit_log_no_delete", "audit_log_head"):
        raw.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    yield raw
    raw.commit()
    raw.close()


def _problems(path: Path) -> list[tuple[int | None, str]]:
    db = connect(path)
    try:
        return [(p.entry_id, p.what) for p in verify_chain(db).problems]
    finally:
        db.close()


def _row(raw: sqlite3.Connection, entry_id: int) -> dict[str, object]:
    cursor = raw.execute("SELECT * FROM audit_log WHERE id = ?", [entry_id])
    return dict(zip([c[0] for c in cursor.description], cursor.fetchone(), strict=True))


def test_an_untouched_trail_verifies(trail: Path) -> None:
    assert _problems(trail) == []
    result = runner.invoke(app, ["audit", "verify", "--db", str(trail)])
    assert result.exit_code == 0
    assert "5 entries" in result.output


def test_every_change_is_recorded_with_who_and_old_and_new(trail: Path) -> None:
    db = connect(trail)
    try:
        rows = db.execute("SELECT actor, action, old, new FROM audit_log ORDER BY id").fetchall()
    finally:
        db.close()
    assert [r[1] for r in rows] == ["create", "create", "create", "change", "archive"]
    assert {r[0] for r in rows} == {"Dr Audit"}
    assert json.loads(rows[3][2])["last_name"] == "Surname0"
    assert json.loads(rows[3][3])["last_name"] == "Renamed"


def test_the_trail_refuses_update_and_delete_through_sql(trail: Path) -> None:
    db = connect(trail)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("UPDATE audit_log SET actor = 'someone else' WHERE id = 1")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("DELETE FROM audit_log WHERE id = 5")
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("DELETE FROM audit_head")
    finally:
        db.close()
    assert _problems(trail) == []


def test_an_edited_value_is_found(trail: Path, attacker: sqlite3.Connection) -> None:
    new = json.loads(str(_row(attacker, 4)["new"]))
    new["last_name"] = "Forged"
    attacker.execute("UPDATE audit_log SET new = ? WHERE id = 4", [canonical(new)])
    attacker.commit()
    assert _problems(trail) == [(4, "its recorded values were changed")]


def test_an_edited_actor_is_found(trail: Path, attacker: sqlite3.Connection) -> None:
    attacker.execute("UPDATE audit_log SET actor = 'Someone Else' WHERE id = 2")
    attacker.commit()
    assert _problems(trail) == [(2, "its details (who, when, what) were changed")]


def test_an_edit_with_recomputed_hashes_breaks_the_link_to_the_next(
    trail: Path, attacker: sqlite3.Connection
) -> None:
    row = _row(attacker, 3)
    new = json.loads(str(row["new"]))
    new["first_name"] = "Forged"
    row["new"] = canonical(new)
    row["content_sha"] = content_hash(None, new)
    row["hash"] = entry_hash(str(row["prev_hash"]), row)
    attacker.execute(
        "UPDATE audit_log SET new = ?, content_sha = ?, hash = ? WHERE id = 3",
        [row["new"], row["content_sha"], row["hash"]],
    )
    attacker.commit()
    problems = _problems(trail)
    assert [p[0] for p in problems] == [4]
    assert "does not follow entry 3" in problems[0][1]


def test_a_deleted_entry_is_found(trail: Path, attacker: sqlite3.Connection) -> None:
    attacker.execute("DELETE FROM audit_log WHERE id = 3")
    attacker.commit()
    problems = _problems(trail)
    assert [p[0] for p in problems[:1]] == [4]
    assert "entries 3 to 3 are missing" in problems[0][1]


def test_a_deleted_last_entry_is_found(trail: Path, attacker: sqlite3.Connection) -> None:
    attacker.execute("DELETE FROM audit_log WHERE id = 5")
    attacker.commit()
    problems = _problems(trail)
    assert len(problems) == 1
    assert "should hold 5 entries ending at entry 5" in problems[0][1]


def test_swapped_entries_are_found(trail: Path, attacker: sqlite3.Connection) -> None:
    a, b = _row(attacker, 2), _row(attacker, 3)
    columns = [c for c in a if c != "id"]
    assignments = ", ".join(f"{c} = ?" for c in columns)
    attacker.execute("UPDATE audit_log SET hash = 'moving' WHERE id = 3")  # hash is UNIQUE
    attacker.execute(f"UPDATE audit_log SET {assignments} WHERE id = 2", [b[c] for c in columns])
    attacker.execute(f"UPDATE audit_log SET {assignments} WHERE id = 3", [a[c] for c in columns])
    attacker.commit()
    named = {p[0] for p in _problems(trail)}
    assert {2, 3} <= named


def test_an_entry_inserted_in_the_middle_is_found(
    trail: Path, attacker: sqlite3.Connection
) -> None:
    # make room at id 3 as an attacker would (shift later entries up), then forge a
    # perfectly hashed entry linked to entry 2
    for entry_id in (5, 4, 3):
        attacker.execute("UPDATE audit_log SET id = id + 1 WHERE id = ?", [entry_id])
    prev = _row(attacker, 2)
    forged: dict[str, object] = {
        "at": "2026-11-25T10:00:00.000000+00:00",
        "actor": "Dr Audit",
        "action": "change",
        "table_name": "patients",
        "record_id": 1,
        "patient_id": 1,
        "old": canonical({"notes": ""}),
        "new": canonical({"notes": "forged"}),
        "content_sha": content_hash({"notes": ""}, {"notes": "forged"}),
        "prev_hash": prev["hash"],
    }
    forged["hash"] = entry_hash(str(prev["hash"]), forged)
    attacker.execute(
        f"INSERT INTO audit_log (id, {', '.join(forged)}) VALUES (3, {', '.join('?' * len(forged))})",
        list(forged.values()),
    )
    attacker.commit()
    problems = _problems(trail)
    assert 4 in {p[0] for p in problems}  # the shifted entry no longer follows the forged one
    assert any("should hold 5 entries" in p[1] for p in problems)


def test_a_forged_entry_appended_at_the_end_is_found(
    trail: Path, attacker: sqlite3.Connection
) -> None:
    last = _row(attacker, 5)
    forged: dict[str, object] = {
        "at": "2026-11-25T18:00:00.000000+00:00",
        "actor": "Dr Audit",
        "action": "unarchive",
        "table_name": "patients",
        "record_id": 3,
        "patient_id": 3,
        "old": None,
        "new": canonical({"archived_at": None}),
        "content_sha": content_hash(None, {"archived_at": None}),
        "prev_hash": last["hash"],
    }
    forged["hash"] = entry_hash(str(last["hash"]), forged)  # a perfectly chained forgery
    attacker.execute(
        f"INSERT INTO audit_log ({', '.join(forged)}) VALUES ({', '.join('?' * len(forged))})",
        list(forged.values()),
    )
    attacker.commit()
    problems = _problems(trail)
    assert problems == [(6, problems[0][1])]
    assert "ending at entry 5" in problems[0][1]


def test_values_blanked_without_an_erasure_are_found(
    trail: Path, attacker: sqlite3.Connection
) -> None:
    attacker.execute("UPDATE audit_log SET old = NULL, new = NULL WHERE id = 4")
    attacker.commit()
    assert _problems(trail) == [(4, "its values were blanked without an erasure record")]


def test_verify_and_check_commands_name_the_entry_and_fail(
    trail: Path, attacker: sqlite3.Connection
) -> None:
    attacker.execute("UPDATE audit_log SET action = 'create' WHERE id = 5")
    attacker.commit()
    result = runner.invoke(app, ["audit", "verify", "--db", str(trail)])
    assert result.exit_code == 1
    assert "entry 5" in result.output
    assert "DOES NOT VERIFY" in result.output
    checked = runner.invoke(app, ["check", "--db", str(trail)])
    assert checked.exit_code == 1
    assert "entry 5" in checked.output
    assert "PROBLEMS FOUND" in checked.output


def test_history_lists_who_changed_what(trail: Path) -> None:
    db = connect(trail)
    try:
        entries = history(db, 1)
    finally:
        db.close()
    assert [e.action for e in entries] == ["create", "change"]
    assert entries[1].changes == {"last_name": ("Surname0", "Renamed")}
    assert entries[1].actor == "Dr Audit"
    result = runner.invoke(app, ["audit", "show", "1", "--db", str(trail)])
    assert result.exit_code == 0
    assert "last_name: Surname0 -> Renamed" in result.output
    assert "Dr Audit: change patients 1" in result.output


def test_history_of_an_unknown_patient_is_a_clear_error(trail: Path) -> None:
    result = runner.invoke(app, ["audit", "show", "999", "--db", str(trail)])
    assert result.exit_code == 2
    assert "No audit entries" in result.output


def test_the_head_is_kept_for_files_migrated_with_history(db: ClinicDB) -> None:
    create_patient(db, NewPatient("A", "B", "1970-01-01", "F"), today=DAY)
    entries, last_hash = db.execute("SELECT entries, last_hash FROM audit_head").fetchone()
    assert entries == 1
    assert last_hash == db.execute("SELECT hash FROM audit_log").fetchone()[0]
