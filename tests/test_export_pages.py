"""`export --all` reads a page of patients' records at once (domain.patient_record.ReportPage):
every report made from the page is byte for byte the report of the patient read alone, and
a patient the page cannot report on is refused in the same words."""

from __future__ import annotations

import pytest
from conftest import DAY

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.patient_record import ReportPage
from kinesio_tui.domain.patients import find_patients
from kinesio_tui.errors import KinesioError
from kinesio_tui.export import prepare_export

pytestmark = pytest.mark.engines("sqlite", "postgresql")


def _made(db: ClinicDB, pid: int, kind: str, fmt: str, page: ReportPage | None) -> object:
    try:
        return prepare_export(db, pid, kind=kind, fmt=fmt, today=DAY, page=page)  # type: ignore[arg-type]
    except KinesioError as error:
        return ("refused", error.title, error.message)


@pytest.mark.parametrize("kind", ["summary", "module"])
@pytest.mark.parametrize("fmt", ["html", "md"])
def test_a_page_of_demo_patients_reports_as_each_read_alone(
    demo_db: ClinicDB, kind: str, fmt: str
) -> None:
    ids = [p.id for p in find_patients(demo_db, "", limit=1000)]
    page_ids = [*ids, max(ids) + 1000]  # and an id no patient has
    page = ReportPage(demo_db, list(reversed(page_ids)))  # the page's order is no matter
    alone = {pid: _made(demo_db, pid, kind, fmt, None) for pid in page_ids}
    together = {pid: _made(demo_db, pid, kind, fmt, page) for pid in page_ids}
    assert together == alone
    refused = [made for made in alone.values() if isinstance(made, tuple) and made[0] == "refused"]
    assert any("no episode of care" in made[2] for made in refused)  # Lina Mockutė
    assert any("No patient with id" in made[2] for made in refused)
    assert len(refused) < len(ids) // 2  # most of the demo clinic has its report
