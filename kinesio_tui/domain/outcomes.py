"""Derived facts: where an episode stands, pain trend, clinically important change, asymmetry."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kinesio_tui import clock
from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.change_rules import Judgement, judge_change, judge_numbers
from kinesio_tui.domain.episodes import get_episode, raised_red_flags
from kinesio_tui.domain.holds import Hold, active_hold
from kinesio_tui.domain.models import Episode, Visit
from kinesio_tui.domain.proms import PromOutcome, prom_outcomes
from kinesio_tui.domain.store import same_side
from kinesio_tui.domain.visits import visits_of
from kinesio_tui.protocol import ClinicalTest, Protocol, ScaleKind, protocol


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
    """Change of a score from baseline to latest, judged by its scale's rule (catalog)."""

    baseline: float
    latest: float
    delta: float  # latest - baseline
    percent: float | None  # of baseline, None when the baseline is 0
    important: bool  # crossed the threshold, better or worse
    improved: bool

    @property
    def worsened(self) -> bool:
        return not self.improved and self.delta != 0

    @property
    def important_improvement(self) -> bool:
        return self.important and self.improved

    @property
    def important_worsening(self) -> bool:
        return self.important and self.worsened


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
    side_sql, side_args = same_side("m.side", side)
    rows = db.execute(
        "SELECT v.seq, COALESCE(v.held_on, v.planned_date), m.value_num FROM measurements m "
        f"JOIN visits v ON v.id = m.visit_id WHERE v.episode_id = ? AND m.test_code = ? AND {side_sql} "
        "AND m.value_num IS NOT NULL ORDER BY v.seq",
        [episode_id, test_code, *side_args],
    ).fetchall()
    return [SeriesPoint(seq, date.fromisoformat(day), float(value)) for seq, day, value in rows]


def change_from_baseline(
    values: list[float],
    *,
    higher_is_better: bool = False,
    scale: ScaleKind = "pain",
    threshold: float | None = None,
    proto: Protocol | None = None,
) -> Change | None:
    """Baseline (first) to latest, judged by `scale`'s rule from the catalog.

    A 0-10 pain score matters at 2 points, better or worse (the percentage is shown, it
    does not decide: 1.0 -> 0.7 is not important); a ratio measure at 30 % of its baseline
    or the test's own `threshold`; an ordinal number (MRC) at one grade.
    """
    if len(values) < 2:
        return None
    proto = proto or protocol()
    j = judge_numbers(
        scale,
        values[0],
        values[-1],
        higher_is_better=higher_is_better,
        rules=proto.change_rules,
        threshold=threshold,
    )
    delta = j.delta if j.delta is not None else 0.0
    return Change(values[0], values[-1], delta, j.percent, j.important, j.improved)


def change_for_test(
    test: ClinicalTest, values: list[float], proto: Protocol | None = None
) -> Change | None:
    """`change_from_baseline` by the test's own scale and threshold from the catalog."""
    return change_from_baseline(
        values,
        higher_is_better=bool(test.higher_is_better),
        scale=test.scale,
        threshold=test.important_change,
        proto=proto,
    )


def important_step(test: ClinicalTest, baseline: float, proto: Protocol | None = None) -> float:
    """How far from `baseline` a change of `test` first counts as clinically important."""
    rules = (proto or protocol()).change_rules
    if test.important_change is not None:
        return test.important_change
    if test.scale == "pain":
        return rules.pain_points
    if test.scale == "ordinal":
        return rules.ordinal_grades
    if test.scale == "ratio" and baseline:
        return abs(baseline) * rules.ratio_percent / 100
    return math.inf


def important_threshold(
    test: ClinicalTest, baseline: float, proto: Protocol | None = None
) -> float:
    """The value at which an improvement from `baseline` first counts as clinically important."""
    step = important_step(test, baseline, proto)
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
    scale: ScaleKind = "ratio"
    #: Each shown value's change from its baseline (the value; or left, right), if judged.
    changes: tuple[Judgement | None, ...] = ()

    @property
    def asymmetry(self) -> float | None:
        """Left/right difference in % of the stronger side: ratio measures only."""
        if self.scale != "ratio":
            return None
        if isinstance(self.left, float) and isinstance(self.right, float):
            return asymmetry_pct(self.left, self.right)
        return None

    @property
    def grades_apart(self) -> float | None:
        """Left/right difference in grades on an ordinal number scale (MRC), never a %."""
        if (
            self.scale == "ordinal"
            and isinstance(self.left, float)
            and isinstance(self.right, float)
        ):
            return abs(self.left - self.right)
        return None

    @property
    def important_worsening(self) -> bool:
        return any(j is not None and j.important_worsening for j in self.changes)

    @property
    def important_improvement(self) -> bool:
        return any(j is not None and j.important_improvement for j in self.changes)


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
    first: dict[tuple[str, str | None], tuple[Any, int]] = {}
    for code, side, num, text, seq, day in rows:
        days[seq] = date.fromisoformat(day)
        value = float(num) if num is not None else text
        if value is None:
            continue
        latest[(code, side)] = (value, seq)
        first.setdefault((code, side), (value, seq))
    out = []
    for test in proto.tests:
        keys = [(test.code, "L"), (test.code, "R")] if test.sided else [(test.code, None)]
        found = [latest.get(k) for k in keys]
        if not any(found):
            continue
        seq = max(f[1] for f in found if f)
        changes = tuple(
            judge_change(test, first[k][0], latest[k][0], proto.change_rules)
            if k in latest and first[k][1] != latest[k][1]
            else None
            for k in keys
        )
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
                    scale=test.scale,
                    changes=changes,
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
                    scale=test.scale,
                    changes=changes,
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
    #: Each questionnaire filled in, its scores and baseline-to-latest change.
    proms: list[PromOutcome] = field(default_factory=list)
    #: The open red-flag hold (therapy stopped until a doctor clears it), or None.
    hold: Hold | None = None


def progress(db: ClinicDB, episode_id: int, *, today: date | None = None) -> Progress:
    """Gather where an episode stands, its pain trend, latest results and raised red flags."""
    today = today or clock.today()
    episode = get_episode(db, episode_id)
    visits = visits_of(db, episode_id)
    vas = series(db, episode_id, "vas")
    vas_test = protocol().test("vas")
    values = [p.value for p in vas]
    return Progress(
        episode=episode,
        visits=visits,
        standing=standing(visits, today),
        vas=vas,
        vas_change=change_for_test(vas_test, values) if vas_test else None,
        results=latest_results(db, episode_id),
        red_flags=raised_red_flags(db, episode_id),
        proms=prom_outcomes(db, episode_id),
        hold=active_hold(db, episode_id),
    )


def change_at_visit(
    db: ClinicDB, visit_id: int, test_code: str, side: str | None, proto: Protocol | None = None
) -> Judgement | None:
    """A test's value at this visit against the episode's baseline (its first earlier value),
    judged by the test's scale: what a screen says as the value is recorded."""
    proto = proto or protocol()
    test = proto.test(test_code)
    if test is None:
        return None
    side_sql, side_args = same_side("m.side", side)
    rows = db.execute(
        "SELECT v.id, m.value_num, m.value_text FROM measurements m "
        "JOIN visits v ON v.id = m.visit_id "
        "JOIN visits this ON this.episode_id = v.episode_id AND this.id = ? "
        f"WHERE m.test_code = ? AND {side_sql} AND v.seq <= this.seq ORDER BY v.seq",
        [visit_id, test_code, *side_args],
    ).fetchall()
    values = [(vid, float(num) if num is not None else text) for vid, num, text in rows]
    values = [(vid, value) for vid, value in values if value is not None]
    if len(values) < 2 or values[-1][0] != visit_id:
        return None
    return judge_change(test, values[0][1], values[-1][1], proto.change_rules)
