"""The episode-wide readers reports use say what the per-visit readers say, in order."""

from __future__ import annotations

from kinesio_tui import domain
from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.visits import pir_cycles_of_episode, results_of_episode, ticked_counts


def test_episode_reads_match_the_visit_reads(demo_db: ClinicDB) -> None:
    patient = domain.find_patients(demo_db, "zemaite")[0]
    episode = domain.current_episode(demo_db, patient.id)
    assert episode is not None
    visits = domain.visits_of(demo_db, episode.id)
    results = [(v.seq, m) for v in visits for m in domain.measurements_of(demo_db, v.id)]
    pir = [(v.seq, c) for v in visits for _id, c in domain.pir_cycles_of(demo_db, v.id)]
    ticks = {v.id: n for v in visits if (n := len(domain.ticks_of(demo_db, v.id)))}
    assert results and pir and ticks  # a case with all three recorded
    assert results_of_episode(demo_db, episode.id) == results
    assert pir_cycles_of_episode(demo_db, episode.id) == pir
    assert ticked_counts(demo_db, episode.id) == ticks
