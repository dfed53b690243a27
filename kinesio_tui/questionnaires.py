"""The patient-reported outcome questionnaires as data: `data/questionnaires.toml` (scoring,
item ids, neutral labels), and the clinic's own licensed item texts from a file it supplies.

The validated forms' wording is copyrighted, so none of it ships: a clinic puts its forms'
texts in `questionnaire-texts.toml` in the configuration folder (or the file
`KINESIO_PROM_TEXTS` names); the screens then show them instead of the neutral labels.
"""

from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

from kinesio_tui.errors import ProtocolError
from kinesio_tui.protocol import DATA_DIR, _read_toml, _Reader, _unique

QUESTIONNAIRES_FILE = DATA_DIR / "questionnaires.toml"
#: The clinic's item texts: this name in the configuration folder, or KINESIO_PROM_TEXTS.
TEXTS_FILE_NAME = "questionnaire-texts.toml"
TEXTS_ENV = "KINESIO_PROM_TEXTS"

Scoring = Literal["percent", "raw"]


@dataclass(frozen=True)
class Item:
    id: str
    label: str  # short and neutral: the section's subject, never the form's wording


@dataclass(frozen=True)
class Band:
    upper: float  # the band holds scores up to and including this
    label: str


@dataclass(frozen=True)
class Questionnaire:
    code: str
    label: str
    short: str
    offered_for: tuple[str, ...]  # "condition" or "condition:subtype"
    scoring: Scoring
    item_max: int
    max_missing: int
    unit: str  # "%" or "/50", "/24": how the score is written
    mcid: float
    bands: tuple[Band, ...]
    items: tuple[Item, ...]

    @property
    def top(self) -> float:
        """The highest score: 100 (%) or item_max x items (raw)."""
        return 100.0 if self.scoring == "percent" else float(self.item_max * len(self.items))

    def offered(self, condition: str, subtype: str) -> bool:
        return condition in self.offered_for or f"{condition}:{subtype}" in self.offered_for

    def item(self, item_id: str) -> Item | None:
        return next((i for i in self.items if i.id == item_id), None)


@dataclass(frozen=True)
class ItemText:
    """A clinic's licensed wording of one item: its text and the answer for each score."""

    text: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClinicTexts:
    """The clinic's item texts, by questionnaire and item id; empty when none is supplied."""

    source: Path | None = None
    titles: dict[str, str] = field(default_factory=dict)
    items: dict[tuple[str, str], ItemText] = field(default_factory=dict)

    def item(self, code: str, item_id: str) -> ItemText | None:
        return self.items.get((code, item_id))


def parse_questionnaires(file: Path) -> tuple[Questionnaire, ...]:
    root = _Reader(file, _read_toml(file))
    found = []
    for q in root.tables("questionnaires"):
        scoring = q.text("scoring")
        if scoring not in ("percent", "raw"):
            raise q.fail("scoring", "should be percent or raw")
        item_max = q.get("item_max", int)
        if item_max < 1:
            raise q.fail("item_max", "should be at least 1")
        items = tuple(Item(i.text("id"), i.text("label")) for i in q.tables("items"))
        if not items:
            raise q.fail("items", "needs at least one item")
        _unique(q, "items", [i.id for i in items])
        max_missing = q.get("max_missing", int)
        if not 0 <= max_missing < len(items):
            raise q.fail("max_missing", f"should be 0 to {len(items) - 1}")
        mcid = q.get("mcid", (int, float))
        if mcid <= 0:
            raise q.fail("mcid", "should be more than 0")
        bands = []
        for index, band in enumerate(q.get("bands", list)):
            if (
                not isinstance(band, list)
                or len(band) != 2
                or not isinstance(band[0], int | float)
                or isinstance(band[0], bool)
                or not isinstance(band[1], str)
            ):
                raise q.fail(f"bands[{index}]", "should be [upper bound, label]")
            bands.append(Band(float(band[0]), band[1]))
        offered = q.get("for", list)
        if not all(isinstance(c, str) for c in offered):
            raise q.fail("for", "should list conditions or condition:subtype")
        questionnaire = Questionnaire(
            code=q.text("code"),
            label=q.text("label"),
            short=q.text("short"),
            offered_for=tuple(offered),
            scoring=cast(Scoring, scoring),
            item_max=item_max,
            max_missing=max_missing,
            unit=q.get("unit", str),
            mcid=float(mcid),
            bands=tuple(bands),
            items=items,
        )
        uppers = [b.upper for b in questionnaire.bands]
        if uppers != sorted(uppers) or (uppers and uppers[-1] < questionnaire.top):
            raise q.fail("bands", f"should rise to the highest score, {questionnaire.top:g}")
        found.append(questionnaire)
    _unique(root, "questionnaires", [q.code for q in found])
    return tuple(found)


@functools.cache
def questionnaires() -> tuple[Questionnaire, ...]:
    """The built-in questionnaires, loaded once per process."""
    return parse_questionnaires(QUESTIONNAIRES_FILE)


def questionnaire(code: str) -> Questionnaire | None:
    return next((q for q in questionnaires() if q.code == code), None)


def offered_for(condition: str, subtype: str) -> tuple[Questionnaire, ...]:
    """The questionnaires an episode of this condition and subtype is asked to fill in."""
    return tuple(q for q in questionnaires() if q.offered(condition, subtype))


def texts_file(config_dir: Path) -> Path:
    """Where the clinic's item texts are read from."""
    named = os.environ.get(TEXTS_ENV)
    return Path(named) if named else config_dir / TEXTS_FILE_NAME


def load_clinic_texts(file: Path) -> ClinicTexts:
    """The clinic's licensed item texts, or none when the file does not exist.

    Format (TOML): a table per questionnaire code with an optional `title`, and per item id
    a `text` and the `choices` (the answer printed beside each score, lowest first):

        [odi]
        title = "..."
        [odi.odi01]
        text = "..."
        choices = ["...", "...", "...", "...", "...", "..."]
    """
    if not file.is_file():
        return ClinicTexts()
    try:
        with file.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ProtocolError("Questionnaire texts unreadable", f"{file.name}: {error}") from None
    known = {q.code: q for q in questionnaires()}
    titles: dict[str, str] = {}
    items: dict[tuple[str, str], ItemText] = {}
    root = _Reader(file, data)
    for code, table in data.items():
        q = known.get(code)
        if q is None or not isinstance(table, dict):
            raise root.fail(code, f"is not a questionnaire; known: {', '.join(sorted(known))}")
        reader = _Reader(file, table, code)
        if "title" in table:
            titles[code] = reader.text("title")
        for item_id, entry in table.items():
            if item_id == "title":
                continue
            if q.item(item_id) is None or not isinstance(entry, dict):
                raise reader.fail(item_id, f"is not an item of {q.short}")
            item = _Reader(file, entry, f"{code}.{item_id}")
            choices = item.get("choices", list, [])
            if choices and (
                len(choices) != q.item_max + 1 or not all(isinstance(c, str) for c in choices)
            ):
                raise item.fail("choices", f"should list {q.item_max + 1} answers, score 0 first")
            items[(code, item_id)] = ItemText(item.text("text"), tuple(choices))
    return ClinicTexts(file, titles, items)
