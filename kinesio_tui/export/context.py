"""Gather what a report shows into plain dicts: the only place exports read the database.

Templates receive dicts of display-ready values (dates and numbers already formatted with
their units) so a clinic's override template needs no Python to look right. Text typed by
users stays a plain `str` and is escaped by the output format (HTML autoescape, Markdown
finalize); values we format ourselves are `Markup` because they hold no user text.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from statistics import mean
from typing import TYPE_CHECKING, Any, Literal

from markupsafe import Markup, escape

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.amendments import (
    Amendment,
    amendments_of_episode,
    dosage_what,
    pir_what,
    result_what,
    tick_what,
)
from kinesio_tui.domain.change_rules import change_words, judge_change
from kinesio_tui.domain.episodes import current_episode, get_episode
from kinesio_tui.domain.holds import describe_hold, holds_of
from kinesio_tui.domain.models import Episode, Patient, PirCycle, Visit
from kinesio_tui.domain.outcomes import (
    asymmetry_pct,
    change_for_test,
    important_threshold,
    standing,
)
from kinesio_tui.domain.patient_record import (
    ReportPage,
    ReportRecords,
    current_records,
    episode_records,
    no_episode,
)
from kinesio_tui.domain.patients import get_patient
from kinesio_tui.domain.plan import EpisodePlan, PlanItem, plan_changes_of
from kinesio_tui.domain.prom_scoring import change_text, score_text
from kinesio_tui.domain.proms import prom_outcomes
from kinesio_tui.domain.visits import (
    checklist_for_visit,
    get_visit,
    measurements_of,
    pir_cycles_of,
    ticks_of,
    visits_of,
)
from kinesio_tui.errors import KinesioError
from kinesio_tui.export import charts
from kinesio_tui.export.fmt import DASH, day, measure, number, percent, signed
from kinesio_tui.export.letter import letter_context
from kinesio_tui.i18n import _
from kinesio_tui.protocol import ClinicalTest, Protocol, protocol

if TYPE_CHECKING:
    from kinesio_tui.clinic_identity import ClinicIdentity

Kind = Literal["summary", "visit", "module", "exercises"]
Value = float | str
SIDE_LABELS: dict[str | None, str] = {"L": "left", "R": "right", "both": "both sides", None: ""}
STATUS_LABELS = {"done": "held", "missed": "missed", "planned": "planned", "cancelled": "cancelled"}


#: The mark of a value never amended.
NO_MARK = Markup("")


@dataclass
class ReportAmendments:
    """The corrections and removals made on an episode's held visits, as one report prints
    them: a mark beside the value ('corrected [1]', or 'removed [2]' where the value was)
    and numbered footnotes saying when, by whom and why. A footnote is numbered when a
    report first asks about its value, so a report's footnotes are those it shows, in the
    order it shows them. Reopening a visit changes no value and has no footnote here."""

    by_value: dict[tuple[int, str], list[tuple[int, Amendment]]]
    numbers: dict[int, int] = field(default_factory=dict)  # amendment id -> footnote number
    notes: list[dict[str, Any]] = field(default_factory=list)

    # Most episodes have no amendment: their values are not named to be looked up.

    def result(self, seq: int, test_code: str, side: str | None) -> Markup:
        """The mark of the test result of visit `seq` ('' when never amended)."""
        return self.mark(seq, result_what(test_code, side)) if self.by_value else NO_MARK

    def pir(self, seq: int, muscle: str, side: str) -> Markup:
        return self.mark(seq, pir_what(muscle, side)) if self.by_value else NO_MARK

    def dosage(self, seq: int, item_label: str) -> Markup:
        return self.mark(seq, dosage_what(item_label)) if self.by_value else NO_MARK

    def tick(self, seq: int, item_label: str) -> Markup:
        return self.mark(seq, tick_what(item_label)) if self.by_value else NO_MARK

    def mark(self, seq: int, what: str) -> Markup:
        """'corrected [1]' (or 'removed [1, 2]' when the last amendment removed the value)."""
        found = self.by_value.get((seq, what), [])
        if not found:
            return Markup("")
        numbers = ", ".join(str(self._number(seq, a)) for _seq, a in found)
        word = _("removed") if found[-1][1].kind == "remove" else _("corrected")
        return Markup(f"{escape(word)} [{numbers}]")

    def of_visit(self, seq: int) -> None:
        """Give every amendment of visit `seq` its footnote: the removed values a visit note
        no longer has a row for are told there."""
        for (at, _what), found in self.by_value.items():
            if at == seq:
                for _s, amendment in found:
                    self._number(seq, amendment)

    def footnotes(self) -> list[dict[str, Any]]:
        """The footnotes numbered so far, in number order. Typed text (what, by, reason)
        stays plain text for the output format to escape."""
        return list(self.notes)

    def _number(self, seq: int, amendment: Amendment) -> int:
        if amendment.id not in self.numbers:
            self.numbers[amendment.id] = len(self.notes) + 1
            self.notes.append(
                {
                    "number": self.numbers[amendment.id],
                    "visit": seq,
                    "what": amendment.what,
                    "kind": _("removed") if amendment.kind == "remove" else _("corrected"),
                    "when": _moment(amendment.recorded_at),
                    "by": amendment.amended_by or _("unknown"),
                    "reason": amendment.reason,
                }
            )
        return self.numbers[amendment.id]


def _moment(stamp: str) -> str:
    """A stored UTC moment as the clinic reads it: '25 Nov 2026 10:00', local time."""
    try:
        moment = datetime.fromisoformat(stamp).astimezone()
    except ValueError:
        return DASH
    return f"{day(moment.date())} {moment:%H:%M}"


def report_amendments(db: ClinicDB, episode_id: int) -> ReportAmendments:
    """The amendment lookup every report uses (one query for the episode)."""
    return amendment_lookup(amendments_of_episode(db, episode_id))


def amendment_lookup(found: Iterable[tuple[int, Amendment]]) -> ReportAmendments:
    """The lookup of an episode's amendments, (seq, amendment) oldest first."""
    by_value: dict[tuple[int, str], list[tuple[int, Amendment]]] = defaultdict(list)
    for seq, amendment in found:
        if amendment.kind in ("correct", "remove"):
            by_value[(seq, amendment.what)].append((seq, amendment))
    return ReportAmendments(dict(by_value))


@dataclass
class EpisodeData:
    """One episode's records, read with a handful of queries (not three per visit)."""

    patient: Patient
    episode: Episode
    visits: list[Visit]
    values: dict[tuple[str, str | None], list[tuple[int, Value]]]  # (test, side) -> (seq, value)
    ticks: dict[int, int]  # visit id -> ticked items
    pir: list[tuple[int, PirCycle]]  # (seq, cycle)
    by_seq: dict[int, Visit]
    plan: EpisodePlan  # the patient's own lists, as the doctor tailored them
    amendments: ReportAmendments  # corrections and removals, with this report's footnotes
    records: ReportRecords  # as read (red-flag screens, discharge, what else it has)
    #: The doctor's appointments (held or not), and those held in programme order: asked by
    #: the charts, the outcome table and the letter, worked out once.
    doctor_seqs: frozenset[int] = frozenset()
    reviews: list[int] = field(default_factory=list)


def load_episode(db: ClinicDB, patient: Patient, episode: Episode) -> EpisodeData:
    """Read an episode's visits, results, ticks and PIR sets (one query per kind of record:
    the per-visit readers would cost 3 queries for every visit of the programme)."""
    return episode_data(db, episode_records(db, patient, episode))


def episode_data(db: ClinicDB, records: ReportRecords) -> EpisodeData:
    """An episode's records as the reports use them (its plan's changes and holds read
    only when it has any)."""
    episode = records.episode
    values: dict[tuple[str, str | None], list[tuple[int, Value]]] = defaultdict(list)
    for seq, m in records.results:
        value = float(m.value_num) if m.value_num is not None else m.value_text
        if value is not None:
            values[(m.test_code, m.side)].append((seq, value))
    changes = plan_changes_of(db, episode.id) if records.has_plan_changes else []
    return EpisodeData(
        records.patient,
        episode,
        records.visits,
        dict(values),
        {visit_id: len(codes) for visit_id, codes in records.ticked.items()},
        records.pir,
        {v.seq: v for v in records.visits},
        EpisodePlan(episode.condition, episode.subtype, changes),
        amendment_lookup(records.amendments),
        records,
        frozenset(v.seq for v in records.visits if v.is_doctor),
        [v.seq for v in records.visits if v.is_doctor and v.status == "done"],
    )


def session_checklist(data: EpisodeData, module: int, seq: int) -> tuple[PlanItem, ...]:
    """The checklist of session `seq` of `module`, as the doctor had tailored it by then.

    A module the doctor never tailored has the programme's list at every session: worked
    out once per condition and subtype for every report this process makes, instead of
    once per session of every patient (most of a summary's time went there).
    """
    same = module_checklist(data, module)
    return data.plan.checklist(module, seq) if same is None else same


def module_checklist(data: EpisodeData, module: int) -> tuple[PlanItem, ...] | None:
    """The checklist of every session of `module` when the doctor never tailored it; None
    when they did (each session then has its own list: `session_checklist`)."""
    plan = data.plan
    if plan.changes and any(change.module == module for change in plan.changes):
        return None
    return _programme_plan(plan.condition, plan.subtype).checklist(module)


@functools.lru_cache(maxsize=32)
def _programme_plan(condition: str, subtype: str) -> EpisodePlan:
    """The plan as the programme has it, untailored (its lists are kept once worked out)."""
    return EpisodePlan(condition, subtype)


# --- building blocks --------------------------------------------------------------------


def patient_info(patient: Patient, today: date) -> dict[str, Any]:
    return {
        "id": patient.id,
        "ref": f"{patient.id:04d}",
        "name": patient.full_name,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "birth_date": day(patient.birth_date),
        "age": patient.age_on(today),
        "sex": {"F": "female", "M": "male"}.get(patient.sex, "other"),
        "phone": patient.phone,
        "occupation": patient.occupation,
        "notes": patient.notes,
        "archived": patient.archived,
    }


def episode_info(db: ClinicDB, records: ReportRecords, proto: Protocol) -> dict[str, Any]:
    episode = records.episode
    condition = proto.condition(episode.condition)
    subtype = condition.subtype(episode.subtype) if condition else None
    flags = [
        flag.label if (flag := proto.red_flag(code)) else code for code in records.raised_red_flags
    ]
    return {
        "id": episode.id,
        "condition": condition.label if condition else episode.condition,
        "subtype": subtype.label if subtype else episode.subtype,
        "side": SIDE_LABELS.get(episode.side, episode.side),
        "course": episode.course,
        "onset_date": day(episode.onset_date) if episode.onset_date else None,
        "medication": episode.pain_medication,
        "status": episode.status,
        "opened_on": day(episode.opened_on),
        "closed_on": day(episode.closed_on) if episode.closed_on else None,
        "red_flags": flags,
        "holds": [
            {"active": hold.active, "lines": describe_hold(hold, proto.red_flag_words(hold.flags))}
            for hold in (holds_of(db, episode.id) if records.has_holds else [])
        ],
    }


def visit_label(visit: Visit, proto: Protocol) -> str:
    return proto.slot(visit.number).label


def display(test: ClinicalTest, value: Value | None) -> Markup | str:
    """A result as shown: numbers with units; scale choices and free text as written."""
    if value is None:
        return Markup(DASH)
    if test.kind == "number" and isinstance(value, float):
        return measure(value, test.unit)
    return str(value)


def judge(
    test: ClinicalTest, baseline: Value | None, now: Value | None, proto: Protocol
) -> dict[str, Any]:
    """Change from baseline and whether it matters clinically, by the test's scale
    (catalog): pain by points (the percentage beside), ratio measures by percent of the
    baseline or the test's own threshold, ordinal scales by grades or a sign that turned,
    nominal findings changed or not. Worse by the threshold is flagged like better."""
    none: dict[str, Any] = {"change": Markup(DASH), "direction": "", "important": None}
    judged = judge_change(test, baseline, now, proto.change_rules)
    if judged is None:
        if test.kind == "number" and isinstance(baseline, float) and isinstance(now, float):
            return {"change": signed(now - baseline, test.unit), "direction": "", "important": None}
        return none
    if judged.scale in ("pain", "ratio") and judged.delta is not None:
        text = signed(judged.delta, test.unit)
        if judged.percent is not None:
            text = Markup(f"{text} ({percent(judged.percent, signed_=True)})")
        if judged.direction in ("better", "worse"):
            text = Markup(f"{text} {_(judged.direction)}")
    else:
        text = Markup(escape(change_words(test, judged)))
    return {"change": text, "direction": judged.direction, "important": judged.important}


def sides(test: ClinicalTest) -> tuple[str | None, ...]:
    return ("L", "R") if test.sided else (None,)


def rule_words(test: ClinicalTest, proto: Protocol) -> str:
    """The threshold the test is judged by, from the catalog: '2 points', '30 %', '1 grade'."""
    rules = proto.change_rules
    if test.important_change is not None:
        if test.scale == "ordinal":
            return _("{n} grades", n=number(test.important_change))
        return str(measure(test.important_change, test.unit, decimals=2))
    if test.scale == "pain":
        return _("{n} points", n=number(rules.pain_points))
    if test.scale == "ordinal":
        grades = rules.ordinal_grades
        return _("1 grade") if grades == 1 else _("{n} grades", n=grades)
    return _("{pct} %", pct=number(rules.ratio_percent))


def chart(
    data: EpisodeData, test: ClinicalTest, proto: Protocol, *, upto: int | None = None
) -> dict[str, Any] | None:
    """A test's values over the programme (up to visit `upto`) as SVG, plus a small table
    for Markdown."""
    upto = proto.total_visits if upto is None else upto
    series = []
    for side in sides(test):
        points = [
            (seq, v)
            for seq, v in data.values.get((test.code, side), [])
            if isinstance(v, float) and seq <= upto
        ]
        if points:
            series.append(charts.Series(SIDE_LABELS[side].capitalize() or test.label, points))
    if not series:
        return None
    line: float | None = None
    line_label = ""
    if test.higher_is_better is not None and test.scale != "none" and len(series) == 1:
        line = important_threshold(test, series[0].points[0][1], proto)
        line_label = _(
            "clinically important change ({how}): {value}",
            how=rule_words(test, proto),
            # the threshold as computed (2.5 cm + 30 % is 3.25 cm, not a rounded 3.2)
            value=measure(line, test.unit, decimals=2),
        )
    spec = charts.Chart(
        title=f"{test.label} ({test.unit})" if test.unit else test.label,
        unit=test.unit,
        y_min=test.min if test.min is not None else 0,
        y_max=test.max if test.max is not None else 10,
        series=series,
        x_max=proto.total_visits,
        threshold=line,
        threshold_label=line_label,
        missing=frozenset(v.seq for v in data.visits if v.status == "missed" and v.seq <= upto),
        x_ticks=proto.review_seqs(),
    )
    doctor = data.doctor_seqs
    seqs = sorted({seq for s in series for seq, _v in s.points})
    lookup = [dict(s.points) for s in series]
    rows = [
        {
            "visit": seq,
            "date": day(data.by_seq[seq].day) if seq in data.by_seq else DASH,
            "values": [measure(values.get(seq), test.unit) for values in lookup],
        }
        for seq in seqs
        if seq in doctor or seq == seqs[-1]
    ]
    return {
        "title": spec.title,
        "svg": charts.LazySvg(spec),
        "columns": [s.name for s in series],
        "rows": rows,
        "threshold": line_label,
    }


def attendance(visits: list[Visit]) -> dict[str, int]:
    counts = dict.fromkeys(STATUS_LABELS, 0)
    for visit in visits:
        counts[visit.status] = counts.get(visit.status, 0) + 1
    counts["total"] = len(visits)
    return counts


def checklist_completion(data: EpisodeData, visits: list[Visit], proto: Protocol) -> dict[str, Any]:
    """Ticked items over the items due in held therapy sessions (each session's own list,
    as the doctor had tailored it by then)."""
    held = [v for v in visits if v.kind == "therapy" and v.status == "done"]
    every_session: dict[int, int | None] = {}  # module -> its sessions' list length, if one
    due = done = 0
    for v in held:
        if v.module not in every_session:
            same = module_checklist(data, v.module)
            every_session[v.module] = None if same is None else len(same)
        items = every_session[v.module]
        if items is None:
            items = len(session_checklist(data, v.module, v.seq))
        due += items
        done += min(data.ticks.get(v.id, 0), items)
    return {
        "done": done,
        "due": due,
        "sessions": len(held),
        "percent": percent(done / due * 100) if due else Markup(DASH),
    }


def pir_summary(data: EpisodeData) -> list[dict[str, Any]]:
    """Per muscle and side: sets, cycles, mean range-of-motion gain, mean pain change;
    the marks of its sets amended after the fact."""
    groups: dict[tuple[str, str], list[PirCycle]] = defaultdict(list)
    amended: dict[tuple[str, str], list[Markup]] = defaultdict(list)
    for seq, cycle in data.pir:
        groups[(cycle.muscle, cycle.side)].append(cycle)
        mark = data.amendments.pir(seq, cycle.muscle, cycle.side)
        if mark and mark not in amended[(cycle.muscle, cycle.side)]:
            amended[(cycle.muscle, cycle.side)].append(mark)
    rows = []
    for (muscle, side), cycles in sorted(groups.items()):
        gains = [
            c.rom_after - c.rom_before
            for c in cycles
            if c.rom_after is not None and c.rom_before is not None
        ]
        pains = [
            c.pain_after - c.pain_before
            for c in cycles
            if c.pain_after is not None and c.pain_before is not None
        ]
        rows.append(
            {
                "muscle": muscle,
                "side": SIDE_LABELS.get(side, side),
                "sets": len(cycles),
                "cycles": sum(c.cycles for c in cycles),
                "rom_gain": signed(exact_mean(gains), "°") if gains else Markup(DASH),
                "pain_change": signed(exact_mean(pains), "/10") if pains else Markup(DASH),
                "amended": Markup("; ").join(amended[(muscle, side)]),
            }
        )
    return rows


def exact_mean(values: list[float]) -> float:
    """statistics.mean's value (the exact mean, rounded once), without its fractions when
    the floats' sum is exact, as it is for values of a few decimals: a mean is ~15 us."""
    total = math.fsum(values)
    if all(type(v) is float for v in values) and math.fsum([*values, -total]) == 0.0:
        return total / len(values)  # an exact sum divided: rounded once, as mean's
    return mean(values)


def check_rows(
    data: EpisodeData, tests: list[ClinicalTest], at_seq: int, proto: Protocol
) -> list[dict[str, Any]]:
    """Doctor's checks at one appointment: baseline, previous appointment, now, change."""
    doctor = {v.seq for v in data.visits if v.is_doctor}
    rows = []
    for test in tests:
        for side in sides(test):
            points = [(s, v) for s, v in data.values.get((test.code, side), []) if s <= at_seq]
            if not points:
                continue
            baseline = points[0][1]
            now = next((v for s, v in points if s == at_seq), None)
            before = [(s, v) for s, v in points if s < at_seq]
            at_doctor = [(s, v) for s, v in before if s in doctor]
            previous_seq = (at_doctor or before)[-1][0] if before else None
            previous = (at_doctor or before)[-1][1] if before else None
            marks = data.amendments
            rows.append(
                {
                    "test": test.label,
                    "side": SIDE_LABELS[side],
                    "numeric": test.kind == "number",
                    "baseline": display(test, baseline),
                    "baseline_amended": marks.result(points[0][0], test.code, side),
                    "previous": display(test, previous),
                    "previous_amended": marks.result(previous_seq, test.code, side)
                    if previous_seq is not None
                    else Markup(""),
                    "now": display(test, now) if now is not None else Markup("not recorded"),
                    "now_amended": marks.result(at_seq, test.code, side),
                    **judge(test, baseline, now if points[0][0] != at_seq else None, proto),
                }
            )
    return rows


def outcome_rows(data: EpisodeData, proto: Protocol) -> list[dict[str, Any]]:
    """Every recorded test: baseline vs latest, per side, with left/right asymmetry; each
    value with its visit and date, a latest value older than the last doctor's appointment
    held marked so (it is not current), a value amended after the fact marked so."""
    rows = []
    marks = data.amendments
    reviews = data.reviews
    last_review = reviews[-1] if reviews else 0
    recorded = {code for code, _side in data.values}  # a few of the catalog's tests
    for test in proto.tests:
        if test.code not in recorded:
            continue
        found = {side: data.values.get((test.code, side), []) for side in sides(test)}
        if not any(found.values()):
            continue
        asym: dict[str, Markup] | None = None
        left, right = found.get("L"), found.get("R")
        if test.sided and test.scale == "ratio":  # never a % of grades or of a sign
            asym = {"baseline": Markup(DASH), "latest": Markup(DASH)}
            for key, pick in (("baseline", 0), ("latest", -1)):
                lv, rv = (left[pick][1], right[pick][1]) if left and right else (None, None)
                if isinstance(lv, float) and isinstance(rv, float):
                    asym[key] = percent(asymmetry_pct(lv, rv))
        for index, (side, points) in enumerate((s, p) for s, p in found.items() if p):
            baseline, latest = points[0], points[-1]
            later = latest[1] if latest[0] != baseline[0] else None
            rows.append(
                {
                    "test": test.label,
                    "side": SIDE_LABELS[side],
                    "first_of_test": index == 0,
                    "numeric": test.kind == "number",
                    "baseline": display(test, baseline[1]),
                    "baseline_visit": baseline[0],
                    "baseline_date": _seq_day(data, baseline[0]),
                    "baseline_amended": marks.result(baseline[0], test.code, side),
                    "latest": display(test, latest[1]),
                    "latest_visit": latest[0],
                    "latest_date": _seq_day(data, latest[0]),
                    "latest_amended": marks.result(latest[0], test.code, side)
                    if latest[0] != baseline[0]
                    else Markup(""),
                    # measured before the last doctor's appointment held: not current
                    "latest_old": latest[0] < last_review,
                    "asymmetry": asym,
                    **judge(test, baseline[1], later, proto),
                }
            )
    return rows


def _seq_day(data: EpisodeData, seq: int) -> str:
    return day(data.by_seq[seq].day) if seq in data.by_seq else DASH


def module_info(data: EpisodeData, number_: int, proto: Protocol) -> dict[str, Any]:
    module = proto.module(number_)
    visits = [v for v in data.visits if v.module == number_]
    held = [v for v in visits if v.held_on is not None and v.status == "done"]
    return {
        "number": number_,
        "title": module.title,
        "goal": module.goal,
        "attendance": attendance(visits),
        "checklist": checklist_completion(data, visits, proto),
        "first_date": day(held[0].held_on) if held else None,
        "last_date": day(held[-1].held_on) if held else None,
        "pir_sets": sum(1 for seq, _c in data.pir if data.by_seq[seq].module == number_),
    }


def tailoring_rows(data: EpisodeData, module: int | None = None) -> list[dict[str, Any]]:
    """What the doctor tailored (of one module, or all): the item, what changed, the
    dosage, by whom, when and why. Typed text stays text (escaped by the output format)."""
    words = {"add": _("added"), "remove": _("removed"), "dosage": _("target dosage")}
    return [
        {
            "module": c.module,
            "list": _("sessions") if c.list == "session" else _("home exercises"),
            "item": c.item_label,
            "change": words[c.change],
            "dosage": c.dosage or (DASH if c.change != "remove" else ""),
            "by": c.made_by or _("unknown"),
            "on": day(c.made_on),
            "visit": c.visit_seq,
            "reason": c.reason,
        }
        for c in data.plan.changes
        if module is None or c.module == module
    ]


def vas_info(data: EpisodeData, proto: Protocol) -> dict[str, Any] | None:
    points = [v for _s, v in data.values.get(("vas", None), []) if isinstance(v, float)]
    vas = proto.test("vas")
    change = change_for_test(vas, points, proto=proto) if vas else None
    if change is None:
        return None
    return {
        "baseline": measure(change.baseline, "/10"),
        "latest": measure(change.latest, "/10"),
        "delta": signed(change.delta, "/10"),
        "percent": percent(change.percent, signed_=True),
        "important": change.important,
        "improved": change.improved,
        "worsened": change.worsened,
    }


def proms_info(
    db: ClinicDB, data: EpisodeData, proto: Protocol, *, upto: int = 45
) -> list[dict[str, Any]]:
    """Each questionnaire filled in: its score and band at each doctor's appointment, and
    baseline to latest judged by its MCID (better or worse; the percentage beside)."""
    out: list[dict[str, Any]] = []
    if not data.records.has_proms:
        return out
    for outcome in prom_outcomes(db, data.episode.id, upto_seq=upto):
        q = outcome.questionnaire
        rows = [
            {
                "seq": r.seq,
                "label": visit_label(data.by_seq[r.seq], proto) if r.seq in data.by_seq else "",
                "date": day(r.day),
                "score": score_text(q, r.score) or _("no score"),
                "band": r.score.band or DASH,
                "answered": _("{a} of {n}", a=r.score.answered, n=r.score.items)
                + (_(", prorated") if r.score.prorated else ""),
            }
            for r in outcome.results
        ]
        change = outcome.change
        unit = _("points")
        out.append(
            {
                "title": q.label,
                "short": q.short,
                "mcid": f"{number(q.mcid)} {unit}",
                "rows": rows,
                "change": change_text(change) if change else None,
                "direction": change.direction if change else "",
                "important": change.important if change else None,
            }
        )
    return out


# --- the three reports ------------------------------------------------------------------


def _current_data(db: ClinicDB, patient_id: int, page: ReportPage | None) -> EpisodeData:
    """The patient's current episode as a report reads it: NotFound, or no_episode."""
    records = page.of(patient_id) if page is not None else current_records(db, patient_id)
    return episode_data(db, records)


def _episode_for(db: ClinicDB, patient: Patient) -> Episode:
    episode = current_episode(db, patient.id)
    if episode is None:
        raise no_episode(patient.id)
    return episode


def _common(db: ClinicDB, data: EpisodeData, kind: Kind, title: str, today: date) -> dict[str, Any]:
    proto = protocol()
    s = standing(data.visits, today, proto)
    return {
        "kind": kind,
        "title": title,
        "today": day(today),
        "programme": proto.name,
        "rule": {
            "points": number(proto.change_rules.pain_points),
            "percent": number(proto.change_rules.ratio_percent),
            "grades": proto.change_rules.ordinal_grades,
        },
        "patient": patient_info(data.patient, today),
        "episode": episode_info(db, data.records, proto),
        "standing": {
            "module": s.module,
            "number": s.number,
            "seq": s.seq,
            "done": s.done,
            "missed": s.missed,
            "total": s.total,
            "finished": s.finished,
        },
    }


def visit_context(
    db: ClinicDB, patient_id: int, visit_id: int | None, today: date
) -> dict[str, Any]:
    """A visit note: what was done, PIR sets, results and the therapist's note."""
    proto = protocol()
    patient = get_patient(db, patient_id)
    if visit_id is None:
        episode = _episode_for(db, patient)
        visits = visits_of(db, episode.id)
        chosen = [v for v in visits if v.status == "done"] or [v for v in visits if v.in_progress]
        if not chosen:
            raise KinesioError(
                _("No visit held yet"),
                _("Patient {id} has no held visit to report.", id=patient_id),
            )
        visit = chosen[-1]
    else:
        visit = get_visit(db, visit_id)
        episode = get_episode(db, visit.episode_id)
        if episode.patient_id != patient_id:
            raise KinesioError(
                _("Visit not found"),
                _("Visit {v} is not in an episode of patient {id}.", v=visit_id, id=patient_id),
            )
        if visit.status != "done" and not visit.in_progress:
            # a note for a visit nobody held would read as a record of care never given
            raise KinesioError(
                _("No visit note"),
                _(
                    "Visit {n} is {status}, not held: only a held or started visit has a note.",
                    n=visit.seq,
                    status=STATUS_LABELS.get(visit.status, visit.status),
                ),
            )
    data = load_episode(db, patient, episode)
    notes = data.amendments
    ticks = ticks_of(db, visit.id)
    items = [
        {
            "label": item.label,
            "done": item.code in ticks,
            "note": ticks[item.code].note if item.code in ticks else "",
            # a dosage corrected, or the tick taken back
            "amended": notes.dosage(visit.seq, item.label)
            if item.code in ticks
            else notes.tick(visit.seq, item.label),
        }
        for item in checklist_for_visit(db, visit)
    ]
    # in the note's order (checklist, PIR, results): footnotes are numbered as they are read
    pir = [
        {
            "muscle": c.muscle,
            "side": SIDE_LABELS.get(c.side, c.side),
            "tension": measure(c.tension_s, "s"),
            "effort": percent(c.effort_pct),
            "relaxation": measure(c.relaxation_s, "s"),
            "cycles": c.cycles,
            "rom_before": measure(c.rom_before, "°"),
            "rom_after": measure(c.rom_after, "°"),
            "pain_before": measure(c.pain_before, "/10"),
            "pain_after": measure(c.pain_after, "/10"),
            "amended": notes.pir(visit.seq, c.muscle, c.side),
        }
        for _id, c in pir_cycles_of(db, visit.id)
    ]
    order = {t.code: i for i, t in enumerate(proto.tests)}
    results = []
    for m in sorted(
        measurements_of(db, visit.id), key=lambda m: (order.get(m.test_code, 0), m.side or "")
    ):
        test = proto.test(m.test_code)
        if test is not None:
            results.append(
                {
                    "test": test.label,
                    "side": SIDE_LABELS.get(m.side, ""),
                    "value": display(test, m.value),
                    "amended": notes.result(visit.seq, m.test_code, m.side),
                }
            )
    notes.of_visit(visit.seq)  # the removed values, which have no row of their own
    ticked = sum(bool(i["done"]) for i in items)
    status = "in progress" if visit.in_progress else STATUS_LABELS.get(visit.status, visit.status)
    ctx = _common(db, data, "visit", _("Visit note"), today)
    ctx |= {
        "visit": {
            "id": visit.id,
            "seq": visit.seq,
            "module": visit.module,
            "module_title": proto.module(visit.module).title,
            "number": visit.number,
            "label": visit_label(visit, proto),
            "is_doctor": visit.is_doctor,
            "date": day(visit.day),
            "status": status,
            "therapist": visit.therapist,
            "doctor": visit.doctor,
            "note": visit.note,
        },
        "checklist": {
            "items": items,
            "done": ticked,
            "total": len(items),
            "percent": percent(ticked / len(items) * 100) if items else Markup(DASH),
        },
        "pir": pir,
        "results": results,
        "amendments": notes.footnotes(),
    }
    return ctx


def module_context(
    db: ClinicDB,
    patient_id: int,
    module: int | None,
    today: date,
    page: ReportPage | None = None,
) -> dict[str, Any]:
    """A module report at its control and final doctor's appointments (the patient's
    records from `page` when read with a page of others)."""
    proto = protocol()
    data = _current_data(db, patient_id, page)
    episode = data.episode
    per = proto.visits_per_module
    held = {v.seq for v in data.visits if v.status == "done" and v.is_doctor}

    def reported(m: int) -> list[int]:
        return [s.number for s in proto.reviews if (m - 1) * per + s.number in held]

    if module is None:
        candidates = [m.number for m in proto.modules if reported(m.number)]
        if not candidates:
            raise KinesioError(
                _("No module report yet"),
                _(
                    "Patient {id} has no control or final doctor's appointment held yet.",
                    id=patient_id,
                ),
            )
        module = candidates[-1]
    if not 1 <= module <= len(proto.modules):
        raise KinesioError(
            _("No such module"), _("Modules are numbered 1 to {n}.", n=len(proto.modules))
        )
    if not reported(module):
        raise KinesioError(
            _("No module report yet"),
            _("Module {m} has no control or final doctor's appointment held yet.", m=module),
        )
    # the final appointment's checks: the module's, its additions and the neurological screen
    tests = list(proto.doctor_checks_for(module, "final", episode.condition, episode.subtype))
    appointments: list[dict[str, Any]] = []
    last_seq = 0
    for n in reported(module):
        visit = data.by_seq[(module - 1) * per + n]
        last_seq = visit.seq
        appointments.append(
            {
                "label": visit_label(visit, proto),
                "seq": visit.seq,
                "number": visit.number,
                "date": day(visit.day),
                "therapist": visit.therapist,
                "doctor": visit.doctor or visit.therapist,
                "note": visit.note,
                "checks": check_rows(data, tests, visit.seq, proto),
            }
        )
    vas = proto.test("vas")
    made = chart(data, vas, proto, upto=last_seq) if vas else None
    ctx = _common(db, data, "module", _("Module {m} report", m=module), today)
    ctx |= {
        "module": module_info(data, module, proto),
        "appointments": appointments,
        "charts": [made] if made else [],
        "proms": proms_info(db, data, proto, upto=last_seq),
        "tailoring": tailoring_rows(data, module),
        "amendments": data.amendments.footnotes(),
    }
    return ctx


def summary_context(
    db: ClinicDB,
    patient_id: int,
    today: date,
    page: ReportPage | None = None,
    clinic: ClinicIdentity | None = None,
) -> dict[str, Any]:
    """The patient summary, or the discharge letter once the programme is completed (the
    patient's records from `page` when read with a page of others; its diagnosis in the
    ICD-10 edition of `clinic`, else of the settings file)."""
    proto = protocol()
    data = _current_data(db, patient_id, page)
    episode = data.episode
    discharge = episode.status == "completed"
    notes = [
        {"label": visit_label(v, proto), "seq": v.seq, "date": day(v.day), "note": v.note}
        for v in data.visits
        if v.note and v.is_doctor
    ]
    made = [
        chart(data, test, proto)
        for code in ("vas", "slr_angle", "schober")
        if (test := proto.test(code))
    ]
    ctx = _common(
        db, data, "summary", _("Discharge letter") if discharge else _("Patient summary"), today
    )
    outcomes = outcome_rows(data, proto)
    ctx |= {
        "discharge": discharge,
        "modules": [module_info(data, m.number, proto) for m in proto.modules],
        "attendance": attendance(data.visits),
        "checklist": checklist_completion(data, data.visits, proto),
        "pir": pir_summary(data),
        "outcomes": outcomes,
        "vas": vas_info(data, proto),
        "charts": [c for c in made if c],
        "notes": notes,
        "proms": proms_info(db, data, proto),
        "treated_by": treated_by(data.visits),
        "tailoring": tailoring_rows(data),
        **letter_context(data, proto, outcomes, clinic),
    }
    # last: the footnotes of the amended values the report shows, numbered as asked above
    ctx["amendments"] = data.amendments.footnotes()
    return ctx


def treated_by(visits: list[Visit]) -> dict[str, str]:
    """Who held the visits: the therapists of the sessions and the doctors of the
    appointments, each named once in the order they first held one ('' when none)."""
    therapists = [v.therapist for v in visits if v.status == "done" and not v.is_doctor]
    doctors = [v.doctor or v.therapist for v in visits if v.status == "done" and v.is_doctor]
    return {
        "therapists": ", ".join(dict.fromkeys(n for n in therapists if n)),
        "doctors": ", ".join(dict.fromkeys(n for n in doctors if n)),
    }


def build_context(
    db: ClinicDB,
    patient_id: int,
    *,
    kind: Kind,
    visit_id: int | None = None,
    module: int | None = None,
    today: date,
    page: ReportPage | None = None,
    clinic: ClinicIdentity | None = None,
) -> dict[str, Any]:
    """The template context for one report (a summary's or a module report's records from
    `page` when `export --all` read them with a page of others; the clinic's settings as
    `export --all` read them for the run, `clinic`, else read now)."""
    if kind == "summary":
        return summary_context(db, patient_id, today, page, clinic)
    if kind == "visit":
        return visit_context(db, patient_id, visit_id, today)
    if kind == "module":
        return module_context(db, patient_id, module, today, page)
    if kind == "exercises":
        from kinesio_tui.export.exercise_sheet import exercises_context

        return exercises_context(db, patient_id, module, today)
    raise KinesioError(_("Unknown report"), _("Reports are summary, visit, module or exercises."))
