"""Tailor the plan: at a doctor's appointment, the patient's own session checklist and home
exercises for the module, changed item by item and saved together.

The screen shows the plan as it will be for the module's sessions not yet started, with
each item's target dosage and how the doctor tailored it. `a` adds an item (one of the
module's, even one the subtype's list leaves out, or one the doctor names), `x` removes
the highlighted one, `d` (or Enter) sets its target dosage; adding and removing ask why.
Changes wait, marked "not saved", until Ctrl+S saves them all at once; Ctrl+Z takes back
the last one; Esc leaves and writes nothing. Each change is checked by the domain as it is
made (`preview_plan`), so a refused one is said in its dialog, not at the end.

Saving is based on the plan's version as the screen read it: if another terminal changed
the plan first, nothing is written, the screen shows their plan and keeps these changes
waiting (Ctrl+S then saves them on top, if they still apply).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import ClassVar, cast
from typing import Protocol as TypingProtocol

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.models import Visit
from kinesio_tui.domain.plan import (
    EpisodePlan,
    PlanEdit,
    PlanItem,
    PlanList,
    change_words,
    coming_sessions,
    plan_version,
    preview_plan,
    tailor_checklist,
)
from kinesio_tui.errors import KinesioError, StaleRecord
from kinesio_tui.i18n import _
from kinesio_tui.protocol import protocol
from kinesio_tui.views.db_wait import save_patiently, say_failed
from kinesio_tui.views.footer import KeyFooter

#: Checks a change against the plan with the changes before it; the refusal, or None.
Check = Callable[[PlanEdit], str | None]


class TailorHost(TypingProtocol):
    """What the tailor screen needs from the app (the workstation, or a test's host)."""

    @property
    def db(self) -> ClinicDB: ...

    @property
    def today(self) -> date: ...


def item_prompt(item: PlanItem) -> Table:
    """One item: its name and target dosage, and under it how the doctor tailored it
    (a change not saved yet says so). Plain text: what a person typed stays text."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=1, no_wrap=True)
    grid.add_column(ratio=1)
    text = Text(item.label)
    if item.target:
        text.append(_(" — target {dosage}", dosage=item.target), style="bold")
    for change in (item.added, item.dosed):
        if change is not None:
            mark = _("✎ not saved: ") if change.pending else "✎ "
            text.append("\n" + mark + change_words(change), style="italic")
    grid.add_row(Text("•"), text)
    return grid


def edit_words(edit: PlanEdit, label: str) -> str:
    """A change waiting to be saved, in a few words."""
    where = _("sessions") if edit.list == "session" else _("home")
    if edit.change == "add":
        return _("+ {item} ({where})", item=label, where=where)
    if edit.change == "remove":
        return _("− {item} ({where})", item=label, where=where)
    return _(
        "{item}: target {dosage} ({where})", item=label, dosage=edit.dosage or "–", where=where
    )


class _ChangeDialog(ModalScreen[PlanEdit | None]):
    """A small form for one change; Enter in the last field makes it, Esc does not."""

    CSS_PATH = "visit.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", _("Cancel"))]

    def __init__(self, check: Check) -> None:
        super().__init__(classes="kinesio-dialog")
        self.check = check

    def error_line(self) -> Static:
        line = Static(markup=False, content="", classes="field-error", id="plan-error")
        line.display = False
        return line

    def say(self, text: str) -> None:
        line = self.query_one("#plan-error", Static)
        line.update(text)
        line.display = bool(text)

    def offer(self, edit: PlanEdit) -> None:
        """Make the change if the domain would take it; else say why and stay open."""
        problem = self.check(edit)
        if problem:
            self.say(f"✖ {problem}")
            return
        self.dismiss(edit)

    def action_cancel(self) -> None:
        """Leave; no change is made."""
        self.dismiss(None)


class AddItemDialog(_ChangeDialog):
    """Add one of the module's items not on the list, or name one; its dosage and why."""

    def __init__(self, which: PlanList, choices: Sequence[PlanItem], check: Check) -> None:
        super().__init__(check)
        self.which = which
        self.choices = tuple(choices)

    def compose(self) -> ComposeResult:
        title = (
            _("Add to the coming sessions") if self.which == "session" else _("Add a home exercise")
        )
        with Vertical(classes="dialog-box", id="add-box"):
            yield Static(markup=False, content=title, classes="dialog-title")
            choices = OptionList(
                *(Option(Text(item.label), id=item.code) for item in self.choices),
                id="add-choices",
                compact=True,
            )
            choices.display = bool(self.choices)
            yield choices
            yield Label(
                _("…or name one (then the module's list is not used):"), classes="plan-hint"
            )
            yield Input(placeholder=_("item"), id="add-label", max_length=120, compact=True)
            yield Label(_("Target dosage (optional):"), classes="plan-hint")
            yield Input(
                placeholder=_("e.g. 3 x 30 s, 10 reps x 2 sets"),
                id="add-dosage",
                max_length=80,
                compact=True,
            )
            yield Label(_("Why (needed):"), classes="plan-hint")
            yield Input(placeholder=_("reason"), id="add-reason", max_length=300, compact=True)
            yield self.error_line()
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.choices:
            self.query_one("#add-choices", OptionList).focus()
        else:
            self.query_one("#add-label", Input).focus()

    @on(OptionList.OptionSelected, "#add-choices")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        """Enter on an item: its usual dosage in the dosage field, then on to it."""
        item = self.choices[event.option_index]
        dosage = self.query_one("#add-dosage", Input)
        if not dosage.value:
            dosage.value = item.target
        self.query_one("#add-label", Input).value = ""
        dosage.focus()

    @on(Input.Submitted, "#add-label")
    def named(self) -> None:
        self.query_one("#add-dosage", Input).focus()

    @on(Input.Submitted, "#add-dosage")
    def dosed(self) -> None:
        self.query_one("#add-reason", Input).focus()

    @on(Input.Submitted, "#add-reason")
    def made(self) -> None:
        """Enter on the reason: add the named item, else the highlighted one."""
        label = self.query_one("#add-label", Input).value.strip()
        code = ""
        if not label:
            index = self.query_one("#add-choices", OptionList).highlighted
            if index is None or not self.choices:
                self.say(_("✖ Choose an item, or name one."))
                return
            code = self.choices[index].code
        self.offer(
            PlanEdit(
                self.which,
                "add",
                code,
                label,
                self.query_one("#add-dosage", Input).value,
                self.query_one("#add-reason", Input).value,
            )
        )


class ItemChangeDialog(_ChangeDialog):
    """Remove an item (why: needed), or set its target dosage (why: optional)."""

    def __init__(self, edit: PlanEdit, item: PlanItem, check: Check) -> None:
        super().__init__(check)
        self.edit = edit
        self.item = item

    def compose(self) -> ComposeResult:
        removing = self.edit.change == "remove"
        title = _("Remove: {item}", item=self.item.label) if removing else self.item.label
        with Vertical(classes="dialog-box", id="change-box"):
            yield Static(markup=False, content=title, classes="dialog-title")
            if removing:
                yield Label(
                    _("From the sessions not yet started; held ones keep it."),
                    classes="plan-hint",
                )
            else:
                yield Label(_("Target dosage (empty: none):"), classes="plan-hint")
                yield Input(
                    self.item.target,
                    placeholder=_("e.g. 3 x 30 s, 10 reps x 2 sets"),
                    id="change-dosage",
                    max_length=80,
                    compact=True,
                )
            yield Label(
                _("Why (needed):") if removing else _("Why (optional):"), classes="plan-hint"
            )
            yield Input(placeholder=_("reason"), id="change-reason", max_length=300, compact=True)
            yield self.error_line()
        yield KeyFooter()

    @on(Input.Submitted, "#change-dosage")
    def dosed(self) -> None:
        self.query_one("#change-reason", Input).focus()

    @on(Input.Submitted, "#change-reason")
    def made(self) -> None:
        dosage = self.query(Input).filter("#change-dosage")
        self.offer(
            PlanEdit(
                self.edit.list,
                self.edit.change,
                self.item.code,
                dosage=dosage.first(Input).value if dosage else "",
                reason=self.query_one("#change-reason", Input).value,
            )
        )


class PlanListing(OptionList):
    """One of the plan's two lists; the screen acts on its highlighted item."""


class TailorScreen(Screen[int | None]):
    """The patient's plan for the appointment's module; dismisses with the number of
    changes saved (None: left without saving)."""

    CSS_PATH = "visit.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", _("Add"), tooltip=_("Add an item to the highlighted list")),
        Binding("x,delete", "remove", _("Remove"), tooltip=_("Remove the highlighted item")),
        Binding("d", "dosage", _("Dosage"), tooltip=_("Set the item's target dosage")),
        Binding("ctrl+z", "take_back", _("Take back"), tooltip=_("Take back the last change")),
        Binding("ctrl+s", "save", _("Save"), tooltip=_("Save the changes")),
        Binding("escape", "cancel", _("Cancel"), tooltip=_("Leave without saving")),
    ]

    help_title = _("Tailor the plan")

    def __init__(self, visit: Visit, patient_name: str) -> None:
        super().__init__()
        self.visit = visit
        self.patient_name = patient_name
        #: The changes made here, not saved yet, in order.
        self.edits: list[PlanEdit] = []
        #: The plan's version as read: what saving is based on.
        self.version = 0
        #: The plan as shown (saved, with the changes waiting).
        self.plan: EpisodePlan | None = None
        #: Why the changes waiting no longer apply (after another terminal's change).
        self.problem = ""

    @property
    def host(self) -> TailorHost:
        return cast(TailorHost, self.app)

    @property
    def db(self) -> ClinicDB:
        return self.host.db

    def compose(self) -> ComposeResult:
        module = protocol().module(self.visit.module)
        yield Static(
            markup=False,
            content=_(
                "Tailor the plan · {patient} · Module {m}: {title}",
                patient=self.patient_name,
                m=module.number,
                title=module.title,
            ),
            id="tailor-header",
        )
        yield Static(markup=False, content=self.applies_text(), id="tailor-hint")
        yield Static(markup=False, content=_("Sessions"), classes="section-title")
        yield PlanListing(id="plan-session")
        yield Static(markup=False, content=_("Home exercises"), classes="section-title")
        yield PlanListing(id="plan-home")
        yield Static(markup=False, content="", id="tailor-pending")
        yield KeyFooter(compact=True, show_command_palette=False)

    def applies_text(self) -> str:
        coming = coming_sessions(self.db, self.visit.episode_id, self.visit.module)
        if coming:
            sessions = _(
                "For sessions {first}-{last} of this module (not started yet); held sessions "
                "keep their list.",
                first=coming[0],
                last=coming[-1],
            )
        else:
            sessions = _("No session of this module is left to start.")
        return sessions + " " + _("Ctrl+S saves; Esc leaves, saving nothing.")

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#plan-session", PlanListing).focus()

    def reload(self) -> None:
        """Read the plan afresh (its version too) and show it with the changes waiting."""
        self.version = plan_version(self.db, self.visit.episode_id, self.visit.module)
        try:
            self.plan = preview_plan(self.db, self.visit.id, self.edits)
            self.problem = ""
        except KinesioError as error:
            self.plan = preview_plan(self.db, self.visit.id, [])
            self.problem = error.message
        self.show_plan()

    def items(self, which: PlanList) -> tuple[PlanItem, ...]:
        if self.plan is None:
            return ()
        module = self.visit.module
        return self.plan.checklist(module) if which == "session" else self.plan.home(module)

    def show_plan(self) -> None:
        for which in ("session", "home"):
            listing = self.query_one(f"#plan-{which}", PlanListing)
            highlighted = listing.highlighted
            listing.clear_options()
            items = self.items(which)
            listing.add_options(Option(item_prompt(item), id=item.code) for item in items)
            if items:
                listing.highlighted = min(highlighted or 0, len(items) - 1)
        lines = []
        if self.edits:
            labels = self.labels()
            lines.append(
                _("Not saved yet ({n}): ", n=len(self.edits))
                + "; ".join(edit_words(e, labels.get(e.item_code, e.label)) for e in self.edits)
            )
        if self.problem:
            lines.append(_("✖ These changes no longer apply: {why}", why=self.problem))
        self.query_one("#tailor-pending", Static).update("\n".join(lines))
        self.refresh_bindings()

    def labels(self) -> dict[str, str]:
        """Every item's name by code: the module's, and those on the lists."""
        module = protocol().module(self.visit.module)
        found = {i.code: i.label for i in module.checklist}
        found |= {e.code: e.label for e in module.home_exercises}
        for which in ("session", "home"):
            found |= {i.code: i.label for i in self.items(which)}
        return found

    def focused_list(self) -> PlanList:
        focused = self.focused
        return "home" if focused is not None and focused.id == "plan-home" else "session"

    def highlighted_item(self) -> PlanItem | None:
        which = self.focused_list()
        index = self.query_one(f"#plan-{which}", PlanListing).highlighted
        items = self.items(which)
        return items[index] if index is not None and index < len(items) else None

    def check(self, edit: PlanEdit) -> str | None:
        """Whether the domain would take this change after those waiting; why not."""
        try:
            self.plan = preview_plan(self.db, self.visit.id, [*self.edits, edit])
        except KinesioError as error:
            return error.message
        return None

    def take(self, edit: PlanEdit | None) -> None:
        """A dialog made a change: it waits with the others."""
        if edit is not None and self.is_attached:
            self.edits.append(edit)
            self.show_plan()

    # --- actions -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("remove", "dosage"):
            return self.highlighted_item() is not None or None
        if action in ("take_back", "save"):
            return bool(self.edits) or None
        return True

    def action_add(self) -> None:
        """Add one of the module's items, or one the doctor names, to the focused list."""
        which = self.focused_list()
        choices = self.plan.addable(self.visit.module, which) if self.plan else ()
        self.app.push_screen(AddItemDialog(which, choices, self.check), self.take)

    def action_remove(self) -> None:
        """Remove the highlighted item from the coming sessions (or the home list)."""
        item = self.highlighted_item()
        if item is not None:
            edit = PlanEdit(self.focused_list(), "remove", item.code)
            self.app.push_screen(ItemChangeDialog(edit, item, self.check), self.take)

    @on(OptionList.OptionSelected, "PlanListing")
    def item_chosen(self) -> None:
        """Enter on an item: its target dosage."""
        self.action_dosage()

    def action_dosage(self) -> None:
        """Set the highlighted item's target dosage."""
        item = self.highlighted_item()
        if item is not None:
            edit = PlanEdit(self.focused_list(), "dosage", item.code)
            self.app.push_screen(ItemChangeDialog(edit, item, self.check), self.take)

    def action_take_back(self) -> None:
        """Take back the last change not saved yet."""
        if self.edits:
            self.edits.pop()
            self.reload()

    def action_save(self) -> None:
        """Save every change at once, based on the plan as read."""
        if not self.edits:
            return
        edits, basis = list(self.edits), self.version

        def saved(_version: int) -> None:
            if self.is_current:
                self.dismiss(len(edits))

        def failed(error: KinesioError) -> None:
            say_failed(self.app, error)
            if isinstance(error, StaleRecord) and self.is_attached:
                self.reload()  # theirs shown; ours wait, to save on top if they still apply

        save_patiently(
            self.app,
            lambda: tailor_checklist(self.db, self.visit.id, edits, expected_version=basis),
            saved,
            failed,
        )

    def action_cancel(self) -> None:
        """Leave; nothing is saved."""
        if self.edits:
            self.notify(
                markup=False,
                message=_("Plan not changed: {n} changes left unsaved.", n=len(self.edits)),
            )
        self.dismiss(None)
