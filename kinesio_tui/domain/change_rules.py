"""Whether a change from baseline matters clinically, by the rule of the test's kind of scale.

Pure functions over values: the rules and thresholds come from the catalog
(`[change_rules]` and each test's `scale` / `important_change`). Worse by a threshold
matters as much as better by it.

- pain (0-10): at least `points` points; the percentage is shown beside it, never decides;
- ratio (angles, cm, kg, µV, minutes): at least `percent` % of the baseline, or the test's
  own absolute threshold where the catalog gives one;
- ordinal (MRC grades, negative/positive signs, tone): at least `grades` grades; a sign that
  turned is one grade; never a percentage;
- nominal (pelvic position, gait): changed or not; better back to the normal (first)
  finding, worse away from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kinesio_tui.i18n import _
from kinesio_tui.protocol import ChangeRules, ClinicalTest, ScaleKind

Direction = Literal["better", "worse", "unchanged", "changed"]
Value = float | str


@dataclass(frozen=True)
class Judgement:
    """How a result moved from its baseline, and whether that matters clinically."""

    scale: ScaleKind
    baseline: Value
    now: Value
    direction: Direction
    #: Crossed the threshold, better or worse.
    important: bool
    #: latest - baseline: points or units (pain, ratio), grades (ordinal), None (nominal).
    delta: float | None
    #: Of the baseline: decides on a ratio measure, shown beside a pain score; else None.
    percent: float | None

    @property
    def improved(self) -> bool:
        return self.direction == "better"

    @property
    def worsened(self) -> bool:
        return self.direction == "worse"

    @property
    def important_worsening(self) -> bool:
        return self.important and self.direction == "worse"

    @property
    def important_improvement(self) -> bool:
        return self.important and self.direction == "better"


def exact(value: float) -> float:
    """Rounded so that 8.2 -> 6.2 counts as the 2 points it is (binary floats give 1.9999...)."""
    return round(value, 9)


def numeric_direction(delta: float, higher_is_better: bool) -> Direction:
    if delta == 0:
        return "unchanged"
    return "better" if (delta > 0) == higher_is_better else "worse"


def judge_numbers(
    scale: ScaleKind,
    baseline: float,
    now: float,
    *,
    higher_is_better: bool,
    rules: ChangeRules,
    threshold: float | None = None,
) -> Judgement:
    """A numeric change judged by `scale`'s rule (`threshold`: the test's own, if any)."""
    delta = exact(now - baseline)
    percent = exact(delta / baseline * 100) if baseline else None
    direction = numeric_direction(delta, higher_is_better)
    if scale == "pain":
        important = abs(delta) >= (threshold if threshold is not None else rules.pain_points)
    elif scale == "ratio":
        if threshold is not None:
            important = abs(delta) >= threshold
        else:
            important = percent is not None and abs(percent) >= rules.ratio_percent
    elif scale == "ordinal":
        important = abs(delta) >= (threshold if threshold is not None else rules.ordinal_grades)
        percent = None  # a grade is not a quantity: 4/5 against 5/5 is not 20 %
    else:
        important = False
    return Judgement(scale, baseline, now, direction, important and delta != 0, delta, percent)


def judge_choices(
    scale: ScaleKind,
    choices: tuple[str, ...],
    baseline: str,
    now: str,
    *,
    rules: ChangeRules,
    threshold: float | None = None,
) -> Judgement | None:
    """A change between two of a scale's choices (the first is the best / normal finding)."""
    if baseline not in choices or now not in choices:
        return None
    if scale == "ordinal":
        grades = float(choices.index(now) - choices.index(baseline))  # + is worse
        moved = numeric_direction(grades, higher_is_better=False)
        needed = threshold if threshold is not None else rules.ordinal_grades
        important = grades != 0 and abs(grades) >= needed
        return Judgement(scale, baseline, now, moved, important, -grades, None)
    if scale == "nominal":
        normal = choices[0]
        if now == baseline:
            direction: Direction = "unchanged"
        elif now == normal:
            direction = "better"
        elif baseline == normal:
            direction = "worse"
        else:
            direction = "changed"
        return Judgement(scale, baseline, now, direction, direction != "unchanged", None, None)
    return None


def judge_change(
    test: ClinicalTest, baseline: Value | None, now: Value | None, rules: ChangeRules
) -> Judgement | None:
    """Baseline to now for `test`, by its scale's rule; None when it cannot be judged."""
    if baseline is None or now is None or test.scale == "none":
        return None
    if isinstance(baseline, float | int) and isinstance(now, float | int):
        if test.higher_is_better is None:
            return None
        return judge_numbers(
            test.scale,
            float(baseline),
            float(now),
            higher_is_better=test.higher_is_better,
            rules=rules,
            threshold=test.important_change,
        )
    if isinstance(baseline, str) and isinstance(now, str):
        return judge_choices(
            test.scale,
            test.choices,
            baseline,
            now,
            rules=rules,
            threshold=test.important_change,
        )
    return None


def _number(value: float) -> str:
    return f"{value:g}"


def _sign_turned(test: ClinicalTest, judgement: Judgement) -> str | None:
    """'turned positive' for a two-choice sign (negative/positive and the like)."""
    if len(test.choices) == 2 and judgement.direction in ("better", "worse"):
        return _("turned {now}", now=judgement.now)
    return None


def change_words(test: ClinicalTest, judgement: Judgement) -> str:
    """The change in a clinician's words: '2 points worse (+40 %)', 'one grade weaker',
    'turned positive', 'changed: level → rotated', '−25° (−31 %) worse'."""
    if judgement.direction == "unchanged":
        return _("unchanged")
    way = _("better") if judgement.improved else _("worse")
    if judgement.scale == "nominal":
        return _("changed: {was} → {now}", was=judgement.baseline, now=judgement.now)
    delta = judgement.delta or 0.0
    if judgement.scale == "ordinal":
        if (turned := _sign_turned(test, judgement)) is not None:
            return turned
        grades = abs(delta)
        count = _("one grade") if grades == 1 else _("{n} grades", n=_number(grades))
        if test.kind == "number":  # MRC strength: stronger / weaker
            way = _("stronger") if judgement.improved else _("weaker")
        return f"{count} {way}"
    percent = (
        f" ({judgement.percent:+.0f} %)".replace("-", "−") if judgement.percent is not None else ""
    )
    if judgement.scale == "pain":
        points = abs(delta)
        unit = _("point") if points == 1 else _("points")
        return f"{_number(points)} {unit} {way}{percent}"
    sign = "+" if delta > 0 else "−"
    unit = test.unit
    amount = f"{sign}{_number(abs(delta))}"
    amount = f"{amount}{unit}" if unit in ("°", "%") or unit.startswith("/") else f"{amount} {unit}"
    return f"{amount.rstrip()}{percent} {way}"


def verdict_words(judgement: Judgement) -> str:
    """Whether it matters: 'clinically important worsening', 'below the threshold'."""
    if judgement.important_worsening:
        return _("clinically important worsening")
    if judgement.important_improvement:
        return _("clinically important improvement")
    if judgement.important:  # a nominal finding moved between two abnormal findings
        return _("a changed finding")
    if judgement.direction == "unchanged":
        return ""
    return _("below the clinically important threshold")


def since_baseline_words(test: ClinicalTest, judgement: Judgement) -> str:
    """One line for a screen as a value is recorded: '! 2 points worse (+40 %) than
    baseline: clinically important worsening'."""
    mark = (
        "! " if judgement.important_worsening else "+ " if judgement.important_improvement else ""
    )
    verdict = verdict_words(judgement)
    words = _("{change} since baseline", change=change_words(test, judgement))
    return f"{mark}{words}: {verdict}" if verdict else f"{mark}{words}"
