"""The record-test dialog: choose a catalog test, its side, type the value; saved on Enter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from kinesio_tui.domain.change_rules import since_baseline_words
from kinesio_tui.domain.models import Measurement
from kinesio_tui.domain.outcomes import change_at_visit
from kinesio_tui.domain.visits import measurements_of, record_measurement
from kinesio_tui.errors import DatabaseBusy, KinesioError, StaleRecord, ValidationError
from kinesio_tui.i18n import _
from kinesio_tui.protocol import ClinicalTest, protocol
from kinesio_tui.views.db_wait import save_patiently, say_failed
from kinesio_tui.views.footer import KeyFooter
from kinesio_tui.views.visit import VisitHost, describe_measurement


@dataclass(frozen=True)
class RecordedResult:
    """A test result just written, and what it replaced (for undo)."""

    measurement_id: int
    test_code: str
    side: str | None
    previous: Measurement | None
    description: str
    #: The result's version now (what an undo or the next correction is based on).
    version: int
    #: Its change since the episode's baseline, by the test's scale ("" when not judged).
    since_baseline: str = ""
    #: That change is a clinically important worsening.
    worse: bool = False

    @property
    def said(self) -> str:
        """What the screen says as it is recorded: the value and its change since baseline."""
        return (
            f"{self.description} · {self.since_baseline}"
            if self.since_baseline
            else self.description
        )


def record_result(
    host: VisitHost,
    visit_id: int,
    test_code: str,
    value: object,
    side: str | None,
    *,
    expected_version: int | None = None,
) -> RecordedResult:
    """Write one result through the domain, remembering the value it replaces.

    `expected_version`: the version of the result the screen showed (0: none shown).
    """
    previous = next(
        (
            m
            for m in measurements_of(host.db, visit_id)
            if m.test_code == test_code and m.side == side
        ),
        None,
    )
    measurement_id = record_measurement(
        host.db, visit_id, test_code, value, side, expected_version=expected_version
    )
    new = next(m for m in measurements_of(host.db, visit_id) if m.id == measurement_id)
    judged = change_at_visit(host.db, visit_id, test_code, side)
    test = protocol().test(test_code)
    since = since_baseline_words(test, judged) if judged and test else ""
    return RecordedResult(
        measurement_id,
        test_code,
        side,
        previous,
        describe_measurement(new),
        new.version,
        since,
        worse=bool(judged and judged.important_worsening),
    )


def say(widget: Static, text: str) -> None:
    """Show a message line, or take it out of the layout when there is nothing to say."""
    widget.update(text)
    widget.display = bool(text)


def allowed_text(test: ClinicalTest) -> str:
    """What the value may be, in the user's words."""
    if test.kind == "number":
        low = f"{test.min:g}" if test.min is not None else "?"
        high = f"{test.max:g}" if test.max is not None else "?"
        whole = _("whole number ") if test.integer else ""
        # a scale's unit ("/10") is said by its top: "0–10", not "0–10 /10"
        unit = "" if test.unit.startswith("/") else test.unit
        span = _("{whole}{low}–{high}", whole=whole, low=low, high=high)
        return f"{span} {unit}" if unit else span
    if test.kind == "scale":
        return _("choose one")
    return _("free text")


class RecordTestDialog(ModalScreen[RecordedResult | None]):
    """Record one clinical test result in an open visit. Dismisses with what was written."""

    CSS_PATH = "visit.tcss"
    BINDINGS = [
        Binding("escape", "cancel", _("Cancel")),
        Binding("ctrl+s", "save", _("Save"), priority=True),
    ]

    def __init__(self, visit_id: int, episode_side: str = "", test_code: str | None = None) -> None:
        super().__init__(classes="kinesio-dialog")
        self.visit_id = visit_id
        self.episode_side = episode_side
        tests = protocol().tests
        self.test: ClinicalTest = next((t for t in tests if t.code == test_code), tests[0])
        #: The version of the result shown as already recorded (0: none), the save's basis.
        self.shown_version = 0
        self.saving = False

    def compose(self) -> ComposeResult:
        tests = protocol().tests
        with Vertical(classes="dialog-box", id="record-test"):
            yield Static(markup=False, content=_("Record a test result"), classes="dialog-title")
            with Horizontal(classes="field-row"):
                yield Label(_("Test"), classes="field-label")
                yield Select(
                    [(t.label, t.code) for t in tests],
                    value=self.test.code,
                    allow_blank=False,
                    id="test-select",
                    compact=True,
                )
            with Horizontal(classes="field-row", id="side-row"):
                yield Label(_("Side"), classes="field-label")
                yield Select(
                    [(_("Left"), "L"), (_("Right"), "R")],
                    prompt=_("choose side"),
                    id="side-select",
                    compact=True,
                )
                yield Static(markup=False, content="", classes="field-error", id="side-error")
            with Horizontal(classes="field-row"):
                yield Label(_("Value"), classes="field-label")
                yield Input(id="value-input", compact=True)
                yield Select([], prompt=_("choose"), id="value-select", compact=True)
                yield Static(markup=False, content="", classes="field-hint", id="value-hint")
            yield Static(markup=False, content="", classes="field-error", id="value-error")
            yield Static(markup=False, content="", classes="field-hint", id="last-value")
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Save"), id="save", variant="primary", compact=True)
                yield Button(_("Cancel"), id="cancel", compact=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.show_test(self.test)
        self.query_one("#value-input" if self.test.kind != "scale" else "#value-select").focus()

    @property
    def host(self) -> VisitHost:
        return cast(VisitHost, self.app)

    def show_test(self, test: ClinicalTest) -> None:
        """Fit the side and value fields to the chosen test."""
        self.test = test
        side_row = self.query_one("#side-row")
        side_row.display = test.sided
        side = self.query_one("#side-select", Select)
        if test.sided and side.is_blank() and self.episode_side in ("L", "R"):
            side.value = self.episode_side
        value_input = self.query_one("#value-input", Input)
        value_select = cast(Select[str], self.query_one("#value-select", Select))
        value_input.display = test.kind != "scale"
        value_select.display = test.kind == "scale"
        if test.kind == "scale":
            value_select.set_options([(c, c) for c in test.choices])
        value_input.type = "text"
        self.query_one("#value-hint", Static).update(allowed_text(test))
        say(self.query_one("#value-error", Static), "")
        say(self.query_one("#side-error", Static), "")
        self.show_last_value()

    def show_last_value(self) -> None:
        side = self.chosen_side()
        for m in measurements_of(self.host.db, self.visit_id):
            if m.test_code == self.test.code and m.side == side:
                text = _("Already recorded this visit: {v} (saving replaces it)")
                say(self.query_one("#last-value", Static), text.format(v=describe_measurement(m)))
                self.shown_version = m.version
                return
        say(self.query_one("#last-value", Static), "")
        self.shown_version = 0

    def chosen_side(self) -> str | None:
        if not self.test.sided:
            return None
        side = self.query_one("#side-select", Select)
        return None if side.is_blank() else cast(str, side.value)

    @on(Select.Changed, "#test-select")
    def test_chosen(self, event: Select.Changed) -> None:
        test = protocol().test(cast(str, event.value))
        if test is not None and test is not self.test:
            self.show_test(test)
            value = "#value-select" if test.kind == "scale" else "#value-input"
            self.query_one(value).focus()

    @on(Select.Changed, "#side-select")
    def side_chosen(self) -> None:
        say(self.query_one("#side-error", Static), "")
        self.show_last_value()

    @on(Input.Submitted, "#value-input")
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        """Validate and write the result; a bad value writes nothing and says why."""
        if self.test.kind == "scale":
            choice = self.query_one("#value-select", Select)
            value: object = None if choice.is_blank() else choice.value
        else:
            value = self.query_one("#value-input", Input).value
        value_error = self.query_one("#value-error", Static)
        side_error = self.query_one("#side-error", Static)
        if self.saving:
            return  # the first Enter's save is waiting for the database
        say(value_error, "")
        say(side_error, "")
        code, side, basis = self.test.code, self.chosen_side(), self.shown_version

        def saved(result: RecordedResult) -> None:
            self.saving = False
            self.notify(
                markup=False,
                message=_("Recorded: {what}", what=result.said),
                severity="warning" if result.worse else "information",
            )
            if self.is_current:
                self.dismiss(result)

        def failed(error: KinesioError) -> None:
            self.saving = False
            if not self.is_current:
                say_failed(self.app, error)
            elif isinstance(error, ValidationError):
                target = side_error if "side" in error.field else value_error
                say(target, "✖ " + error.reason)
            elif isinstance(error, StaleRecord):
                self.show_last_value()  # the newer value, and the basis to save over it
                say(
                    value_error,
                    "✖ "
                    + _(
                        "Changed in another terminal (the newer value is below). "
                        "Your value is kept: Enter saves it over; Esc keeps theirs."
                    ),
                )
            elif isinstance(error, DatabaseBusy):
                say(
                    value_error,
                    "✖ " + _("Not saved: {reason} Enter tries again.", reason=error.message),
                )
            else:
                say_failed(self.app, error)

        self.saving = True
        save_patiently(
            self.app,
            lambda: record_result(
                self.host, self.visit_id, code, value, side, expected_version=basis
            ),
            saved,
            failed,
        )

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Leave without recording."""
        self.dismiss(None)
