"""The clinic's identity on its reports: name, address, contact, registration code, logo.

A setting on this computer (the `[clinic]` table of settings.toml), not patient data. Each
field is checked the same way whether `kinesio settings set` was given it or a person
edited the file: bounded, no character a terminal acts on, an e-mail that looks like one,
a phone number of digits, spaces and + ( ) -, and a logo that is a small PNG or JPEG file
(told by its bytes, not its name). SVG is refused: it can carry scripts and links.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass, replace
from pathlib import Path

from kinesio_tui.errors import ValidationError
from kinesio_tui.i18n import _
from kinesio_tui.plain_text import has_control

MAX_NAME = 120
MAX_ADDRESS = 300
MAX_ADDRESS_LINES = 6
MAX_PHONE = 40
MAX_EMAIL = 254
MAX_REGISTRATION = 60
MAX_LOGO_PATH = 1024
#: A logo is embedded in every HTML report: kept small.
MAX_LOGO_BYTES = 512 * 1024
#: The fields a report's header shows.
IDENTITY_FIELDS = ("name", "address", "phone", "email", "registration_code", "logo")
#: The fields, in the order `kinesio settings show` lists them: the header's, then the
#: ICD-10 edition the clinic codes diagnoses in (the protocol's default when not set).
CLINIC_FIELDS = (*IDENTITY_FIELDS, "icd10_variant")
MAX_VARIANT = 20

_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_PHONE = re.compile(r"[0-9 +()\-]+")
_VARIANT = re.compile(r"[a-z0-9][a-z0-9-]*")
_IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


@dataclass(frozen=True)
class ClinicIdentity:
    """What a report says about the clinic; an empty string is a field not set."""

    name: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    registration_code: str = ""
    logo: str = ""  # an absolute path to a PNG or JPEG file
    icd10_variant: str = ""  # e.g. "am"; empty: the protocol's default edition

    def is_set(self) -> bool:
        """Whether a report has a header to show (the ICD-10 edition is not part of it)."""
        return any(getattr(self, name) for name in IDENTITY_FIELDS)


def _refuse(field: str, allowed: str) -> ValidationError:
    return ValidationError(f"clinic.{field}", allowed)


def _plain(field: str, value: str, max_len: int, *, lines: int = 1) -> str:
    text = value.strip()
    if has_control(text.replace("\n", "") if lines > 1 else text) or (
        lines == 1 and ("\n" in text or "\t" in text)
    ):
        raise _refuse(field, _("plain text only: no control characters or line breaks."))
    if len(text) > max_len:
        raise _refuse(field, _("at most {n} characters.", n=max_len))
    if text.count("\n") >= lines:
        raise _refuse(field, _("at most {n} lines.", n=lines))
    return text


def read_logo(path: str) -> tuple[str, bytes]:
    """The logo's media type and bytes; ValidationError when it is not a small regular PNG or
    JPEG file (a missing file, a directory, a device, anything else)."""
    where = Path(path).expanduser()
    try:
        resolved = where.resolve(strict=True)
        mode = resolved.stat().st_mode
    except (OSError, RuntimeError):
        raise _refuse("logo", _("a PNG or JPEG file that exists.")) from None
    if not stat.S_ISREG(mode):
        raise _refuse("logo", _("a regular PNG or JPEG file, not a folder or device."))
    try:
        with resolved.open("rb") as image:
            data = image.read(MAX_LOGO_BYTES + 1)
    except OSError:
        raise _refuse("logo", _("a PNG or JPEG file this user can read.")) from None
    if len(data) > MAX_LOGO_BYTES:
        raise _refuse("logo", _("at most {n} KB.", n=MAX_LOGO_BYTES // 1024))
    for magic, media_type in _IMAGE_TYPES.items():
        if data.startswith(magic):
            return media_type, data
    raise _refuse("logo", _("a PNG or JPEG image (SVG and other types are not accepted)."))


def checked_field(field: str, value: str, *, open_logo: bool = True) -> str:
    """`value` as kept for `field` (trimmed; a logo's path made absolute); an empty value
    clears the field. ValidationError naming the field and what is allowed. Reading the
    settings checks a logo's path as text only (`open_logo=False`): a report opens the file."""
    if field not in CLINIC_FIELDS:
        known = ", ".join(f"clinic.{f}" for f in CLINIC_FIELDS)
        raise ValidationError(field, _("not a setting; choose one of: {known}.", known=known))
    if field == "address":
        return _plain(field, value.replace("\r\n", "\n"), MAX_ADDRESS, lines=MAX_ADDRESS_LINES)
    limits = {"name": MAX_NAME, "phone": MAX_PHONE, "email": MAX_EMAIL,
              "registration_code": MAX_REGISTRATION, "logo": MAX_LOGO_PATH,
              "icd10_variant": MAX_VARIANT}  # fmt: skip
    text = _plain(field, value, limits[field])
    if not text:
        return ""
    if field == "email" and not _EMAIL.fullmatch(text):
        raise _refuse(field, _("an e-mail address like reception@clinic.lt."))
    if field == "phone" and (not _PHONE.fullmatch(text) or sum(c.isdigit() for c in text) < 3):
        raise _refuse(field, _("digits, spaces and + ( ) - only, at least 3 digits."))
    if field == "icd10_variant" and not _VARIANT.fullmatch(text):
        raise _refuse(field, _("an ICD-10 edition's short name, e.g. who or am."))
    if field == "logo" and open_logo:
        read_logo(text)
        return str(Path(text).expanduser().resolve())
    return text


def with_field(identity: ClinicIdentity, field: str, value: str) -> ClinicIdentity:
    """`identity` with `field` set to `value`, checked."""
    return replace(identity, **{field: checked_field(field, value)})
