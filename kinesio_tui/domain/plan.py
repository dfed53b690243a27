"""The patient's own programme: the module's checklist and home exercises as the doctor
tailors them for one patient at a doctor's appointment.

The starting point is the programme's data: the module's checklist for the episode's
condition and subtype (protocol.toml) and its home exercises (home_exercises.toml). At a
doctor's appointment in progress the doctor adds an item (one of the module's, even one
the subtype's filter leaves out, or one they name), removes one, or sets an item's target
dosage; adding and removing need a reason. Each change is a row of `plan_changes`, written
through the audited store, in the order made.

A change applies to the module's therapy sessions not yet started when it was made
(`from_seq`, the first of them): a session already held keeps the list it had, so history
does not change. The home list is the one in force now.

Every change is based on the plan's version as shown (the newest change's id for the
episode's module; 0 with none): a change another terminal made first refuses a stale edit
(StaleRecord) and nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

from kinesio_tui.data.db import ClinicDB, write_transaction
from kinesio_tui.domain import validate as v
from kinesio_tui.domain.store import check_version, fetch_row, insert_row, now_iso
from kinesio_tui.errors import KinesioError, ValidationError
from kinesio_tui.i18n import _
from kinesio_tui.plain_text import shown
from kinesio_tui.protocol import Module, protocol

PlanList = Literal["session", "home"]
PlanChangeKind = Literal["add", "remove", "dosage"]
ItemOrigin = Literal["programme", "added", "own"]

PLAN_LISTS: tuple[PlanList, ...] = ("session", "home")
#: Longest target dosage ("3 x 30 s", "10 reps, 2 sets").
MAX_DOSAGE = 80
#: Longest name of an item the doctor names.
MAX_ITEM_LABEL = 120
#: Longest reason for a change.
MAX_REASON = 300
#: The code prefix of an item the doctor names (own_1, own_2, ... per episode).
OWN_PREFIX = "own_"


@dataclass(frozen=True)
class PlanChange:
    """One change the doctor made to a patient's plan for a module."""

    id: int
    episode_id: int
    visit_id: int
    visit_seq: int
    module: int
    list: PlanList
    change: PlanChangeKind
    item_code: str
    item_label: str
    dosage: str
    reason: str
    made_by: str
    made_on: date
    from_seq: int | None
    version: int

    @property
    def own(self) -> bool:
        return self.item_code.startswith(OWN_PREFIX)

    @property
    def pending(self) -> bool:
        """Not saved yet: a change in a preview (`preview_plan`)."""
        return self.version == 0


@dataclass(frozen=True)
class PlanItem:
    """One item of the patient's list: a session checklist item or a home exercise."""

    code: str
    label: str
    pir: bool = False
    #: The target dosage ("3 x 30 s"); empty: none set.
    target: str = ""
    #: A home exercise's short instructions.
    instructions: str = ""
    #: On the subtype's list ("programme"), added from the module's other items ("added"),
    #: or named by the doctor ("own").
    origin: ItemOrigin = "programme"
    #: The change that added it, and the last that set its dosage.
    added: PlanChange | None = None
    dosed: PlanChange | None = None
    #: Where the programme's item sits in the module's list (own items come last).
    order: int = 10_000

    @property
    def tailored(self) -> bool:
        return self.added is not None or self.dosed is not None

    def marks(self) -> list[str]:
        """How the doctor tailored this item, in words: who, when, why."""
        out: list[str] = []
        if self.added is not None:
            out.append(change_words(self.added))
        if self.dosed is not None:
            out.append(change_words(self.dosed))
        return out


def change_words(change: PlanChange) -> str:
    """A change as a sentence: 'added by Dr Jonaitis on 2026-11-25: reason'. Text a person
    typed is returned as typed; callers that print or render it keep it text."""
    who, day = change.made_by or _("unknown"), change.made_on.isoformat()
    if change.change == "add":
        said = _("added by {who} on {day}", who=who, day=day)
    elif change.change == "remove":
        said = _("removed by {who} on {day}", who=who, day=day)
    elif change.dosage:
        said = _("dosage {dosage} set by {who} on {day}", dosage=change.dosage, who=who, day=day)
    else:
        said = _("dosage cleared by {who} on {day}", who=who, day=day)
    return f"{said}: {change.reason}" if change.reason else said


@dataclass(frozen=True)
class PlanEdit:
    """One change to make: add (an item's code, or a `label` for one the doctor names),
    remove, or set the target dosage of an item on the list."""

    list: PlanList
    change: PlanChangeKind
    item_code: str = ""
    label: str = ""
    dosage: str = ""
    reason: str = ""


def _rows(db: ClinicDB, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = db.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _catalogue(module: Module, which: PlanList) -> dict[str, PlanItem]:
    """Every item of the module's list, whoever it is for, in the programme's order."""
    if which == "session":
        return {
            item.code: PlanItem(item.code, item.label, item.pir, order=index)
            for index, item in enumerate(module.checklist)
        }
    return {
        e.code: PlanItem(e.code, e.label, target=e.dosage, instructions=e.instructions, order=i)
        for i, e in enumerate(module.home_exercises)
    }


def _standard(module: Module, which: PlanList, condition: str, subtype: str) -> list[str]:
    if which == "session":
        return [i.code for i in module.checklist_for(condition, subtype)]
    return [e.code for e in module.home_exercises_for(condition, subtype)]


def _label(module: Module, which: PlanList, row: dict[str, Any]) -> str:
    known = _catalogue(module, which).get(row["item_code"])
    return known.label if known else str(row["label"] or row["item_code"])


def _change(row: dict[str, Any]) -> PlanChange:
    """A change as read. Its text was checked when written; one a hand edit left with a
    control character is read with U+FFFD in its place, so no screen, report or command
    line passes it to a terminal."""
    module = protocol().module(row["module"])
    return PlanChange(
        id=row["id"],
        episode_id=row["episode_id"],
        visit_id=row["visit_id"],
        visit_seq=row["seq"],
        module=row["module"],
        list=row["list"],
        change=row["change"],
        item_code=row["item_code"],
        item_label=shown(_label(module, row["list"], row)),
        dosage=shown(row["dosage"]),
        reason=shown(row["reason"]),
        made_by=shown(row["made_by"]),
        made_on=date.fromisoformat(row["made_on"]),
        from_seq=row["from_seq"],
        version=row["version"],
    )


def plan_changes_of(db: ClinicDB, episode_id: int, module: int | None = None) -> list[PlanChange]:
    """Every change to an episode's plan (or one module's), in the order made."""
    sql = (
        "SELECT c.*, v.seq FROM plan_changes c JOIN visits v ON v.id = c.visit_id "
        "WHERE c.episode_id = ?"
    )
    params: list[Any] = [episode_id]
    if module is not None:
        sql += " AND c.module = ?"
        params.append(module)
    return [_change(r) for r in _rows(db, sql + " ORDER BY c.id", params)]


def plan_version(db: ClinicDB, episode_id: int, module: int) -> int:
    """The version of an episode's plan for a module, as a screen shows it (0: untailored)."""
    row = db.execute(
        "SELECT coalesce(max(id), 0) FROM plan_changes WHERE episode_id = ? AND module = ?",
        [episode_id, module],
    ).fetchone()
    return int(row[0])


def apply_changes(
    module: Module,
    which: PlanList,
    condition: str,
    subtype: str,
    changes: Iterable[PlanChange],
) -> tuple[PlanItem, ...]:
    """The patient's list: the programme's for the subtype, with the changes applied in order."""
    known = _catalogue(module, which)
    items: dict[str, PlanItem] = {
        code: known[code] for code in _standard(module, which, condition, subtype)
    }
    for change in changes:
        if change.list != which:
            continue
        code = change.item_code
        if change.change == "add":
            base = known.get(code)
            if base is None:
                base = PlanItem(code, change.item_label, origin="own", order=10_000 + change.id)
            else:
                base = replace(base, origin="added")
            items[code] = replace(
                base, added=change, target=change.dosage or base.target, dosed=None
            )
        elif change.change == "remove":
            items.pop(code, None)
        elif code in items:
            items[code] = replace(items[code], target=change.dosage, dosed=change)
    return tuple(sorted(items.values(), key=lambda item: item.order))


def _applies_at(change: PlanChange, seq: int | None) -> bool:
    if seq is None:
        return True
    return change.from_seq is not None and change.from_seq <= seq


@dataclass
class EpisodePlan:
    """An episode's plan read at once (one query): each module's list for any session, and
    the home list in force. For reports and anything else that walks many visits."""

    condition: str
    subtype: str
    changes: list[PlanChange] = field(default_factory=list)
    #: Lists already worked out, per (module, session): a report asks for each session's.
    _lists: dict[tuple[int, int | None], tuple[PlanItem, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def add(self, change: PlanChange) -> None:
        """One more change, after the others (a preview's)."""
        self.changes.append(change)
        self._lists.clear()

    def checklist(self, module: int, seq: int | None = None) -> tuple[PlanItem, ...]:
        """The session checklist of `module` at session `seq` (None: the coming sessions')."""
        key = (module, seq)
        if key not in self._lists:
            self._lists[key] = self._checklist(module, seq)
        return self._lists[key]

    def _checklist(self, module: int, seq: int | None) -> tuple[PlanItem, ...]:
        return apply_changes(
            protocol().module(module),
            "session",
            self.condition,
            self.subtype,
            (c for c in self.changes if c.module == module and _applies_at(c, seq)),
        )

    def addable(self, module: int, which: PlanList) -> tuple[PlanItem, ...]:
        """The module's items (any subtype's) not on the list for the coming sessions (or
        the home list): what may be added, in the programme's order."""
        on_list = {
            i.code for i in (self.checklist(module) if which == "session" else self.home(module))
        }
        known = _catalogue(protocol().module(module), which)
        return tuple(item for code, item in known.items() if code not in on_list)

    def home(self, module: int) -> tuple[PlanItem, ...]:
        """The module's home exercises as the patient has them now."""
        return apply_changes(
            protocol().module(module),
            "home",
            self.condition,
            self.subtype,
            (c for c in self.changes if c.module == module),
        )


def episode_plan(db: ClinicDB, episode_id: int) -> EpisodePlan:
    """The episode's plan: its condition, subtype and every change made to it."""
    episode = fetch_row(db, "episodes", episode_id)
    return EpisodePlan(episode["condition"], episode["subtype"], plan_changes_of(db, episode_id))


def patient_checklist(
    db: ClinicDB, episode_id: int, module: int, *, at_seq: int | None = None
) -> tuple[PlanItem, ...]:
    """This patient's session checklist for `module`: at session `at_seq` (what it had or
    has), or, with None, what the coming sessions will have."""
    return episode_plan(db, episode_id).checklist(module, at_seq)


def patient_home_exercises(db: ClinicDB, episode_id: int, module: int) -> tuple[PlanItem, ...]:
    """This patient's home exercises for `module`, with dosage and instructions: what a
    home-exercise sheet prints."""
    return episode_plan(db, episode_id).home(module)


def items_to_add(
    db: ClinicDB, episode_id: int, module: int, which: PlanList
) -> tuple[PlanItem, ...]:
    """The module's items (any subtype's) not on the patient's list now: what may be added."""
    return episode_plan(db, episode_id).addable(module, which)


# --- writes -----------------------------------------------------------------------------


def _appointment(db: ClinicDB, visit_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The doctor's appointment in progress the plan is tailored at, and its episode."""
    visit = fetch_row(db, "visits", visit_id)
    if visit["kind"] != "doctor" or visit["status"] != "planned" or not visit["started_at"]:
        raise KinesioError(
            _("Not at a doctor's appointment"),
            _("The plan is tailored at a doctor's appointment in progress."),
        )
    episode = fetch_row(db, "episodes", visit["episode_id"])
    if episode["status"] != "active":
        raise KinesioError(_("Episode not active"), _("This episode is closed; open a new one."))
    return visit, episode


def coming_sessions(db: ClinicDB, episode_id: int, module: int) -> list[int]:
    """The module's therapy sessions not started yet (their places in the programme): the
    ones a change made now applies to."""
    return [
        int(seq)
        for (seq,) in db.execute(
            "SELECT seq FROM visits WHERE episode_id = ? AND module = ? AND kind = 'therapy' "
            "AND status = 'planned' AND started_at IS NULL ORDER BY seq",
            [episode_id, module],
        ).fetchall()
    ]


def _own_code(db: ClinicDB, episode_id: int, taken: set[str]) -> str:
    used = {
        code
        for (code,) in db.execute(
            "SELECT item_code FROM plan_changes WHERE episode_id = ? AND change = 'add'",
            [episode_id],
        ).fetchall()
    } | taken
    number = 1
    while f"{OWN_PREFIX}{number}" in used:
        number += 1
    return f"{OWN_PREFIX}{number}"


def _checked_row(
    db: ClinicDB,
    edit: PlanEdit,
    module: Module,
    on_list: dict[str, PlanItem],
    episode_id: int,
    taken: set[str],
) -> dict[str, Any]:
    """One edit, validated against the list as it stands, as the row to insert."""
    which: PlanList = "home" if v.one_of("list", edit.list, PLAN_LISTS) == "home" else "session"
    change = v.one_of("change", edit.change, ("add", "remove", "dosage"))
    what = _("checklist item") if which == "session" else _("home exercise")
    dosage = v.bounded_text("target dosage", edit.dosage, max_len=MAX_DOSAGE)
    if any(ch in dosage for ch in "\n\t"):
        raise ValidationError("target dosage", _("should be on one line"))
    if change in ("add", "remove"):
        reason = v.required_text("reason", edit.reason, max_len=MAX_REASON)
    else:
        reason = v.bounded_text("reason", edit.reason, max_len=MAX_REASON)
        if any(ch in reason for ch in "\n\t"):
            raise ValidationError("reason", _("should be on one line"))
    code = v.bounded_text(what, edit.item_code, max_len=200)
    label = ""
    known = _catalogue(module, which)
    if change == "add" and not code:
        label = v.required_text(what, edit.label, max_len=MAX_ITEM_LABEL)
        code = _own_code(db, episode_id, taken)
    elif change == "add":
        if code not in known:
            raise ValidationError(
                what, _("{code!r} is not one of module {m}'s", code=code, m=module.number)
            )
        if code in on_list:
            raise ValidationError(
                what, _("“{item}” is already on the list", item=on_list[code].label)
            )
    elif code not in on_list:
        raise ValidationError(what, _("{code!r} is not on the patient's list", code=code))
    if change != "add" and edit.label:
        raise ValidationError(what, _("only an added item is named"))
    if change == "remove" and dosage:
        raise ValidationError("target dosage", _("a removed item has none"))
    return {
        "list": which,
        "change": change,
        "item_code": code,
        "label": label,
        "dosage": dosage,
        "reason": reason,
    }


#: Ids given to changes not yet saved, in a preview (no saved change has one this high).
PENDING_ID = 2**62


def _staged(
    db: ClinicDB,
    visit: dict[str, Any],
    episode: dict[str, Any],
    edits: Sequence[PlanEdit],
    plan: EpisodePlan,
) -> list[dict[str, Any]]:
    """The rows `edits` would add, each validated against the list as the edits before it
    leave it; `plan` gains them as pending changes (version 0)."""
    if isinstance(edits, PlanEdit) or not all(isinstance(e, PlanEdit) for e in edits):
        raise ValidationError("plan", _("should be a list of changes"))
    module_no = int(visit["module"])
    module = protocol().module(module_no)
    stamp, day = now_iso(), str(visit["held_on"])
    # the doctor named for the appointment, else who holds it at the keyboard
    made_by = str(visit.get("doctor") or visit["therapist"] or getattr(db, "actor", ""))
    coming = coming_sessions(db, episode["id"], module_no)
    from_seq = coming[0] if coming else None
    taken: set[str] = set()
    rows: list[dict[str, Any]] = []
    for index, edit in enumerate(edits):
        if not isinstance(edit.list, str) or edit.list not in PLAN_LISTS:
            raise ValidationError("list", _("should be one of: session, home"))
        current = plan.checklist(module_no) if edit.list == "session" else plan.home(module_no)
        row = _checked_row(db, edit, module, {i.code: i for i in current}, episode["id"], taken)
        taken.add(row["item_code"])
        record = {
            "episode_id": episode["id"],
            "visit_id": visit["id"],
            "module": module_no,
            **row,
            "made_by": made_by,
            "made_on": day,
            "from_seq": from_seq,
            "recorded_at": stamp,
        }
        rows.append(record)
        plan.add(_change({**record, "id": PENDING_ID + index, "seq": visit["seq"], "version": 0}))
    return rows


def preview_plan(db: ClinicDB, visit_id: int, edits: Sequence[PlanEdit]) -> EpisodePlan:
    """The plan as it would be with `edits` made at this appointment, writing nothing; a
    change that would be refused is refused here the same way (ValidationError)."""
    visit, episode = _appointment(db, visit_id)
    plan = episode_plan(db, episode["id"])
    _staged(db, visit, episode, edits, plan)
    return plan


def tailor_checklist(
    db: ClinicDB,
    visit_id: int,
    edits: Sequence[PlanEdit],
    *,
    expected_version: int | None = None,
) -> int:
    """Make the doctor's changes to the patient's plan for the appointment's module, all or
    none, in the order given; returns the plan's new version.

    Made at a doctor's appointment in progress; each applies to the module's sessions not
    yet started. `expected_version` is the plan's version as shown (`plan_version`): a plan
    another terminal changed since is refused (StaleRecord) and nothing is written.
    """
    with write_transaction(db):
        visit, episode = _appointment(db, visit_id)
        module_no = int(visit["module"])
        check_version(
            "plan",
            _("module {m}", m=module_no),
            plan_version(db, episode["id"], module_no),
            expected_version,
        )
        rows = _staged(db, visit, episode, edits, episode_plan(db, episode["id"]))
        for record in rows:
            insert_row(db, "plan_changes", record, patient_id=episode["patient_id"])
        return plan_version(db, episode["id"], module_no)


def add_plan_item(
    db: ClinicDB,
    visit_id: int,
    item_code: str = "",
    *,
    reason: str,
    label: str = "",
    dosage: str = "",
    which: PlanList = "session",
    expected_version: int | None = None,
) -> int:
    """Add one of the module's items (`item_code`), or one the doctor names (`label`), to
    the patient's coming sessions (or home list); returns the plan's new version."""
    edit = PlanEdit(which, "add", item_code, label, dosage, reason)
    return tailor_checklist(db, visit_id, [edit], expected_version=expected_version)


def remove_plan_item(
    db: ClinicDB,
    visit_id: int,
    item_code: str,
    *,
    reason: str,
    which: PlanList = "session",
    expected_version: int | None = None,
) -> int:
    """Take an item off the patient's coming sessions (or home list), saying why."""
    edit = PlanEdit(which, "remove", item_code, reason=reason)
    return tailor_checklist(db, visit_id, [edit], expected_version=expected_version)


def set_target_dosage(
    db: ClinicDB,
    visit_id: int,
    item_code: str,
    dosage: str,
    *,
    reason: str = "",
    which: PlanList = "session",
    expected_version: int | None = None,
) -> int:
    """Set (or, empty, clear) the target dosage of an item on the patient's list."""
    edit = PlanEdit(which, "dosage", item_code, dosage=dosage, reason=reason)
    return tailor_checklist(db, visit_id, [edit], expected_version=expected_version)


def tailoring_words(change: PlanChange) -> str:
    """A change for a list of what was tailored: 'Module 2, sessions: Bridge added by ...'."""
    where = _("sessions") if change.list == "session" else _("home")
    return _(
        "Module {m}, {where}: {item} {words}",
        m=change.module,
        where=where,
        item=change.item_label,
        words=change_words(change),
    )
