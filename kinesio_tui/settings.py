"""The clinic's settings file: small, optional, read when asked (never at import).

`settings.toml` in the config directory, for example::

    [backups]
    keep = 14          # automatic daily backups to keep
    automatic = true   # take one when the workstation opens

    [workstation]
    opens_on = "today" # or "patients": the screen the workstation opens on

    [database]         # the clinic's PostgreSQL database instead of the file on this PC
    url = "postgresql://kinesio_app@db.clinic.lan/clinic"   # no password: ~/.pgpass
    schema = "kinesio" # a branch's own schema at head office: "branch_<code>"

    [clinic]           # shown on every report (clinic_identity.py checks each field)
    name = "Kauno kineziterapijos klinika"
    address = "Laisvės al. 1\\nKaunas"
    phone = "+370 600 00000"
    email = "reception@clinic.lt"
    registration_code = "123456789"
    logo = "/home/clinic/logo.png"   # PNG or JPEG, at most 512 KB, embedded in HTML reports

`kinesio settings set clinic.FIELD VALUE` writes the `[clinic]` table (the whole file is
written again, so comments in it are not kept).

The clinic's closed days are a second file beside it, `closures.toml`, which `kinesio
closures` writes (public holidays by country, from data/holidays.toml, and the clinic's own
dates); a person may edit it too.

A missing file means the defaults; a broken file is an error naming the file and key,
never a silent fallback (a clinic that asked for 60 backups must not get 14 quietly).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kinesio_tui.clinic_identity import CLINIC_FIELDS, ClinicIdentity, checked_field
from kinesio_tui.errors import KinesioError, ValidationError
from kinesio_tui.holidays import NO_HOLIDAYS, holiday_tables, public_holidays
from kinesio_tui.locations import (
    SETTINGS_ENV,
    database_table,
    settings_file,
)
from kinesio_tui.private_files import write_private_file

DEFAULT_BACKUPS_TO_KEEP = 14
MAX_BACKUPS_TO_KEEP = 3650
#: The screens the workstation may open on.
OPENS_ON = ("patients", "today")
#: Public holidays when the clinic chose none (data/holidays.toml).
DEFAULT_PUBLIC_HOLIDAYS = "lithuania"
__all__ = ["SETTINGS_ENV"]  # where it was defined before locations.py needed it


@dataclass(frozen=True)
class Settings:
    """What the clinic can change without touching code."""

    backups_to_keep: int = DEFAULT_BACKUPS_TO_KEEP
    automatic_backups: bool = True
    opens_on: str = "patients"  # "today": the day's visits; "patients": the patient list
    clinic: ClinicIdentity = dataclasses.field(default_factory=ClinicIdentity)
    #: `[database] url`: a PostgreSQL database to work on when neither --db nor KINESIO_DB
    #: names one (see data/engine.py `resolve_target`); `schema`: its schema there.
    database_url: str | None = None
    database_schema: str | None = None


def settings_path() -> Path:
    """Where the settings file is read from: $KINESIO_SETTINGS, else the config directory."""
    return settings_file()


def _read_toml(path: Path, what: str) -> dict[str, Any] | None:
    """The TOML file at `path` (None when there is none); KinesioError naming `what` (the
    settings, the closures) when it cannot be read or parsed."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise KinesioError(f"Cannot read {what}", f"{path}: {error.strerror}.") from None
    try:
        return tomllib.loads(raw)
    except tomllib.TOMLDecodeError as error:
        raise KinesioError(f"Broken {what} file", f"{path}: {error}.") from None


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings file (defaults when it does not exist); raise KinesioError if broken."""
    path = path or settings_path()
    data = _read_toml(path, "settings")
    if data is None:
        return Settings()
    backups = data.get("backups", {})
    if not isinstance(backups, dict):
        raise KinesioError("Broken settings file", f"{path}: [backups] should be a table.")
    keep = backups.get("keep", DEFAULT_BACKUPS_TO_KEEP)
    if isinstance(keep, bool) or not isinstance(keep, int) or not 1 <= keep <= MAX_BACKUPS_TO_KEEP:
        raise KinesioError(
            "Broken settings file",
            f"{path}: backups.keep should be a whole number from 1 to {MAX_BACKUPS_TO_KEEP}.",
        )
    automatic = backups.get("automatic", True)
    if not isinstance(automatic, bool):
        raise KinesioError(
            "Broken settings file", f"{path}: backups.automatic should be true or false."
        )
    workstation = data.get("workstation", {})
    if not isinstance(workstation, dict):
        raise KinesioError("Broken settings file", f"{path}: [workstation] should be a table.")
    opens_on = workstation.get("opens_on", "patients")
    if opens_on not in OPENS_ON:
        raise KinesioError(
            "Broken settings file",
            f"{path}: workstation.opens_on should be one of: {', '.join(OPENS_ON)}.",
        )
    clinic = _clinic(path, data.get("clinic", {}))
    url, schema = database_table(path, data.get("database", {}))
    return Settings(
        backups_to_keep=keep,
        automatic_backups=automatic,
        opens_on=opens_on,
        clinic=clinic,
        database_url=url,
        database_schema=schema,
    )


def current_settings() -> Settings:
    """The settings as the file is now, read once per version of the file: a report run that
    asks for the clinic's header and its ICD-10 edition for every patient parses it once, and
    an edited (or replaced) file is read afresh."""
    path = settings_path()
    try:
        status = path.stat()
        stamp = (status.st_ino, status.st_mtime_ns, status.st_size)
    except OSError:
        stamp = None
    return _settings_as_of(path, stamp)


@functools.lru_cache(maxsize=4)
def _settings_as_of(path: Path, _stamp: tuple[int, int, int] | None) -> Settings:
    return load_settings(path)


def _clinic(path: Path, table: object) -> ClinicIdentity:
    """The `[clinic]` table, each field checked as `kinesio settings set` checks it."""
    if not isinstance(table, dict):
        raise KinesioError("Broken settings file", f"{path}: [clinic] should be a table.")
    values: dict[str, str] = {}
    for field, value in table.items():
        if field not in CLINIC_FIELDS or not isinstance(value, str):
            raise KinesioError(
                "Broken settings file",
                f"{path}: [clinic] holds text fields only: {', '.join(CLINIC_FIELDS)}.",
            )
        try:
            values[field] = checked_field(field, value, open_logo=False)
        except ValidationError as error:
            raise KinesioError(
                "Broken settings file", f"{path}: {error.field}: {error.reason}"
            ) from None
    return ClinicIdentity(**values)


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write the settings file whole (atomically, private), replacing the one there."""
    path = path or settings_path()
    lines = [
        "# The clinic's settings (see `kinesio settings show`); edit by hand if you like.",
        "[backups]",
        f"keep = {settings.backups_to_keep}",
        f"automatic = {'true' if settings.automatic_backups else 'false'}",
        "",
        "[workstation]",
        f"opens_on = {_toml_text(settings.opens_on)}",
    ]
    if settings.database_url or settings.database_schema:
        lines += ["", "[database]"]
        if settings.database_url:
            lines.append(f"url = {_toml_text(settings.database_url)}")
        if settings.database_schema:
            lines.append(f"schema = {_toml_text(settings.database_schema)}")
    if any(getattr(settings.clinic, field) for field in CLINIC_FIELDS):
        lines += ["", "[clinic]"]
        for field in CLINIC_FIELDS:
            value = getattr(settings.clinic, field)
            if value:
                lines.append(f"{field} = {_toml_text(value)}")
    if not path.parent.exists():
        from kinesio_tui.locations import private_dir

        private_dir(path.parent)
    return write_private_file(path, ("\n".join(lines) + "\n").encode("utf-8"), replace=True)


# --- the clinic's closed days -------------------------------------------------------------


@dataclass(frozen=True)
class ClosedDay:
    """A day the clinic itself is closed (a holiday week, a training day), with why."""

    day: date
    reason: str = ""


@dataclass(frozen=True)
class Closures:
    """Days no visit is planned on: the country's public holidays and the clinic's own."""

    public_holidays: str = DEFAULT_PUBLIC_HOLIDAYS
    own: tuple[ClosedDay, ...] = ()

    def closed_on(self, day: date) -> str | None:
        """Why the clinic is closed on `day` (a holiday's or the clinic's reason), else None."""
        for closed in self.own:
            if closed.day == day:
                return closed.reason or "clinic closed"
        return public_holidays(self.public_holidays, day.year).get(day)


def closures_path() -> Path:
    """The closures file: beside the settings file."""
    return settings_path().with_name("closures.toml")


def load_closures(path: Path | None = None) -> Closures:
    """Read the clinic's closures (Lithuania's public holidays when there is no file)."""
    path = path or closures_path()
    data = _read_toml(path, "closures")
    if data is None:
        return Closures()
    country = data.get("public_holidays", DEFAULT_PUBLIC_HOLIDAYS)
    known = [*holiday_tables(), NO_HOLIDAYS]
    if country not in known:
        raise KinesioError(
            "Broken closures file", f"{path}: public_holidays should be one of: {', '.join(known)}."
        )
    own = []
    for entry in data.get("closed", []):
        day = entry.get("date") if isinstance(entry, dict) else None
        reason = entry.get("reason", "") if isinstance(entry, dict) else None
        if not isinstance(day, date) or isinstance(day, datetime) or not isinstance(reason, str):
            raise KinesioError(
                "Broken closures file",
                f"{path}: each [[closed]] needs date = YYYY-MM-DD and an optional reason text.",
            )
        own.append(ClosedDay(day, reason))
    return Closures(country, tuple(sorted(own, key=lambda c: c.day)))


def _toml_text(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's (the text has no control characters)."""
    return json.dumps(text, ensure_ascii=False)


def save_closures(closures: Closures, path: Path | None = None) -> Path:
    """Write the closures file whole (atomically, private), replacing the one there."""
    path = path or closures_path()
    lines = [
        "# The clinic's closed days: no visit is planned on them (nor on a weekend).",
        "# Written by `kinesio closures`; edit by hand if you like.",
        f"public_holidays = {_toml_text(closures.public_holidays)}  "
        f"# one of: {', '.join([*holiday_tables(), NO_HOLIDAYS])}",
    ]
    for closed in sorted(closures.own, key=lambda c: c.day):
        lines += ["", "[[closed]]", f"date = {closed.day.isoformat()}"]
        if closed.reason:
            lines.append(f"reason = {_toml_text(closed.reason)}")
    if not path.parent.exists():
        from kinesio_tui.locations import private_dir

        private_dir(path.parent)
    return write_private_file(path, ("\n".join(lines) + "\n").encode("utf-8"), replace=True)


# --- who treats: the name the workstation asked for, remembered per OS user --------------

#: Written by the workstation (never hand-edited like settings.toml), beside it.
REMEMBERED_NAME = "therapists.toml"


def remembered_path() -> Path:
    """The file of remembered therapists' names: beside the settings file."""
    return settings_path().parent / REMEMBERED_NAME


def _remembered(path: Path) -> dict[str, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}  # a name is asked again, and written afresh: nothing clinical is lost
    names = data.get("therapist", {})
    if not isinstance(names, dict):
        return {}
    return {user: name for user, name in names.items() if isinstance(name, str)}


def remembered_therapist(user: str, path: Path | None = None) -> str | None:
    """The therapist's name this OS user gave last, as written (the caller checks it like a
    typed one); None if none."""
    return _remembered(path or remembered_path()).get(user)


def remember_therapist(user: str, name: str, path: Path | None = None) -> None:
    """Keep `name` as this OS user's therapist for the next start (a private file, 0600,
    written whole). A file that cannot be written raises OSError."""
    import json

    from kinesio_tui.locations import private_dir
    from kinesio_tui.private_files import write_private_file

    path = path or remembered_path()
    names = _remembered(path) | {user: name}
    lines = ["# Who is treating, per OS user: written by kinesio-tui when asked.", "[therapist]"]
    # a JSON string is a valid TOML basic string (both escape quotes, backslashes, controls)
    lines += [f"{json.dumps(u)} = {json.dumps(n, ensure_ascii=False)}" for u, n in names.items()]
    if not path.parent.exists():
        private_dir(path.parent)
    write_private_file(path, ("\n".join(lines) + "\n").encode("utf-8"), replace=True)
