"""One line asked for: who is treating, the doctor of an appointment, the reason for a
reopened visit or a corrected value.

`AskDialog` shows a title, what the line is for and one field; Enter checks the text with
the caller's rule (the domain's, which raises ValidationError naming the field) and hands
back the checked text, or says in one line what is allowed and keeps the dialog open.
Whatever is typed is shown as text, never as markup.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from kinesio_tui.domain.validate import MAX_NAME, bounded_text, therapist_name
from kinesio_tui.errors import KinesioError, ValidationError
from kinesio_tui.i18n import _
from kinesio_tui.views.footer import KeyFooter

#: A reason is one line a person reads in a list of amendments.
MAX_REASON = 500


def checked_name(field: str) -> Callable[[str], str]:
    """The rule for a person's name in `field`: required, one line, no control characters,
    at most MAX_NAME characters (as `--therapist`)."""

    def check(text: str) -> str:
        try:
            name = therapist_name(text)
        except ValidationError as error:
            raise ValidationError(field, error.reason) from None
        if name is None:
            raise ValidationError(field, _("is required"))
        return name

    return check


def checked_reason(text: str) -> str:
    """A reason: required, one line, no control characters, at most MAX_REASON characters."""
    reason = bounded_text("reason", text, max_len=MAX_REASON)
    if not reason:
        raise ValidationError("reason", _("is required"))
    return reason


class AskDialog(ModalScreen[str | None]):
    """One field; Enter hands back the checked text, Esc (when allowed) leaves with None."""

    CSS_PATH = "visit.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", _("Cancel"))]

    def __init__(
        self,
        title: str,
        hint: str,
        *,
        check: Callable[[str], str],
        placeholder: str = "",
        value: str = "",
        max_length: int = MAX_NAME,
        context: str = "",
        can_cancel: bool = True,
        dialog_id: str = "ask",
    ) -> None:
        super().__init__(classes="kinesio-dialog", id=dialog_id)
        self.title_text = title
        self.hint = hint
        self.check = check
        self.placeholder = placeholder
        self.value = value
        self.max_length = max_length
        self.context = context
        self.can_cancel = can_cancel

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="ask-box"):
            yield Static(markup=False, content=self.title_text, classes="dialog-title")
            if self.context:
                yield Static(markup=False, content=self.context, id="ask-context")
            yield Static(markup=False, content=self.hint, classes="dialog-hint", id="ask-hint")
            # a little over the limit, so a too-long paste is refused aloud, not cut silently
            yield Input(
                self.value,
                placeholder=self.placeholder,
                id="ask-field",
                max_length=self.max_length + 1,
                compact=True,
            )
            line = Static(markup=False, content="", classes="field-error", id="ask-error")
            line.display = False
            yield line
        yield KeyFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.can_cancel
        return True

    def say(self, text: str) -> None:
        line = self.query_one("#ask-error", Static)
        line.update(text)
        line.display = bool(text)

    @on(Input.Submitted, "#ask-field")
    def submitted(self, event: Input.Submitted) -> None:
        """Enter: the checked text, or one line saying what is allowed."""
        try:
            checked = self.check(event.value)
        except KinesioError as error:
            self.say(f"✖ {error.message}")
            return
        self.dismiss(checked)

    def action_cancel(self) -> None:
        """Leave; nothing is changed."""
        if self.can_cancel:
            self.dismiss(None)
