"""PostgreSQL, the shared engine: one psycopg connection to the clinic's schema.

Imported only for a `postgresql://` target (data/db.py imports it on demand), so psycopg
never loads for an SQLite file. What differs from SQLite lives here:

- connecting: the URL is checked by libpq's own parser before any connection is made; a
  password in it is refused (libpq reads PGPASSFILE or ~/.pgpass, which must be 0600);
  `connect_timeout` 5 s unless the URL says otherwise; `application_name` kinesio-tui;
  `search_path` the clinic's schema, then public (where the search extensions live);
- statements come in SQLite's paramstyle and are translated once each (`paramstyle`);
- the connection autocommits, as SQLite's reads do; `begin_write` is BEGIN plus an advisory
  lock polled up to the caller's wait (a blocking lock_timeout would abort the transaction),
  READ COMMITTED so that every statement after the lock sees the previous writer's commit;
- psycopg's errors become the neutral errors of `kinesio_tui.errors`;
- the schema is pgschema's (`pg_schema.inspect_schema` / `upgrade_schema`): the owner's role
  brings it up to date on connect, the application's role is told to ask the owner.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus
from psycopg.types.string import TextLoader

from kinesio_tui.data.engine import Parameters, Target
from kinesio_tui.data.engines.paramstyle import to_pyformat
from kinesio_tui.errors import (
    DatabaseBusy,
    DatabaseGone,
    DatabaseUnreachable,
    KinesioError,
    RecordRefused,
    RefusalKind,
    SchemaPending,
)

Connection = psycopg.Connection[Any]
Cursor = psycopg.Cursor[Any]

#: The first key of the write lock (the second is the schema's name, hashed): the same
#: number on every workstation, so writes to one schema wait for each other.
WRITE_LOCK = 4711
#: Seconds a connection attempt may take unless the URL sets `connect_timeout`.
CONNECT_TIMEOUT_S = 5
APPLICATION_NAME = "kinesio-tui"
#: How often a waiting write asks for the lock again: quickly at first, then every 50 ms.
_FIRST_POLL_S = 0.01
_LAST_POLL_S = 0.05

#: sqlstates (and classes) the schema uses to refuse a row, by kind.
_REFUSALS: dict[str, RefusalKind] = {
    "23503": "link",  # foreign_key_violation
    "23505": "duplicate",  # unique_violation
    "23514": "check",  # check_violation
    "23502": "check",  # not_null_violation
    "23P01": "check",  # exclusion_violation
    "P0001": "check",  # raise_exception: a guard trigger
    "42501": "check",  # insufficient_privilege: the app role may not (audit trail)
    "22003": "number",  # numeric_value_out_of_range: beyond 64 bits
    "22021": "characters",  # character_not_in_repertoire
    "22P05": "characters",  # untranslatable_character
}


class PostgresEngine:
    """One autocommitting psycopg connection (see `kinesio_tui.data.engine.Engine`)."""

    def __init__(self, conn: Connection, target: Target) -> None:
        self.conn = conn
        self.target = target
        #: The backend serving this connection: notifications it caused are our own.
        self.backend_pid = conn.info.backend_pid

    @property
    def in_transaction(self) -> bool:
        return self.conn.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, parameters: Parameters | None = None) -> Cursor:
        """Run one statement written in SQLite's paramstyle; neutral errors out."""
        try:
            # always with parameters: psycopg reads the translation's %% only then
            return self.conn.execute(to_pyformat(sql), parameters or ())
        except psycopg.Error as error:
            raise self._neutral(error) from None

    def _neutral(self, error: psycopg.Error) -> Exception:
        """The neutral error for a driver error, or the driver's error itself."""
        if self.conn.closed or isinstance(error, psycopg.InterfaceError | pg_errors.AdminShutdown):
            return DatabaseGone(self.target.label())
        kind = _REFUSALS.get(error.sqlstate or "")
        if kind is None and isinstance(error, psycopg.IntegrityError):
            kind = "check"
        if kind is None and isinstance(error, psycopg.DataError) and "NUL" in str(error):
            kind = "characters"  # psycopg's own refusal, before the server sees it
        if kind is not None:
            # the primary message names constraints and columns; DETAIL (values) is left out
            return RecordRefused(kind, error.diag.message_primary or str(error).split("\n")[0])
        return error

    def begin_write(self, wait_s: float, on_wait: Callable[[], None] | None) -> None:
        """BEGIN, then the schema's write lock, asked for again until `wait_s` has passed
        (DatabaseBusy then, with nothing written); `on_wait` is told once after
        WAIT_NOTICE_S."""
        from kinesio_tui.data.engine import WAIT_NOTICE_S

        self.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
        started = time.monotonic()
        pause = _FIRST_POLL_S
        told = False
        try:
            while not self._try_lock():
                waited = time.monotonic() - started
                if waited >= wait_s:
                    raise DatabaseBusy(waited)
                if not told and waited >= WAIT_NOTICE_S and on_wait is not None:
                    on_wait()
                    told = True
                time.sleep(min(pause, max(0.0, wait_s - waited)))
                pause = min(pause * 2, _LAST_POLL_S)
        except BaseException:
            if not self.conn.closed and self.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    def _try_lock(self) -> bool:
        row = self.execute(
            "SELECT pg_try_advisory_xact_lock(?, hashtext(?))", [WRITE_LOCK, self.target.schema]
        ).fetchone()
        return bool(row and row[0])

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        self.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()

    def table_names(self) -> list[str]:
        rows = self.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = ? ORDER BY tablename",
            [self.target.schema],
        )
        return [str(row[0]) for row in rows]

    def applied_steps(self) -> list[str]:
        from kinesio_tui.data.engines.pg_schema import inspect_schema

        return inspect_schema(self.conn, self.target.schema)[1]


# --- connecting ---------------------------------------------------------------------------


def connect(target: Target, *, create: bool = True) -> PostgresEngine:
    """A connection to `target`'s database, its search_path on the clinic's schema.

    Refuses, before connecting, a URL libpq cannot parse, a password in the URL and a
    passfile others can read; a server that cannot be reached or refuses us is
    DatabaseUnreachable (libpq's reason, on one line).
    """
    url = target.url or ""
    params = _checked_params(target, url)
    extra: dict[str, Any] = {}
    if "connect_timeout" not in params:
        extra["connect_timeout"] = CONNECT_TIMEOUT_S
    if "application_name" not in params:
        extra["application_name"] = APPLICATION_NAME
    try:
        conn: Connection = psycopg.connect(url, autocommit=True, **extra)
    except psycopg.Error as error:
        raise DatabaseUnreachable(target.label(), _connect_reason(error, params)) from None
    try:
        conn.adapters.register_loader("uuid", TextLoader)
        conn.execute(
            "SELECT set_config('search_path', %s, false)", [_search_path(conn, target.schema)]
        )
    except BaseException:
        conn.close()
        raise
    return PostgresEngine(conn, target)


def _checked_params(target: Target, url: str) -> dict[str, Any]:
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error as error:
        reason = str(error).strip().split("\n")[0]
        raise KinesioError("Bad database URL", f"{target.label()}: {reason}.") from None
    if "password" in params:
        raise KinesioError(
            "Password in the database URL",
            "a password does not belong in the URL (others can read command lines and "
            "settings); put it in a 0600 passfile named by PGPASSFILE, or in ~/.pgpass.",
        )
    passfile = _passfile(params)
    if passfile is not None:
        _refuse_loose_passfile(passfile)
    return params


def _passfile(params: dict[str, Any]) -> Path | None:
    """The passfile libpq would read for these parameters, if there is one."""
    named = params.get("passfile") or os.environ.get("PGPASSFILE")
    if named:
        return Path(named).expanduser()
    home = os.environ.get("HOME")
    return Path(home) / ".pgpass" if home else None


def _refuse_loose_passfile(passfile: Path) -> None:
    """libpq ignores a passfile others may read (and says so on stderr): refuse it first,
    in one line that says what to do."""
    try:
        st = passfile.stat()
    except OSError:
        return
    if stat.S_ISREG(st.st_mode) and st.st_mode & 0o077:
        raise KinesioError(
            "Passfile not private",
            f"{passfile} can be read by others, so libpq will not use it: chmod 600 {passfile}.",
        )


def _connect_reason(error: psycopg.Error, params: dict[str, Any]) -> str:
    """libpq's reason in one line: what follows its last "failed:", without FATAL."""
    first = str(error).strip().split("\n")[0]
    reason = first.rpartition(" failed: ")[2] if " failed: " in first else first
    reason = reason.removeprefix("connection failed: ").replace("FATAL:  ", "").strip()
    if "no password supplied" in reason:
        where = _passfile(params)
        return (
            "the server asks for a password and none was found "
            f"(put it in {where or '~/.pgpass'}, mode 0600, or name a passfile in PGPASSFILE)"
        )
    if "certificate verify failed" in reason:
        root = params.get("sslrootcert") or "~/.postgresql/root.crt"
        return (
            f"{reason} (sslmode={params.get('sslmode', 'prefer')}: the server's certificate "
            f"is not signed by the root certificate in {root}; no login was sent)"
        )
    return reason


def _search_path(conn: Connection, schema: str) -> str:
    from psycopg import sql

    return f"{sql.Identifier(schema).as_string(conn)}, public"


# --- the schema ---------------------------------------------------------------------------


def prepare_schema(engine: PostgresEngine, *, create: bool, migrate: bool) -> list[str]:
    """Check what the target schema holds; bring it up to date when this role owns it.

    Refuses another program's schema and a newer kinesio-tui's (DatabaseTooNew), both
    unchanged. A blank or out-of-date schema is upgraded by its owner (`migrate`), and
    refused to any other role with SchemaPending; without `create` a blank schema is
    refused ("No database"). Returns the steps applied.
    """
    from kinesio_tui.data.engines.pg_schema import (
        inspect_schema,
        refuse_unusable,
        schema_steps,
        upgrade_schema,
    )

    target, conn = engine.target, engine.conn
    try:
        kind, applied = inspect_schema(conn, target.schema)
    except pg_errors.InsufficientPrivilege:  # a role the owner has not granted the schema
        raise SchemaPending(target.label(), "is not granted to this role", _role(engine)) from None
    refuse_unusable(kind, applied, target.label())
    pending = [step for step in schema_steps() if step not in applied]
    if not pending or (not migrate and kind != "blank"):
        return []
    if not _may_change_schema(engine, exists=kind != "blank"):
        why = (
            "has no kinesio-tui schema yet"
            if kind == "blank"
            else f"has {len(pending)} schema step(s) pending"
        )
        raise SchemaPending(target.label(), why, _role(engine))
    if kind == "blank" and not create:
        raise KinesioError(
            "No database",
            f"There is no kinesio-tui schema in {target.label()}. Create it with `kinesio init`.",
        )
    return upgrade_schema(conn, target.schema)


def _may_change_schema(engine: PostgresEngine, *, exists: bool) -> bool:
    """The owner of the schema (or, for a new one, a role that may create schemas)."""
    if exists:
        sql = (
            "SELECT pg_has_role(current_user, nspowner, 'USAGE') FROM pg_namespace "
            "WHERE nspname = ?"
        )
        row = engine.execute(sql, [engine.target.schema]).fetchone()
    else:
        row = engine.execute(
            "SELECT has_database_privilege(current_database(), 'CREATE')"
        ).fetchone()
    return bool(row and row[0])


def _role(engine: PostgresEngine) -> str:
    return engine.conn.info.parameter_status("session_authorization") or engine.conn.info.user


# --- change notification ------------------------------------------------------------------


def channel(schema: str) -> str:
    """The channel the schema's audit trigger notifies at every commit that wrote to it."""
    return f"kinesio:{schema}"


class ChangeListener:
    """A connection of its own, LISTENing to the schema's channel.

    Its own connection, because on a connection that also runs queries a notification
    that arrives mid-query reaches only notify handlers, never `notifies()` (measured).
    `changed` drains what has arrived without waiting; notifications from `engine`'s own
    backend (this program's commits) do not count. A lost connection counts as a change
    once (something may have been missed), and the next look connects and listens again.
    """

    def __init__(self, engine: PostgresEngine) -> None:
        self._engine = engine
        self._conn: Connection | None = None
        with contextlib.suppress(psycopg.Error):  # else the next look connects again
            self._listen()

    def _listen(self) -> None:
        engine = self._engine
        conn: Connection = psycopg.connect(
            engine.target.url or "",
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name=f"{APPLICATION_NAME} (watch)",
        )
        from psycopg import sql

        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel(engine.target.schema))))
        self._conn = conn

    def changed(self) -> bool:
        if self._conn is None or self._conn.closed:
            return self._listen_again()
        own = self._engine.backend_pid
        try:
            notes = list(self._conn.notifies(timeout=0))  # drain all: one batch, one True
        except psycopg.Error:
            self._conn.close()
            self._listen_again()
            return True  # whatever was committed while nobody listened
        return any(note.pid != own for note in notes)

    def _listen_again(self) -> bool:
        """Connect and LISTEN again: True once it listens (what happened meanwhile is
        unknown), False while the server is still out of reach (the main connection's
        next statement says so)."""
        self._conn = None
        try:
            self._listen()
        except psycopg.Error:
            return False
        return True

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
