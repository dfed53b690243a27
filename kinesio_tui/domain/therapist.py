"""Who treats: the name on every visit, audit entry and report.

Given on the command line (`--therapist`) or in KINESIO_THERAPIST it is used as given; else
the name this OS user gave the workstation last (remembered in the config folder); else
the workstation asks, and a command signs with the OS user's name (as it always did).
"""

from __future__ import annotations

from kinesio_tui.data.db import current_user
from kinesio_tui.domain.validate import therapist_name
from kinesio_tui.errors import KinesioError, ValidationError
from kinesio_tui.i18n import _
from kinesio_tui.settings import remember_therapist, remembered_therapist


def remembered_name() -> str | None:
    """The name this OS user gave last; None if none, or if it is no longer a valid name
    (a hand-edited file), so that it is asked again rather than written anywhere."""
    try:
        return therapist_name(remembered_therapist(current_user()))
    except ValidationError:
        return None


def who_treats(given: str | None) -> str | None:
    """The name to sign with: `given` (checked; ValidationError if refused), else the one
    remembered for this OS user, else None (the workstation asks; a command uses the OS
    user's name)."""
    return therapist_name(given) or remembered_name()


def remember_name(typed: str) -> str:
    """Check a typed name and keep it for this OS user's next start; returns it as kept.

    Refused (ValidationError naming the field) when it is empty, longer than a name may be
    or holds control characters; a config folder that cannot be written is a KinesioError
    (the name still holds for this session).
    """
    name = therapist_name(typed)
    if name is None:
        raise ValidationError("therapist", _("is required"))
    try:
        remember_therapist(current_user(), name)
    except OSError as error:
        raise KinesioError(
            _("Name not remembered"),
            _("Who is treating holds until you quit, but was not kept: {why}.", why=error.strerror),
        ) from None
    return name
