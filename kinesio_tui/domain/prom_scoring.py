"""Scoring the patient-reported outcome questionnaires, and judging a change by their MCIDs.

Pure functions over item scores (no database, no clock), property-tested:

- percent scoring (Oswestry): sum / (item_max x items answered) x 100. A section left
  unanswered is left out of the denominator (Fairbank & Pynsent 2000); with more than the
  questionnaire's `max_missing` sections unanswered there is no score.
- raw scoring (NDI 0-50, RMDQ 0-24): the sum of the items; with an item unanswered (as
  far as `max_missing` allows) the sum is prorated to the whole form, sum / answered x
  items, and said to be prorated. The percentage of the highest score is shown beside it.
- the band: the first band whose upper bound holds the score.
- a change matters clinically at the questionnaire's MCID in its own units (ODI 10 points,
  NDI 5 raw points, RMDQ 5 points), better or worse; the percentage change is shown beside.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kinesio_tui.domain.change_rules import Direction, numeric_direction
from kinesio_tui.questionnaires import Questionnaire


class ScoreRefused(ValueError):
    """An answer outside the form (an unknown item, a score beyond the item's range)."""


@dataclass(frozen=True)
class PromScore:
    """A questionnaire's score from its item answers."""

    code: str
    #: The score in the questionnaire's units: % (ODI), raw points (NDI 0-50, RMDQ 0-24);
    #: None when too many items are unanswered.
    score: float | None
    #: The score as a percentage of the highest possible (NDI raw x 2); None without a score.
    percent: float | None
    total: int  # the sum of the answered items
    answered: int
    items: int
    #: More items unanswered than the questionnaire allows: no score.
    too_few: bool
    prorated: bool  # a raw score scaled up for unanswered items
    band: str | None


def check_answers(q: Questionnaire, answers: Mapping[str, int | None]) -> None:
    """Refuse answers that are not this form's: an unknown item, a score out of range."""
    for item_id, value in answers.items():
        if q.item(item_id) is None:
            raise ScoreRefused(f"{q.short} has no item {item_id!r}")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= q.item_max:
            raise ScoreRefused(f"{q.short} item {item_id}: a score is 0 to {q.item_max}")


def band_of(q: Questionnaire, score: float) -> str | None:
    """The band whose range holds `score` (bands are upper bounds, lowest first)."""
    return next((b.label for b in q.bands if score <= b.upper), None)


def score_questionnaire(q: Questionnaire, answers: Mapping[str, int | None]) -> PromScore:
    """The score of one filled-in form (`answers`: item id -> score; missing or None:
    unanswered). Refuses (ScoreRefused) answers that are not the form's."""
    check_answers(q, answers)
    given = [v for item in q.items if (v := answers.get(item.id)) is not None]
    answered, total, items = len(given), sum(given), len(q.items)
    too_few = answered == 0 or items - answered > q.max_missing
    if too_few:
        return PromScore(q.code, None, None, total, answered, items, True, False, None)
    if q.scoring == "percent":
        score = total / (q.item_max * answered) * 100
        prorated = False
    else:
        score = total / answered * items if answered < items else float(total)
        prorated = answered < items
    score = round(score, 9)  # 20/45 x 100 is 44.44..., never 44.4444444446
    percent = round(score / q.top * 100, 9)
    return PromScore(
        q.code, score, percent, total, answered, items, False, prorated, band_of(q, score)
    )


@dataclass(frozen=True)
class PromChange:
    """Baseline to now on one questionnaire, judged by its MCID (lower is better)."""

    baseline: float
    now: float
    delta: float  # now - baseline, in the score's units
    percent: float | None  # of the baseline: shown beside, never decides
    direction: Direction
    important: bool  # at least the MCID, better or worse

    @property
    def important_improvement(self) -> bool:
        return self.important and self.direction == "better"

    @property
    def important_worsening(self) -> bool:
        return self.important and self.direction == "worse"


def prom_change(q: Questionnaire, baseline: float, now: float) -> PromChange:
    """A change of the score from `baseline` to `now`, judged by the questionnaire's MCID."""
    delta = round(now - baseline, 9)
    percent = round(delta / baseline * 100, 9) if baseline else None
    direction = numeric_direction(delta, higher_is_better=False)
    return PromChange(baseline, now, delta, percent, direction, abs(delta) >= q.mcid)


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def score_text(q: Questionnaire, score: PromScore) -> str:
    """The score as written: '44.4 %' (ODI), '16/50 (32 %)' (NDI), '7/24 (29 %)' (RMDQ);
    '' without a score."""
    if score.score is None or score.percent is None:
        return ""
    if q.scoring == "percent":
        return f"{_number(score.score)} %"
    return f"{_number(score.score)}{q.unit} ({score.percent:.0f} %)"


def change_text(change: PromChange) -> str:
    """'+6 points (+60 %)': the change in the score's units, its percentage beside."""
    sign = "+" if change.delta > 0 else "−" if change.delta < 0 else "±"
    beside = f" ({change.percent:+.0f} %)".replace("-", "−") if change.percent is not None else ""
    unit = "point" if abs(change.delta) == 1 else "points"
    return f"{sign}{_number(abs(change.delta))} {unit}{beside}"
