"""A throwaway PostgreSQL 15 cluster for the tests: one per test process (xdist worker).

`initdb` into a short folder under /tmp, or in memory for the tests (`start(in_memory=True)`,
see IN_MEMORY), as the `postgres` user through `runuser` when the tests run as root, else as
the caller, a unix socket in that folder and a free loopback port, durability off (`fsync`,
`synchronous_commit`, `full_page_writes`: a crash loses nothing that matters here), `wal_level=logical` so that the branch tests can replicate.
Two login roles as the product expects them: `kinesio_owner` (owns each database and its
schema) and `kinesio_app` (what the workstation connects as); their passwords live only in
a 0600 passfile. The socket accepts anyone without a password (`trust`), TCP asks for it
(`scram-sha-256`), so the password tests use `url(..., tcp=True)`.

The cluster is stopped and its folder deleted three ways: the session fixture's finalizer,
an `atexit` hook, and a watchdog process that holds the read end of a pipe from this
process and cleans up when it closes, so a worker killed outright (SIGKILL, a lost xdist
channel) leaves no server and no folder behind.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import quote

BINDIR = Path("/usr/lib/postgresql/15/bin")
NOT_INSTALLED = "PostgreSQL 15 is not installed: apt-get install postgresql-15"
SUPERUSER = "postgres"
OWNER = "kinesio_owner"
APP = "kinesio_app"
#: The extensions the product's schema needs (search), created in every test database.
EXTENSIONS = ("unaccent", "pg_trgm")
#: Every test database is cloned from this one (the extensions already in it).
EMPTY_TEMPLATE = "tpl_empty"

#: Where a cluster's folder is made: on the disk (what a benchmark that turns fsync back on
#: needs), or for the tests' clusters in memory when there is a tmpfs. Every test that
#: clones a database waits for CREATE DATABASE's two checkpoints and its file copy, and for
#: DROP DATABASE's removal; on the disk that six test runs shared those took 85-400 ms per
#: clone at load 12, in memory 26-56 ms (same script and settings, runs alternated).
#: Nothing of a test cluster outlives the session, and no test is about the disk under the
#: server. Short paths: the socket's path must fit in 107 bytes.
ON_DISK = "/tmp"
IN_MEMORY = "/dev/shm"

_SERVER_SETTINGS = (
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "wal_level=logical",
    "max_wal_senders=10",
    "max_replication_slots=10",
    "max_connections=60",
    "shared_buffers=16MB",
    "log_min_messages=warning",
)

# Run by `python -c` in its own session: waits for EOF on stdin (the test process closed the
# pipe or died), then stops the server if it still runs and deletes the folder.
_WATCHDOG = """
import os, shutil, subprocess, sys
folder, pg_ctl, run_as = sys.argv[1], sys.argv[2], sys.argv[3:]
sys.stdin.buffer.read()
data = os.path.join(folder, "data")
if os.path.exists(os.path.join(data, "postmaster.pid")):
    subprocess.run([*run_as, pg_ctl, "-D", data, "-w", "-s", "-m", "immediate", "stop"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
shutil.rmtree(folder, ignore_errors=True)
"""


class PostgresMissing(RuntimeError):
    """initdb is not where Debian's postgresql-15 puts it."""


def installed() -> bool:
    return (BINDIR / "initdb").is_file() and os.access(BINDIR / "initdb", os.X_OK)


def _scratch(in_memory: bool) -> str:
    """IN_MEMORY when asked for and this process may make folders in it, else ON_DISK."""
    usable = os.path.isdir(IN_MEMORY) and os.access(IN_MEMORY, os.W_OK | os.X_OK)
    return IN_MEMORY if in_memory and usable else ON_DISK


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _run_as_postgres() -> list[str]:
    """The command prefix that runs a PostgreSQL program as a non-root user."""
    return ["runuser", "-u", SUPERUSER, "--"] if os.geteuid() == 0 else []


@dataclass
class PgCluster:
    """A running throwaway cluster; `start()` makes one, `stop()` removes every trace."""

    folder: Path
    port: int
    passfile: Path
    passwords: dict[str, str]
    _run_as: list[str]
    _watchdog: subprocess.Popen[bytes] | None = None
    _names: Iterator[int] = field(default_factory=lambda: count(1))
    started_s: float = 0.0

    @property
    def socket_dir(self) -> Path:
        return self.folder

    @property
    def data(self) -> Path:
        return self.folder / "data"

    # -- addresses ---------------------------------------------------------------------

    def url(self, dbname: str = "postgres", user: str = SUPERUSER, *, tcp: bool = False) -> str:
        """The libpq URL of `dbname` as `user`: over the socket (no password asked), or
        `tcp=True` over 127.0.0.1 (the password comes from the passfile, PGPASSFILE)."""
        if tcp:
            return f"postgresql://{quote(user)}@127.0.0.1:{self.port}/{quote(dbname)}"
        host = quote(str(self.socket_dir), safe="")
        return f"postgresql://{quote(user)}@/{quote(dbname)}?host={host}&port={self.port}"

    def conninfo(self, dbname: str = "postgres", user: str = SUPERUSER) -> str:
        return f"host={self.socket_dir} port={self.port} dbname={dbname} user={user}"

    # -- statements --------------------------------------------------------------------

    def psql(
        self,
        sql: str,
        dbname: str = "postgres",
        user: str = SUPERUSER,
        params: Sequence[Any] | None = None,
    ) -> list[tuple[Any, ...]]:
        """Run `sql` (psycopg's `%s` placeholders when `params`) in autocommit as `user`
        over the socket; the rows of the last statement, or [] when it returns none."""
        import psycopg

        with psycopg.connect(self.conninfo(dbname, user), autocommit=True) as conn:
            cursor = (
                conn.execute(sql.encode(), params)
                if params is not None
                else conn.execute(sql.encode())
            )
            return list(cursor.fetchall()) if cursor.description is not None else []

    def new_name(self, prefix: str = "t") -> str:
        return f"{prefix}_{os.getpid()}_{next(self._names)}"

    def create_database(
        self, name: str, *, template: str = EMPTY_TEMPLATE, owner: str = OWNER
    ) -> None:
        self.psql(
            f'CREATE DATABASE "{name}" OWNER "{owner}" TEMPLATE "{template}" STRATEGY FILE_COPY'
        )

    def drop_database(self, name: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    # -- life --------------------------------------------------------------------------

    @classmethod
    def start(cls, *, in_memory: bool = False) -> PgCluster:
        """A new cluster, its folder in memory with `in_memory` when there is a tmpfs."""
        if not installed():
            raise PostgresMissing(NOT_INSTALLED)
        began = time.perf_counter()
        run_as = _run_as_postgres()
        folder = Path(
            tempfile.mkdtemp(prefix="kpg-", dir=_scratch(in_memory))
        )  # socket <= 107 bytes
        passwords = {user: secrets.token_urlsafe(18) for user in (SUPERUSER, OWNER, APP)}
        cluster = cls(folder, 0, folder / "pgpass", passwords, run_as)
        try:
            cluster._start_watchdog()
            cluster._initdb()
            cluster._launch()
            cluster._create_roles_and_template()
        except BaseException:
            cluster.stop()
            raise
        cluster.started_s = time.perf_counter() - began
        atexit.register(cluster.stop)
        return cluster

    def _start_watchdog(self) -> None:
        self._watchdog = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WATCHDOG,
                str(self.folder),
                str(BINDIR / "pg_ctl"),
                *self._run_as,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl+C at the terminal must not kill it before it cleans
        )

    def _chown_to_postgres(self, *paths: Path) -> None:
        if self._run_as:
            for path in paths:
                shutil.chown(path, SUPERUSER, SUPERUSER)

    def _initdb(self) -> None:
        self.folder.chmod(0o700)
        pwfile = self.folder / "pw"
        pwfile.write_text(self.passwords[SUPERUSER] + "\n")
        pwfile.chmod(0o600)
        self._chown_to_postgres(self.folder, pwfile)
        self._run(
            BINDIR / "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            f"--pwfile={pwfile}",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        pwfile.unlink()

    def _launch(self) -> None:
        for attempt in range(3):  # the free port may be taken between probe and bind
            self.port = _free_port()
            try:
                self.resume()
                break
            except subprocess.CalledProcessError:
                if attempt == 2:
                    raise
        self._write_passfile()

    def _write_passfile(self) -> None:
        lines = [
            f"127.0.0.1:{self.port}:*:{user}:{password}"
            for user, password in self.passwords.items()
        ]
        self.passfile.write_text("\n".join(lines) + "\n")
        self.passfile.chmod(0o600)

    def _create_roles_and_template(self) -> None:
        from psycopg import sql

        for role in (OWNER, APP):
            create = sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(self.passwords[role])
            )
            self.psql(create.as_string())
        self.psql(f"CREATE DATABASE {EMPTY_TEMPLATE} IS_TEMPLATE true")
        self.psql(
            "; ".join(f"CREATE EXTENSION {name}" for name in EXTENSIONS), dbname=EMPTY_TEMPLATE
        )

    def _run(self, *command: str | Path) -> None:
        try:
            subprocess.run(
                [*self._run_as, *map(str, command)],
                check=True,
                capture_output=True,
                cwd=self.folder,  # runuser's postgres must be able to stand in the folder
            )
        except subprocess.CalledProcessError as error:
            log = self.folder / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            error.add_note(f"{error.stderr.decode(errors='replace')}\n{tail}")
            raise

    def pause(self) -> None:
        """Stop the server as an outage would (fast shutdown), keeping its data and port."""
        self._run(BINDIR / "pg_ctl", "-D", str(self.data), "-w", "-s", "-m", "fast", "stop")

    def resume(self, *overrides: str) -> None:
        """Start the server (again, after `pause`) on its port; `overrides` ("name=value")
        come after the test settings and win (command-line settings outrank ALTER SYSTEM)."""
        options = " ".join(
            ["-c listen_addresses=127.0.0.1", f"-k {self.folder}"]
            + [f"-c {s}" for s in (*_SERVER_SETTINGS, *overrides)]
        )
        self._run(
            BINDIR / "pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "-s",
            "-o", f"-p {self.port} {options}", "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop the server (fast, then immediate) and delete the folder; idempotent."""
        if (self.data / "postmaster.pid").exists():
            for mode in ("fast", "immediate"):
                with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                    subprocess.run(
                        [
                            *self._run_as,
                            str(BINDIR / "pg_ctl"),
                            "-D",
                            str(self.data),
                            "-w",
                            "-s",
                            "-m",
                            mode,
                            "stop",
                        ],
                        check=True,
                        capture_output=True,
                        timeout=30,
                    )
                    break
        shutil.rmtree(self.folder, ignore_errors=True)
        if self._watchdog is not None:
            watchdog, self._watchdog = self._watchdog, None
            with contextlib.suppress(OSError):
                assert watchdog.stdin is not None
                watchdog.stdin.close()  # it finds nothing left and exits
            with contextlib.suppress(subprocess.TimeoutExpired):
                watchdog.wait(timeout=10)


@dataclass(frozen=True)
class PgDatabase:
    """One fresh database of the test cluster, owned by `kinesio_owner`."""

    cluster: PgCluster
    name: str

    @property
    def owner_url(self) -> str:
        return self.cluster.url(self.name, OWNER)

    @property
    def app_url(self) -> str:
        return self.cluster.url(self.name, APP)

    def psql(
        self, sql: str, user: str = SUPERUSER, params: Sequence[Any] | None = None
    ) -> list[tuple[Any, ...]]:
        return self.cluster.psql(sql, self.name, user, params)


@contextlib.contextmanager
def database(cluster: PgCluster, *, template: str = EMPTY_TEMPLATE) -> Iterator[PgDatabase]:
    """A database cloned from `template` for the length of the block, then dropped."""
    name = cluster.new_name()
    cluster.create_database(name, template=template)
    try:
        yield PgDatabase(cluster, name)
    finally:
        cluster.drop_database(name)
