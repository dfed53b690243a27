"""The clinic's identity as a report shows it: the `clinic` key of every template's context.

None when the clinic has set nothing, so a template shows no empty header. Values typed by
the clinic stay plain `str` (each format escapes them); the logo is a `data:` URI, so the
HTML report stays one self-contained file. A logo that has gone or changed into something
that is not a small PNG or JPEG stops the export with a message naming the setting.
"""

from __future__ import annotations

import base64
import functools
from pathlib import Path
from typing import Any

from kinesio_tui.clinic_identity import ClinicIdentity, read_logo
from kinesio_tui.i18n import _
from kinesio_tui.settings import current_settings

#: Context keys a clinic's own template may use (README, "Your own templates").
CLINIC_KEYS = ("name", "address_lines", "contact", "logo")


def clinic_context(html: bool, clinic: ClinicIdentity | None = None) -> dict[str, Any] | None:
    """What a report says about the clinic: `clinic` as the caller read it (`export --all`
    reads the settings once for the run), else the settings file as it is now."""
    clinic = clinic_identity(clinic)
    if not clinic.is_set():
        return None
    logo = _stamp(Path(clinic.logo)) if html and clinic.logo else None
    return _context(clinic, logo)


def clinic_identity(clinic: ClinicIdentity | None = None) -> ClinicIdentity:
    """`clinic` when the caller has read it, else the settings file's, read now."""
    return current_settings().clinic if clinic is None else clinic


def _stamp(path: Path) -> tuple[str, int, int]:
    """A logo file's identity as of now: an edited file is read afresh."""
    try:
        status = path.stat()
    except OSError:
        return (str(path), -1, -1)
    return (str(path), status.st_mtime_ns, status.st_size)


@functools.lru_cache(maxsize=4)
def _context(clinic: ClinicIdentity, logo: tuple[str, int, int] | None) -> dict[str, Any]:
    # Cached: exporting the whole clinic reads and encodes the logo once.
    contact = []
    if clinic.phone:
        contact.append(_("Tel. {phone}", phone=clinic.phone))
    if clinic.email:
        contact.append(_("E-mail {email}", email=clinic.email))
    if clinic.registration_code:
        contact.append(_("Registration code {code}", code=clinic.registration_code))
    image = None
    if logo is not None:
        media_type, data = read_logo(logo[0])
        image = {
            "src": f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}",
            "alt": _("{name} logo", name=clinic.name) if clinic.name else _("Clinic logo"),
        }
    return {
        "name": clinic.name,
        "address_lines": [line for line in clinic.address.split("\n") if line.strip()],
        "contact": contact,
        "logo": image,
    }
