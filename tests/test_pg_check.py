"""`kinesio check` and `audit verify` on PostgreSQL: what the server's catalogs can say that a
file cannot (a role allowed to change the trail, a guard disabled rather than dropped, an
index check only when amcheck may run), and links checked per foreign key.

The clinic is made by its owner for the application's role and the commands connect as
that role, as the workstations do; the damage is done as a superuser would do it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from conftest import DAY
from typer.testing import CliRunner

from kinesio_tui.cli import app
from kinesio_tui.data.db import connect
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient
from kinesio_tui.domain.patients import create_patient

if TYPE_CHECKING:
    from pg_cluster import PgDatabase

runner = CliRunner()


@pytest.fixture
def clinic(pg_clinic: PgDatabase) -> str:
    """Two patients, one with an episode, written as the application's role."""
    with connect(pg_clinic.app_url, actor="Dr Check") as db:
        pid = create_patient(db, NewPatient("Ona", "Check", "1970-01-01", "F"), today=DAY)
        create_patient(db, NewPatient("Jonas", "Check", "1971-01-01", "M"), today=DAY)
        open_episode(db, pid, NewEpisode("sciatica", "lower", "L"), start=DAY, today=DAY)
    return pg_clinic.app_url


def _check(url: str) -> tuple[int, str]:
    result = runner.invoke(app, ["check", "--db", url])
    return result.exit_code, result.output


def test_a_healthy_clinic_checks_ok_and_says_the_indexes_were_not_checked(clinic: str) -> None:
    code, output = _check(clinic)
    assert code == 0, output
    assert "Integrity: index structure not checked" in output
    assert "Links between records: ok" in output
    assert "Audit trail: ok (" in output
    assert "healthy" in output
    verified = runner.invoke(app, ["audit", "verify", "--db", clinic])
    assert verified.exit_code == 0, verified.output


def test_the_indexes_are_checked_when_amcheck_may_run(pg_clinic: PgDatabase, clinic: str) -> None:
    pg_clinic.psql("CREATE EXTENSION amcheck")
    pg_clinic.psql("GRANT EXECUTE ON FUNCTION bt_index_check(regclass) TO kinesio_app")
    code, output = _check(clinic)
    assert code == 0, output
    assert "Integrity: ok" in output


def test_a_role_allowed_to_change_the_trail_is_a_problem(
    pg_clinic: PgDatabase, clinic: str
) -> None:
    pg_clinic.psql("GRANT UPDATE, DELETE ON kinesio.audit_log TO kinesio_app")
    code, output = _check(clinic)
    assert code == 1, output
    assert "the role kinesio_app may UPDATE the audit trail" in output
    assert "the role kinesio_app may DELETE the audit trail" in output
    verified = runner.invoke(app, ["audit", "verify", "--db", clinic])
    assert verified.exit_code == 1 and "kinesio_app may UPDATE" in verified.output


def test_an_app_role_inside_the_owners_role_is_a_problem(
    pg_clinic: PgDatabase, clinic: str
) -> None:
    pg_clinic.psql("GRANT kinesio_owner TO kinesio_app")
    try:
        code, output = _check(clinic)
    finally:
        pg_clinic.psql("REVOKE kinesio_owner FROM kinesio_app")
    assert code == 1, output
    assert "the role kinesio_app may TRUNCATE the audit trail" in output


def test_a_disabled_guard_is_found(pg_clinic: PgDatabase, clinic: str) -> None:
    pg_clinic.psql("ALTER TABLE kinesio.audit_log DISABLE TRIGGER audit_log_no_change")
    code, output = _check(clinic)
    assert code == 1, output
    assert "the guard audit_log_no_change was disabled" in output


def test_a_record_pointing_at_a_missing_one_is_found(pg_clinic: PgDatabase, clinic: str) -> None:
    # foreign keys are triggers on PostgreSQL: a superuser in replica mode skips them
    pg_clinic.psql(
        "SET session_replication_role = replica;"
        " UPDATE kinesio.episodes SET patient_id = 99 WHERE id = 1"
    )
    code, output = _check(clinic)
    assert code == 1, output
    assert "Links between records: BROKEN" in output
    assert "episodes row 1 points at a missing patients record" in output
