"""The clinic's outcomes over its own episodes of care, by condition and subtype.

The clinic publishes "pain eliminated in 89 % of radiculitis and 85 % of sciatica cases";
this counts the same from the records, with every denominator shown. An episode counts in
the period it ended in (completed, or closed early); an episode stopped by a red flag counts
in the period its hold was raised in. Episodes still in treatment are not counted.

Each ended episode is one of:
- completed: the programme finished (the last visit held or missed);
- on hold / referred: a red-flag hold no doctor has cleared (therapy stopped, patient sent on);
- dropped out: closed before the programme finished, with no hold open.

Of the completed ones, those with a baseline and a final VAS (two values at different visits)
are judged: pain gone (final VAS at most protocol.toml's cut-off), improved or worsened by the
pain scale's rule (catalog.toml: 2 points). Questionnaires (ODI, NDI, RMDQ) are judged by
their MCIDs where recorded at two appointments.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.change_rules import judge_change
from kinesio_tui.domain.proms import prom_outcomes
from kinesio_tui.errors import ValidationError
from kinesio_tui.i18n import _
from kinesio_tui.protocol import Protocol, protocol
from kinesio_tui.questionnaires import questionnaire

#: z for a two-sided 95 % interval.
_Z95 = 1.959963984540054


@dataclass(frozen=True)
class Share:
    """`count` of `of` episodes, with the percentage only where the group is big enough."""

    count: int
    of: int
    #: Below this many episodes no percentage is given (protocol.toml [outcomes]).
    fewest_for_percent: int = 1

    @property
    def percent(self) -> float | None:
        if self.of == 0 or self.of < self.fewest_for_percent:
            return None
        return 100 * self.count / self.of

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95 % Wilson interval in percent: how far the share could be from the truth
        with this few episodes. None where no percentage is given."""
        if self.percent is None:
            return None
        n, p = self.of, self.count / self.of
        centre = (p + _Z95**2 / (2 * n)) / (1 + _Z95**2 / n)
        half = _Z95 * math.sqrt(p * (1 - p) / n + _Z95**2 / (4 * n * n)) / (1 + _Z95**2 / n)
        return (max(0.0, centre - half) * 100, min(1.0, centre + half) * 100)


@dataclass(frozen=True)
class PromCounts:
    """One questionnaire over a group's completed episodes."""

    code: str
    short: str
    mcid: float  # in the score's points (ODI %, NDI raw, RMDQ statements)
    measured: int  # completed episodes scored at two appointments
    improved: int  # better by at least the MCID
    worsened: int  # worse by at least the MCID


@dataclass(frozen=True)
class GroupOutcome:
    """One condition (all its subtypes) or one subtype of it."""

    condition: str
    subtype: str | None  # None: the whole condition
    label: str
    completed: int
    on_hold: int
    dropped_out: int
    with_vas: int  # completed, with a baseline and a final VAS
    pain_gone: int
    improved: int
    worsened: int
    fewest_for_percent: int
    proms: tuple[PromCounts, ...] = ()
    #: The clinic's published pain-gone percentage for the condition (its rows only).
    published_percent: float | None = None
    published_source: str = ""

    @property
    def ended(self) -> int:
        return self.completed + self.on_hold + self.dropped_out

    def share(self, count: int, of: int) -> Share:
        return Share(count, of, self.fewest_for_percent)

    @property
    def pain_gone_share(self) -> Share:
        """Pain gone, of the completed episodes with a baseline and a final VAS."""
        return self.share(self.pain_gone, self.with_vas)

    @property
    def pain_gone_of_ended(self) -> Share:
        """Pain gone, of every episode that ended (dropped out and referred ones count as
        not pain-free: the stricter reading)."""
        return self.share(self.pain_gone, self.ended)

    @property
    def improved_share(self) -> Share:
        return self.share(self.improved, self.with_vas)

    @property
    def worsened_share(self) -> Share:
        return self.share(self.worsened, self.with_vas)


@dataclass(frozen=True)
class ClinicOutcomes:
    """The summary: the groups (each condition, then its subtypes) and the rules used."""

    since: date | None
    until: date | None
    pain_gone_vas_at_most: float
    pain_points: float  # the VAS change that matters (catalog.toml)
    fewest_for_percent: int
    groups: tuple[GroupOutcome, ...] = field(default_factory=tuple)

    @property
    def ended(self) -> int:
        return sum(g.ended for g in self.groups if g.subtype is None)


@dataclass
class _Tally:
    completed: int = 0
    on_hold: int = 0
    dropped_out: int = 0
    with_vas: int = 0
    pain_gone: int = 0
    improved: int = 0
    worsened: int = 0
    proms: dict[str, list[int]] = field(default_factory=dict)  # code -> measured, up, down


_EPISODES_SQL = """
SELECT e.id, e.condition, e.subtype, e.status, e.closed_on,
  (SELECT h.raised_on FROM episode_holds h WHERE h.episode_id = e.id AND h.cleared_on IS NULL)
FROM episodes e
WHERE e.status IN ('completed', 'closed')
   OR EXISTS (SELECT 1 FROM episode_holds h WHERE h.episode_id = e.id AND h.cleared_on IS NULL)
ORDER BY e.id
"""


def clinic_outcomes(
    db: ClinicDB,
    *,
    since: date | None = None,
    until: date | None = None,
    proto: Protocol | None = None,
) -> ClinicOutcomes:
    """Count the clinic's ended episodes by condition and subtype (see the module's words).

    `since`/`until` (inclusive) pick the episodes that ended, or were put on hold, then.
    """
    proto = proto or protocol()
    if since is not None and until is not None and since > until:
        raise ValidationError("--from", _("should be on or before --to ({day})", day=until))
    rules = proto.outcomes
    vas_test = proto.test("vas")
    tallies: dict[tuple[str, str], _Tally] = {}
    for episode_id, condition, subtype, status, closed_on, held_since in db.execute(
        _EPISODES_SQL
    ).fetchall():
        day = date.fromisoformat(closed_on or held_since)
        if (since is not None and day < since) or (until is not None and day > until):
            continue
        tally = tallies.setdefault((condition, subtype), _Tally())
        if status == "completed":
            tally.completed += 1
        elif held_since is not None:
            tally.on_hold += 1
            continue
        else:
            tally.dropped_out += 1
            continue
        values = _vas_values(db, episode_id)
        if vas_test is not None and len(values) >= 2:
            tally.with_vas += 1
            tally.pain_gone += values[-1] <= rules.pain_gone_vas_at_most
            judged = judge_change(vas_test, values[0], values[-1], proto.change_rules)
            if judged is not None:
                tally.improved += judged.important_improvement
                tally.worsened += judged.important_worsening
        for outcome in prom_outcomes(db, episode_id):
            change = outcome.change
            if change is None:
                continue
            counts = tally.proms.setdefault(outcome.questionnaire.code, [0, 0, 0])
            counts[0] += 1
            counts[1] += change.important_improvement
            counts[2] += change.important_worsening
    groups: list[GroupOutcome] = []
    for condition in proto.conditions:
        published = rules.published_for(condition.code)
        # a subtype the data file no longer names still counts in its condition
        whole = _sum(t for (c, _s), t in tallies.items() if c == condition.code)
        subtypes = [
            (s.code, s.label, tallies[(condition.code, s.code)])
            for s in condition.subtypes
            if (condition.code, s.code) in tallies
        ]
        groups.append(
            _group(
                condition.code,
                None,
                condition.label,
                whole,
                rules.fewest_for_percent,
                published.pain_gone_percent if published else None,
                published.source if published else "",
            )
        )
        for code, label, tally in subtypes:
            groups.append(_group(condition.code, code, label, tally, rules.fewest_for_percent))
    return ClinicOutcomes(
        since,
        until,
        rules.pain_gone_vas_at_most,
        proto.change_rules.pain_points,
        rules.fewest_for_percent,
        tuple(groups),
    )


def _vas_values(db: ClinicDB, episode_id: int) -> list[float]:
    """The episode's VAS values in programme order (one per visit: the visit's last)."""
    rows = db.execute(
        "SELECT v.seq, m.value_num FROM measurements m JOIN visits v ON v.id = m.visit_id "
        "WHERE v.episode_id = ? AND m.test_code = 'vas' AND m.side IS NULL "
        "AND m.value_num IS NOT NULL ORDER BY v.seq, m.id",
        [episode_id],
    ).fetchall()
    by_visit: dict[int, float] = {}
    for seq, value in rows:
        by_visit[seq] = float(value)
    return list(by_visit.values())


def _sum(tallies: Iterable[_Tally]) -> _Tally:
    out = _Tally()
    for t in tallies:
        out.completed += t.completed
        out.on_hold += t.on_hold
        out.dropped_out += t.dropped_out
        out.with_vas += t.with_vas
        out.pain_gone += t.pain_gone
        out.improved += t.improved
        out.worsened += t.worsened
        for code, counts in t.proms.items():
            mine = out.proms.setdefault(code, [0, 0, 0])
            for i in range(3):
                mine[i] += counts[i]
    return out


def _group(
    condition: str,
    subtype: str | None,
    label: str,
    tally: _Tally,
    fewest: int,
    published: float | None = None,
    source: str = "",
) -> GroupOutcome:
    proms = []
    for code, (measured, up, down) in sorted(tally.proms.items()):
        q = questionnaire(code)
        if q is None:
            continue
        proms.append(PromCounts(code, q.short, q.mcid, measured, up, down))
    return GroupOutcome(
        condition,
        subtype,
        label,
        tally.completed,
        tally.on_hold,
        tally.dropped_out,
        tally.with_vas,
        tally.pain_gone,
        tally.improved,
        tally.worsened,
        fewest,
        tuple(proms),
        published,
        source,
    )


def share_words(share: Share) -> str:
    """A share as the summary writes it, the denominator always shown: "8 of 9 (89 %,
    95 % CI 57-98 %)"; a small group gives its size instead: "2 of 3 (n = 3)"."""
    if share.of == 0:
        return _("none to count")
    if share.percent is None or share.interval is None:
        return _("{count} of {of} (n = {of})", count=share.count, of=share.of)
    low, high = share.interval
    return _(
        "{count} of {of} ({percent:.0f} %, 95 % CI {low:.0f}-{high:.0f} %)",
        count=share.count,
        of=share.of,
        percent=share.percent,
        low=low,
        high=high,
    )


def prom_words(counts: PromCounts) -> str:
    """A questionnaire over a group: "ODI (10 points matter): 3 of 5 better, 0 of 5 worse"."""
    return _(
        "{short} ({mcid:g} points matter): {better} of {measured} better, "
        "{worse} of {measured} worse",
        short=counts.short,
        mcid=counts.mcid,
        better=counts.improved,
        worse=counts.worsened,
        measured=counts.measured,
    )


def period_words(summary: ClinicOutcomes, today: date) -> str:
    """Which episodes the summary counts, in words."""
    if summary.since is None and summary.until is None:
        return _("every episode that ended, up to {today}", today=today.isoformat())
    return _(
        "episodes that ended from {since} to {until}",
        since=summary.since.isoformat() if summary.since else _("the first"),
        until=(summary.until or today).isoformat(),
    )
