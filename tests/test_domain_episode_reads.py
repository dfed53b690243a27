"""The episode-wide readers reports use say what the per-visit readers say, in order."""

from __future__ import annotations

import pytest

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.episodes import current_episode
from kinesio_tui.domain.patients import find_patients
from kinesio_tui.domain.visits import (
    measurements_of,
    pir_cycles_of,
    pir_cycles_of_episode,
    results_of_episode,
    ticked_counts,
    ticks_of,
    visits_of,
)

# The domain's reads and writes, on both engines (issue 17).
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def test_episode_reads_match_the_visit_reads(demo_db: ClinicDB) -> None:
    patient = find_patients(demo_db, "zemaite")[0]
    episode = current_episode(demo_db, patient.id)
    assert episode is not None
    visits = visits_of(demo_db, episode.id)
    results = [(v.seq, m) for v in visits for m in measurements_of(demo_db, v.id)]
    pir = [(v.seq, c) for v in visits for _id, c in pir_cycles_of(demo_db, v.id)]
    ticks = {v.id: n for v in visits if (n := len(ticks_of(demo_db, v.id)))}
    assert results and pir and ticks  # a case with all three recorded
    assert results_of_episode(demo_db, episode.id) == results
    assert pir_cycles_of_episode(demo_db, episode.id) == pir
    assert ticked_counts(demo_db, episode.id) == ticks
