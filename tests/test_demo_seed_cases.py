"""The clinic's three published cases, read against the demo clinic: each sentence the seed
text says about a case (shared/seed/clinic-programme.txt, "Real examples of treatment at our
centre") is checked in the records a clinician would open."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from conftest import DAY

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.episodes import current_episode
from kinesio_tui.domain.outcomes import progress
from kinesio_tui.domain.patients import find_patients
from kinesio_tui.domain.plan import plan_changes_of
from kinesio_tui.domain.visits import measurements_of, ticks_of, visits_of

pytestmark = pytest.mark.engines("sqlite", "postgresql")


def _case(db: ClinicDB, surname: str) -> tuple[Any, Any, list[Any]]:
    [patient] = find_patients(db, surname)
    episode = current_episode(db, patient.id)
    assert episode is not None
    return patient, episode, visits_of(db, episode.id)


def _ticked(db: ClinicDB, visits: list[Any], module: int) -> set[str]:
    return {code for v in visits if v.module == module for code in ticks_of(db, v.id)}


def _value(db: ClinicDB, visit: Any, code: str, side: str | None = None) -> Any:
    found = [
        m.value for m in measurements_of(db, visit.id) if (m.test_code, m.side) == (code, side)
    ]
    return found[-1] if found else None


def test_case_1_the_driver_reads_true(demo_db: ClinicDB) -> None:
    """Male, 45, professional driver; lumbar radiculitis; acute low-back pain into the right
    leg, cannot sit over 20 minutes. Module 1 decompression on the trainer and myofascial
    release; module 2 the muscular corset; module 3 stabilisation in simulated working
    postures. After 8 weeks pain-free, back at work."""
    patient, episode, visits = _case(demo_db, "Petrauskas")
    assert (patient.sex, patient.age_on(DAY), patient.occupation) == (
        "M",
        45,
        "Professional driver",
    )
    assert (episode.condition, episode.subtype, episode.side, episode.course) == (
        "radiculitis",
        "lumbar",
        "R",
        "acute",
    )
    intake = visits[0]
    assert "right leg" in intake.note and "20 min" in intake.note
    assert _value(demo_db, intake, "sitting_tolerance") == 20
    assert {"m1_decompression_hangs", "m1_myofascial_rollers"} <= _ticked(demo_db, visits, 1)
    assert {"m2_unstable_platforms", "m2_asymmetric"} <= _ticked(demo_db, visits, 2)
    assert "m3_functional" in _ticked(demo_db, visits, 3)
    # pain-free from week 8 on
    vas = progress(demo_db, episode.id, today=DAY).vas
    eight_weeks = intake.day + timedelta(weeks=8)
    assert [p.value for p in vas if p.day >= eight_weeks] and all(
        p.value == 0 for p in vas if p.day >= eight_weeks
    )
    assert any(p.value > 0 for p in vas if p.day >= eight_weeks - timedelta(weeks=2))
    # back at work at the end of module 2, module 3 trains his working postures
    end_of_module_2 = next(v for v in visits if (v.module, v.number) == (2, 15))
    assert end_of_module_2.status == "done" and end_of_module_2.day >= eight_weeks
    assert "back at work" in end_of_module_2.note and "working postures" in end_of_module_2.note


def test_case_2_the_office_worker_reads_true(demo_db: ClinicDB) -> None:
    """Female, 38, office worker; sciatica (buttock, evening numbness in the leg).
    Piriformis stretching, pelvic positioning, gluteal activation. After 5 weeks sensation
    normal, no pain."""
    patient, episode, visits = _case(demo_db, "Žemaitė")
    assert (patient.sex, patient.age_on(DAY), patient.occupation) == ("F", 38, "Office worker")
    assert (episode.condition, episode.subtype) == ("sciatica", "upper")
    assert "Buttock pain" in patient.notes and "evening numbness" in patient.notes
    intake = visits[0]
    assert _value(demo_db, intake, "sensation_s1", episode.side) == "reduced"
    ticked = _ticked(demo_db, visits, 1) | _ticked(demo_db, visits, 2)
    assert {"m1_figure_four", "m1_pelvic_correction"} <= _ticked(demo_db, visits, 1)
    assert "m2_gluteal_activation" in ticked  # the seed names it: her record must show it
    five_weeks = next(v for v in visits if (v.module, v.number) == (1, 15))
    assert 4.5 <= (five_weeks.day - intake.day).days / 7 <= 5.5
    assert "sensation normal" in five_weeks.note and "no pain" in five_weeks.note
    assert _value(demo_db, five_weeks, "vas") == 0
    sensation = [m for m in measurements_of(demo_db, five_weeks.id) if "sensation" in m.test_code]
    assert sensation and {m.value for m in sensation} == {"normal"}


def test_case_3_the_retiree_reads_true(demo_db: ClinicDB) -> None:
    """Male, 62, retired; chronic, constant aching pain, dependent on painkillers. Gentle
    spinal traction, gradual deep-muscle strengthening, self-help training. After 3 months
    80 % less pain, no medication."""
    patient, episode, visits = _case(demo_db, "Šimkus")
    assert (patient.sex, patient.age_on(DAY), patient.occupation) == ("M", 62, "Retired")
    assert (episode.course, episode.status) == ("chronic", "completed")
    assert "Constant aching pain" in patient.notes
    assert "dependent on painkillers" in visits[0].note and "daily" in episode.pain_medication
    # "gentle traction of the spine": the doctor chose the table over the hangs at 62
    assert "m1_orthopaedic_table" in _ticked(demo_db, visits, 1)
    changes = {(c.change, c.item_code) for c in plan_changes_of(demo_db, episode.id, 1)}
    assert {("remove", "m1_decompression_hangs"), ("dosage", "m1_orthopaedic_table")} <= changes
    assert "m2_unstable_platforms" in _ticked(demo_db, visits, 2)
    assert "m3_self_correction" in _ticked(demo_db, visits, 3)
    final = visits[-1]
    assert round((final.day - visits[0].day).days / 30.44) == 3  # about 3 months
    vas = progress(demo_db, episode.id, today=DAY).vas
    assert round((vas[0].value - vas[-1].value) / vas[0].value * 100) == 80
    assert "80% less pain" in final.note and "no medication" in final.note
    assert "stopped" in episode.pain_medication
