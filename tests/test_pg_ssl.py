"""`sslmode` in the URL is honoured, against a real server speaking TLS: a cluster of this
test's own (ssl on, a self-signed certificate made here with openssl, which Debian's
postgresql-15 brings in through ssl-cert), reached over TCP on loopback.

- `sslmode=require`: the workstation's connection is encrypted (pg_stat_ssl says so);
- `sslmode=verify-full` with the server's own certificate as the root: accepted;
- `sslmode=verify-full` with another root: one line naming the failed verification,
  exit 2, nothing written.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from conftest import DAY
from pg_cluster import APP, OWNER, SUPERUSER, PgCluster
from real_cli import assert_one_line_refusal, run

from kinesio_tui.data.db import connect
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import create_patient

OPENSSL = shutil.which("openssl")


def _self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key (P-256, one day): (cert, key)."""
    if OPENSSL is None:
        pytest.fail("openssl is not installed (Debian: apt-get install openssl)", pytrace=False)
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(
        [
            OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(cert),
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    key.chmod(0o600)
    return cert, key


@pytest.fixture(scope="module")
def tls_cluster(
    pg_cluster: PgCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[PgCluster, Path]]:
    """A cluster with ssl on and the server certificate made here; (cluster, its cert).
    Its own, not the session's `pg_cluster` (asked for so that this is a PostgreSQL test
    as the suite counts them: left out when KINESIO_TEST_ENGINES leaves PostgreSQL out)."""
    cluster = PgCluster.start(in_memory=True)
    try:
        folder = cluster.folder / "tls"
        folder.mkdir(mode=0o700)
        cert, key = _self_signed(folder, "server")
        for path in (folder, cert, key):
            if os.geteuid() == 0:  # the server runs as postgres (runuser) and reads them
                shutil.chown(path, SUPERUSER, SUPERUSER)
        cluster.psql(f"ALTER SYSTEM SET ssl_cert_file = '{cert}'")
        cluster.psql(f"ALTER SYSTEM SET ssl_key_file = '{key}'")
        cluster.psql("ALTER SYSTEM SET ssl = on")
        cluster.psql("SELECT pg_reload_conf()")
        deadline = time.monotonic() + 20
        while cluster.psql("SHOW ssl") != [("on",)]:
            assert time.monotonic() < deadline, "the server did not turn ssl on"
            time.sleep(0.05)
        public = tmp_path_factory.mktemp("tls") / "server-root.crt"
        shutil.copyfile(cert, public)
        yield cluster, public
    finally:
        cluster.stop()


@pytest.fixture
def tls(
    tls_cluster: tuple[PgCluster, Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[PgCluster, str, Path]]:
    """A fresh empty database on the TLS cluster: (cluster, its name, the server's cert)."""
    cluster, root = tls_cluster
    monkeypatch.setenv("PGPASSFILE", str(cluster.passfile))
    name = cluster.new_name()
    cluster.create_database(name)
    try:
        yield cluster, name, root
    finally:
        cluster.drop_database(name)


def _url(cluster: PgCluster, name: str, user: str, **query: str | Path) -> str:
    params = "&".join(f"{key}={quote(str(value), safe='/')}" for key, value in query.items())
    return f"{cluster.url(name, user, tcp=True)}?{params}"


def _schemas(cluster: PgCluster, name: str) -> list[tuple[object, ...]]:
    return cluster.psql(
        "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' ORDER BY 1", name
    )


def test_sslmode_require_encrypts_the_connection(tls: tuple[PgCluster, str, Path]) -> None:
    cluster, name, _root = tls
    owner = _url(cluster, name, OWNER, sslmode="require")
    app = _url(cluster, name, APP, sslmode="require")
    made = run("init", "--db", owner, "--app-role", APP)
    assert made.code == 0, made
    with connect(app, actor="Room 1") as db:
        create_patient(db, NewPatient("Ona", "Encrypted", "1970-01-01", "F"), today=DAY)
        ssl, version = db.execute(
            "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ).fetchone()
        assert ssl is True
        assert str(version).startswith("TLS")
    listed = run("patients", "list", "--db", app)
    assert listed.code == 0, listed
    assert "Encrypted" in listed.out
    # without TLS the same server says no: sslmode is what asked for it above
    with psycopg.connect(_url(cluster, name, APP, sslmode="disable")) as plain:
        row = plain.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
        assert row == (False,)


def test_verify_full_accepts_the_server_s_own_certificate(
    tls: tuple[PgCluster, str, Path],
) -> None:
    cluster, name, root = tls
    owner = _url(cluster, name, OWNER, sslmode="verify-full", sslrootcert=root)
    made = run("init", "--db", owner, "--app-role", APP)
    assert made.code == 0, made
    assert _schemas(cluster, name)[-1] == ("public",)
    assert ("kinesio",) in _schemas(cluster, name)


def test_verify_full_with_another_root_is_refused_in_one_line_and_writes_nothing(
    tls: tuple[PgCluster, str, Path], tmp_path: Path
) -> None:
    cluster, name, _root = tls
    wrong, _key = _self_signed(tmp_path, "someone-else")
    before = _schemas(cluster, name)
    owner = _url(cluster, name, OWNER, sslmode="verify-full", sslrootcert=wrong)
    ran = run("init", "--db", owner, "--app-role", APP)
    assert_one_line_refusal(ran)
    assert f"Cannot connect to 127.0.0.1:{cluster.port}/{name} (schema kinesio)" in ran.err
    assert "SSL error: certificate verify failed" in ran.err
    assert f"not signed by the root certificate in {wrong}" in ran.err
    assert _schemas(cluster, name) == before
    assert ("kinesio",) not in before
