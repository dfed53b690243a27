"""The discharge dialog: what the letter to the referring doctor says at discharge, typed at a
module's final doctor's appointment (the programme ends at one).

Medication at discharge (beside the medication at the start), the work status (a choice
from data/discharge.toml, with words if needed), recommendations, the follow-up plan and an
optional review date. Ctrl+S checks and saves them together; Esc leaves and writes nothing.
A form based on a discharge another terminal has since changed is refused with nothing
written; the dialog keeps what was typed and a second Ctrl+S saves it over theirs.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static, TextArea

from kinesio_tui.domain.discharge import (
    MAX_FOLLOW_UP,
    MAX_MEDICATION,
    MAX_RECOMMENDATIONS,
    MAX_WORK_NOTE,
    Discharge,
    DischargeText,
    discharge_of,
    record_discharge,
    work_statuses,
)
from kinesio_tui.domain.models import Episode, Visit
from kinesio_tui.errors import KinesioError, StaleRecord, ValidationError
from kinesio_tui.i18n import _
from kinesio_tui.plain_text import shown
from kinesio_tui.views.db_wait import save_patiently
from kinesio_tui.views.footer import KeyFooter
from kinesio_tui.views.workstation import workstation

#: Domain field names (ValidationError.field) -> the widget that holds them.
FIELDS = {
    "medication": "discharge-medication",
    "work status": "discharge-work",
    "work note": "discharge-work-note",
    "recommendations": "discharge-recommendations",
    "follow-up": "discharge-follow-up",
    "review date": "discharge-review",
}


class DischargeDialog(ModalScreen[Discharge | None]):
    """The discharge, for the letter; dismisses with what was saved, or None (Esc)."""

    CSS_PATH = "discharge.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        # not priority: keys typed just before Ctrl+S must reach the field first
        Binding("ctrl+s", "save", _("Save")),
        Binding("escape", "cancel", _("Cancel")),
    ]
    help_title = _("Discharge")

    def __init__(self, visit: Visit, episode: Episode) -> None:
        super().__init__()
        self.visit = visit
        self.episode = episode
        #: The discharge as the form was filled from: the next save is based on its version.
        self.recorded: Discharge | None = None

    def compose(self) -> ComposeResult:
        db = workstation(self.app).db
        self.recorded = recorded = discharge_of(db, self.episode.id)
        statuses = [(w.label, w.code) for w in work_statuses()]
        with Vertical(id="discharge-box"):
            yield Static(
                markup=False,
                content=_("Discharge: what the letter to the referring doctor says"),
                classes="dialog-title",
            )
            yield Static(
                markup=False,
                content=_(
                    "Medication at the start: {meds}",
                    meds=shown(self.episode.pain_medication) or _("none recorded"),
                ),
                classes="dialog-hint",
            )
            with Horizontal(classes="discharge-row"):
                yield Label(_("Medication"), classes="discharge-label")
                yield Input(
                    shown(recorded.medication) if recorded else "",
                    placeholder=_("at discharge, e.g. none"),
                    id="discharge-medication",
                    max_length=MAX_MEDICATION,
                    compact=True,
                )
            with Horizontal(classes="discharge-row"):
                yield Label(_("Work"), classes="discharge-label")
                yield Select(
                    statuses,
                    value=recorded.work_status
                    if recorded and recorded.work_status in {c for _l, c in statuses}
                    else Select.NULL,
                    prompt=_("work status"),
                    id="discharge-work",
                    compact=True,
                )
                yield Input(
                    shown(recorded.work_note) if recorded else "",
                    placeholder=_("words, e.g. no lifting for 4 weeks"),
                    id="discharge-work-note",
                    max_length=MAX_WORK_NOTE,
                    compact=True,
                )
            yield Label(_("Recommendations"), classes="discharge-label")
            yield TextArea(
                shown(recorded.recommendations) if recorded else "",
                id="discharge-recommendations",
                soft_wrap=True,
                compact=True,
            )
            yield Label(_("Follow-up"), classes="discharge-label")
            yield TextArea(
                shown(recorded.follow_up) if recorded else "",
                id="discharge-follow-up",
                soft_wrap=True,
                compact=True,
            )
            with Horizontal(classes="discharge-row"):
                yield Label(_("Review on"), classes="discharge-label")
                yield Input(
                    recorded.review_date.isoformat() if recorded and recorded.review_date else "",
                    placeholder=_("YYYY-MM-DD (optional)"),
                    id="discharge-review",
                    max_length=10,
                    compact=True,
                )
            error = Static(markup=False, content="", classes="field-error", id="discharge-error")
            error.display = False
            yield error
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#discharge-medication", Input).focus()

    def typed(self) -> DischargeText:
        """The form as typed (checked by the domain when saved)."""
        work = self.query_one("#discharge-work", Select).value
        return DischargeText(
            medication=self.query_one("#discharge-medication", Input).value,
            work_status=work if isinstance(work, str) else "",
            work_note=self.query_one("#discharge-work-note", Input).value,
            recommendations=self.query_one("#discharge-recommendations", TextArea).text,
            follow_up=self.query_one("#discharge-follow-up", TextArea).text,
            review_date=self.query_one("#discharge-review", Input).value.strip() or None,
        )

    def say(self, text: str) -> None:
        line = self.query_one("#discharge-error", Static)
        line.update(text)
        line.display = bool(text)

    def action_save(self) -> None:
        """Check every field and save the discharge in one write (Ctrl+S)."""
        text = self.typed()
        host = workstation(self.app)
        db, today = host.db, host.today
        # long texts are checked here too: a TextArea has no max_length of its own
        for field, value, limit in (
            ("recommendations", text.recommendations, MAX_RECOMMENDATIONS),
            ("follow-up", text.follow_up, MAX_FOLLOW_UP),
        ):
            if len(value.strip()) > limit:
                self.refused(
                    ValidationError(field, _("is too long (at most {n} characters)", n=limit))
                )
                return
        base = self.recorded.version if self.recorded else 0
        save_patiently(
            self.app,
            lambda: record_discharge(db, self.visit.id, text, today=today, expected_version=base),
            self.saved,
            self.refused,
        )

    def saved(self, record: Discharge) -> None:
        """Written: close with what was saved."""
        self.dismiss(record)

    def refused(self, error: KinesioError) -> None:
        """Nothing was written: say why, keep what was typed."""
        if not self.is_attached:
            return
        if isinstance(error, StaleRecord):
            # theirs is now the basis: a second Ctrl+S saves what is typed over it
            self.recorded = discharge_of(workstation(self.app).db, self.episode.id)
            self.say(
                _(
                    "✖ Changed in another terminal: nothing written. "
                    "Ctrl+S saves yours over theirs; Esc keeps theirs."
                )
            )
            return
        if isinstance(error, ValidationError):
            widget = FIELDS.get(error.field)
            if widget:
                self.query_one(f"#{widget}").focus()
            self.say(f"✖ {_(error.field).capitalize()} {error.reason}")
            return
        self.say(f"✖ {error.message}")

    def action_cancel(self) -> None:
        """Leave; nothing is written."""
        self.dismiss(None)
