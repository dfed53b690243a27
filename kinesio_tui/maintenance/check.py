"""`kinesio check`: is the file whole, do its records point at records, does the trail verify."""

from __future__ import annotations

from dataclasses import dataclass

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.data.engines.catalog import for_db
from kinesio_tui.maintenance.audit import AuditReport, verify_chain


@dataclass(frozen=True)
class CheckReport:
    """The three checks' findings; `ok` only when every one found nothing."""

    integrity: list[str]
    foreign_keys: list[str]
    audit: AuditReport
    #: False when the engine could not look at the stored structure (PostgreSQL without
    #: amcheck, or without the right to run it): "not checked", never "ok".
    integrity_checked: bool = True
    #: Worth knowing, not wrong: e.g. the trail signed with more than one audit key.
    warnings: tuple[str, ...] = ()

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
    """The engine's own structure check (SQLite: PRAGMA integrity_check; PostgreSQL:
    amcheck when it may), every link between records, and the audit chain verification."""
    catalog = for_db(db)
    integrity = catalog.integrity_problems(db)
    return CheckReport(
        integrity=integrity or [],
        foreign_keys=catalog.foreign_key_problems(db),
        audit=verify_chain(db),
        integrity_checked=integrity is not None,
        warnings=tuple(_key_warnings(db)),
    )


def _key_warnings(db: ClinicDB) -> list[str]:
    """Every computer writing to one database must sign with the same audit key (rooms on
    PostgreSQL: copy audit.key to each); a trail signed with several is a setup to fix."""
    keys = [
        str(key_id)
        for (key_id,) in db.execute(
            "SELECT DISTINCT key_id FROM audit_log WHERE key_id IS NOT NULL ORDER BY key_id"
        ).fetchall()
    ]
    if len(keys) < 2:
        return []
    return [
        f"the audit trail is signed with {len(keys)} different audit keys ({', '.join(keys)}): "
        "every computer that writes to this database must use the same audit.key (copy it "
        "to each, or set KINESIO_AUDIT_KEY), or the others' entries cannot be checked"
    ]
