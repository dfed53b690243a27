"""The doctor's appointment form: the module's checks as typed fields, plus the red-flag screen.

Each field is saved when it changes (a choice at once, a typed value on Enter or on leaving
the field); a value that breaks the catalog's rules shows why next to the field and writes
nothing. The previous value from earlier visits of the episode is shown for comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Checkbox, Input, Label, Select, Static

from kinesio_tui import domain
from kinesio_tui.data.db import ClinicDB
from kinesio_tui.errors import KinesioError, ValidationError
from kinesio_tui.i18n import _
from kinesio_tui.protocol import ClinicalTest, protocol
from kinesio_tui.views.record_test import RecordedResult, allowed_text, record_result
from kinesio_tui.views.visit import VisitHost, format_value

Key = tuple[str, str | None]  # test code, side


def field_id(code: str, side: str | None) -> str:
    return f"f-{code}-{side or 'x'}"


def previous_values(db: ClinicDB, visit: domain.Visit) -> dict[Key, tuple[float | str, int]]:
    """Each test's latest value (and visit number in the programme) before this visit."""
    found: dict[Key, tuple[float | str, int]] = {}
    for earlier in domain.visits_of(db, visit.episode_id):
        if earlier.seq >= visit.seq or earlier.status != "done":
            continue
        for m in domain.measurements_of(db, earlier.id):
            if m.value is not None:
                found[(m.test_code, m.side)] = (m.value, earlier.seq)
    return found


def same_value(saved: float | str | None, typed: object) -> bool:
    """Whether a typed value is the one already saved (so leaving the field writes nothing)."""
    if saved is None:
        return False
    if isinstance(saved, float) and isinstance(typed, str):
        try:
            return float(typed.strip().replace(",", ".")) == saved
        except ValueError:
            return False
    return saved == typed


class FlagBox(Checkbox):
    """A checkbox whose mark is blank when off, so a monochrome terminal shows the state."""

    def watch_value(self) -> None:
        self.BUTTON_INNER = "X" if self.value else " "
        super().watch_value()

    def on_mount(self) -> None:
        self.BUTTON_INNER = "X" if self.value else " "


class DoctorForm(VerticalScroll):
    """The checks of a doctor's appointment; posts `Recorded` for each value written."""

    @dataclass
    class Recorded(Message):
        result: RecordedResult

    @dataclass
    class FlagsScreened(Message):
        flags: list[str]

    def __init__(
        self, db: ClinicDB, visit: domain.Visit, episode: domain.Episode, today: date
    ) -> None:
        super().__init__(id="doctor-form")
        self.db = db
        self.visit = visit
        self.episode = episode
        self.today = today
        self.checks = domain.doctor_checks_for_visit(visit)
        self.previous = previous_values(db, visit)
        self.saved: dict[Key, float | str] = {}

    def compose(self) -> ComposeResult:
        yield Static(
            markup=False,
            content=_(
                "Doctor's checks · Enter or leaving a field saves it · ✔ saved · ✖ not saved"
            ),
            classes="section-title",
        )
        for test in self.checks:
            yield from self.check_row(test)
        yield Static(
            markup=False,
            content=_("Red-flag screen (any one: refer to a doctor now)"),
            classes="section-title",
        )
        raised = set(domain.raised_red_flags(self.db, self.episode.id))
        for flag in protocol().red_flags:
            yield FlagBox(flag.label, flag.code in raised, id=f"flag-{flag.code}", compact=True)

    def check_row(self, test: ClinicalTest) -> ComposeResult:
        sides: tuple[str | None, ...] = ("L", "R") if test.sided else (None,)
        with Horizontal(classes="check-row"):
            yield Label(test.label, classes="check-label")
            for side in sides:
                if side:
                    yield Label(side, classes="side-label")
                yield self.make_field(test, side)
            yield Static(
                markup=False, content=self.previous_text(test, sides), classes="check-prev"
            )
        error = Static(markup=False, content="", classes="check-error", id=f"err-{test.code}")
        error.display = False
        yield error

    def make_field(self, test: ClinicalTest, side: str | None) -> Input | Select[str]:
        classes = "check-field -sided" if side else "check-field"
        if test.kind == "scale":
            return Select(
                [(c, c) for c in test.choices],
                prompt="–",
                id=field_id(test.code, side),
                classes=classes,
                compact=True,
            )
        previous = self.previous.get((test.code, side))
        return Input(
            id=field_id(test.code, side),
            classes=classes + (" -text" if test.kind == "text" else ""),
            compact=True,
            placeholder=_("was {v}", v=format_value(previous[0])) if previous else "",
            max_length=1000 if test.kind == "text" else 12,
        )

    def previous_text(self, test: ClinicalTest, sides: tuple[str | None, ...]) -> str:
        values = []
        for side in sides:
            previous = self.previous.get((test.code, side))
            if previous:
                value = format_value(previous[0], test.unit)
                values.append(f"{side} {value}" if side else value)
        range_text = allowed_text(test) if test.kind == "number" else ""
        if not values:
            return range_text
        seq = max(p[1] for s in sides if (p := self.previous.get((test.code, s))))
        was = _("was {values} (v{seq})", values="  ".join(values), seq=seq)
        return f"{was} · {range_text}" if range_text else was

    # --- loading and saving ---------------------------------------------------------------

    def reload(self) -> None:
        """Show this visit's recorded values in the fields (after start or an undo)."""
        current = {
            (m.test_code, m.side): m.value for m in domain.measurements_of(self.db, self.visit.id)
        }
        with self.prevent(Input.Changed, Select.Changed):
            for test in self.checks:
                for side in ("L", "R") if test.sided else (None,):
                    value = current.get((test.code, side))
                    widget = self.query_one(f"#{field_id(test.code, side)}")
                    if isinstance(widget, Select):
                        if value is None:
                            widget.clear()
                        else:
                            widget.value = value
                    elif isinstance(widget, Input):
                        widget.value = "" if value is None else format_value(value)
                    if value is None:
                        self.saved.pop((test.code, side), None)
                    else:
                        self.saved[(test.code, side)] = value

    def parse_id(self, widget_id: str | None) -> tuple[ClinicalTest, str | None] | None:
        if not widget_id or not widget_id.startswith("f-"):
            return None
        code, side = widget_id[2:].rsplit("-", 1)
        test = protocol().test(code)
        return (test, None if side == "x" else side) if test else None

    def save_field(self, widget_id: str | None, value: Any) -> None:
        parsed = self.parse_id(widget_id)
        if parsed is None:
            return
        test, side = parsed
        error = self.query_one(f"#err-{test.code}", Static)
        if value is None or (isinstance(value, str) and not value.strip()):
            return  # an empty field is "not measured", not a value
        if same_value(self.saved.get((test.code, side)), value):
            return
        try:
            result = record_result(cast(VisitHost, self.app), self.visit.id, test.code, value, side)
        except ValidationError as problem:
            where = f"{side}: " if side else ""
            error.update(f"✖ {test.label} {where}{problem.reason}")
            error.add_class("-shown")
            error.display = True
            return
        except KinesioError as problem:
            self.notify(
                markup=False, message=problem.message, title=problem.title, severity="error"
            )
            return
        error.update(f"✔ {result.description}")
        error.remove_class("-shown")
        error.display = True
        self.saved[(test.code, side)] = value
        self.post_message(self.Recorded(result))

    @on(Input.Submitted, ".check-field")
    @on(Input.Blurred, ".check-field")
    def input_done(self, event: Input.Submitted | Input.Blurred) -> None:
        self.save_field(event.input.id, event.value)

    @on(Select.Changed, ".check-field")
    def choice_made(self, event: Select.Changed) -> None:
        if event.value is not Select.BLANK:
            self.save_field(event.select.id, event.value)

    @on(Checkbox.Changed)
    def flag_changed(self, event: Checkbox.Changed) -> None:
        """Any change of the red-flag boxes records a new screen at this visit."""
        flags = [
            flag.code
            for flag in protocol().red_flags
            if self.query_one(f"#flag-{flag.code}", Checkbox).value
        ]
        if set(flags) == set(domain.raised_red_flags(self.db, self.episode.id)):
            return
        try:
            domain.screen_red_flags(
                self.db, self.episode.id, flags, visit_id=self.visit.id, today=self.today
            )
        except KinesioError as problem:
            self.notify(
                markup=False, message=problem.message, title=problem.title, severity="error"
            )
            return
        self.post_message(self.FlagsScreened(flags))
