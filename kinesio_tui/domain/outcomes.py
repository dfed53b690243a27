"""Derived facts: where an episode stands, pain trend, clinically important change, asymmetry."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from kinesio_tui import clock
from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.episodes import get_episode, raised_red_flags
from kinesio_tui.domain.models import Episode, Visit
from kinesio_tui.domain.visits import visits_of
from kinesio_tui.protocol import ClinicalTest, Protocol, protocol


@dataclass(frozen=True)
class Standing:
    """Where an episode stands in the programme."""

    module: int  # current module 1..3
    number: int  # visit n of 15 within the module (the next or in-progress one; 15 when finished)
    seq: int  # 1..45
    next_visit: Visit | None
    done: int
    missed: int
    total: int
    days_in_module: int | None  # since the module's first held visit
    days_in_programme: int | None
    finished: bool
    notes: tuple[str, ...]  # timing facts worth a glance (21 / 42 days ...)

    @property
    def sessions_done(self) -> int:
        return self.done


@dataclass(frozen=True)
class Change:
    """Change of a score from baseline to latest, judged against the clinic's threshold."""

    baseline: float
    latest: float
    delta: float  # latest - baseline
    percent: float | None  # of baseline, None when the baseline is 0
    important: bool  # >= 2 points or >= 30 %
    improved: bool


@dataclass(frozen=True)
class SeriesPoint:
    seq: int
    day: date
    value: float


def standing(visits: list[Visit], today: date, proto: Protocol | None = None) -> Standing:
    """Where the episode with these visits (in programme order) stands on `today`."""
    proto = proto or protocol()
    per_module = proto.visits_per_module
    nxt = next((v for v in visits if v.in_progress), None) or next(
        (v for v in visits if v.status == "planned"), None
    )
    done = sum(v.status == "done" for v in visits)
    missed = sum(v.status == "missed" for v in visits)
    if nxt is not None:
        module, number, seq = nxt.module, nxt.number, nxt.seq
    else:
        # The last visit that took place (or was missed): for an episode closed early that
        # is where it stopped, not the cancelled visit 45.
        last = next((v for v in reversed(visits) if v.status != "cancelled"), None)
        last = last or (visits[0] if visits else None)
        module = last.module if last else 1
        number = last.number if last else per_module
        seq = last.seq if last else 0
    held = [v for v in visits if v.held_on is not None and v.status == "done"]
    in_module = [v for v in held if v.module == module]
    days_in_module = (
        (today - in_module[0].held_on).days if in_module and in_module[0].held_on else None
    )
    days_in_programme = (today - held[0].held_on).days if held and held[0].held_on else None
    notes = timing_notes(module, days_in_module, days_in_programme, nxt is None, proto)
    return Standing(
        module,
        number,
        seq,
        nxt,
        done,
        missed,
        len(visits),
        days_in_module,
        days_in_programme,
        nxt is None,
        notes,
    )


def timing_notes(
    module: int,
    days_in_module: int | None,
    days_in_programme: int | None,
    finished: bool,
    proto: Protocol,
) -> tuple[str, ...]:
    """Plain-language timing facts for the progress display."""
    t = proto.timing
    if finished or days_in_programme is None:
        return ()
    notes = []
    if days_in_programme < t.inflammation_settles_days:
        notes.append(
            f"Day {days_in_programme}: root inflammation needs at least {t.inflammation_settles_days} days to settle"
        )
    elif days_in_programme < t.myelin_recovery_days:
        notes.append(
            f"Day {days_in_programme}: myelin sheath recovery takes about {t.myelin_recovery_days} days"
        )
    high = t.module_weeks[1]
    if days_in_module is not None and days_in_module > high * 7:
        notes.append(f"Module {module} has run {days_in_module} days, longer than {high} weeks")
    return tuple(notes)


def series(
    db: ClinicDB, episode_id: int, test_code: str, side: str | None = None
) -> list[SeriesPoint]:
    """A numeric test's values over the episode's visits, in programme order."""
    rows = db.execute(
        "SELECT v.seq, COALESCE(v.held_on, v.planned_date), m.value_num FROM measurements m "
        "JOIN visits v ON v.id = m.visit_id WHERE v.episode_id = ? AND m.test_code = ? AND m.side IS ? "
        "AND m.value_num IS NOT NULL ORDER BY v.seq",
        [episode_id, test_code, side],
    ).fetchall()
    return [SeriesPoint(seq, date.fromisoformat(day), float(value)) for seq, day, value in rows]


def change_from_baseline(
    values: list[float],
    *,
    higher_is_better: bool = False,
    points: bool = True,
    proto: Protocol | None = None,
) -> Change | None:
    """Baseline (first) to latest; important at >= 2 points or >= 30 % (the clinic's threshold).

    `points=False` judges by the percentage alone: the 2-point rule belongs to 0-10 pain
    scales, and on degrees or microvolts it would call a trivial change important.
    """
    if len(values) < 2:
        return None
    proto = proto or protocol()
    baseline, latest = values[0], values[-1]
    # Rounded so that 8.2 -> 6.2 counts as the 2 points it is (binary floats give 1.9999...).
    delta = round(latest - baseline, 9)
    percent = round(delta / baseline * 100, 9) if baseline else None
    improved = delta > 0 if higher_is_better else delta < 0
    important = improved and (
        (points and abs(delta) >= proto.important_change_points)
        or (percent is not None and abs(percent) >= proto.important_change_percent)
    )
    return Change(baseline, latest, delta, percent, important, improved)


def change_for_test(
    test: ClinicalTest, values: list[float], proto: Protocol | None = None
) -> Change | None:
    """`change_from_baseline` with the rule that fits the test (points only on a /10 scale)."""
    return change_from_baseline(
        values,
        higher_is_better=bool(test.higher_is_better),
        points=test.unit == "/10",
        proto=proto,
    )


def important_threshold(
    test: ClinicalTest, baseline: float, proto: Protocol | None = None
) -> float:
    """The value at which a change from `baseline` first counts as clinically important."""
    proto = proto or protocol()
    step = float(proto.important_change_points) if test.unit == "/10" else math.inf
    if baseline:
        step = min(step, abs(baseline) * proto.important_change_percent / 100)
    if math.isinf(step):
        return baseline
    return baseline + step if test.higher_is_better else baseline - step


def asymmetry_pct(left: float, right: float) -> float:
    """Left/right difference as a percentage of the stronger (larger) side; 0 when both are 0."""
    high = max(abs(left), abs(right))
    return 0.0 if high == 0 else abs(left - right) / high * 100


@dataclass(frozen=True)
class LatestResult:
    code: str
    label: str
    unit: str
    value: float | str | None  # unsided tests
    left: float | str | None
    right: float | str | None
    seq: int  # visit it was recorded at (the later side's, when the sides differ)
    day: date | None = None  # the day of that visit
    #: Each side's own visit, for a sided test whose sides were recorded at different visits.
    left_seq: int | None = None
    right_seq: int | None = None

    @property
    def asymmetry(self) -> float | None:
        if isinstance(self.left, float) and isinstance(self.right, float):
            return asymmetry_pct(self.left, self.right)
        return None


def latest_results(
    db: ClinicDB, episode_id: int, proto: Protocol | None = None
) -> list[LatestResult]:
    """Each test's most recent value(s), in catalog order, with left/right side by side."""
    proto = proto or protocol()
    rows = db.execute(
        "SELECT m.test_code, m.side, m.value_num, m.value_text, v.seq, "
        "COALESCE(v.held_on, v.planned_date) FROM measurements m "
        "JOIN visits v ON v.id = m.visit_id WHERE v.episode_id = ? ORDER BY v.seq, m.id",
        [episode_id],
    ).fetchall()
    latest: dict[tuple[str, str | None], tuple[Any, int]] = {}
    days: dict[int, date] = {}
    for code, side, num, text, seq, day in rows:
        latest[(code, side)] = (num if num is not None else text, seq)
        days[seq] = date.fromisoformat(day)
    out = []
    for test in proto.tests:
        keys = [(test.code, "L"), (test.code, "R")] if test.sided else [(test.code, None)]
        found = [latest.get(k) for k in keys]
        if not any(found):
            continue
        seq = max(f[1] for f in found if f)
        if test.sided:
            out.append(
                LatestResult(
                    test.code,
                    test.label,
                    test.unit,
                    None,
                    found[0][0] if found[0] else None,
                    found[1][0] if found[1] else None,
                    seq,
                    days.get(seq),
                    found[0][1] if found[0] else None,
                    found[1][1] if found[1] else None,
                )
            )
        else:
            out.append(
                LatestResult(
                    test.code,
                    test.label,
                    test.unit,
                    found[0][0] if found[0] else None,
                    None,
                    None,
                    seq,
                    days.get(seq),
                )
            )
    return out


@dataclass(frozen=True)
class Progress:
    """Everything the patient screen shows at a glance about one episode."""

    episode: Episode
    visits: list[Visit]
    standing: Standing
    vas: list[SeriesPoint]
    vas_change: Change | None
    results: list[LatestResult]
    red_flags: list[str]


def progress(db: ClinicDB, episode_id: int, *, today: date | None = None) -> Progress:
    """Gather where an episode stands, its pain trend, latest results and raised red flags."""
    today = today or clock.today()
    episode = get_episode(db, episode_id)
    visits = visits_of(db, episode_id)
    vas = series(db, episode_id, "vas")
    return Progress(
        episode=episode,
        visits=visits,
        standing=standing(visits, today),
        vas=vas,
        vas_change=change_from_baseline([p.value for p in vas]),
        results=latest_results(db, episode_id),
        red_flags=raised_red_flags(db, episode_id),
    )
