"""Noticing commits made by other connections (another terminal, a CLI export)."""

from __future__ import annotations

from kinesio_tui.data.db import ClinicDB


class ChangeWatcher:
    """Says whether another connection has committed since the last look.

    Uses PRAGMA data_version, which changes only for commits by *other* connections,
    costs a few microseconds and reads no table: cheap enough to poll every second.
    """

    def __init__(self, db: ClinicDB) -> None:
        self._db = db
        self._seen = self._version()

    def _version(self) -> int:
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def changed(self) -> bool:
        """True once per batch of foreign commits since the previous call."""
        now = self._version()
        if now != self._seen:
            self._seen = now
            return True
        return False
