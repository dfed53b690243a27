"""Noticing commits made by other connections (another terminal, a CLI export)."""

from __future__ import annotations

from typing import Protocol

from kinesio_tui.data.db import ClinicDB


class _Watch(Protocol):
    def changed(self) -> bool: ...
    def close(self) -> None: ...


class ChangeWatcher:
    """Says whether another connection has committed since the last look.

    SQLite: PRAGMA data_version, which changes only for commits by *other* connections,
    costs a few microseconds and reads no table: cheap enough to poll every second.
    PostgreSQL: a connection of its own LISTENing to the schema's channel (every clinical
    write appends to the audit trail, whose trigger notifies at commit); notifications
    from this program's own connection are skipped, as data_version skips its own commits.
    """

    def __init__(self, db: ClinicDB) -> None:
        self._watch: _Watch
        if db.kind == "postgresql":
            from kinesio_tui.data.engines.postgres import ChangeListener, PostgresEngine

            assert isinstance(db.engine, PostgresEngine)
            self._watch = ChangeListener(db.engine)
        else:
            self._watch = _DataVersion(db)

    def changed(self) -> bool:
        """True once per batch of foreign commits since the previous call."""
        return self._watch.changed()

    def close(self) -> None:
        """Stop watching (PostgreSQL: close the listening connection)."""
        self._watch.close()


class _DataVersion:
    def __init__(self, db: ClinicDB) -> None:
        self._db = db
        self._seen = self._version()

    def _version(self) -> int:
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def changed(self) -> bool:
        now = self._version()
        if now != self._seen:
            self._seen = now
            return True
        return False

    def close(self) -> None:
        return None
