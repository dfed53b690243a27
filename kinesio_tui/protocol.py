"""The programme as data: load and validate `data/protocol.toml` and `data/catalog.toml`.

Validation happens at load; a broken file raises `ProtocolError` naming the file and the
offending key, so a clinic editing a checklist sees exactly what to fix.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, cast

from kinesio_tui.errors import ProtocolError

DATA_DIR = Path(__file__).parent / "data"
PROTOCOL_FILE = DATA_DIR / "protocol.toml"
CATALOG_FILE = DATA_DIR / "catalog.toml"
HOME_EXERCISES_FILE = DATA_DIR / "home_exercises.toml"

#: What the database schema stores (CHECK constraints on visits.module / number / seq).
MAX_MODULES = 3
#: The most a test's short name may take: the test column of an 80-column terminal.
SHORT_LABEL_WIDTH = 13
#: An episode's side in words (the codes L, R, both are the database's).
SIDE_WORDS = {"L": "left", "R": "right", "both": "both sides"}
MAX_VISITS_PER_MODULE = 15

VisitKind = Literal["doctor", "therapy"]
TestKind = Literal["number", "scale", "text"]
#: How a change of a test is judged (catalog.toml [change_rules]): a 0-10 pain scale by
#: points, a ratio measure by percent of baseline, an ordinal scale by grades (a sign that
#: turned is one grade), a nominal finding by whether it changed; free text is not judged.
ScaleKind = Literal["pain", "ratio", "ordinal", "nominal", "none"]
SCALE_KINDS: dict[str, tuple[TestKind, ...]] = {
    "pain": ("number",),
    "ratio": ("number",),
    "ordinal": ("number", "scale"),
    "nominal": ("scale",),
    "none": ("number", "scale", "text"),
}
DEFAULT_SCALE: dict[TestKind, ScaleKind] = {"number": "ratio", "scale": "ordinal", "text": "none"}


@dataclass(frozen=True)
class Subtype:
    code: str
    label: str
    signs: str
    #: The subtype's diagnosis code in each ICD-10 variant the protocol knows: (variant, code).
    icd10: tuple[tuple[str, str], ...] = ()

    def icd10_code(self, variant: str) -> str | None:
        return dict(self.icd10).get(variant)


@dataclass(frozen=True)
class Condition:
    code: str
    label: str
    involves: str
    subtypes: tuple[Subtype, ...]

    def subtype(self, code: str) -> Subtype | None:
        return next((s for s in self.subtypes if s.code == code), None)


@dataclass(frozen=True)
class RedFlag:
    code: str
    label: str
    #: The condition (and its subtypes) the flag is asked about; None: every episode.
    condition: str | None = None
    subtypes: tuple[str, ...] = ()
    #: Where the flag comes from: the clinic's text or a standard default.
    source: str = ""

    def applies_to(self, condition: str, subtype: str) -> bool:
        """Whether the doctor's screen asks about this flag for such an episode."""
        if self.condition is None:
            return True
        return self.condition == condition and (not self.subtypes or subtype in self.subtypes)


def fits(only: tuple[str, ...], condition: str, subtype: str) -> bool:
    """Whether a patient with this condition and subtype is among `only` ("radiculitis",
    "radiculitis.cervical", ...); an empty `only` is every patient."""
    return not only or condition in only or f"{condition}.{subtype}" in only


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    label: str
    #: conditions ("sciatica") or subtypes ("radiculitis.cervical"); empty: every patient
    only: tuple[str, ...] = ()
    pir: bool = False
    #: Where a standard default comes from; empty for what the clinic's own programme says.
    default: str = ""

    def applies_to(self, condition: str, subtype: str) -> bool:
        return fits(self.only, condition, subtype)


@dataclass(frozen=True)
class HomeExercise:
    """One exercise the patient does at home, with the dosage and instructions they read."""

    code: str
    label: str
    dosage: str
    instructions: str
    #: conditions ("sciatica") or subtypes ("radiculitis.cervical"); empty: every patient
    only: tuple[str, ...] = ()
    #: Where a standard default comes from; empty for what the clinic's own programme says.
    default: str = ""

    def applies_to(self, condition: str, subtype: str) -> bool:
        return fits(self.only, condition, subtype)


@dataclass(frozen=True)
class Module:
    number: int
    title: str
    goal: str
    checklist: tuple[ChecklistItem, ...]
    doctor_checks: tuple[str, ...]
    #: Checks added at the module's final doctor's appointment.
    final_checks: tuple[str, ...] = ()
    #: The module's home exercises (home_exercises.toml), each kept to whom it fits.
    home_exercises: tuple[HomeExercise, ...] = ()

    def checklist_for(self, condition: str, subtype: str) -> tuple[ChecklistItem, ...]:
        return tuple(item for item in self.checklist if item.applies_to(condition, subtype))

    def home_exercises_for(self, condition: str, subtype: str) -> tuple[HomeExercise, ...]:
        return tuple(e for e in self.home_exercises if e.applies_to(condition, subtype))


@dataclass(frozen=True)
class VisitSlot:
    """One position in a module's fixed cycle."""

    number: int  # 1..15 within the module
    kind: VisitKind
    role: str  # initial / control / final for doctor's appointments, "session" otherwise
    label: str


@dataclass(frozen=True)
class Timing:
    inflammation_settles_days: int
    myelin_recovery_days: int
    motor_pattern_weeks: tuple[int, int]
    module_weeks: tuple[int, int]
    consolidation_reps: tuple[int, int]
    automatic_reps: tuple[int, int]
    visit_weekdays: tuple[int, ...]


@dataclass(frozen=True)
class PublishedOutcome:
    """A result the clinic publishes for one condition (its share of patients pain-free)."""

    condition: str
    pain_gone_percent: float
    source: str


@dataclass(frozen=True)
class OutcomeRules:
    """How the clinic's outcome summary counts (protocol.toml [outcomes])."""

    #: A completed programme's last VAS at most this: pain gone.
    pain_gone_vas_at_most: float = 1.0
    #: Fewer episodes than this in a group: counts only, no percentage.
    fewest_for_percent: int = 5
    published: tuple[PublishedOutcome, ...] = ()
    default: str = ""

    def published_for(self, condition: str) -> PublishedOutcome | None:
        return next((p for p in self.published if p.condition == condition), None)


@dataclass(frozen=True)
class PirDefaults:
    muscles: tuple[str, ...]
    tension_s: int
    relaxation_s: int
    effort_pct: int
    cycles: int


@dataclass(frozen=True)
class ClinicalTest:
    code: str
    label: str
    kind: TestKind
    unit: str = ""
    min: float | None = None
    max: float | None = None
    integer: bool = False
    choices: tuple[str, ...] = ()
    sided: bool = False
    higher_is_better: bool | None = None
    short: str = ""  # where room is tight; the label itself when that is short enough
    #: Where a standard default comes from; empty for what the clinic's own programme says.
    default: str = ""
    #: Who the test is for as a doctor's check (protocol.toml's `checks_only`); empty: all.
    only: tuple[str, ...] = ()
    scale: ScaleKind = "none"
    #: The test's own threshold (in its unit, or grades), replacing its scale's rule.
    important_change: float | None = None

    def fits(self, condition: str, subtype: str) -> bool:
        return fits(self.only, condition, subtype)

    @property
    def short_label(self) -> str:
        """The name to show where the full label would be cut."""
        return self.short or self.label

    def describe_allowed(self) -> str:
        if self.kind == "number":
            whole = "a whole number" if self.integer else "a number"
            return f"{whole} from {_fmt(self.min)} to {_fmt(self.max)} {self.unit}".rstrip()
        if self.kind == "scale":
            return "one of: " + ", ".join(self.choices)
        return "free text"


def _fmt(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True)
class ChangeRules:
    """When a change from baseline matters clinically, per kind of scale (catalog.toml)."""

    pain_points: float  # 0-10 pain: at least this many points; the percentage is shown only
    ratio_percent: float  # ratio measures: at least this percentage of the baseline
    ordinal_grades: int  # ordinal scales: at least this many grades (a sign that turned: 1)


@dataclass(frozen=True)
class Catalog:
    tests: tuple[ClinicalTest, ...]
    change_rules: ChangeRules


@dataclass(frozen=True)
class Icd10Variant:
    """One edition of ICD-10 a clinic codes in (the WHO's, or a national modification)."""

    code: str
    label: str
    #: The FHIR system URI of its codes.
    system: str
    #: Each code the protocol uses, with its title in this edition: (code, title).
    titles: tuple[tuple[str, str], ...]

    def title(self, code: str) -> str | None:
        return dict(self.titles).get(code)


@dataclass(frozen=True)
class Icd10Coding:
    """The ICD-10 editions the protocol has codes for, and the one a clinic gets unless it
    sets another (`clinic.icd10_variant`)."""

    variants: tuple[Icd10Variant, ...] = ()
    default_variant: str = ""
    #: Where the codes come from (a standard default, not the clinic's text).
    source: str = ""

    def variant(self, code: str) -> Icd10Variant | None:
        return next((v for v in self.variants if v.code == code), None)


@dataclass(frozen=True)
class Protocol:
    name: str
    recommended_sessions: tuple[int, int]
    timing: Timing
    change_rules: ChangeRules
    conditions: tuple[Condition, ...]
    red_flags: tuple[RedFlag, ...]
    cycle: tuple[VisitSlot, ...]
    modules: tuple[Module, ...]
    pir: PirDefaults
    tests: tuple[ClinicalTest, ...]
    #: The neurological screen of every doctor's appointment (each test kept to its region).
    neuro_screen: tuple[str, ...] = ()
    #: How the clinic's outcome summary counts, and the clinic's published results.
    outcomes: OutcomeRules = OutcomeRules()
    #: The diagnosis codes of each condition's subtypes, per ICD-10 edition.
    icd10: Icd10Coding = Icd10Coding()

    @property
    def visits_per_module(self) -> int:
        return len(self.cycle)

    @property
    def total_visits(self) -> int:
        return len(self.cycle) * len(self.modules)

    @property
    def reviews(self) -> tuple[VisitSlot, ...]:
        """The doctor's appointments that review a module (control, final): every one
        after the module's first, which sets it up."""
        return tuple(s for s in self.cycle if s.kind == "doctor" and s.number > 1)

    def review_seqs(self) -> tuple[int, ...]:
        """The programme's first visit and every reviewing appointment, counted 1..total:
        where a chart over the whole programme puts its ticks."""
        per = self.visits_per_module
        return (1, *(m * per + s.number for m in range(len(self.modules)) for s in self.reviews))

    def condition(self, code: str) -> Condition | None:
        return next((c for c in self.conditions if c.code == code), None)

    def module(self, number: int) -> Module:
        """Module 1..n; anything else is an error (not Python's wrap-around at 0 or -1)."""
        if not 1 <= number <= len(self.modules):
            raise IndexError(f"module {number} is not in 1..{len(self.modules)}")
        return self.modules[number - 1]

    def slot(self, number: int) -> VisitSlot:
        """Visit slot 1..15 of the cycle."""
        if not 1 <= number <= len(self.cycle):
            raise IndexError(f"visit {number} is not in 1..{len(self.cycle)}")
        return self.cycle[number - 1]

    def test(self, code: str) -> ClinicalTest | None:
        return next((t for t in self.tests if t.code == code), None)

    def doctor_checks_for(
        self, module: int, role: str, condition: str, subtype: str
    ) -> tuple[ClinicalTest, ...]:
        """The checks of a doctor's appointment (`role`: initial, control, final) for a
        patient with this condition and subtype: the module's, the final appointment's
        additions, then the neurological screen, each only where it fits the patient."""
        mod = self.module(module)
        codes = mod.doctor_checks + (mod.final_checks if role == "final" else ())
        out: list[ClinicalTest] = []
        for code in dict.fromkeys(codes + self.neuro_screen):
            test = self.test(code)
            if test is not None and test.fits(condition, subtype):
                out.append(test)
        return tuple(out)

    def red_flag(self, code: str) -> RedFlag | None:
        return next((f for f in self.red_flags if f.code == code), None)

    def condition_words(self, condition: str, subtype: str, side: str) -> str:
        """An episode's condition as a person reads it: "Radiculitis (radiculopathy), Lumbar, right"."""
        found = self.condition(condition)
        sub = found.subtype(subtype) if found else None
        return ", ".join(
            (
                found.label if found else condition,
                sub.label if sub else subtype,
                SIDE_WORDS.get(side, side),
            )
        )

    def red_flags_for(self, condition: str, subtype: str) -> tuple[RedFlag, ...]:
        """The red flags the doctor's screen asks about for an episode of this condition."""
        return tuple(f for f in self.red_flags if f.applies_to(condition, subtype))

    def red_flag_words(self, codes: Iterable[str]) -> list[str]:
        """The red flags' labels, in the order given (an unknown code as it is)."""
        return [flag.label if (flag := self.red_flag(code)) else code for code in codes]


def _red_flag(table: _Reader, conditions: list[Condition]) -> RedFlag:
    """One red flag; its condition and subtypes must be ones the file defines."""
    condition = table.text("condition", None)
    subtypes = tuple(table.get("subtypes", list, []))
    if condition is not None:
        found = next((c for c in conditions if c.code == condition), None)
        if found is None:
            raise table.fail(
                "condition",
                f"unknown condition {condition!r}; known: {sorted(c.code for c in conditions)}",
            )
        known = [s.code for s in found.subtypes]
        for subtype in subtypes:
            if subtype not in known:
                raise table.fail("subtypes", f"unknown subtype {subtype!r}; known: {known}")
    elif subtypes:
        raise table.fail("subtypes", "needs a condition")
    return RedFlag(
        table.text("code"),
        table.text("label"),
        condition,
        subtypes,
        table.text("source", ""),
    )


class _Reader:
    """Typed access to a TOML table that names the file and key path on any problem."""

    def __init__(self, file: Path, data: dict[str, Any], path: str = "") -> None:
        self.file = file
        self.data = data
        self.path = path

    def _key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, message: str) -> ProtocolError:
        return ProtocolError(
            "Broken programme file", f"{self.file.name}: {self._key(key)}: {message}"
        )

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise self.fail(key, "is missing")
            return default
        value = self.data[key]
        if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
            raise self.fail(key, f"should be {_kind_name(kind)}, not {type(value).__name__}")
        return value

    def text(self, key: str, default: Any = ...) -> str:
        value = self.get(key, str, default)
        if value is not None and isinstance(value, str) and not value.strip():
            raise self.fail(key, "is empty")
        return value  # type: ignore[no-any-return]

    def pair(self, key: str) -> tuple[int, int]:
        value = self.get(key, list)
        if len(value) != 2 or not all(isinstance(v, int) for v in value) or value[0] > value[1]:
            raise self.fail(key, "should be [low, high] whole numbers")
        return (value[0], value[1])

    def tables(self, key: str) -> list[_Reader]:
        items = self.get(key, list)
        out = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise self.fail(f"{key}[{index}]", "should be a table")
            out.append(_Reader(self.file, item, self._key(f"{key}[{index}]")))
        return out

    def table(self, key: str) -> _Reader:
        return _Reader(self.file, self.get(key, dict), self._key(key))


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        int: "a whole number",
        str: "text",
        list: "a list",
        dict: "a table",
        bool: "true/false",
    }
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def _read_toml(file: Path) -> dict[str, Any]:
    try:
        with file.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ProtocolError("Programme file missing", f"{file} does not exist.") from None
    except tomllib.TOMLDecodeError as error:
        raise ProtocolError("Broken programme file", f"{file.name}: {error}") from None


def _unique(reader: _Reader, key: str, codes: list[str]) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise reader.fail(key, f"code {code!r} appears twice")
        seen.add(code)


def parse_change_rules(root: _Reader) -> ChangeRules:
    rules = root.table("change_rules")
    pain, ratio, ordinal = rules.table("pain"), rules.table("ratio"), rules.table("ordinal")
    found = ChangeRules(
        pain_points=pain.get("points", (int, float)),
        ratio_percent=ratio.get("percent", (int, float)),
        ordinal_grades=ordinal.get("grades", int),
    )
    for reader, key, value in (
        (pain, "points", found.pain_points),
        (ratio, "percent", found.ratio_percent),
        (ordinal, "grades", found.ordinal_grades),
    ):
        if value <= 0:
            raise reader.fail(key, "should be more than 0")
    return found


def parse_catalog(file: Path) -> Catalog:
    root = _Reader(file, _read_toml(file))
    rules = parse_change_rules(root)
    tests = []
    for t in root.tables("tests"):
        kind = t.text("kind")
        if kind not in ("number", "scale", "text"):
            raise t.fail("kind", "should be number, scale or text")
        kind = cast(TestKind, kind)
        scale = t.get("scale", str, DEFAULT_SCALE[kind])
        if scale not in SCALE_KINDS:
            raise t.fail("scale", "should be pain, ratio, ordinal, nominal or none")
        if kind not in SCALE_KINDS[scale]:
            raise t.fail("scale", f"a {scale} scale cannot judge a {kind} test")
        threshold = t.get("important_change", (int, float), None)
        if threshold is not None and threshold <= 0:
            raise t.fail("important_change", "should be more than 0")
        test = ClinicalTest(
            code=t.text("code"),
            label=t.text("label"),
            kind=kind,
            unit=t.get("unit", str, ""),
            min=t.get("min", (int, float), None),
            max=t.get("max", (int, float), None),
            integer=t.get("integer", bool, False),
            choices=tuple(t.get("choices", list, [])),
            sided=t.get("sided", bool, False),
            higher_is_better=t.get("higher_is_better", bool, None),
            short=t.get("short", str, ""),
            default=_note(t),
            scale=cast(ScaleKind, scale),
            important_change=threshold,
        )
        if len(test.short_label) > SHORT_LABEL_WIDTH:
            raise t.fail(
                "short" if test.short else "label",
                f"{test.short_label!r} is longer than {SHORT_LABEL_WIDTH} characters: "
                "give the test a `short` name for narrow screens",
            )
        if kind == "number" and (test.min is None or test.max is None or test.min >= test.max):
            raise t.fail("min", "a number test needs min < max")
        if kind == "number" and scale != "none" and test.higher_is_better is None:
            raise t.fail("higher_is_better", f"a {scale} scale needs to know which way is better")
        if kind == "scale" and (
            len(test.choices) < 2 or not all(isinstance(c, str) for c in test.choices)
        ):
            raise t.fail("choices", "a scale needs at least two text choices")
        tests.append(test)
    _unique(root, "tests", [t.code for t in tests])
    return Catalog(tuple(tests), rules)


def parse_protocol(file: Path, catalog: Catalog) -> Protocol:
    root = _Reader(file, _read_toml(file))
    programme = root.table("programme")
    timing = root.table("timing")
    tests = catalog.tests

    icd10 = _icd10_coding(root.table("icd10"))
    conditions = []
    for c in root.tables("conditions"):
        subtypes = tuple(
            Subtype(s.text("code"), s.text("label"), s.text("signs", ""), _icd10_codes(s, icd10))
            for s in c.tables("subtypes")
        )
        if not subtypes:
            raise c.fail("subtypes", "needs at least one subtype")
        _unique(c, "subtypes", [s.code for s in subtypes])
        conditions.append(
            Condition(c.text("code"), c.text("label"), c.text("involves", ""), subtypes)
        )
    if not conditions:
        raise root.fail("conditions", "needs at least one condition")
    _unique(root, "conditions", [c.code for c in conditions])

    red_flags = tuple(_red_flag(f, conditions) for f in root.tables("red_flags"))
    _unique(root, "red_flags", [f.code for f in red_flags])

    cycle: list[VisitSlot] = []
    for step in root.tables("cycle"):
        kind = step.text("kind")
        if kind == "doctor":
            cycle.append(VisitSlot(len(cycle) + 1, "doctor", step.text("role"), step.text("label")))
        elif kind == "therapy":
            count = step.get("count", int)
            if count < 1:
                raise step.fail("count", "should be at least 1")
            for _ in range(count):
                cycle.append(VisitSlot(len(cycle) + 1, "therapy", "session", "Therapy session"))
        else:
            raise step.fail("kind", "should be doctor or therapy")
    if not cycle or cycle[0].kind != "doctor":
        raise root.fail("cycle", "a module must start with a doctor's appointment")
    if len(cycle) > MAX_VISITS_PER_MODULE:
        raise root.fail(
            "cycle", f"has {len(cycle)} visits; a module holds at most {MAX_VISITS_PER_MODULE}"
        )

    test_codes = {t.code for t in tests}
    modules = []
    all_items: list[str] = []
    for index, m in enumerate(root.tables("modules"), start=1):
        number = m.get("number", int)
        if number != index:
            raise m.fail("number", f"should be {index} (modules are numbered in order)")
        items = []
        for item in m.tables("checklist"):
            items.append(
                ChecklistItem(
                    item.text("code"),
                    item.text("label"),
                    _patients(item, "only", conditions),
                    item.get("pir", bool, False),
                    _note(item),
                )
            )
        checks = _test_codes(m, "doctor_checks", test_codes)
        final = _test_codes(m, "final_checks", test_codes, default=[])
        modules.append(Module(number, m.text("title"), m.text("goal"), tuple(items), checks, final))
        all_items.extend(i.code for i in items)
    if not modules:
        raise root.fail("modules", "needs at least one module")
    if len(modules) > MAX_MODULES:
        raise root.fail("modules", f"has {len(modules)} modules; at most {MAX_MODULES}")
    _unique(root, "modules.checklist", all_items)

    weekdays = tuple(timing.get("visit_weekdays", list))
    if not weekdays or any(not isinstance(d, int) or not 0 <= d <= 6 for d in weekdays):
        raise timing.fail("visit_weekdays", "should list weekdays 0 (Monday) to 6")
    if list(weekdays) != sorted(set(weekdays)):
        raise timing.fail("visit_weekdays", "should be increasing without repeats")

    neuro = root.table("neuro_screen")
    neuro_screen = _test_codes(neuro, "checks", test_codes)
    neuro.text("default")  # the screen is a standard default: it says where from
    only = root.table("checks_only")
    for code in only.data:
        if code not in test_codes:
            raise only.fail(code, f"unknown test {code!r} (not in {CATALOG_FILE.name})")
    tests = tuple(
        replace(t, only=_patients(only, t.code, conditions)) if t.code in only.data else t
        for t in tests
    )

    outcomes = _outcome_rules(root.table("outcomes"), conditions)

    pir = root.table("pir")
    muscles = tuple(pir.get("muscles", list))
    if not muscles:
        raise pir.fail("muscles", "needs at least one muscle")

    return Protocol(
        name=programme.text("name"),
        recommended_sessions=(
            programme.get("recommended_min_sessions", int),
            programme.get("recommended_max_sessions", int),
        ),
        timing=Timing(
            inflammation_settles_days=timing.get("inflammation_settles_days", int),
            myelin_recovery_days=timing.get("myelin_recovery_days", int),
            motor_pattern_weeks=timing.pair("motor_pattern_weeks"),
            module_weeks=timing.pair("module_weeks"),
            consolidation_reps=timing.pair("consolidation_reps"),
            automatic_reps=timing.pair("automatic_reps"),
            visit_weekdays=weekdays,
        ),
        change_rules=catalog.change_rules,
        conditions=tuple(conditions),
        red_flags=red_flags,
        cycle=tuple(cycle),
        modules=tuple(modules),
        pir=PirDefaults(
            muscles=muscles,
            tension_s=pir.get("default_tension_s", int),
            relaxation_s=pir.get("default_relaxation_s", int),
            effort_pct=pir.get("default_effort_pct", int),
            cycles=pir.get("default_cycles", int),
        ),
        tests=tests,
        neuro_screen=neuro_screen,
        outcomes=outcomes,
        icd10=icd10,
    )


def _icd10_coding(table: _Reader) -> Icd10Coding:
    """protocol.toml [icd10]: the editions, each code's title in it, the default edition."""
    variants = []
    for row in table.tables("variants"):
        titles = row.get("titles", dict)
        for code, title in titles.items():
            if not isinstance(title, str) or not title.strip():
                raise row.fail(f"titles.{code}", "should be the code's title")
        variants.append(
            Icd10Variant(
                row.text("code"),
                row.text("label"),
                row.text("system"),
                tuple((str(code), str(title)) for code, title in titles.items()),
            )
        )
    if not variants:
        raise table.fail("variants", "needs at least one ICD-10 edition")
    _unique(table, "variants", [v.code for v in variants])
    coding = Icd10Coding(tuple(variants), table.text("default_variant"), table.text("default"))
    if coding.variant(coding.default_variant) is None:
        raise table.fail("default_variant", f"should be one of {[v.code for v in variants]}")
    return coding


def _icd10_codes(subtype: _Reader, coding: Icd10Coding) -> tuple[tuple[str, str], ...]:
    """A subtype's `icd10 = { who = "M54.1", ... }`: a code for every edition, each titled."""
    codes = subtype.get("icd10", dict)
    out = []
    for variant in coding.variants:
        code = codes.get(variant.code)
        if not isinstance(code, str) or not code.strip():
            raise subtype.fail(f"icd10.{variant.code}", "is missing: each edition needs a code")
        if variant.title(code) is None:
            raise subtype.fail(
                f"icd10.{variant.code}", f"code {code!r} has no title in icd10.variants"
            )
        out.append((variant.code, code))
    unknown = set(codes) - {v.code for v in coding.variants}
    if unknown:
        raise subtype.fail("icd10", f"unknown edition {sorted(unknown)[0]!r}")
    return tuple(out)


def _outcome_rules(table: _Reader, conditions: list[Condition]) -> OutcomeRules:
    """protocol.toml [outcomes]: the pain-gone cut-off, and a published figure per condition."""
    at_most = table.get("pain_gone_vas_at_most", (int, float))
    if not 0 <= at_most <= 10:
        raise table.fail("pain_gone_vas_at_most", "should be a VAS from 0 to 10")
    fewest = table.get("fewest_for_percent", int)
    if fewest < 1:
        raise table.fail("fewest_for_percent", "should be at least 1")
    published = []
    codes = [c.code for c in conditions]
    for row in table.tables("published") if "published" in table.data else []:
        condition = row.text("condition")
        if condition not in codes:
            raise row.fail("condition", f"unknown condition {condition!r}; known: {codes}")
        percent = row.get("pain_gone_percent", (int, float))
        if not 0 <= percent <= 100:
            raise row.fail("pain_gone_percent", "should be a percentage from 0 to 100")
        published.append(PublishedOutcome(condition, float(percent), row.text("source")))
    if len({p.condition for p in published}) != len(published):
        raise table.fail("published", "names a condition twice")
    return OutcomeRules(float(at_most), fewest, tuple(published), table.text("default"))


def _note(reader: _Reader) -> str:
    """A standard default's source note: absent for what the clinic's text says, never empty."""
    note: str | None = reader.text("default", None)
    return note or ""


def _test_codes(
    reader: _Reader, key: str, test_codes: set[str], default: Any = ...
) -> tuple[str, ...]:
    """A list of catalog test codes, each known."""
    codes = reader.get(key, list, default)
    for code in codes:
        if code not in test_codes:
            raise reader.fail(key, f"unknown test {code!r} (not in {CATALOG_FILE.name})")
    return tuple(codes)


def _patients(reader: _Reader, key: str, conditions: list[Condition]) -> tuple[str, ...]:
    """Who something is for: a condition or "condition.subtype", or a list of them."""
    value = reader.get(key, (str, list), [])
    targets = [value] if isinstance(value, str) else value
    known = {c.code: {s.code for s in c.subtypes} for c in conditions}
    for target in targets:
        condition, _dot, subtype = str(target).partition(".")
        if not isinstance(target, str) or condition not in known:
            raise reader.fail(key, f"unknown condition {target!r}; known: {sorted(known)}")
        if subtype and subtype not in known[condition]:
            raise reader.fail(
                key,
                f"unknown subtype {target!r}; {condition} has: {sorted(known[condition])}",
            )
    return tuple(targets)


def parse_home_exercises(file: Path, proto: Protocol) -> Protocol:
    """The programme with each module's home exercises read from `file`: every entry with a
    code (unique across the file, and not a checklist item's), a label, a dosage and
    instructions; `only` as a checklist item's; a module the programme does not have is
    refused."""
    root = _Reader(file, _read_toml(file))
    found: dict[int, tuple[HomeExercise, ...]] = {}
    codes: list[str] = []
    for m in root.tables("modules"):
        number = m.get("number", int)
        if not 1 <= number <= len(proto.modules):
            raise m.fail("number", f"the programme has modules 1 to {len(proto.modules)}")
        if number in found:
            raise m.fail("number", f"module {number} appears twice")
        exercises = tuple(
            HomeExercise(
                e.text("code"),
                e.text("label"),
                e.text("dosage"),
                e.text("instructions"),
                _patients(e, "only", list(proto.conditions)),
                _note(e),
            )
            for e in m.tables("exercises")
        )
        found[number] = exercises
        codes.extend(e.code for e in exercises)
    _unique(root, "modules.exercises", codes)
    items = {i.code for mod in proto.modules for i in mod.checklist}
    for code in codes:
        if code in items:
            raise root.fail("modules.exercises", f"code {code!r} is a checklist item's")
    return replace(
        proto,
        modules=tuple(replace(m, home_exercises=found.get(m.number, ())) for m in proto.modules),
    )


def load_protocol(
    protocol_file: Path = PROTOCOL_FILE,
    catalog_file: Path = CATALOG_FILE,
    home_file: Path = HOME_EXERCISES_FILE,
) -> Protocol:
    """Read and validate the programme, the test catalog and the home exercises."""
    return parse_home_exercises(
        home_file, parse_protocol(protocol_file, parse_catalog(catalog_file))
    )


@functools.cache
def protocol() -> Protocol:
    """The built-in programme, loaded once per process."""
    return load_protocol()
