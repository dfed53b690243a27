"""What the patient reads on the home-exercise sheet: each exercise's steps and the safety
line, from data/exercise_instructions.toml, with the clinic's own file of the same name (in
its config directory) replacing the exercises it names.

The clinic's file is read each time a sheet is made, so an edit shows on the next sheet, and
checked as a whole first: a broken one stops the sheet with one line naming the file and the
key, and nothing is written. Text in it is the clinic's words for patients, never markup: each
report format escapes it like any typed text.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.plain_text import has_control
from kinesio_tui.protocol import DATA_DIR, protocol

FILE_NAME = "exercise_instructions.toml"
BUILTIN_FILE = DATA_DIR / FILE_NAME
#: A sheet's steps are short: a few of them, each a sentence or two.
MAX_STEPS = 8
MAX_STEP = 300
MAX_SAFETY = 400


@dataclass(frozen=True)
class ExerciseInstructions:
    """The steps of every exercise that has them (code -> steps) and the safety line."""

    steps: dict[str, tuple[str, ...]]
    safety: str


def clinic_file() -> Path:
    """Where a clinic puts its own instructions: beside settings.toml and its templates."""
    from kinesio_tui.locations import config_dir

    return config_dir() / FILE_NAME


def exercise_instructions(override: Path | None = None) -> ExerciseInstructions:
    """The built-in instructions with the clinic's file (if there is one) laid over them."""
    builtin = _parse(BUILTIN_FILE, require_safety=True)
    mine = clinic_file() if override is None else override
    if not mine.is_file():
        return builtin
    theirs = _parse(mine, require_safety=False)
    return ExerciseInstructions({**builtin.steps, **theirs.steps}, theirs.safety or builtin.safety)


def _broken(file: Path, key: str, why: str) -> KinesioError:
    return KinesioError(
        _("Broken exercise instructions"), _("{file}: {key}: {why}", file=file, key=key, why=why)
    )


def _parse(file: Path, *, require_safety: bool) -> ExerciseInstructions:
    try:
        with file.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise KinesioError(
            _("Broken exercise instructions"), _("{file}: {why}", file=file, why=error)
        ) from None
    except OSError as error:
        raise KinesioError(
            _("Cannot read exercise instructions"),
            _("{file}: {why}", file=file, why=error.strerror or error),
        ) from None
    unknown = sorted(set(data) - {"safety", "exercises"})
    if unknown:
        raise _broken(file, unknown[0], _("is not a setting of this file"))
    safety = data.get("safety", "")
    if require_safety or "safety" in data:
        safety = _text(file, "safety", safety, MAX_SAFETY)
    exercises = data.get("exercises", {})
    if not isinstance(exercises, dict):
        raise _broken(file, "exercises", _("should be a table"))
    known = {e.code for m in protocol().modules for e in m.home_exercises}
    steps: dict[str, tuple[str, ...]] = {}
    for code, entry in exercises.items():
        key = f"exercises.{code}"
        if code not in known:
            raise _broken(file, key, _("the programme has no home exercise {code!r}", code=code))
        if not isinstance(entry, dict) or set(entry) != {"steps"}:
            raise _broken(file, key, _("should be a table with only `steps`"))
        given = entry["steps"]
        if not isinstance(given, list) or not 1 <= len(given) <= MAX_STEPS:
            raise _broken(
                file, f"{key}.steps", _("should be a list of 1 to {n} steps", n=MAX_STEPS)
            )
        steps[code] = tuple(
            _text(file, f"{key}.steps[{i}]", step, MAX_STEP) for i, step in enumerate(given)
        )
    return ExerciseInstructions(steps, safety)


def _text(file: Path, key: str, value: Any, max_len: int) -> str:
    """One line of the patient's text: not empty, not too long, no control characters."""
    if not isinstance(value, str) or not value.strip():
        raise _broken(file, key, _("should be text, not empty"))
    if len(value) > max_len:
        raise _broken(file, key, _("is too long (at most {n} characters)", n=max_len))
    if "\n" in value or "\r" in value or "\t" in value or has_control(value):
        raise _broken(
            file, key, _("should be one line without control characters or text-direction codes")
        )
    return value.strip()
