"""Small, dumb widgets shared by the screens: timeline, VAS sparkline, red-flag banner, results,
and the one yes/no dialog.

Each takes plain domain records and renders them; none touches the database. Glyphs differ
for every state so the displays still read on a monochrome terminal.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import date
from typing import ClassVar

from rich.console import Console
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from kinesio_tui.domain.models import Visit
from kinesio_tui.domain.outcomes import Change, LatestResult, SeriesPoint, Standing
from kinesio_tui.domain.plan import PlanItem
from kinesio_tui.domain.prom_scoring import change_text, score_text
from kinesio_tui.domain.proms import PromOutcome
from kinesio_tui.i18n import _
from kinesio_tui.protocol import Protocol, protocol
from kinesio_tui.units import number_text, value_with_unit

# Glyphs: (therapy session, doctor's appointment) per visit state.
GLYPHS: dict[str, tuple[str, str]] = {
    "done": ("●", "◆"),
    "missed": ("✗", "✗"),
    "planned": ("○", "◇"),
    "today": ("◎", "◈"),
    "in_progress": ("▶", "▶"),
    "cancelled": ("·", "·"),
}
STYLES: dict[str, str] = {
    "done": "bold green",
    "missed": "bold red",
    "planned": "dim",
    "today": "bold yellow underline",
    "in_progress": "bold reverse yellow",
    "cancelled": "dim",
}
SPARK = " ▁▂▃▄▅▆▇█"


def visit_state(visit: Visit, today: date) -> str:
    """One word for how a visit stands on `today` (a key of GLYPHS)."""
    if visit.in_progress:
        return "in_progress"
    if visit.status == "planned":
        return "today" if visit.planned_date == today else "planned"
    return visit.status if visit.status in GLYPHS else "planned"


def visit_glyph(visit: Visit, today: date) -> Text:
    state = visit_state(visit, today)
    glyph = GLYPHS[state][1 if visit.is_doctor else 0]
    return Text(glyph, style=STYLES[state])


def status_label(visit: Visit, today: date) -> str:
    """The visit's status in words for the visit list."""
    return {
        "done": _("done"),
        "missed": _("missed"),
        "planned": _("planned"),
        "today": _("today"),
        "in_progress": _("in progress"),
        "cancelled": _("cancelled"),
    }[visit_state(visit, today)]


def timeline_text(
    visits: Sequence[Visit], today: date, *, titles: bool = True, proto: Protocol | None = None
) -> Text:
    """The programme as 3 rows of 15 glyphs, grouped by the doctor's appointments."""
    proto = proto or protocol()
    out = Text()
    by_module: dict[int, list[Visit]] = {}
    for visit in visits:
        by_module.setdefault(visit.module, []).append(visit)
    for module in proto.modules:
        if module.number > 1:
            out.append("\n")
        out.append(_("M{n} ", n=module.number), style="bold")
        for visit in by_module.get(module.number, []):
            if visit.is_doctor and visit.number > 1:
                out.append(" ")
            out.append_text(visit_glyph(visit, today))
            if visit.is_doctor and visit.number < proto.visits_per_module:
                out.append(" ")
        if titles:
            out.append(f"  {module.title}", style="dim")
    return out


def legend_text(*, lines: int = 1) -> Text:
    """What the timeline glyphs mean (on one line, or split over two)."""
    parts = [
        ("●", "done", _("session")),
        ("◆", "done", _("doctor")),
        ("○◇", "planned", _("planned")),
        ("◎◈", "today", _("today")),
        ("▶", "in_progress", _("in progress")),
        ("✗", "missed", _("missed")),
    ]
    out = Text()
    for index, (glyph, state, label) in enumerate(parts):
        if index and lines > 1 and index == len(parts) // 2:
            out.append("\n")
        elif index:
            out.append("  ")
        out.append(glyph, style=STYLES[state])
        out.append(f" {label}", style="dim")
    return out


def sparkline(values: Sequence[float], *, low: float = 0.0, high: float = 10.0) -> str:
    """A one-row bar chart on a fixed scale (VAS 0-10), so a small change looks small."""
    span = high - low or 1.0
    out = []
    for value in values:
        level = round((min(max(value, low), high) - low) / span * (len(SPARK) - 1))
        out.append(SPARK[level] if level else "▁" if value > low else "_")
    return "".join(out)


def vas_text(points: Sequence[SeriesPoint], change: Change | None, *, width: int = 45) -> Text:
    """VAS baseline -> latest, the change and whether it matters, with a sparkline."""
    out = Text()
    out.append(_("VAS "), style="bold")
    if not points:
        out.append(_("not recorded yet"), style="dim")
        return out
    values = [p.value for p in points]
    if len(values) > width > 1:
        # spread over the width keeping the first (baseline) and the latest value
        values = [values[round(i * (len(values) - 1) / (width - 1))] for i in range(width)]
    out.append(f"{number_text(points[0].value)} ")
    out.append(sparkline(values), style="bold cyan")
    out.append(f" {number_text(points[-1].value)}")
    # which visits the first and the latest value are from
    span = f"v{points[0].seq}→v{points[-1].seq}" if len(points) > 1 else f"v{points[0].seq}"
    if change is None:
        out.append(f"  ({span})")
        return out
    percent = f", {change.percent:+.0f}%" if change.percent is not None else ""
    out.append(f"  ({span}: {change.delta:+g}{percent}) ")
    needed = f"{protocol().change_rules.pain_points:g}"
    if change.important_improvement:
        out.append(_("✓ clinically important"), style="bold green")
    elif change.important_worsening:
        out.append(_("! clinically important worsening"), style="bold red")
    elif change.improved:
        out.append(_("improved, below the {n}-point threshold", n=needed), style="yellow")
    elif change.worsened:
        out.append(_("worse, below the {n}-point threshold", n=needed), style="red")
    else:
        out.append(_("no change"), style="dim")
    return out


def standing_text(standing: Standing, status: str) -> Text:
    """Module, visit n of the module's visits, days in module, done/missed counts and timing notes."""
    out = Text()
    if status != "active":
        out.append(_("Programme {status}", status=_(status)), style="bold")
        out.append(
            _(
                "  ·  {done} visits done, {missed} missed",
                done=standing.done,
                missed=standing.missed,
            )
        )
        return out
    out.append(
        _(
            "Module {m} · visit {n}/{of}",
            m=standing.module,
            n=standing.number,
            of=protocol().visits_per_module,
        ),
        style="bold",
    )
    if standing.days_in_module is not None:
        out.append(_(" · day {d} in module", d=standing.days_in_module))
    out.append(_(" · {done} done", done=standing.done))
    if standing.missed:
        out.append(_(", {missed} missed", missed=standing.missed), style="red")
    for note in standing.notes:
        out.append("\n")
        out.append(f"  {note}", style="italic dim")
    return out


def _fit(text: str, width: int, *, right: bool = False) -> str:
    if len(text) > width:
        text = text[: max(width - 1, 0)] + "…"
    return text.rjust(width) if right else text.ljust(width)


def visit_heading(result: LatestResult, proto: Protocol | None = None) -> str:
    """The visit a latest result is from, as a heading: "At visit 30 (M2·15), 16 Nov"."""
    per = (proto or protocol()).visits_per_module
    module, number = (result.seq - 1) // per + 1, (result.seq - 1) % per + 1
    where = _("At visit {seq} (M{m}·{n})", seq=result.seq, m=module, n=number)
    return f"{where}, {result.day.strftime('%d %b')}" if result.day else where


def _side_value(value: float | str | None, unit: str, seq: int | None, shown: int) -> str:
    """One side's value; marked with its own visit when that is older than the row's."""
    text = value_with_unit(value, unit)
    return f"{text} (v{seq})" if value is not None and seq is not None and seq != shown else text


def proms_text(proms: Sequence[PromOutcome]) -> Text:
    """Each questionnaire: baseline and latest score, and whether the change matters (MCID)."""
    out = Text()
    for outcome in proms:
        q = outcome.questionnaire
        scored = [r for r in outcome.results if r.score.score is not None]
        if not scored:
            continue
        if out.plain:
            out.append("\n")
        out.append(f"{q.short} ", style="bold")
        out.append(score_text(q, scored[0].score))
        change = outcome.change
        if change is None:
            out.append(f" · {scored[0].score.band}" if scored[0].score.band else "")
            continue
        out.append(f" → {score_text(q, scored[-1].score)} ({change_text(change)}) ")
        if change.important_worsening:
            out.append(_("! clinically important worsening"), style="bold red")
        elif change.important_improvement:
            out.append(_("✓ clinically important"), style="bold green")
        else:
            out.append(_("below the MCID"), style="dim")
    return out


def results_text(
    results: Sequence[LatestResult], width: int, proms: Sequence[PromOutcome] = ()
) -> Text:
    """Latest test results in `width` cells: left / right side by side with the asymmetry %,
    under the visit (and date) each was recorded at, the latest visit first."""
    said = proms_text(proms)
    if not results:
        if said.plain:
            return said
        return Text(_("No test results yet."), style="dim")
    width = min(width, 84)  # wider only spreads the columns apart: harder to read across
    value_w = min(16, max(8, width // 5))
    label_w = max(8, width - 2 * value_w - 4 - 3)
    out = worsening_text(results, width)
    if out.plain:
        out.append("\n")
    if said.plain:
        out.append_text(said)
        out.append("\n")
    out.append(_fit(_("Latest test"), label_w), style="bold")
    out.append(" " + _fit(_("Left"), value_w, right=True), style="bold")
    out.append(" " + _fit(_("Right"), value_w, right=True), style="bold")
    out.append(" " + _fit(_("Asym"), 4, right=True), style="bold")
    rest = width - label_w - 1  # the cells right of the label
    indent = "\n" + " " * (label_w + 1)
    heading_of: int | None = None
    for result in sorted(results, key=lambda r: -r.seq):  # stable: catalog order within
        if result.seq != heading_of:
            heading_of = result.seq
            out.append("\n" + _fit(visit_heading(result), width).rstrip(), style="italic")
        label = result.label
        if len(label) > label_w and (test := protocol().test(result.code)) is not None:
            label = test.short_label  # the catalog's name for a narrow column
        out.append("\n" + _fit(label, label_w))
        if result.left is None and result.right is None:
            value = value_with_unit(result.value, result.unit)
            if len(value) <= value_w:
                out.append(" " + value.rjust(value_w))
            else:  # words (a finding, a posture): wrapped under each other, never cut
                out.append(" " + indent.join(textwrap.wrap(value, rest)))
            continue
        left = _side_value(result.left, result.unit, result.left_seq, result.seq)
        right = _side_value(result.right, result.unit, result.right_seq, result.seq)
        if max(len(left), len(right)) > value_w:  # a side each, on lines of their own
            out.append(" " + indent.join(textwrap.wrap(_("L {v}", v=left), rest)))
            out.append(indent + indent.join(textwrap.wrap(_("R {v}", v=right), rest)))
            continue
        out.append(" " + left.rjust(value_w))
        out.append(" " + right.rjust(value_w))
        asym = result.asymmetry
        grades = result.grades_apart
        if asym is not None:
            out.append(
                " " + _fit(f"{asym:.0f}%", 4, right=True),
                style="bold yellow" if asym >= 15 else "",
            )
        elif grades:  # an ordinal scale: grades apart, never a percentage
            out.append(" " + _fit(f"{grades:g} gr", 4, right=True), style="bold yellow")
    return out


def worsening_text(results: Sequence[LatestResult], width: int) -> Text:
    """Which tests are worse than at baseline by a clinically important change (their
    scale's rule), named with their side: what the patient screen says first."""
    worse = []
    for result in results:
        test = protocol().test(result.code)
        name = test.short_label if test else result.label
        sides = ("L", "R") if len(result.changes) == 2 else ("",) * len(result.changes)
        for side, judged in zip(sides, result.changes, strict=True):
            if judged is not None and judged.important_worsening:
                worse.append(f"{name} {side}".rstrip())
    if not worse:
        return Text()
    line = _("! Worse since baseline, clinically important: {tests}", tests=", ".join(worse))
    return Text("\n".join(textwrap.wrap(line, max(width, 20))), style="bold red")


def module_text(
    module: int,
    items: Sequence[PlanItem],
    home: Sequence[PlanItem] = (),
    proto: Protocol | None = None,
) -> Text:
    """The current module's goal, the patient's session checklist (target dosages, what the
    doctor tailored marked ✎) and home exercises, for a glance."""
    proto = proto or protocol()
    if not 1 <= module <= len(proto.modules):
        return Text("")
    mod = proto.module(module)
    out = Text()
    out.append(_("Module {n}: {title}", n=mod.number, title=mod.title), style="bold")
    out.append(f"\n{mod.goal}", style="italic")
    for item in items:
        out.append(f"\n • {item.label}")
        if item.target:
            out.append(f" — {item.target}")
        if item.tailored:
            out.append(_(" ✎ tailored"), style="italic")
    if home:
        out.append("\n" + _("Home exercises:"), style="bold")
        for exercise in home:
            out.append(f"\n • {exercise.label}")
            if exercise.target:
                out.append(f" — {exercise.target}")
    return out


class RedFlagBanner(Static):
    """A banner that cannot be missed: raised red flags mean referring to a doctor now."""

    DEFAULT_CSS = """
    RedFlagBanner {
        display: none;
        background: $error;
        color: $text;
        text-style: bold;
        padding: 0 1;
        height: auto;
    }
    RedFlagBanner.-raised { display: block; }
    """

    def show_flags(self, labels: Sequence[str], words: str | None = None) -> None:
        """Show the banner for these flag labels (in `words` if given), or hide it when
        there are none."""
        self.set_class(bool(labels), "-raised")
        # cleared when none: the screen is reused for the next patient
        self.update(
            Text(words or _("⚠ RED FLAG — refer to a doctor now: {flags}", flags="; ".join(labels)))
            if labels
            else ""
        )

    def show_hold(self, words: Text) -> None:
        """Show the episode's red-flag hold (what stops therapy and what ends it)."""
        self.set_class(True, "-raised")
        self.update(words)


#: Blank columns between the timeline and what stands beside it.
PROGRAMME_GAP = 2


def programme_text(
    timeline: Text, beside: Sequence[Text], vas: Text, *, width: int, console: Console
) -> Text:
    """The timeline with `beside` (each part wrapped to what is left of `width`) on its
    right, and the VAS line below: the programme block of the patient screen, as one Text."""
    left = list(timeline.split("\n")) or [Text()]
    left_width = max(line.cell_len for line in left)
    right: list[Text] = []
    for part in beside:
        if part.plain:
            right += part.wrap(console, max(10, width - left_width - PROGRAMME_GAP))
    out = Text(end="")
    for i in range(max(3, len(left), len(right))):  # the timeline's 3 rows at least
        line = left[i].copy() if i < len(left) else Text()
        if i < len(right):
            line.pad_right(left_width - line.cell_len + PROGRAMME_GAP)
            line.append_text(right[i])
        out.append_text(line)
        out.append("\n")
    out.append_text(vas)
    return out


class ProgrammePanel(Static):
    """The programme at a glance, one widget: the 3 x 15 timeline with the standing and the
    legend beside it, and the VAS trend below.

    It was six widgets (two of them containers); Textual's cost of mounting, styling and
    laying out each was ~30 ms of the patient screen's first frame (traced).
    `parts` keeps each piece as shown, for whoever needs one of them alone.
    """

    DEFAULT_CSS = """
    ProgrammePanel {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.parts: dict[str, Text] = {}

    def show(self, *, timeline: Text, standing: Text, legend: Text, vas: Text, width: int) -> None:
        """Lay the pieces out for an inner `width` (the screen's, less the padding)."""
        self.parts = {"timeline": timeline, "standing": standing, "legend": legend, "vas": vas}
        self.update(
            programme_text(timeline, [standing, legend], vas, width=width, console=self.app.console)
        )


class Confirm(ModalScreen[bool]):
    """The one yes/no question of the workstation: y answers yes, n or Escape no.

    The question is shown as plain text, never as markup: it usually quotes a name or a
    path (`Archive Closing[/]?` once crashed the app). The No button has the focus, so
    Enter alone never does what is asked.
    """

    DEFAULT_CSS = """
    Confirm {
        align: center middle;
        #confirm-box {
            width: 60;
            max-width: 95%;
            height: auto;
            border: thick $warning;
            background: $surface;
            padding: 1 2;
        }
        #confirm-question {
            margin-bottom: 1;
        }
        #confirm-buttons {
            height: 1;
            align-horizontal: right;
        }
        #confirm-buttons Button {
            margin-left: 2;
        }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", _("Yes")),
        Binding("n,escape", "answer(False)", _("No")),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Content(self.question), id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                yield Button(_("Yes (y)"), id="yes", variant="warning", compact=True)
                yield Button(_("No (n)"), id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        """Answer the question."""
        self.dismiss(yes)
