"""The audit trail: every change recorded, tampering found and named, history readable.

The attacker works on the file with sqlite3 as someone holding a copy of it would: knows
every formula in the source, lacks only the key in the config directory, and drops a
guard trigger only where the trigger would otherwise stop the attack (tests of the
triggers themselves leave them in place). Each attack is aimed at one defence, and the
test names what that defence reports: removing the defence makes the test fail.

On PostgreSQL (every test here runs on both engines unless it is about the file) the
attacker is the schema's owner at the server, the strongest role short of a superuser:
it may drop the guards, and here also the UNIQUE (prev_hash) that makes a fork impossible
there, where an attack needs it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DAY, BuiltClinics
from pg_cluster import APP, OWNER
from typer.testing import CliRunner

from kinesio_tui.cli import app
from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient, PirCycle
from kinesio_tui.domain.patients import (
    archive_patient,
    create_patient,
    get_patient,
    patient_form,
    update_patient,
)
from kinesio_tui.domain.store import canonical, content_hash
from kinesio_tui.domain.visits import record_measurement, record_pir_cycle, start_visit, visits_of
from kinesio_tui.errors import RecordRefused
from kinesio_tui.maintenance.audit import history, verify_chain

pytestmark = pytest.mark.engines("sqlite", "postgresql")

GENESIS = "0" * 64
runner = CliRunner()
#: SQLite's guard triggers as PostgreSQL names them (one trigger refuses both UPDATE and
#: DELETE there: pg/guards.sql).
_PG_GUARDS = {
    "audit_log_only_erasure": ("audit_log_no_change", "audit_log"),
    "audit_log_no_delete": ("audit_log_no_change", "audit_log"),
    "audit_log_head": ("audit_log_head", "audit_log"),
    "audit_head_no_delete": ("audit_head_no_delete", "audit_head"),
}


class Attacker:
    """The database opened with its own tools: sqlite3 on the file, or psql as the owner."""

    def __init__(self, engine: str, target: str) -> None:
        self.postgres = engine == "postgresql"
        self.raw: Any
        if self.postgres:
            import psycopg

            as_app = f"postgresql://{APP}@"  # the clinic's URL as the rooms reach it
            assert target.startswith(as_app), target
            owner_url = f"postgresql://{OWNER}@" + target.removeprefix(as_app)
            self.raw = psycopg.connect(owner_url, autocommit=True)
            self.raw.execute("SET search_path = kinesio")
        else:
            self.raw = sqlite3.connect(target, isolation_level=None)

    def execute(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> Any:
        if self.postgres:  # under the clinic's write lock, as kinesio-tui writes: the
            with self.raw.transaction():  # server refuses an append without it
                self.raw.execute("SELECT pg_advisory_xact_lock(4711, hashtext('kinesio'))")
                return self.raw.execute(sql.replace("?", "%s"), params)
        return self.raw.execute(sql, params)

    def guard(self, sqlite_name: str) -> str:
        """A guard trigger's name on this engine."""
        return _PG_GUARDS[sqlite_name][0] if self.postgres else sqlite_name

    def drop_guard(self, sqlite_name: str) -> None:
        if self.postgres:
            name, table = _PG_GUARDS[sqlite_name]
            self.raw.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        else:
            self.raw.execute(f"DROP TRIGGER IF EXISTS {sqlite_name}")

    def allow_a_fork(self) -> None:
        """PostgreSQL refuses two entries after the same one (UNIQUE prev_hash): drop it."""
        if self.postgres:
            self.raw.execute("ALTER TABLE audit_log DROP CONSTRAINT audit_log_prev_hash_key")

    def close(self) -> None:
        self.raw.close()


def _build_trail(target: str) -> None:
    """A small clinic: three patients, one renamed, one archived (5 entries)."""
    db = connect(target, actor="Dr Audit")
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


@pytest.fixture
def trail(
    request: pytest.FixtureRequest, engine: str, built_clinics: BuiltClinics
) -> Iterator[str]:
    """The small clinic above, the test's own (a copy of the one built once per process)."""
    with built_clinics.copy(request, engine, _build_trail) as target:
        yield target


@pytest.fixture
def clinic(trail: str) -> str:
    """The trail plus a visit in progress for patient 2: a measurement and a PIR set."""
    db = connect(trail, actor="Dr Audit")
    try:
        episode = open_episode(db, 2, NewEpisode("sciatica", "lower", "L"), start=DAY, today=DAY)
        visit = visits_of(db, episode)[0].id
        start_visit(db, visit, today=DAY)
        record_measurement(db, visit, "vas", 6)
        record_pir_cycle(db, visit, PirCycle("piriformis", "L", 7, 30, 20, 3))
    finally:
        db.close()
    return trail


@pytest.fixture
def attacker(engine: str, trail: str) -> Iterator[Attacker]:
    """The database opened raw, every guard in place."""
    raw = Attacker(engine, trail)
    yield raw
    raw.close()


def unkeyed_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    """The chain's formula without the key: all an attacker with only the file can compute."""
    fields = {
        k: entry[k]
        for k in ("at", "actor", "action", "table_name", "record_id", "patient_id", "content_sha")
    }
    return hashlib.sha256((prev_hash + canonical(fields)).encode()).hexdigest()


def rehash_chain(raw: Attacker) -> None:
    """Recompute every entry's hash and link from the start, and the head to match: the
    "drop the triggers and rehash" attack. Needs the update guard out of the way."""
    raw.drop_guard("audit_log_only_erasure")
    prev = GENESIS
    cursor = raw.execute("SELECT * FROM audit_log ORDER BY id")
    names = [c[0] for c in cursor.description]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    raw.execute("UPDATE audit_log SET hash = 'x' || id")  # hash is UNIQUE while we rewrite
    for row in rows:
        old = json.loads(row["old"]) if row["old"] else None
        new = json.loads(row["new"]) if row["new"] else None
        if row["old"] is not None or row["new"] is not None:
            row["content_sha"] = content_hash(old, new)
        row["prev_hash"] = prev
        row["hash"] = unkeyed_hash(prev, row)
        raw.execute(
            "UPDATE audit_log SET content_sha = ?, prev_hash = ?, hash = ? WHERE id = ?",
            [row["content_sha"], row["prev_hash"], row["hash"], row["id"]],
        )
        prev = row["hash"]
    raw.execute(
        "UPDATE audit_head SET entries = ?, last_id = ?, last_hash = ? WHERE id = 1",
        [len(rows), rows[-1]["id"] if rows else None, prev],
    )


def append_forged(raw: Attacker, **fields: Any) -> int:
    """A perfectly chained entry added with a plain INSERT (the head trigger moves the head)."""
    last = _row(raw, raw.execute("SELECT max(id) FROM audit_log").fetchone()[0])
    old, new = fields.pop("old", None), fields.pop("new", None)
    entry: dict[str, Any] = {
        "at": "2026-11-25T18:00:00.000000+00:00",
        "actor": "Dr Audit",
        "action": "change",
        "table_name": "patients",
        "record_id": 1,
        "patient_id": 1,
        **fields,
        "old": canonical(old) if old is not None else None,
        "new": canonical(new) if new is not None else None,
        "content_sha": content_hash(old, new),
        "prev_hash": last["hash"],
    }
    entry.setdefault("key_id", last["key_id"])  # claim the genuine entries' key
    entry["id"] = int(last["id"]) + 1
    entry["hash"] = unkeyed_hash(str(last["hash"]), entry)
    raw.execute(
        f"INSERT INTO audit_log ({', '.join(entry)}) VALUES ({', '.join('?' * len(entry))})",
        list(entry.values()),
    )
    return int(entry["id"])


def _problems(target: str) -> list[tuple[int | None, str]]:
    db = connect(target)
    try:
        return [(p.entry_id, p.what) for p in verify_chain(db).problems]
    finally:
        db.close()


def _row(raw: Attacker, entry_id: int) -> dict[str, Any]:
    cursor = raw.execute("SELECT * FROM audit_log WHERE id = ?", [entry_id])
    return dict(zip([c[0] for c in cursor.description], cursor.fetchone(), strict=True))


def test_an_untouched_trail_verifies(trail: str) -> None:
    assert _problems(trail) == []
    result = runner.invoke(app, ["audit", "verify", "--db", trail])
    assert result.exit_code == 0
    assert "5 entries" in result.output


def test_every_change_is_recorded_with_who_and_old_and_new(trail: str) -> None:
    db = connect(trail)
    try:
        rows = db.execute("SELECT actor, action, old, new FROM audit_log ORDER BY id").fetchall()
    finally:
        db.close()
    assert [r[1] for r in rows] == ["create", "create", "create", "change", "archive"]
    assert {r[0] for r in rows} == {"Dr Audit"}
    assert json.loads(rows[3][2])["last_name"] == "Surname0"
    assert json.loads(rows[3][3])["last_name"] == "Renamed"


def test_the_trail_refuses_update_and_delete_through_sql(trail: str, engine: str) -> None:
    # SQLite: the guard triggers; PostgreSQL: the application's role has no such privilege
    refusal = "permission denied" if engine == "postgresql" else "append-only"
    db = connect(trail)
    try:
        with pytest.raises(RecordRefused, match=refusal):
            db.execute("UPDATE audit_log SET actor = 'someone else' WHERE id = 1")
        with pytest.raises(RecordRefused, match=refusal):
            db.execute("DELETE FROM audit_log WHERE id = 5")
        with pytest.raises(RecordRefused):
            db.execute("DELETE FROM audit_head")
    finally:
        db.close()
    assert _problems(trail) == []


SIGNATURE = "signature does not match"


def _named(problems: list[tuple[int | None, str]], entry: int | None, words: str) -> bool:
    return any(e == entry and words in what for e, what in problems)


def test_an_edited_value_is_found(trail: str, attacker: Attacker) -> None:
    attacker.drop_guard("audit_log_only_erasure")  # else the edit is refused
    new = json.loads(str(_row(attacker, 4)["new"]))
    new["last_name"] = "Forged"
    attacker.execute("UPDATE audit_log SET new = ? WHERE id = 4", [canonical(new)])
    assert _named(_problems(trail), 4, "its recorded values were changed")


def test_an_edited_actor_is_found(trail: str, attacker: Attacker) -> None:
    attacker.drop_guard("audit_log_only_erasure")
    attacker.execute("UPDATE audit_log SET actor = 'Someone Else' WHERE id = 2")
    assert _named(_problems(trail), 2, SIGNATURE)


def test_an_edit_with_recomputed_hashes_is_found(trail: str, attacker: Attacker) -> None:
    attacker.drop_guard("audit_log_only_erasure")
    row = _row(attacker, 3)
    new = json.loads(str(row["new"]))
    new["first_name"] = "Forged"
    row["new"] = canonical(new)
    row["content_sha"] = content_hash(None, new)
    row["hash"] = unkeyed_hash(str(row["prev_hash"]), row)
    attacker.execute(
        "UPDATE audit_log SET new = ?, content_sha = ?, hash = ? WHERE id = 3",
        [row["new"], row["content_sha"], row["hash"]],
    )
    problems = _problems(trail)
    assert _named(problems, 3, SIGNATURE)
    assert _named(problems, 4, "does not follow entry 3")


def test_dropping_the_guards_and_rehashing_the_whole_chain_is_found(
    trail: str, attacker: Attacker
) -> None:
    attacker.drop_guard("audit_log_only_erasure")
    row = _row(attacker, 4)
    new = json.loads(str(row["new"]))
    new["last_name"] = "Forged"
    attacker.execute("UPDATE audit_log SET new = ? WHERE id = 4", [canonical(new)])
    attacker.execute("UPDATE patients SET last_name = 'Forged' WHERE id = 1")
    rehash_chain(attacker)  # every link and the head consistent again, without the key
    problems = _problems(trail)
    assert all(_named(problems, entry, SIGNATURE) for entry in range(1, 6)), problems
    result = runner.invoke(app, ["audit", "verify", "--db", trail])
    assert result.exit_code == 1
    assert "DOES NOT VERIFY" in result.output


def test_a_deleted_entry_is_found(trail: str, attacker: Attacker) -> None:
    attacker.drop_guard("audit_log_no_delete")  # else the delete is refused
    attacker.execute("DELETE FROM audit_log WHERE id = 3")
    problems = _problems(trail)
    assert _named(problems, 4, "entries 3 to 3 are missing")


def test_a_deleted_last_entry_is_found(trail: str, attacker: Attacker) -> None:
    attacker.drop_guard("audit_log_no_delete")
    attacker.execute("DELETE FROM audit_log WHERE id = 5")
    problems = _problems(trail)
    assert any("should hold 5 entries ending at entry 5" in what for _, what in problems)


def test_the_newest_entries_removed_with_their_changes_and_a_matching_head_are_found(
    trail: str, attacker: Attacker
) -> None:
    # undo the archiving of patient 3 and everything that recorded it: row, entry, head
    attacker.drop_guard("audit_log_no_delete")
    created = json.loads(str(_row(attacker, 3)["new"]))
    attacker.execute(
        "UPDATE patients SET archived_at = NULL, updated_at = ?, version = 1 WHERE id = 3",
        [created["updated_at"]],
    )
    attacker.execute("DELETE FROM audit_log WHERE id = 5")
    fourth = _row(attacker, 4)
    attacker.execute(
        "UPDATE audit_head SET entries = 4, last_id = 4, last_hash = ? WHERE id = 1",
        [fourth["hash"]],
    )
    problems = _problems(trail)
    assert any(e is None and "head" in what and SIGNATURE in what for e, what in problems)


def test_swapped_entries_are_found(trail: str, attacker: Attacker) -> None:
    attacker.drop_guard("audit_log_only_erasure")
    a, b = _row(attacker, 2), _row(attacker, 3)
    columns = [c for c in a if c != "id"]
    assignments = ", ".join(f"{c} = ?" for c in columns)
    # hash (and, on PostgreSQL, prev_hash) is UNIQUE
    attacker.execute("UPDATE audit_log SET hash = 'moving', prev_hash = 'moving' WHERE id = 3")
    attacker.execute(f"UPDATE audit_log SET {assignments} WHERE id = 2", [b[c] for c in columns])
    attacker.execute(f"UPDATE audit_log SET {assignments} WHERE id = 3", [a[c] for c in columns])
    named = {p[0] for p in _problems(trail)}
    assert {2, 3} <= named


def test_an_entry_inserted_in_the_middle_is_found(trail: str, attacker: Attacker) -> None:
    # make room at id 3 as an attacker would (shift later entries up), then forge a
    # perfectly hashed entry linked to entry 2
    attacker.drop_guard("audit_log_only_erasure")
    attacker.allow_a_fork()
    for entry_id in (5, 4, 3):
        attacker.execute("UPDATE audit_log SET id = id + 1 WHERE id = ?", [entry_id])
    prev = _row(attacker, 2)
    forged: dict[str, Any] = {
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
        "key_id": prev["key_id"],
    }
    forged["hash"] = unkeyed_hash(str(prev["hash"]), forged)
    attacker.execute(
        f"INSERT INTO audit_log (id, {', '.join(forged)}) VALUES (3, {', '.join('?' * len(forged))})",
        list(forged.values()),
    )
    problems = _problems(trail)
    assert _named(problems, 3, SIGNATURE)
    assert 4 in {p[0] for p in problems}  # the shifted entry no longer follows the forged one


def test_a_correctly_hashed_entry_appended_with_a_plain_insert_is_found(
    trail: str, attacker: Attacker
) -> None:
    # every trigger in place: the head trigger counts the forgery in as genuine
    archived = json.loads(str(_row(attacker, 5)["new"]))["archived_at"]
    forged = append_forged(
        attacker,
        action="unarchive",
        record_id=3,
        patient_id=3,
        old={"archived_at": archived},
        new={"archived_at": None},
    )
    attacker.execute("UPDATE patients SET archived_at = NULL WHERE id = 3")
    problems = _problems(trail)
    assert _named(problems, forged, SIGNATURE), problems


def test_an_unkeyed_entry_appended_after_the_key_is_found(trail: str, attacker: Attacker) -> None:
    forged = append_forged(attacker, key_id=None, old={"notes": ""}, new={"notes": "x"})
    problems = _problems(trail)
    assert _named(problems, forged, "without the audit key"), problems


def test_a_forged_erasure_that_blanks_a_living_patients_history_is_found(
    trail: str, attacker: Attacker
) -> None:
    # the guard lets content be blanked (erasure does that); the erase entry is forged
    attacker.execute("UPDATE audit_log SET old = NULL, new = NULL WHERE patient_id = 1")
    forged = append_forged(
        attacker,
        action="erase",
        record_id=1,
        patient_id=1,
        new={"rows_removed": {"patients": 1}},
    )
    problems = _problems(trail)
    assert _named(problems, forged, SIGNATURE), problems
    assert any("patients record 1 still exists" in what for _, what in problems), problems


def test_values_blanked_without_an_erasure_are_found(trail: str, attacker: Attacker) -> None:
    attacker.execute("UPDATE audit_log SET old = NULL, new = NULL WHERE id = 4")  # allowed
    assert _named(_problems(trail), 4, "its values were blanked without an erasure record")


def test_dropping_the_head_and_its_triggers_is_found(trail: str, attacker: Attacker) -> None:
    for trigger in ("audit_log_head", "audit_head_no_delete", "audit_log_no_delete"):
        attacker.drop_guard(trigger)
    attacker.execute("DROP TABLE audit_head")
    attacker.execute("DELETE FROM audit_log WHERE id = 5")
    attacker.execute("UPDATE patients SET archived_at = NULL WHERE id = 3")
    problems = _problems(trail)
    assert any(e is None and "audit_head" in what for e, what in problems), problems
    guard = attacker.guard("audit_log_no_delete")
    assert any("guard" in what and guard in what for _, what in problems), problems


def test_a_direct_update_of_a_measurement_is_found(clinic: str, attacker: Attacker) -> None:
    attacker.execute("UPDATE measurements SET value_num = 2")
    problems = _problems(clinic)
    assert any("measurements record 1" in w and "value_num" in w for _, w in problems), problems
    result = runner.invoke(app, ["check", "--db", clinic])
    assert result.exit_code == 1
    assert "measurements record 1" in result.output


def test_a_direct_delete_of_pir_cycles_is_found(clinic: str, attacker: Attacker) -> None:
    attacker.execute("DELETE FROM pir_cycles")
    problems = _problems(clinic)
    assert any("pir_cycles record 1 is gone" in w for _, w in problems), problems
    result = runner.invoke(app, ["audit", "verify", "--db", clinic])
    assert result.exit_code == 1


def test_a_row_added_without_an_entry_is_found(clinic: str, attacker: Attacker) -> None:
    attacker.execute(
        "INSERT INTO measurements (id, visit_id, test_code, value_num, recorded_at, uuid) "
        "SELECT 2, visit_id, 'schober', 4, recorded_at, ? FROM measurements",
        ["6b0f3f4e-1c39-4c1e-9a4e-2f1d2b3c4d5e"],
    )
    problems = _problems(clinic)
    assert any("measurements record 2 has no audit entry" in w for _, w in problems), problems


def test_verify_and_check_commands_name_the_entry_and_fail(trail: str, attacker: Attacker) -> None:
    attacker.drop_guard("audit_log_only_erasure")
    attacker.execute("UPDATE audit_log SET action = 'create' WHERE id = 5")
    result = runner.invoke(app, ["audit", "verify", "--db", trail])
    assert result.exit_code == 1
    assert "entry 5" in result.output
    assert "DOES NOT VERIFY" in result.output
    checked = runner.invoke(app, ["check", "--db", trail])
    assert checked.exit_code == 1
    assert "entry 5" in checked.output
    assert "PROBLEMS FOUND" in checked.output


def test_history_lists_who_changed_what(trail: str) -> None:
    db = connect(trail)
    try:
        entries = history(db, 1)
    finally:
        db.close()
    assert [e.action for e in entries] == ["create", "change"]
    assert entries[1].changes == {"last_name": ("Surname0", "Renamed")}
    assert entries[1].actor == "Dr Audit"
    result = runner.invoke(app, ["audit", "show", "1", "--db", trail])
    assert result.exit_code == 0
    assert "last_name: Surname0 -> Renamed" in result.output
    assert "Dr Audit: change patients 1" in result.output


def test_history_of_an_unknown_patient_is_a_clear_error(trail: str) -> None:
    result = runner.invoke(app, ["audit", "show", "999", "--db", trail])
    assert result.exit_code == 2
    assert "No audit entries" in result.output


def test_the_head_is_kept_for_files_migrated_with_history(db: ClinicDB) -> None:
    create_patient(db, NewPatient("A", "B", "1970-01-01", "F"), today=DAY)
    entries, last_hash = db.execute("SELECT entries, last_hash FROM audit_head").fetchone()
    assert entries == 1
    assert last_hash == db.execute("SELECT hash FROM audit_log").fetchone()[0]


@pytest.mark.sqlite_only  # a backup file carried to another computer
def test_a_trail_signed_on_another_computer_says_which_key_it_needs(
    trail: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kinesio_tui.errors import KinesioError
    from kinesio_tui.maintenance.backup import backup_database, restore_database

    copy = backup_database(Path(trail), tmp_path / "from-the-old-pc.db")
    monkeypatch.setenv("KINESIO_AUDIT_KEY", str(tmp_path / "new-pc" / "audit.key"))
    result = runner.invoke(app, ["audit", "verify", "--db", trail])
    assert result.exit_code == 1
    assert "which is not on this computer" in result.output
    assert "Copy audit.key" in result.output
    assert not (tmp_path / "new-pc").exists()  # verifying never creates a key
    fresh = tmp_path / "new.db"
    connect(fresh).close()  # the new computer's own clinic file (and key)
    with pytest.raises(KinesioError, match="not on this computer"):
        restore_database(fresh, copy)


def _as_left_by_schema_4(path: str) -> None:
    """Turn a file into what kinesio-tui before the key left: unkeyed SHA-256 chain, no
    key columns, no retired ids, schema 4. (Also exactly what a downgrade attack makes.)"""
    from kinesio_tui.data.migrations import _AUDIT_GUARD_0004

    raw = Attacker("sqlite", path)
    rehash_chain(raw)
    raw.execute(_AUDIT_GUARD_0004[4])  # the update guard rehash_chain had to drop
    for column in ("key_id", "mac", "legacy_entries", "legacy_hash", "seal", "seal_key_id"):
        raw.execute(f"ALTER TABLE audit_head DROP COLUMN {column}")
    raw.execute("ALTER TABLE audit_log DROP COLUMN key_id")
    raw.execute("DROP TRIGGER retired_ids_no_delete")
    raw.execute("DROP TABLE retired_ids")
    raw.execute("DELETE FROM _sqlite_migrations WHERE name = '0005_keyed_audit'")
    raw.execute("PRAGMA user_version = 4")
    raw.close()


@pytest.mark.sqlite_only  # a file as an older kinesio-tui left it
def test_a_trail_from_before_the_key_verifies_and_is_sealed_by_the_upgrade(trail: str) -> None:
    _as_left_by_schema_4(trail)
    unkeyed = runner.invoke(app, ["audit", "verify", "--db", trail])
    assert unkeyed.exit_code == 0, unkeyed.output
    assert "not keyed" in unkeyed.output
    db = connect(trail)  # upgrades: the 5 unkeyed entries are sealed by the key
    try:
        create_patient(db, NewPatient("After", "Upgrade", "1970-01-01", "F"), today=DAY)
        report = verify_chain(db)
        assert report.ok, report.problems
        assert (report.entries, report.unkeyed) == (6, 5)
    finally:
        db.close()
    # the sealed entries cannot be rewritten either, even with every later link redone
    raw = Attacker("sqlite", trail)
    raw.drop_guard("audit_log_only_erasure")
    raw.execute("UPDATE audit_log SET actor = 'Someone Else' WHERE id = 2")
    prev = GENESIS
    for entry_id in range(1, 6):
        row = _row(raw, entry_id)
        row["prev_hash"] = prev
        row["hash"] = unkeyed_hash(prev, row)
        raw.execute(
            "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?",
            [row["prev_hash"], row["hash"], entry_id],
        )
        prev = row["hash"]
    raw.close()
    problems = _problems(trail)
    assert _named(problems, 5, "no longer match their seal"), problems


def test_the_key_is_made_private_on_the_first_write_and_never_by_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stat

    monkeypatch.delenv("KINESIO_AUDIT_KEY")
    key = tmp_path / "xdg-config" / "kinesio-tui" / "audit.key"
    db_file = tmp_path / "first.db"
    connect(db_file).close()  # a new file is keyed as it is made
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert len(bytes.fromhex(key.read_text().strip())) == 32
    before = key.read_bytes()
    with connect(db_file) as db:
        create_patient(db, NewPatient("Ona", "Keyed", "1970-01-01", "F"), today=DAY)
        assert verify_chain(db).ok
    assert key.read_bytes() == before  # one key, never replaced
    key.unlink()  # a later session on a computer without it: a real process, a fresh start
    kinesio = Path(sys.executable).with_name("kinesio")
    result = subprocess.run(
        [str(kinesio), "audit", "verify", "--db", str(db_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1 and "does not exist" in result.stderr
    assert not key.exists()


def test_check_warns_when_rooms_sign_with_different_audit_keys(
    trail: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a second workstation writing to the same database with a key of its own
    monkeypatch.setenv("KINESIO_AUDIT_KEY", str(tmp_path / "room-2" / "audit.key"))
    with connect(trail, actor="Room 2") as db:
        create_patient(db, NewPatient("Second", "Room", "1970-01-01", "F"), today=DAY)
    checked = runner.invoke(app, ["check", "--db", trail])
    assert checked.exit_code == 1
    assert "signed with 2 different audit keys" in checked.output
    assert "same audit.key" in checked.output
