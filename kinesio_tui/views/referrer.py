"""Who referred the patient for this episode (the discharge letter's addressee): a name and,
optionally, the institution. Ctrl+S (or Enter in the last field) saves; Esc writes nothing; a
form based on an episode another terminal has since changed is refused, nothing written."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from kinesio_tui.domain.models import Episode
from kinesio_tui.domain.referrer import MAX_INSTITUTION, MAX_REFERRER, set_referring_doctor
from kinesio_tui.errors import KinesioError, StaleRecord, ValidationError
from kinesio_tui.i18n import _
from kinesio_tui.plain_text import shown
from kinesio_tui.views.db_wait import save_patiently
from kinesio_tui.views.footer import KeyFooter
from kinesio_tui.views.workstation import workstation


class ReferrerDialog(ModalScreen[Episode | None]):
    """The referring doctor of an episode; dismisses with the episode as saved, or None."""

    CSS_PATH = "visit.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", _("Save")),
        Binding("escape", "cancel", _("Cancel")),
    ]
    help_title = _("Referring doctor")

    def __init__(self, episode: Episode) -> None:
        super().__init__(classes="kinesio-dialog")
        #: The episode as shown: the save is based on its version.
        self.episode = episode

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="referrer-box"):
            yield Static(
                markup=False,
                content=_("Referring doctor (the discharge letter is addressed to them)"),
                classes="dialog-title",
            )
            with Horizontal(classes="field-row"):
                yield Label(_("Doctor"), classes="field-label")
                yield Input(
                    shown(self.episode.referring_doctor),
                    placeholder=_("name, e.g. Dr A. Jonaitė"),
                    id="referrer-name",
                    max_length=MAX_REFERRER,
                    compact=True,
                )
            with Horizontal(classes="field-row"):
                yield Label(_("Where"), classes="field-label")
                yield Input(
                    shown(self.episode.referring_institution),
                    placeholder=_("institution (optional)"),
                    id="referrer-institution",
                    max_length=MAX_INSTITUTION,
                    compact=True,
                )
            yield Label(
                _(
                    "Ctrl+S (or Enter in the last field) saves; an empty name clears it; Esc cancels."
                ),
                classes="dialog-hint",
            )
            error = Static(markup=False, content="", classes="field-error", id="referrer-error")
            error.display = False
            yield error
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#referrer-name", Input).focus()

    @on(Input.Submitted, "#referrer-name")
    def next_field(self) -> None:
        """Enter in the name: on to the institution."""
        self.query_one("#referrer-institution", Input).focus()

    @on(Input.Submitted, "#referrer-institution")
    def submitted(self) -> None:
        """Enter in the last field saves."""
        self.action_save()

    def say(self, text: str) -> None:
        line = self.query_one("#referrer-error", Static)
        line.update(text)
        line.display = bool(text)

    def action_save(self) -> None:
        """Check both fields and save them (Ctrl+S)."""
        name = self.query_one("#referrer-name", Input).value
        place = self.query_one("#referrer-institution", Input).value
        db = workstation(self.app).db
        version = self.episode.version
        save_patiently(
            self.app,
            lambda: set_referring_doctor(
                db, self.episode.id, name, place, expected_version=version
            ),
            self.saved,
            self.refused,
        )

    def saved(self, record: Episode) -> None:
        """Written: close with what was saved."""
        self.dismiss(record)

    def refused(self, error: KinesioError) -> None:
        """Nothing was written: say why, keep what was typed."""
        if not self.is_attached:
            return
        if isinstance(error, StaleRecord):
            self.say(_("✖ Changed in another terminal: nothing written. Esc, then try again."))
        elif isinstance(error, ValidationError):
            self.say(f"✖ {_(error.field).capitalize()} {error.reason}")
        else:
            self.say(f"✖ {error.message}")

    def action_cancel(self) -> None:
        """Leave; nothing is written."""
        self.dismiss(None)
