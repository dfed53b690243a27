"""The two small dialogs of the clinic's day: a visit not attended (missed or cancelled, with
the reason) and a visit moved (to a date and time, or with the rest of the plan after it).

The patient screen and the Today screen open them on a planned visit; each writes through the
domain with the version its screen showed, so a change another terminal made first is
refused and said in the dialog, which stays open with what was typed.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, RadioButton, RadioSet, Static

from kinesio_tui.domain.models import Visit
from kinesio_tui.domain.schedule import MAX_REASON, Reschedule, move_visit, record_absence
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.views.db_wait import save_patiently
from kinesio_tui.views.footer import KeyFooter
from kinesio_tui.views.hold import HoldHost, field_row


def visit_words(visit: Visit) -> str:
    """ "Visit 1.4 (4/45), session, planned Wed 25 Nov 09:15"."""
    kind = _("doctor's appointment") if visit.is_doctor else _("session")
    when = visit.planned_date.strftime("%a %d %b")
    if visit.planned_time:
        when += f" {visit.planned_time}"
    return _(
        "Visit {m}.{n} ({seq}/45), {kind}, planned {when}",
        m=visit.module,
        n=visit.number,
        seq=visit.seq,
        kind=kind,
        when=when,
    )


class _DayDialog(ModalScreen[object]):
    """A small form over the screen; Esc leaves without saving."""

    CSS_PATH = "visit.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", _("Cancel"))]

    def __init__(self, visit: Visit) -> None:
        super().__init__(classes="kinesio-dialog")
        self.visit = visit

    @property
    def host(self) -> HoldHost:
        return cast(HoldHost, self.app)

    def error_line(self) -> Static:
        line = Static(markup=False, content="", classes="field-error", id="day-error")
        line.display = False
        return line

    def say(self, text: str) -> None:
        line = self.query_one("#day-error", Static)
        line.update(text)
        line.display = bool(text)

    def saved(self, result: object) -> None:
        """The write is made: close, handing back what was saved."""
        self.dismiss(result)

    def failed(self, error: KinesioError) -> None:
        if self.is_attached:
            self.say(f"✖ {error.message}")

    def action_cancel(self) -> None:
        """Leave; nothing is saved."""
        self.dismiss(None)


class AbsenceDialog(_DayDialog):
    """Mark a visit missed (no-show) or cancelled, chosen in the dialog (`status` is the one
    offered first); the reason is required. Returns the visit as saved."""

    def __init__(self, visit: Visit, status: str) -> None:
        super().__init__(visit)
        self.status = status

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="absence-box"):
            yield Static(
                markup=False,
                content=_("The visit did not take place: the programme goes on"),
                classes="dialog-title",
            )
            yield Static(markup=False, content=visit_words(self.visit))
            with RadioSet(id="absence-kind", compact=True):
                yield RadioButton(
                    _("Missed: the patient did not come"), value=self.status == "missed"
                )
                yield RadioButton(
                    _("Cancelled: called off beforehand"), value=self.status == "cancelled"
                )
            yield field_row(
                _("Why"),
                Input(
                    placeholder=_("reason (required)"),
                    id="absence-reason",
                    max_length=MAX_REASON,
                    compact=True,
                ),
            )
            yield Label(
                _("Enter saves · Shift+Tab: missed or cancelled · Esc cancels."),
                classes="dialog-hint",
            )
            yield self.error_line()
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#absence-reason", Input).focus()

    @on(Input.Submitted, "#absence-reason")
    def submitted(self, event: Input.Submitted) -> None:
        """Enter: save with this reason (an empty one is refused by the domain, said here)."""
        reason = event.value
        db, today, visit = self.host.db, self.host.today, self.visit
        status = "cancelled" if self.query_one(RadioSet).pressed_index == 1 else "missed"
        save_patiently(
            self.app,
            lambda: record_absence(
                db, visit.id, status, reason, today=today, expected_version=visit.version
            ),
            self.saved,
            self.failed,
        )


def _rest_label(on: bool) -> str:
    return (
        _("Shift the rest of the plan after it, in its rhythm: yes")
        if on
        else _("Shift the rest of the plan after it, in its rhythm: no")
    )


class MoveDialog(_DayDialog):
    """Move a visit to a date and time of day, or shift the rest of the plan from it.
    Returns the Reschedule as saved."""

    def __init__(self, visit: Visit, plan_version: int) -> None:
        super().__init__(visit)
        self.plan_version = plan_version

    def compose(self) -> ComposeResult:
        visit = self.visit
        with Vertical(classes="dialog-box", id="move-box"):
            yield Static(markup=False, content=_("Move the visit"), classes="dialog-title")
            yield Static(markup=False, content=visit_words(visit))
            yield field_row(
                _("Date"),
                Input(
                    visit.planned_date.isoformat(),
                    placeholder=_("YYYY-MM-DD"),
                    id="move-date",
                    max_length=10,
                    compact=True,
                ),
            )
            yield field_row(
                _("Time"),
                Input(
                    visit.planned_time or "",
                    placeholder=_("HH:MM, or empty"),
                    id="move-time",
                    max_length=5,
                    compact=True,
                ),
            )
            yield Checkbox(_rest_label(False), id="move-rest", compact=True)
            yield Label(
                _("Enter saves · Tab next field · Space ticks · Esc cancels."),
                classes="dialog-hint",
            )
            yield self.error_line()
        yield KeyFooter()

    @on(Checkbox.Changed, "#move-rest")
    def rest_changed(self, event: Checkbox.Changed) -> None:
        """Say the choice in words: the box's mark alone is only a colour."""
        event.checkbox.label = _rest_label(event.value)

    @on(Input.Submitted)
    def submitted(self) -> None:
        """Enter in either field: move the visit (and the rest, if ticked)."""
        to = self.query_one("#move-date", Input).value
        time = self.query_one("#move-time", Input).value
        rest = self.query_one("#move-rest", Checkbox).value
        db, today, visit, version = self.host.db, self.host.today, self.visit, self.plan_version

        def move() -> Reschedule:
            return move_visit(
                db,
                visit.id,
                to,
                time=time,
                shift_rest=rest,
                today=today,
                expected_version=version,
            )

        save_patiently(self.app, move, self.saved, self.failed)


def say_planned(app: App[Any], result: object) -> None:
    """Tell what a dialog saved: a visit marked, or what a move did (and the timing facts
    the new plan breaks)."""
    if isinstance(result, Visit):
        words = _("missed") if result.status == "missed" else _("cancelled")
        app.notify(_("Visit {m}.{n} {what}.", m=result.module, n=result.number, what=words))
        return
    if not isinstance(result, Reschedule):
        return
    if not result.moved:
        app.notify(_("Nothing moved: the visit is planned then already."))
        return
    first = result.moved[0]
    when = first.now.strftime("%a %d %b") + (f" {first.time}" if first.time else "")
    text = _("Visit {m}.{n} moved to {when}.", m=first.module, n=first.number, when=when)
    if len(result.moved) > 1:
        text += " " + _(
            "{n} later visits moved with it; the last is on {day}.",
            n=len(result.moved) - 1,
            day=result.moved[-1].now.strftime("%a %d %b %Y"),
        )
    app.notify(text)
    for warning in result.warnings:
        app.notify(warning, title=_("Timing"), severity="warning", timeout=10)
