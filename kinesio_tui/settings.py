"""The clinic's settings file: small, optional, read when asked (never at import).

`settings.toml` in the config directory, for example::

    [backups]
    keep = 14          # automatic daily backups to keep
    automatic = true   # take one when the workstation opens

A missing file means the defaults; a broken file is an error naming the file and key,
never a silent fallback (a clinic that asked for 60 backups must not get 14 quietly).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from kinesio_tui.errors import KinesioError
from kinesio_tui.locations import config_dir

DEFAULT_BACKUPS_TO_KEEP = 14
MAX_BACKUPS_TO_KEEP = 3650
#: Overrides the config file's location (tests, a shared clinic install).
SETTINGS_ENV = "KINESIO_SETTINGS"


@dataclass(frozen=True)
class Settings:
    """What the clinic can change without touching code."""

    backups_to_keep: int = DEFAULT_BACKUPS_TO_KEEP
    automatic_backups: bool = True


def settings_path() -> Path:
    """Where the settings file is read from: $KINESIO_SETTINGS, else the config directory."""
    env = os.environ.get(SETTINGS_ENV)
    if env:
        return Path(env).expanduser()
    return config_dir() / "settings.toml"


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings file (defaults when it does not exist); raise KinesioError if broken."""
    path = path or settings_path()
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except OSError as error:
        raise KinesioError("Cannot read settings", f"{path}: {error.strerror}.") from None
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as error:
        raise KinesioError("Broken settings file", f"{path}: {error}.") from None
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
    return Settings(backups_to_keep=keep, automatic_backups=automatic)


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
