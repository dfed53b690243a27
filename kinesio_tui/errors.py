"""Errors in clinician words: a title, a message, and for bad input the field at fault."""

from __future__ import annotations

from kinesio_tui.i18n import _


class KinesioError(Exception):
    """Something the user can understand and act on; never carries patient data."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(_("{title}: {message}", title=title, message=message))
        self.title = title
        self.message = message


class ValidationError(KinesioError):
    """Input that breaks a rule; `field` names the input, `message` says what is allowed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(_("Invalid input"), _("{field}: {reason}", field=_(field), reason=message))
        self.field = field
        self.reason = message


class NotFound(KinesioError):
    """A record the user asked for does not exist."""

    def __init__(self, what: str, key: object) -> None:
        super().__init__(_("Not found"), _("No {what} with id {key}.", what=_(what), key=key))


class StaleRecord(KinesioError):
    """An edit made from an out-of-date screen: someone else changed the record first.

    Nothing was written; the screen shows the newer value and keeps what was typed.
    """

    def __init__(self, what: str, key: object) -> None:
        super().__init__(
            _("Changed in another terminal"),
            _(
                "The {what} ({key}) was changed in another terminal; nothing was overwritten, "
                "the newer value is shown.",
                what=_(what),
                key=key,
            ),
        )
        self.what = what


class DatabaseBusy(KinesioError):
    """Another program held the database's write lock for longer than we wait; nothing
    was written."""

    def __init__(self, waited_s: float) -> None:
        super().__init__(
            _("Database busy"),
            _(
                "Another program kept the database locked for {waited:.0f} s; nothing was saved. "
                "Try again when it has finished.",
                waited=waited_s,
            ),
        )
        self.waited_s = waited_s


class DatabaseTooNew(KinesioError):
    """The file was written by a newer kinesio-tui; we refuse to touch it."""


class DatabaseDamaged(KinesioError):
    """SQLite found the file's pages damaged (corrupt, or not a database past its header)."""


class ProtocolError(KinesioError):
    """The protocol or catalog data file is broken; names the file and the key."""
