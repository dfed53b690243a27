"""The PIR pacer: phases, cycles and time slicing, without any clock or Textual."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinesio_tui.pir_pacer import (
    CycleCompleted,
    Event,
    Finished,
    Phase,
    PhaseChanged,
    PirPacer,
)


def test_phases_run_tense_relax_slack_per_cycle() -> None:
    pacer = PirPacer(tension_s=7, relaxation_s=15, cycles=2)
    at_first = pacer.phase  # asserted on a copy: mypy would keep pacer.phase narrowed
    assert at_first is Phase.READY
    assert pacer.advance(5) == []  # not started: time does not count
    assert pacer.start() == [PhaseChanged(Phase.TENSE, 1)]
    assert pacer.remaining_s == 7
    assert pacer.advance(6.5) == []
    assert pacer.remaining_s == pytest.approx(0.5)
    assert pacer.advance(0.5) == [PhaseChanged(Phase.RELAX, 1)]
    assert pacer.advance(15) == [PhaseChanged(Phase.SLACK, 1)]
    assert pacer.advance(3) == [CycleCompleted(1), PhaseChanged(Phase.TENSE, 2)]
    assert pacer.completed_cycles == 1 and pacer.cycle == 2
    assert pacer.advance(100) == [
        PhaseChanged(Phase.RELAX, 2),
        PhaseChanged(Phase.SLACK, 2),
        CycleCompleted(2),
        PhaseChanged(Phase.DONE, 2),
        Finished(2),
    ]
    assert pacer.finished and pacer.phase is Phase.DONE and pacer.completed_cycles == 2
    assert pacer.advance(1) == []


def test_pause_freezes_time_and_resume_continues() -> None:
    pacer = PirPacer(tension_s=5, relaxation_s=10, cycles=1)
    pacer.toggle()
    pacer.advance(2)
    pacer.toggle()  # pause
    assert not pacer.running
    assert pacer.advance(30) == []
    assert pacer.remaining_s == 3 and pacer.phase is Phase.TENSE
    pacer.toggle()  # resume
    assert pacer.advance(3) == [PhaseChanged(Phase.RELAX, 1)]


def test_rejects_nonsense_lengths() -> None:
    with pytest.raises(ValueError):
        PirPacer(tension_s=0, relaxation_s=10, cycles=1)
    with pytest.raises(ValueError):
        PirPacer(tension_s=5, relaxation_s=10, cycles=0)


def _run(pacer: PirPacer, dts: list[float]) -> list[Event]:
    events: list[Event] = list(pacer.start())
    for dt in dts:
        events.extend(pacer.advance(dt))
    return events


@settings(max_examples=60, deadline=None)
@given(
    tension=st.integers(1, 20),
    relaxation=st.integers(1, 30),
    cycles=st.integers(1, 5),
    ticks_ms=st.lists(st.integers(1, 4000), min_size=1, max_size=80),
)
def test_any_slicing_of_time_gives_the_same_schedule(
    tension: int, relaxation: int, cycles: int, ticks_ms: list[int]
) -> None:
    sliced = PirPacer(tension, relaxation, cycles)
    whole = PirPacer(tension, relaxation, cycles)
    events = _run(sliced, [ms / 1000 for ms in ticks_ms])
    assert events == _run(whole, [sum(ticks_ms) / 1000])
    assert sliced.phase is whole.phase
    assert sliced.completed_cycles == whole.completed_cycles
    assert sliced.remaining_s == pytest.approx(whole.remaining_s, abs=1e-5)
    # every phase change follows the fixed order tense -> relax -> slack -> tense ...
    phases = [e.phase for e in events if isinstance(e, PhaseChanged)]
    order = [Phase.TENSE, Phase.RELAX, Phase.SLACK] * cycles + [Phase.DONE]
    assert phases == order[: len(phases)]
    completed = [e.cycle for e in events if isinstance(e, CycleCompleted)]
    assert completed == list(range(1, len(completed) + 1))


@settings(max_examples=40, deadline=None)
@given(
    before_ms=st.integers(0, 20000),
    paused_ticks=st.lists(st.floats(0.001, 100, allow_nan=False), max_size=20),
)
def test_pause_freezes_any_amount_of_time(before_ms: int, paused_ticks: list[float]) -> None:
    pacer = PirPacer(7, 15, 3)
    pacer.start()
    pacer.advance(before_ms / 1000)
    state = (pacer.phase, pacer.cycle, pacer.remaining_s, pacer.completed_cycles)
    pacer.pause()
    for dt in paused_ticks:
        assert pacer.advance(dt) == []
    assert (pacer.phase, pacer.cycle, pacer.remaining_s, pacer.completed_cycles) == state
