"""Pacing of post-isometric relaxation (PIR) as a pure state machine; no Textual, no clock.

One cycle is three phases: tense gently (tension s) -> relax and breathe out (relaxation s)
-> take up the slack (a short phase). A cycle counts as completed when its slack phase ends.
The pacer only knows elapsed time: the caller feeds it `advance(dt)` from whatever clock it
has (a Textual interval in the app, a fake clock in tests), and gets back the events that
happened in that span. State is derived from the total elapsed time, so how the time is
sliced never changes the schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

#: Seconds for the therapist to take up the new slack after each relaxation.
SLACK_S = 3.0
#: Float sums of many small ticks land a hair short of a boundary; treat that as reached.
_EPS = 1e-6


class Phase(StrEnum):
    READY = "ready"  # not started yet
    TENSE = "tense"
    RELAX = "relax"
    SLACK = "slack"
    DONE = "done"


@dataclass(frozen=True)
class PhaseChanged:
    phase: Phase
    cycle: int  # 1-based cycle the new phase belongs to (the last cycle for DONE)


@dataclass(frozen=True)
class CycleCompleted:
    cycle: int  # how many cycles are now complete


@dataclass(frozen=True)
class Finished:
    cycles: int


Event = PhaseChanged | CycleCompleted | Finished


@dataclass(frozen=True)
class Step:
    """One phase in the schedule: [start, end) in seconds from the start of the set."""

    phase: Phase
    cycle: int
    start: float
    end: float


class PirPacer:
    """Paces a PIR set of `cycles` cycles; call `start()`, then `advance(dt)` as time passes."""

    def __init__(
        self, tension_s: float, relaxation_s: float, cycles: int, slack_s: float = SLACK_S
    ) -> None:
        if tension_s <= 0 or relaxation_s <= 0 or slack_s <= 0 or cycles < 1:
            raise ValueError("phases need positive lengths and at least one cycle")
        self.tension_s = float(tension_s)
        self.relaxation_s = float(relaxation_s)
        self.slack_s = float(slack_s)
        self.cycles = cycles
        self.elapsed = 0.0
        self.started = False
        self.paused = False
        self._steps = self._build_schedule()

    def _build_schedule(self) -> list[Step]:
        steps = []
        at = 0.0
        for cycle in range(1, self.cycles + 1):
            for phase, length in (
                (Phase.TENSE, self.tension_s),
                (Phase.RELAX, self.relaxation_s),
                (Phase.SLACK, self.slack_s),
            ):
                steps.append(Step(phase, cycle, at, at + length))
                at += length
        return steps

    @property
    def schedule(self) -> list[Step]:
        """Every phase of the set in order."""
        return list(self._steps)

    @property
    def total_s(self) -> float:
        return self._steps[-1].end

    @property
    def running(self) -> bool:
        return self.started and not self.paused and not self.finished

    @property
    def finished(self) -> bool:
        return self.elapsed >= self.total_s - _EPS

    def _step_at(self, elapsed: float) -> Step | None:
        for step in self._steps:
            if elapsed < step.end - _EPS:
                return step
        return None

    @property
    def phase(self) -> Phase:
        if not self.started:
            return Phase.READY
        step = self._step_at(self.elapsed)
        return step.phase if step else Phase.DONE

    @property
    def cycle(self) -> int:
        """The 1-based cycle in progress (the last one once finished)."""
        step = self._step_at(self.elapsed)
        return step.cycle if step else self.cycles

    @property
    def completed_cycles(self) -> int:
        return self._completed_at(self.elapsed)

    def _completed_at(self, elapsed: float) -> int:
        return sum(1 for s in self._steps if s.phase is Phase.SLACK and s.end - _EPS <= elapsed)

    @property
    def remaining_s(self) -> float:
        """Seconds left in the current phase (the whole first phase before the start)."""
        step = self._step_at(self.elapsed)
        return max(step.end - self.elapsed, 0.0) if step else 0.0

    def start(self) -> list[Event]:
        """Begin the first phase (no-op once started)."""
        if self.started:
            return []
        self.started = True
        return [PhaseChanged(Phase.TENSE, 1)]

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def toggle(self) -> list[Event]:
        """Space: start, pause or resume."""
        if not self.started:
            return self.start()
        self.paused = not self.paused
        return []

    def advance(self, dt: float) -> list[Event]:
        """Let `dt` seconds pass; returns what happened, in order. Frozen unless running."""
        if dt <= 0 or not self.running:
            return []
        before = self.elapsed
        after = min(before + dt, self.total_s)
        self.elapsed = after
        events: list[Event] = []
        for step in self._steps:
            if before < step.end - _EPS <= after:
                if step.phase is Phase.SLACK:
                    events.append(CycleCompleted(step.cycle))
                following = self._step_at(step.end)
                if following is None:
                    events.append(PhaseChanged(Phase.DONE, self.cycles))
                    events.append(Finished(self.cycles))
                else:
                    events.append(PhaseChanged(following.phase, following.cycle))
        return events
