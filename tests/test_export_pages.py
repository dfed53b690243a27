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


def test_a_page_reads_each_episode_as_the_domain_reads_it(demo_db: ClinicDB) -> None:
    """The page's records, read for many episodes at once (and without a dict per visit),
    are the domain's own per-episode readers' records, for every demo patient."""
    from kinesio_tui.domain.amendments import amendments_of_episode
    from kinesio_tui.domain.discharge import (
        discharge_of,
        red_flag_screens_of,
        ticked_items_of_episode,
    )
    from kinesio_tui.domain.episodes import current_episode, raised_red_flags
    from kinesio_tui.domain.holds import holds_of
    from kinesio_tui.domain.patients import get_patient
    from kinesio_tui.domain.plan import plan_changes_of
    from kinesio_tui.domain.proms import prom_outcomes
    from kinesio_tui.domain.visits import pir_cycles_of_episode, results_of_episode, visits_of

    ids = [p.id for p in find_patients(demo_db, "", limit=1000)]
    page = ReportPage(demo_db, ids)
    read = 0
    seen: set[str] = set()
    for pid in ids:
        episode = current_episode(demo_db, pid)
        if episode is None:
            continue
        got = page.of(pid)
        eid = episode.id
        assert (got.patient, got.episode) == (get_patient(demo_db, pid), episode)
        assert got.visits == visits_of(demo_db, eid)
        assert got.results == results_of_episode(demo_db, eid)
        assert got.pir == pir_cycles_of_episode(demo_db, eid)
        assert got.ticked == ticked_items_of_episode(demo_db, eid)
        assert got.amendments == amendments_of_episode(demo_db, eid)
        assert got.screens == red_flag_screens_of(demo_db, eid)
        assert got.raised_red_flags == raised_red_flags(demo_db, eid)
        assert got.discharge == discharge_of(demo_db, eid)
        assert got.has_holds == bool(holds_of(demo_db, eid))
        assert got.has_plan_changes == bool(plan_changes_of(demo_db, eid))
        assert got.has_proms == bool(prom_outcomes(demo_db, eid))
        read += 1
        seen |= {
            name
            for name, there in [
                ("amendments", got.amendments),
                ("screens", got.screens),
                ("discharge", got.discharge),
                ("holds", got.has_holds),
                ("plan changes", got.has_plan_changes),
                ("questionnaires", got.has_proms),
                ("pir", got.pir),
            ]
            if there
        }
    assert read == len(ids) - 1  # all but Lina Mockutė
    # the demo's records of every kind but amendments (test_amended_reports reads those)
    assert seen >= {"screens", "discharge", "holds", "plan changes", "questionnaires", "pir"}
