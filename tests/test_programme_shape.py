"""The programme's shape comes from protocol.toml: a clinic with a shorter cycle sees its own
visit counts, its own control and final appointments and its own chart ticks."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DAY
from visit_harness import hold

from kinesio_tui import protocol
from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.roster import roster
from kinesio_tui.domain.visits import visits_of
from kinesio_tui.export.context import module_context, summary_context
from kinesio_tui.views.patients import visit_cell

SHORT_CYCLE = """[[cycle]]
kind = "doctor"
role = "initial"
label = "Doctor's appointment"
[[cycle]]
kind = "therapy"
count = 3
[[cycle]]
kind = "doctor"
role = "control"
label = "Control doctor's appointment"
[[cycle]]
kind = "therapy"
count = 3
[[cycle]]
kind = "doctor"
role = "final"
label = "Final doctor's appointment"
"""

# The programme's shape read back from either engine (issue 17).
pytestmark = pytest.mark.engines("sqlite", "postgresql")


@pytest.fixture
def short_programme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The built-in programme with a 9-visit cycle: control at visit 5, final at visit 9."""
    text = protocol.PROTOCOL_FILE.read_text(encoding="utf-8")
    start = text.index("[[cycle]]")
    end = text.index("[[modules]]")
    edited = tmp_path / "protocol.toml"
    edited.write_text(text[:start] + SHORT_CYCLE + "\n" + text[end:], encoding="utf-8")
    catalog = tmp_path / "catalog.toml"
    shutil.copyfile(protocol.CATALOG_FILE, catalog)
    short = protocol.load_protocol(edited, catalog)
    assert short.visits_per_module == 9
    protocol.protocol.cache_clear()
    monkeypatch.setattr(protocol, "load_protocol", lambda *_args: short)
    yield
    protocol.protocol.cache_clear()


def one_module_held(db: ClinicDB) -> int:
    patient_id = create_patient(db, NewPatient("Eglė", "Bandomoji", "1981-02-03", "F"), today=DAY)
    episode_id = open_episode(db, patient_id, NewEpisode("radiculitis", "lumbar", "L"), today=DAY)
    visits = visits_of(db, episode_id)
    assert len(visits) == 27
    for visit in visits[:9]:
        hold(db, visit)
    return patient_id


@pytest.mark.usefixtures("short_programme")
def test_the_list_counts_the_visits_of_the_module(db: ClinicDB) -> None:
    one_module_held(db)
    (row,) = roster(db)
    assert visit_cell(row) == "M2  1/9"


@pytest.mark.usefixtures("short_programme")
def test_the_module_report_finds_the_control_and_final_appointments(db: ClinicDB) -> None:
    patient_id = one_module_held(db)
    report = module_context(db, patient_id, 1, DAY)
    assert [a["seq"] for a in report["appointments"]] == [5, 9]
    assert [a["label"] for a in report["appointments"]] == [
        "Control doctor's appointment",
        "Final doctor's appointment",
    ]


@pytest.mark.usefixtures("short_programme")
def test_chart_ticks_fall_on_the_doctors_appointments(db: ClinicDB) -> None:
    patient_id = one_module_held(db)
    (vas,) = [c for c in summary_context(db, patient_id, DAY)["charts"] if "VAS" in c["title"]]
    spec = vas["svg"].chart
    assert spec.x_max == 27
    assert tuple(spec.x_ticks) == (1, 5, 9, 14, 18, 23, 27)
