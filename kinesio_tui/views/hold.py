"""A red-flag hold on screen: the banner's words, and the three dialogs that act on a hold.

- OverrideDialog: starting a therapy session while on hold asks why (Enter goes on, Esc not);
- ReferralDialog: to whom, when and why the patient was referred (the patient screen, `r`);
- ClearanceDialog: a doctor's clearance, at a doctor's appointment in progress (`h`).
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, cast
from typing import Protocol as TypingProtocol

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.holds import Hold, clear_hold, record_referral
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.protocol import protocol
from kinesio_tui.views.db_wait import save_patiently
from kinesio_tui.views.footer import KeyFooter


class HoldHost(TypingProtocol):
    """What the hold dialogs need from the app (the workstation, or a test's host)."""

    db: ClinicDB
    today: date


def hold_words(hold: Hold, *, wide: bool = True) -> Text:
    """The hold as the patient screen shows it: since when, which flags, the referral (why
    only where there is room), and what ends it. Plain text: what a person typed stays text."""
    flags = "; ".join(protocol().red_flag_words(hold.flags))
    out = Text()
    out.append(
        _("⚠ THERAPY ON HOLD since {day}: {flags}", day=hold.raised_on.isoformat(), flags=flags)
    )
    if hold.referred:
        out.append(
            _(
                " · referred to {to} on {day}",
                to=hold.referred_to,
                day=hold.referred_on.isoformat() if hold.referred_on else "?",
            )
        )
        if wide:
            out.append(_(": {why}", why=hold.referral_reason))
    else:
        out.append(_(" · Not referred yet: refer to a doctor now (r records it)"))
    if hold.overrides:
        out.append(_(" · overridden {n}×", n=len(hold.overrides)))
    out.append(_(" · only a doctor's clearance ends it"))
    return out


class _HoldDialog(ModalScreen[bool | str | None]):
    """A small form over the screen; Esc leaves without saving."""

    CSS_PATH = "visit.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", _("Cancel"))]
    #: The field whose Enter saves the form (Enter elsewhere moves on); None: no such form.
    LAST_FIELD: ClassVar[str | None] = None

    def __init__(self) -> None:
        super().__init__(classes="kinesio-dialog")

    @on(Input.Submitted)
    def next_or_save(self, event: Input.Submitted) -> None:
        """Enter: on to the next field, and from the last one save (when all are filled in)."""
        if self.LAST_FIELD is None:
            return
        if event.input.id != self.LAST_FIELD:
            self.focus_next()
        elif not self.next_empty():
            self.save()

    def save(self) -> None:
        """Write what the form holds (forms with a LAST_FIELD)."""

    @property
    def host(self) -> HoldHost:
        return cast(HoldHost, self.app)

    def error_line(self) -> Static:
        line = Static(markup=False, content="", classes="field-error", id="hold-error")
        line.display = False
        return line

    def say(self, text: str) -> None:
        line = self.query_one("#hold-error", Static)
        line.update(text)
        line.display = bool(text)

    def saved(self) -> None:
        """The write is made: close, saying so."""
        self.dismiss(True)

    def failed(self, error: KinesioError) -> None:
        if self.is_attached:
            self.say(f"✖ {error.message}")

    def next_empty(self) -> bool:
        """Focus the first empty field; False when all are filled in."""
        for field in self.query(Input).results(Input):
            if not field.value.strip():
                field.focus()
                self.say(_("✖ {field} is needed.", field=field.placeholder or field.id or ""))
                return True
        return False

    def action_cancel(self) -> None:
        """Leave; nothing is saved."""
        self.dismiss(None)


class OverrideDialog(_HoldDialog):
    """Why a therapy session goes on although the episode is on hold; returns the reason."""

    def __init__(self, hold: Hold) -> None:
        super().__init__()
        self.hold = hold

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="override-box"):
            yield Static(
                markup=False, content=_("Therapy on hold: red flag"), classes="dialog-title"
            )
            yield Static(hold_words(self.hold), markup=False)
            yield Label(
                _("Start the session anyway? Say why (recorded on the audit trail):"),
                classes="dialog-hint",
            )
            yield Input(
                placeholder=_("reason to go on"),
                id="override-reason",
                max_length=500,
                compact=True,
            )
            yield self.error_line()
        yield KeyFooter()

    @on(Input.Submitted, "#override-reason")
    def chosen(self, event: Input.Submitted) -> None:
        """Enter: go on with this reason (an empty one is refused)."""
        if self.next_empty():
            return
        self.dismiss(event.value.strip())


class ReferralDialog(_HoldDialog):
    """Record to whom, when and why the patient was referred; returns True once saved."""

    LAST_FIELD = "referral-why"

    def __init__(self, hold: Hold) -> None:
        super().__init__()
        self.hold = hold

    def compose(self) -> ComposeResult:
        hold = self.hold
        with Vertical(classes="dialog-box", id="referral-box"):
            yield Static(markup=False, content=_("Referral"), classes="dialog-title")
            yield field_row(
                _("To"),
                Input(
                    hold.referred_to,
                    placeholder=_("doctor or service"),
                    id="referral-to",
                    max_length=80,
                    compact=True,
                ),
            )
            yield field_row(
                _("On"),
                Input(
                    (hold.referred_on or self.host.today).isoformat(),
                    placeholder=_("date (YYYY-MM-DD)"),
                    id="referral-on",
                    max_length=10,
                    compact=True,
                ),
            )
            yield field_row(
                _("Why"),
                Input(
                    hold.referral_reason,
                    placeholder=_("reason for the referral"),
                    id="referral-why",
                    max_length=500,
                    compact=True,
                ),
            )
            yield Label(_("Enter in the last field saves; Esc cancels."), classes="dialog-hint")
            yield self.error_line()
        yield KeyFooter()

    def save(self) -> None:
        to = self.query_one("#referral-to", Input).value
        on_day = self.query_one("#referral-on", Input).value
        why = self.query_one("#referral-why", Input).value
        db, today, version = self.host.db, self.host.today, self.hold.version
        save_patiently(
            self.app,
            lambda: record_referral(
                db,
                self.hold.episode_id,
                to=to,
                on=on_day,
                why=why,
                today=today,
                expected_version=version,
            ),
            lambda _version: self.saved(),
            self.failed,
        )


class ClearanceDialog(_HoldDialog):
    """A doctor clears the patient for therapy (ends the hold); returns True once saved."""

    LAST_FIELD = "clearance-note"

    def __init__(self, hold: Hold, visit_id: int) -> None:
        super().__init__()
        self.hold = hold
        self.visit_id = visit_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="clearance-box"):
            yield Static(
                markup=False, content=_("Doctor's clearance: end the hold"), classes="dialog-title"
            )
            yield Static(hold_words(self.hold), markup=False)
            yield field_row(
                _("Doctor"),
                Input(
                    placeholder=_("doctor's name"),
                    id="clearance-doctor",
                    max_length=80,
                    compact=True,
                ),
            )
            yield field_row(
                _("Why"),
                Input(
                    placeholder=_("why therapy may go on"),
                    id="clearance-note",
                    max_length=500,
                    compact=True,
                ),
            )
            yield Label(_("Enter in the last field saves; Esc cancels."), classes="dialog-hint")
            yield self.error_line()
        yield KeyFooter()

    def save(self) -> None:
        doctor = self.query_one("#clearance-doctor", Input).value
        note = self.query_one("#clearance-note", Input).value
        db, version = self.host.db, self.hold.version
        save_patiently(
            self.app,
            lambda: clear_hold(
                db,
                self.hold.episode_id,
                visit_id=self.visit_id,
                doctor=doctor,
                note=note,
                expected_version=version,
            ),
            lambda _none: self.saved(),
            self.failed,
        )


def field_row(label: str, field: Input) -> Horizontal:
    """One labelled field of a hold dialog: the label, then the input, on one line."""
    return Horizontal(Label(label, classes="field-label"), field, classes="field-row")
