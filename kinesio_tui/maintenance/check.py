"""`kinesio check`: is the file whole, do its records point at records, does the trail verify."""

from __future__ import annotations

from dataclasses import dataclass

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.maintenance.audit import AuditReport, verify_chain


@dataclass(frozen=True)
class CheckReport:
    """The three checks' findings; `ok` only when every one found nothing."""

    integrity: list[str]
    foreign_keys: list[str]
    audit: AuditReport

    @property
    def ok(self) -> bool:
        return not self.integrity and not self.foreign_keys and self.audit.ok

    def problems(self) -> list[str]:
        """Every finding as one line (ids and table names only, never patient data)."""
        return [
            *(f"integrity: {line}" for line in self.integrity),
            *(f"foreign key: {line}" for line in self.foreign_keys),
            *(f"audit {p}" if p.entry_id is not None else str(p) for p in self.audit.problems),
        ]


def check_database(db: ClinicDB) -> CheckReport:
    """Run PRAGMA integrity_check, PRAGMA foreign_key_check and the audit chain verification."""
    integrity = [r[0] for r in db.execute("PRAGMA integrity_check").fetchall()]
    fk = [
        f"{table} row {rowid} points at a missing {parent} record"
        for table, rowid, parent, _ in db.execute("PRAGMA foreign_key_check").fetchall()
    ]
    return CheckReport(
        integrity=[] if integrity == ["ok"] else integrity,
        foreign_keys=fk,
        audit=verify_chain(db),
    )
