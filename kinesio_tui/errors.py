"""Errors in clinician words: a title, a message, and for bad input the field at fault."""

from __future__ import annotations

from typing import Literal

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


#: Why the database refused a row: a link to a missing record, a duplicate of a unique
#: value, a value outside a CHECK (or a NOT NULL), text it cannot store (a lone surrogate,
#: NUL on PostgreSQL), a number beyond 64 bits.
RefusalKind = Literal["link", "duplicate", "check", "characters", "number"]


class RecordRefused(KinesioError):
    """The database's schema refused a row; nothing of the statement was written.

    Raised by either engine instead of its driver's integrity errors. `reason` is the
    engine's own message: constraint and trigger names, never a value (PostgreSQL's DETAIL,
    which quotes values, is left out).
    """

    def __init__(self, kind: RefusalKind, reason: str) -> None:
        super().__init__(_("Record refused"), reason)
        self.kind: RefusalKind = kind
        self.reason = reason


class DatabaseGone(KinesioError):
    """The connection is closed or was lost (the program is closing, the server went away)."""

    def __init__(self, label: str) -> None:
        super().__init__(
            _("Database connection lost"),
            _("The connection to {label} is closed; nothing more was saved.", label=label),
        )


class DatabaseUnreachable(KinesioError):
    """A PostgreSQL server that cannot be reached or refuses us; `reason` is libpq's line."""

    def __init__(self, label: str, reason: str) -> None:
        super().__init__(
            _("Database server"),
            _("Cannot connect to {label}: {reason}", label=label, reason=reason),
        )
        self.label = label
        self.reason = reason


class SchemaPending(KinesioError):
    """The database's schema is missing, behind, or not granted to this role, and this role
    may not change that; `why` says which, `app_role` is the role to name in `kinesio init`."""

    def __init__(self, label: str, why: str, app_role: str) -> None:
        super().__init__(
            _("Database not ready"),
            _(
                "{label} {why}: run `kinesio init --app-role {role}` as the database owner "
                "(with --db naming this database and the owner's role); nothing was changed.",
                label=label,
                why=why,
                role=app_role,
            ),
        )
