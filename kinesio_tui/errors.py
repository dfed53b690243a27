"""Errors in clinician words: a title, a message, and for bad input the field at fault."""

from __future__ import annotations


class KinesioError(Exception):
    """Something the user can understand and act on; never carries patient data."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(f"{title}: {message}")
        self.title = title
        self.message = message


class ValidationError(KinesioError):
    """Input that breaks a rule; `field` names the input, `message` says what is allowed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__("Invalid input", f"{field}: {message}")
        self.field = field
        self.reason = message


class NotFound(KinesioError):
    """A record the user asked for does not exist."""

    def __init__(self, what: str, key: object) -> None:
        super().__init__("Not found", f"No {what} with id {key}.")


class StaleRecord(KinesioError):
    """An edit made from an out-of-date screen: someone else changed the record first."""

    def __init__(self, what: str, key: object) -> None:
        super().__init__(
            "Changed elsewhere", f"The {what} ({key}) was changed elsewhere and has been reloaded."
        )


class DatabaseTooNew(KinesioError):
    """The file was written by a newer kinesio-tui; we refuse to touch it."""


class ProtocolError(KinesioError):
    """The protocol or catalog data file is broken; names the file and the key."""
