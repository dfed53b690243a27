"""The branch recipe of the README, run for real: two PostgreSQL servers on loopback.

A branch's clinic lives in a schema of its own (`branch_vln`) on the branch's server; the
owner publishes that schema's tables; head office takes the schema's definition without
rows (`pg_dump --schema-only`) and subscribes. A patient registered at the branch through
kinesio-tui (as the rooms' role) shows at head office, found by kinesio-tui's search there,
with the branch's trail verifying at head office; head office goes down, the branch keeps
working; head office comes back and catches up; head office's role reads and cannot write.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest
from conftest import DAY
from pg_cluster import APP, BINDIR, OWNER, SUPERUSER, PgCluster, PgDatabase, database
from psycopg import sql

from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.data.engine import Target
from kinesio_tui.data.engines.pg_schema import schema_steps, upgrade_schema
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import create_patient, find_patients, get_patient, update_patient
from kinesio_tui.maintenance.audit import verify_chain

pytestmark = [pytest.mark.slow, pytest.mark.postgresql]

BRANCH = "branch_vln"
PUBLICATION = "kinesio_vln"
SUBSCRIPTION = "ho_vln"
REPLICATOR = "ho_vln"
READER = "ho_reader"


@pytest.fixture
def head_office() -> Iterator[PgCluster]:
    """A second server: head office (started for this test, removed after it)."""
    cluster = PgCluster.start(in_memory=True)
    try:
        yield cluster
    finally:
        cluster.stop()


def _owner(db: PgDatabase) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(db.cluster.conninfo(db.name, OWNER), autocommit=True)


def _set_up_branch(branch: PgDatabase) -> None:
    """kinesio's schema by its owner, the app role's grants, the publication, a replicator."""
    with _owner(branch) as conn:
        upgrade_schema(conn, BRANCH, app_role=APP)
        tables = [
            str(name)
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", [BRANCH]
            )
        ]
        # FOR TABLE (every table of the schema) works for the tables' owner; FOR TABLES IN
        # SCHEMA would need a superuser on PostgreSQL 15.
        conn.execute(
            sql.SQL("CREATE PUBLICATION {} FOR TABLE {}").format(
                sql.Identifier(PUBLICATION),
                sql.SQL(", ").join(sql.Identifier(BRANCH, t) for t in tables),
            )
        )
    branch.psql(f"CREATE ROLE {REPLICATOR} LOGIN REPLICATION PASSWORD 'replicate-{branch.name}'")
    branch.psql(f"GRANT USAGE ON SCHEMA {BRANCH} TO {REPLICATOR}")
    branch.psql(f"GRANT SELECT ON ALL TABLES IN SCHEMA {BRANCH} TO {REPLICATOR}")


def _set_up_head_office(branch: PgDatabase, office: PgDatabase) -> None:
    """The branch schema without rows, a read-only role, and the subscription (superuser)."""
    dump = subprocess.run(
        [str(BINDIR / "pg_dump"), "--schema-only", "--no-owner", "--no-privileges",
         "-n", BRANCH, "-d", branch.cluster.conninfo(branch.name)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    subprocess.run(
        [str(BINDIR / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d",
         office.cluster.conninfo(office.name)],
        input=dump, capture_output=True, text=True, check=True,
    )  # fmt: skip
    office.psql(f"CREATE ROLE {READER} LOGIN")
    office.psql(f"GRANT USAGE ON SCHEMA {BRANCH} TO {READER}")
    office.psql(f"GRANT SELECT ON ALL TABLES IN SCHEMA {BRANCH} TO {READER}")
    # The replicator's password in a passfile head office's server reads (never in the
    # subscription's catalog row).
    passfile = office.cluster.folder / "branches.pgpass"
    passfile.write_text(
        f"127.0.0.1:{branch.cluster.port}:{branch.name}:{REPLICATOR}:replicate-{branch.name}\n"
    )
    passfile.chmod(0o600)
    if office.cluster._run_as:
        shutil.chown(passfile, SUPERUSER, SUPERUSER)
    office.psql(
        f"CREATE SUBSCRIPTION {SUBSCRIPTION} CONNECTION 'host=127.0.0.1 port={branch.cluster.port}"
        f" dbname={branch.name} user={REPLICATOR} passfile={passfile}'"
        f" PUBLICATION {PUBLICATION}"
    )


def _wait_for(what: str, done: Callable[[], bool], timeout: float = 60.0) -> float:
    began = time.monotonic()
    while not done():
        if time.monotonic() - began > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.05)
    return time.monotonic() - began


def _at(office: PgDatabase) -> ClinicDB:
    """Head office's read-only role on the branch's schema, through kinesio-tui itself."""
    target = Target("postgresql", url=office.cluster.url(office.name, READER), schema=BRANCH)
    return connect(target, actor="head office", migrate=False, create=False)


def _found_at(office: PgDatabase, query: str) -> list[tuple[int, str, str, str]]:
    """What head office finds by kinesio-tui's own search."""
    with _at(office) as db:
        return [(p.id, p.first_name, p.last_name, p.phone) for p in find_patients(db, query)]


def _trail_at(office: PgDatabase) -> int:
    """The branch's audit trail as head office holds it: verified there; its entries."""
    with _at(office) as db:
        report = verify_chain(db)
        assert report.ok, report.problems[:3]
        return report.entries


def test_a_branch_replicates_to_head_office_and_catches_up_after_an_outage(
    pg_database: PgDatabase, head_office: PgCluster
) -> None:
    _set_up_branch(pg_database)
    at_branch = connect(
        Target("postgresql", url=pg_database.app_url, schema=BRANCH), actor="branch therapist"
    )
    with database(head_office) as office:
        try:
            _set_up_head_office(pg_database, office)
            _wait_for(
                "initial sync",
                lambda: (
                    office.psql("SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'")
                    == [(0,)]
                ),
            )
            # the schema's own bookkeeping arrived with the rows: head office sees a kinesio
            # schema at the branch's step
            assert office.psql(f"SELECT count(*) FROM {BRANCH}.kinesio_schema") == [
                (len(schema_steps()),)
            ]

            ona = create_patient(
                at_branch,
                NewPatient("Ona", "Vilniūtė", "1960-03-02", "F", "+370 600 11111"),
                today=DAY,
            )
            _wait_for(
                "the branch's patient at head office", lambda: _found_at(office, "vilniut") != []
            )
            assert _found_at(office, "vilniut") == [(ona, "Ona", "Vilniūtė", "+370 600 11111")]
            assert _trail_at(office) == 1

            head_office.pause()  # the WAN is down, or head office's server is
            create_patient(
                at_branch, NewPatient("Petras", "Kaunietis", "1971-07-07", "M"), today=DAY
            )
            shown = get_patient(at_branch, ona)
            update_patient(
                at_branch, ona, NewPatient("Ona", "Vilniūtė", "1960-03-02", "F", "+370 600 22222"),
                expected_version=shown.version, today=DAY,
            )  # fmt: skip
            head_office.resume()

            _wait_for("head office catching up", lambda: _found_at(office, "kauniet") != [])
            _wait_for(
                "the branch's edit at head office",
                lambda: [r[-1] for r in _found_at(office, "vilniut")] == ["+370 600 22222"],
            )
            assert _trail_at(office) == 3
            # Head office reads; it does not write the branch's clinical records.
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                office.psql(f"DELETE FROM {BRANCH}.patients", user=READER)
        finally:
            at_branch.close()
            office.psql(f"DROP SUBSCRIPTION IF EXISTS {SUBSCRIPTION}")
