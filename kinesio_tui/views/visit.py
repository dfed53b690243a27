"""The visit screen: a therapy session's checklist or a doctor's appointment form.

Every change is written at once through the domain; Ctrl+Z walks back an undo stack of
inverse domain operations (untick <-> tick with the old note, delete a recorded PIR set,
restore or delete a test result). The free-text note has its own undo inside the text
area and is saved after a typing pause, when it loses focus and when the screen closes.

Each write carries the version of what the screen shows; one refused because another
terminal changed the record first shows the newer value and keeps what was typed (the
note's text under it, Ctrl+R puts it back). A write that finds the database locked by
another program waits in the background (views/db_wait.py).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, cast
from typing import Protocol as TypingProtocol

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.episodes import (
    get_episode,
    latest_red_flag_screen,
    raised_red_flags,
    screen_red_flags,
)
from kinesio_tui.domain.holds import Hold, active_hold, flags_words, latest_hold
from kinesio_tui.domain.models import Episode, Measurement, Patient, PirCycle, Tick, Visit
from kinesio_tui.domain.patients import get_patient
from kinesio_tui.domain.plan import PlanItem
from kinesio_tui.domain.visits import (
    checklist_for_visit,
    complete_visit,
    delete_measurement,
    delete_pir_cycle,
    doctor_checks_for_visit,
    get_visit,
    measurements_of,
    pir_cycles_of,
    record_measurement,
    set_visit_doctor,
    set_visit_note,
    start_visit,
    tick_item,
    ticks_of,
    untick_item,
    visits_of,
)
from kinesio_tui.errors import DatabaseBusy, KinesioError, StaleRecord
from kinesio_tui.i18n import _
from kinesio_tui.plain_text import shown
from kinesio_tui.protocol import RedFlag, protocol
from kinesio_tui.units import value_with_unit
from kinesio_tui.views.checklist import Checklist, checklist_prompt
from kinesio_tui.views.db_wait import save_patiently, say_failed, write_queue
from kinesio_tui.views.footer import KeyFooter
from kinesio_tui.views.hold import ClearanceDialog, ReferralDialog
from kinesio_tui.views.laid_out_once import LaidOutOnce
from kinesio_tui.views.styled_once import BuiltScreen

if TYPE_CHECKING:
    from kinesio_tui.views.doctor import DoctorForm
    from kinesio_tui.views.record_test import RecordedResult

#: Seconds of typing pause after which the visit note is saved.
NOTE_SAVE_DELAY = 0.8


class VisitHost(TypingProtocol):
    """What the visit screens need from the app hosting them."""

    @property
    def db(self) -> ClinicDB: ...

    @property
    def today(self) -> date: ...

    @property
    def actor(self) -> str: ...


@dataclass(frozen=True)
class UndoStep:
    """An inverse domain operation and what to tell the user when it runs."""

    description: str
    run: Callable[[], None]


def describe_measurement(m: Measurement) -> str:
    test = protocol().test(m.test_code)
    label = test.label if test else m.test_code
    side = f" {m.side}" if m.side else ""
    return f"{label}{side} {value_with_unit(m.value, test.unit if test else '')}"


def describe_pir(cycle: PirCycle) -> str:
    text = _("{muscle} {side} ×{n}", muscle=cycle.muscle, side=cycle.side, n=cycle.cycles)
    if cycle.rom_before is not None or cycle.rom_after is not None:
        text += _(
            " ROM {a}→{b}",
            a=value_with_unit(cycle.rom_before, "°"),
            b=value_with_unit(cycle.rom_after, "°"),
        )
    if cycle.pain_before is not None or cycle.pain_after is not None:
        text += _(
            " pain {a}→{b}",
            a=value_with_unit(cycle.pain_before),
            b=value_with_unit(cycle.pain_after),
        )
    return text


def held_by(visit: Visit) -> str:
    """Who held the visit, as its header and its read-only view say it."""
    if visit.is_doctor and visit.doctor and visit.doctor != visit.therapist:
        return _("Doctor {doctor} (typed by {who}). ", doctor=visit.doctor, who=visit.therapist)
    if visit.is_doctor:
        return _("Doctor {doctor}. ", doctor=visit.doctor or visit.therapist or "?")
    return _("Held by {who}. ", who=visit.therapist or "?")


class LastSessionDialog(ModalScreen[None]):
    """The previous session in full (what was ticked, its dosages, PIR, tests); `l` or Esc closes.

    For a terminal too small to keep it beside the checklist.
    """

    CSS_PATH = "visit.tcss"
    BINDINGS = [Binding("escape,l", "close", _("Close"))]

    def __init__(self, text: Text) -> None:
        super().__init__(classes="kinesio-dialog")
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog-box", id="last-session-box"):
            yield Static(self.text, markup=False)
        yield KeyFooter(compact=True)

    def action_close(self) -> None:
        """Back to the checklist."""
        self.dismiss(None)


class NoteDialog(ModalScreen[str | None]):
    """Edit the dosage/parameter note of one checklist item; Enter saves, Escape cancels.

    `conflict` says why an earlier save of the typed note was not made (another terminal
    changed the item, or the database was busy); the typed note is back in the field.
    """

    CSS_PATH = "visit.tcss"
    BINDINGS = [Binding("escape", "cancel", _("Cancel"))]

    def __init__(self, item_label: str, note: str, conflict: str = "") -> None:
        super().__init__(classes="kinesio-dialog")
        self.item_label = item_label
        self.note = note
        self.conflict = conflict

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(markup=False, content=self.item_label, classes="dialog-title")
            yield Label(_("Dosage / parameters (Enter saves and ticks the item)"))
            yield Input(
                self.note,
                placeholder=_("e.g. 3 × 10, 20 kg, 5 min"),
                id="note-input",
                max_length=500,
            )
            conflict = Static(
                markup=False, content=self.conflict, classes="field-error", id="note-conflict"
            )
            conflict.display = bool(self.conflict)
            yield conflict
        yield KeyFooter()

    @on(Input.Submitted, "#note-input")
    def save(self, event: Input.Submitted) -> None:
        """Hand the note back to the visit screen."""
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        """Leave without changing the note."""
        self.dismiss(None)


def begin_visit(
    host: VisitHost,
    visit_id: int,
    *,
    expected_version: int | None = None,
    pir_clock: Callable[[], float] | None = None,
    hold_override: str | None = None,
) -> VisitScreen:
    """Start (or continue) a visit and build its screen on the started visit.

    Starting is the one write of opening a visit; it is made here, by whoever opens the
    screen (the patient screen's Enter), so building the screen only reads. The visit is
    started from `expected_version`, the version shown where it was chosen: refused
    (StaleRecord) if another terminal changed it since. A therapy session of an episode on
    red-flag hold starts only with `hold_override`, the reason asked for before (OnHold else).
    """
    visit = start_visit(
        host.db,
        visit_id,
        therapist=host.actor,
        today=host.today,
        expected_version=expected_version,
        hold_override=hold_override,
    )
    episode = get_episode(host.db, visit.episode_id)
    patient = get_patient(host.db, episode.patient_id)
    return VisitScreen(visit, episode, patient, pir_clock=pir_clock, hold_override=hold_override)


class VisitScreen(LaidOutOnce[bool], BuiltScreen[bool]):
    """One visit of the programme, started (see `begin_visit`); dismisses True once
    completed."""

    CSS_PATH = "visit.tcss"
    BINDINGS = [
        Binding("escape", "back", _("Back")),
        Binding("p", "pir", _("PIR")),
        Binding("t", "record_test", _("Test")),
        Binding("f", "questionnaires", _("Forms"), tooltip=_("Questionnaires: ODI, NDI, RMDQ")),
        # the note's border says "(n)"; leaving it out of the footer keeps Undo visible at 80 columns
        Binding("n", "focus_note", _("Note"), show=False),
        Binding("l", "last_session", _("Last"), tooltip=_("The last session in full")),
        Binding("c", "complete", _("Complete")),
        Binding("ctrl+z", "undo", _("Undo")),
        Binding("ctrl+r", "put_note_back", _("Put my note back")),
        Binding(
            "a",
            "tailor_plan",
            _("Plan"),
            tooltip=_("Tailor the plan: the patient's checklist, target dosages, home exercises"),
        ),
        Binding(
            "h",
            "clear_hold",
            _("Clear hold"),
            tooltip=_("Doctor's clearance: end the red-flag hold (doctor's appointment)"),
        ),
        Binding(
            "r",
            "referral",
            _("Referral"),
            tooltip=_("Record the referral of a red-flag hold: to whom, when, why"),
        ),
        Binding(
            "D",
            "discharge",
            _("Discharge"),
            tooltip=_("What the discharge letter says (a module's final appointment)"),
        ),
        Binding(
            "w",
            "name_doctor",
            _("Doctor"),
            tooltip=_("Name the doctor holding this appointment (if not the one at the keyboard)"),
            show=False,
        ),
    ]

    help_title = _("Visit")
    #: Focus goes straight to the first field (or the checklist): Textual's default, the
    #: first focusable widget, is the doctor's form itself, and focusing then leaving it
    #: restyled its every widget twice (traced).
    AUTO_FOCUS = "#doctor-form .check-field, #checklist"

    def __init__(
        self,
        visit: Visit,
        episode: Episode,
        patient: Patient,
        *,
        pir_clock: Callable[[], float] | None = None,
        hold_override: str | None = None,
    ) -> None:
        super().__init__(classes="-doctor" if visit.is_doctor else "-therapy")
        if visit.is_doctor:
            # the doctor's scrolling form keeps Textual's passes after its first frame: it is
            # not checked without them yet
            self.lay_out_as_textual_does()
        #: The visit as shown: its version is what the next write to it is based on.
        self.visit = visit
        self.visit_id = visit.id
        self.episode = episode
        self.patient = patient
        self.module = protocol().module(visit.module)
        #: The session's checklist, the patient's own (none at a doctor's appointment),
        #: read as it is built.
        self.items: tuple[PlanItem, ...] = ()
        #: Why a therapy session started although a red flag holds therapy (asked before).
        self.hold_override = hold_override
        #: The episode's open red-flag hold as shown, or None.
        self.hold: Hold | None = None
        self.pir_clock = pir_clock
        self.undo_stack: list[UndoStep] = []
        self._note_timer: Timer | None = None
        self._saved_note = visit.note
        self._note_text = visit.note
        #: A note save is queued (the database was busy): it writes the latest text.
        self._note_saving = False
        #: What was typed in the note when another terminal's note replaced it on screen.
        self._kept_note = ""
        #: The checklist's ticks as shown (their versions are what a tick is based on).
        self.shown_ticks: dict[str, Tick] = {}
        #: The version each tick or test result had after this screen's last write to it
        #: (0: none): what undoing that write is based on.
        self.written: dict[tuple[str, ...], int] = {}
        #: What each one-line field held as it was typed in (Ctrl+Z there steps back).
        self._typed: dict[Input, list[str]] = {}

    @property
    def host(self) -> VisitHost:
        return cast(VisitHost, self.app)

    @property
    def db(self) -> ClinicDB:
        return self.host.db

    @property
    def on_stack(self) -> bool:
        """Still open (a write that waited may finish after the visit was left)."""
        return self in self.app.screen_stack

    # --- building -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(markup=False, content=self.header_text(), id="visit-header")
        yield Static(markup=False, content=self.goal_text(), id="visit-goal")
        yield Static(markup=False, content="", id="visit-alarm")
        with Horizontal(id="visit-body"):
            with Vertical(id="visit-main"):
                if self.visit.is_doctor:
                    from kinesio_tui.views.doctor import DoctorForm, previous_values

                    flags_screen = latest_red_flag_screen(self.db, self.episode.id)
                    yield DoctorForm(
                        doctor_checks_for_visit(self.db, self.visit),
                        previous_values(self.db, self.visit),
                        flags_screen,
                        self.asked_flags(flags_screen[1]),
                        wide=self.has_class("-wide"),
                    )
                else:
                    self.items = checklist_for_visit(self.db, self.visit)
                    yield Static(markup=False, content="", id="checklist-progress")
                    yield Checklist(id="checklist")
                    held = self.last_session()
                    last = self.last_session_text(held)
                    yield Static(last, markup=False, id="last-session")
                    yield Static(
                        self.last_session_line(last, held), markup=False, id="last-session-line"
                    )
            with Vertical(id="visit-side"):
                yield Static(markup=False, content="", id="visit-records")
                note = TextArea(shown(self.visit.note), id="visit-note", soft_wrap=True)
                note.border_title = _("Visit note (n) · saved as you type")
                yield note
                kept = Static(markup=False, content="", id="note-kept", classes="field-error")
                kept.display = False
                yield kept
        yield KeyFooter(compact=True, show_command_palette=False)

    def header_text(self) -> Text:
        slot = protocol().slot(self.visit.number)
        kind = slot.label if self.visit.is_doctor else _("Therapy session")
        text = Text()
        text.append(self.patient.full_name, style="bold")
        text.append(
            _(
                " · M{m} visit {n}/{total} · {kind} · {day}",
                m=self.visit.module,
                n=self.visit.number,
                total=protocol().visits_per_module,
                kind=kind,
                day=self.host.today.isoformat(),
            )
        )
        return text

    def goal_text(self) -> Text:
        text = Text()
        text.append(held_by(self.visit), style="bold")  # the header is cut at 80 columns
        text.append(_("Module {m}: {title}. ", m=self.module.number, title=self.module.title))
        text.append(self.module.goal, style="italic")
        return text

    def last_session(self) -> Visit | None:
        """The previous therapy session held in this programme."""
        earlier = [
            v
            for v in visits_of(self.db, self.visit.episode_id)
            if v.seq < self.visit.seq and v.status == "done" and not v.is_doctor
        ]
        return earlier[-1] if earlier else None

    def last_session_text(self, last: Visit | None) -> Text:
        """What was done at the previous therapy session (`last_session`), for the dosage to
        build on."""
        text = Text()
        if last is None:
            text.append(_("No earlier session in this programme."), style="italic")
            return text
        text.append(
            _(
                "Last session: visit {n}/{total} of module {m}, {day}\n",
                n=last.number,
                total=protocol().visits_per_module,
                m=last.module,
                day=last.day.isoformat(),
            ),
            style="bold",
        )
        ticks = ticks_of(self.db, last.id)
        for item in checklist_for_visit(self.db, last):  # the patient's list, in its order
            tick = ticks.get(item.code)
            if tick is not None:
                text.append(f"[x] {item.label}")
                text.append(f" · {tick.note}\n" if tick.note else "\n", style="italic")
        for _id, cycle in pir_cycles_of(self.db, last.id):
            text.append(_("PIR: ") + describe_pir(cycle) + "\n")
        measured = measurements_of(self.db, last.id)
        if measured:
            text.append(_("Tests: ") + "; ".join(describe_measurement(m) for m in measured))
        return text

    def last_session_line(self, full: Text, last: Visit | None) -> Text:
        """The last session folded to one line, and the key that shows all of it."""
        line = Text("▸ ")
        line.append(full.plain.split("\n", 1)[0].rstrip(), style="bold")
        if last is not None:
            line.append(_(" · l: its dosages"), style="italic")
        return line

    def on_mount(self) -> None:
        self.refresh_view()
        if self.visit.is_doctor:
            self.query(".check-field").first().focus()
        else:
            self.query_one(Checklist).focus()

    def refresh_view(self) -> None:
        """Re-read what this screen shows from the database."""
        self.refresh_alarm()
        self.refresh_records()
        if self.visit.is_doctor:
            from kinesio_tui.views.doctor import DoctorForm

            self.query_one(DoctorForm).show_measurements(measurements_of(self.db, self.visit_id))
        else:
            self.refresh_checklist()

    def refresh_data(self) -> None:
        """Another process committed: re-read, but leave fields being typed in alone."""
        self.refresh_alarm()
        self.refresh_records()
        if not self.visit.is_doctor:
            self.refresh_checklist()
        self.refresh_note()

    def refresh_note(self) -> None:
        """Show a note saved in another terminal, unless this one is being written here
        (then its save is refused as stale, and the typed text kept)."""
        note = self.query_one("#visit-note", TextArea)
        if (
            note.has_focus
            or self._note_saving
            or self._kept_note
            or self._note_text.strip() != self._saved_note.strip()
        ):
            return
        visit = get_visit(self.db, self.visit_id)
        if visit.version != self.visit.version:
            self.show_visit_note(visit)

    def show_visit_note(self, visit: Visit) -> None:
        """Put the saved note in the field (without saving it again); the visit as shown."""
        self.visit = visit
        with self.prevent(TextArea.Changed):
            self.query_one("#visit-note", TextArea).load_text(shown(visit.note))
        self._saved_note = self._note_text = visit.note

    def asked_flags(self, raised: list[str]) -> tuple[RedFlag, ...]:
        """The red flags the doctor's form asks: those of the episode's condition, and any
        raised besides (kept, never dropped unseen)."""
        episode = self.episode
        return tuple(
            flag
            for flag in protocol().red_flags
            if flag.applies_to(episode.condition, episode.subtype) or flag.code in raised
        )

    def refresh_alarm(self) -> None:
        flags = raised_red_flags(self.db, self.episode.id)
        alarm = self.query_one("#visit-alarm", Static)
        labels = [f.label for code in flags if (f := protocol().red_flag(code))]
        hold = active_hold(self.db, self.episode.id)
        text = (
            _("⚠ RED FLAG: {flags} — refer to a doctor now", flags="; ".join(labels))
            if labels and hold is not None
            else flags_words(labels, latest_hold(self.db, self.episode.id))
            if labels
            else ""
        )
        if hold is not None:
            how = (
                _("h: doctor's clearance, r: referral")
                if self.visit.is_doctor
                else _("overridden: {reason}", reason=self.hold_override)
                if self.hold_override
                else _("a doctor's appointment clears it")
            )
            text = (text + " · " if text else "⚠ ") + _("THERAPY ON HOLD ({how})", how=how)
        alarm.update(text)
        alarm.set_class(bool(text), "-raised")
        if (hold is None) != (self.hold is None):
            self.hold = hold
            self.refresh_bindings()
        self.hold = hold

    def refresh_checklist(self) -> None:
        ticks = self.shown_ticks = ticks_of(self.db, self.visit_id)
        checklist = self.query_one(Checklist)
        highlighted = checklist.highlighted
        checklist.clear_options()
        checklist.add_options(
            Option(checklist_prompt(item, ticks.get(item.code)), id=item.code)
            for item in self.items
        )
        if self.items:
            checklist.highlighted = min(highlighted or 0, len(self.items) - 1)
        done = sum(1 for item in self.items if item.code in ticks)
        bar = "■" * done + "□" * (len(self.items) - done)
        self.query_one("#checklist-progress", Static).update(
            _("Checklist {done}/{total} {bar}", done=done, total=len(self.items), bar=bar)
        )

    def refresh_records(self) -> None:
        lines = []
        pir = pir_cycles_of(self.db, self.visit_id)
        if pir:
            lines.append(_("PIR: ") + "; ".join(describe_pir(c) for _id, c in pir))
        measured = measurements_of(self.db, self.visit_id)
        if measured:
            lines.append(_("Tests: ") + "; ".join(describe_measurement(m) for m in measured))
        if not lines:
            lines.append(
                _("No results saved at this visit yet (t: any test).")
                if self.visit.is_doctor
                else _("No PIR or test results yet (p, t).")
            )
        self.query_one("#visit-records", Static).update("\n".join(lines))

    # --- undo -----------------------------------------------------------------------------

    def push_undo(self, description: str, run: Callable[[], None]) -> None:
        """Remember how to take back the change just made."""
        self.undo_stack.append(UndoStep(description, run))

    @on(events.DescendantFocus)
    def field_entered(self, event: events.DescendantFocus) -> None:
        """Typing in a one-line field starts its own undo from what it holds now."""
        if isinstance(event.widget, Input):
            self._typed[event.widget] = [event.widget.value]

    @on(Input.Changed)
    def field_typed(self, event: Input.Changed) -> None:
        history = self._typed.get(event.input)
        if history is not None and history[-1] != event.value:
            history.append(event.value)

    def undo_typing(self, field: Input) -> None:
        """Ctrl+Z in a one-line field: its text as it was before the last keystroke (the
        note's text area has its own undo); nothing saved is touched."""
        history = self._typed.get(field)
        if not history or len(history) < 2:
            self.notify(markup=False, message=_("Nothing typed to undo in this field."))
            return
        history.pop()
        field.value = history[-1]
        field.cursor_position = len(field.value)

    def action_undo(self) -> None:
        """Ctrl+Z: in a one-line field, the typing there; elsewhere, take back the last
        change recorded at this visit (tick, dosage, PIR set or test result) and say which."""
        if isinstance(self.focused, Input):
            self.undo_typing(self.focused)
            return
        if not self.undo_stack:
            self.notify(markup=False, message=_("Nothing to undo."))
            return
        step = self.undo_stack.pop()

        def undone(_result: None) -> None:
            if self.on_stack:
                self.refresh_view()
            self.notify(markup=False, message=_("Undone: {what}", what=step.description))

        def not_undone(error: KinesioError) -> None:
            if isinstance(error, DatabaseBusy):
                self.undo_stack.append(step)  # it can be tried again
            self.write_failed(error)

        save_patiently(self.app, step.run, undone, not_undone)

    def write_failed(self, error: KinesioError) -> None:
        """Say why a write was not made; after a refused stale one, show the newer state."""
        say_failed(self.app, error)
        if isinstance(error, StaleRecord) and self.on_stack:
            self.refresh_data()

    # --- checklist ------------------------------------------------------------------------

    def _item(self, index: int) -> PlanItem:
        return self.items[index]

    def _restore_tick(self, code: str, tick: Tick | None, after: int) -> Callable[[], None]:
        """An inverse operation putting an item back as it was; `after` is the version the
        change left (0: unticked). It is based on the version this screen wrote last, so
        it is refused if another terminal changed the item since."""
        self.written[("tick", code)] = after

        def run() -> None:
            key = ("tick", code)
            expected = self.written.get(key, 0)
            if tick is None:
                untick_item(self.db, self.visit_id, code, expected_version=expected)
                self.written[key] = 0
            else:
                self.written[key] = tick_item(
                    self.db, self.visit_id, code, tick.note, expected_version=expected
                )

        return run

    @on(Checklist.Toggled)
    def toggle_item(self, event: Checklist.Toggled) -> None:
        """Space: tick or untick an item, as it is shown."""
        item = self._item(event.option_index)
        before = self.shown_ticks.get(item.code)
        if before is None:
            what = _("tick of “{item}”", item=item.label)
        else:
            what = _("untick of “{item}”", item=item.label)

        def write() -> int:
            """The tick's version afterwards (0: unticked)."""
            if before is None:
                return tick_item(self.db, self.visit_id, item.code, expected_version=0)
            untick_item(self.db, self.visit_id, item.code, expected_version=before.version)
            return 0

        def saved(version: int) -> None:
            self.push_undo(what, self._restore_tick(item.code, before, version))
            if self.on_stack:
                self.refresh_checklist()

        save_patiently(self.app, write, saved, self.write_failed)

    @on(Checklist.EditNote)
    @on(OptionList.OptionSelected, "#checklist")
    def edit_note(self, event: OptionList.OptionMessage) -> None:
        """Enter or `d`: edit the dosage/parameter note of an item."""
        item = self._item(event.option_index)
        before = self.shown_ticks.get(item.code)
        self.ask_dosage(item, before, shown(before.note) if before else item.target)

    def ask_dosage(
        self, item: PlanItem, before: Tick | None, note: str, conflict: str = ""
    ) -> None:
        """The dosage dialog for `item` as shown (`before`); after a refused save it opens
        again with the typed `note` and why (`conflict`)."""

        def save(typed: str | None) -> None:
            if typed is None:
                return
            basis = before.version if before else 0

            def saved(version: int) -> None:
                self.push_undo(
                    _("dosage of “{item}”", item=item.label),
                    self._restore_tick(item.code, before, version),
                )
                if self.on_stack:
                    self.refresh_checklist()

            def failed(error: KinesioError) -> None:
                if not isinstance(error, StaleRecord | DatabaseBusy) or not self.on_stack:
                    say_failed(self.app, error)
                    return
                self.refresh_checklist()
                now = self.shown_ticks.get(item.code)
                if isinstance(error, StaleRecord):
                    theirs = (now.note or _("ticked, no dosage")) if now else _("not ticked")
                    why = _(
                        "Changed in another terminal: now “{theirs}”. "
                        "Enter saves yours over it; Esc keeps theirs.",
                        theirs=theirs,
                    )
                else:
                    why = _("Not saved: {reason} Enter tries again.", reason=error.message)
                self.ask_dosage(item, now, typed, why)

            save_patiently(
                self.app,
                lambda: tick_item(self.db, self.visit_id, item.code, typed, expected_version=basis),
                saved,
                failed,
            )

        self.app.push_screen(NoteDialog(item.label, note, conflict), save)

    # --- PIR and tests --------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "put_note_back":
            return bool(self._kept_note)
        is_doctor = self.visit.is_doctor
        if action in ("questionnaires", "tailor_plan"):
            return is_doctor
        if action == "name_doctor":
            return is_doctor
        if action == "discharge":
            if not is_doctor:
                return False  # (a therapy session's keys need no discharge code loaded)
            from kinesio_tui.domain.discharge import is_final_appointment

            return is_final_appointment(self.visit)
        if action in ("clear_hold", "referral"):  # a doctor's appointment, while on hold
            return is_doctor and self.hold is not None
        return not (action in ("pir", "last_session") and is_doctor)

    def action_name_doctor(self) -> None:
        """`w` at a doctor's appointment: name the doctor, when someone else types for them."""
        from kinesio_tui.views.asked import AskDialog, checked_name

        def chosen(name: str | None) -> None:
            if not name:
                return

            def named(visit: Visit) -> None:
                self.visit = replace(self.visit, doctor=visit.doctor, version=visit.version)
                if self.on_stack:
                    self.query_one("#visit-goal", Static).update(self.goal_text())
                self.notify(markup=False, message=_("Doctor: {name}.", name=visit.doctor))

            save_patiently(
                self.app,
                lambda: set_visit_doctor(
                    self.db, self.visit_id, name, expected_version=self.visit.version
                ),
                named,
                self.write_failed,
            )

        self.app.push_screen(
            AskDialog(
                _("Doctor of this appointment"),
                _("Who is the doctor? (You stay named as the one who typed it.)"),
                check=checked_name("doctor"),
                value=self.visit.doctor,
                dialog_id="name-doctor",
            ),
            chosen,
        )

    def action_clear_hold(self) -> None:
        """A doctor's clearance, at this doctor's appointment: therapy may go on."""
        hold = active_hold(self.db, self.episode.id)
        if hold is None or not self.visit.is_doctor:
            self.notify(markup=False, message=_("No red-flag hold to clear at this visit."))
            return

        def cleared(done: bool | str | None) -> None:
            if done:
                self.notify(markup=False, message=_("Hold cleared: therapy may go on."))
            if self.on_stack:
                self.refresh_alarm()

        self.app.push_screen(ClearanceDialog(hold, self.visit_id), cleared)

    def action_referral(self) -> None:
        """Record to whom, when and why the patient on hold was referred."""
        hold = active_hold(self.db, self.episode.id)
        if hold is None:
            self.notify(markup=False, message=_("No red-flag hold: nothing to refer."))
            return

        def saved(done: bool | str | None) -> None:
            if done:
                self.notify(markup=False, message=_("Referral recorded."))
            if self.on_stack:
                self.refresh_alarm()

        self.app.push_screen(ReferralDialog(hold), saved)

    def action_tailor_plan(self) -> None:
        """Tailor the patient's plan for this module: items, target dosages, home exercises."""
        from kinesio_tui.views.tailor import TailorScreen

        def done(saved: int | None) -> None:
            if saved:
                self.notify(
                    markup=False,
                    message=_("Plan saved: {n} changes for the coming sessions.", n=saved),
                )

        self.app.push_screen(TailorScreen(self.visit, self.patient.full_name), done)

    def action_discharge(self) -> None:
        """`D` at a module's final appointment: what the discharge letter says."""
        from kinesio_tui.views.discharge import DischargeDialog

        def done(saved: object) -> None:
            if saved is not None:
                self.notify(markup=False, message=_("Discharge saved for the letter."))

        self.app.push_screen(DischargeDialog(self.visit, self.episode), done)

    def action_questionnaires(self) -> None:
        """The patient's questionnaires at this doctor's appointment (ODI, NDI, RMDQ)."""
        from kinesio_tui.views.proms import PromScreen

        self.app.push_screen(PromScreen(self.visit_id))

    def action_last_session(self) -> None:
        """Show the last session in full (beside the checklist on a wide screen anyway)."""
        self.app.push_screen(LastSessionDialog(self.last_session_text(self.last_session())))

    def action_pir(self) -> None:
        """Open the PIR recorder; a recorded set ticks the module's PIR item."""
        from kinesio_tui.views.pir import PirResult, PirScreen

        def done(result: PirResult | None) -> None:
            if result is None:
                return
            pir_item = next((i for i in self.items if i.pir), None)

            def recorded(ticked: int | None) -> None:
                undo_tick = (
                    self._restore_tick(pir_item.code, None, ticked)
                    if pir_item is not None and ticked is not None
                    else None
                )

                def undo() -> None:
                    delete_pir_cycle(self.db, result.pir_id, expected_version=result.version)
                    if undo_tick is not None:
                        undo_tick()

                self.push_undo(_("PIR set {what}", what=result.summary), undo)
                if self.on_stack:
                    self.refresh_view()

            def not_ticked(error: KinesioError) -> None:
                self.write_failed(error)
                recorded(None)

            if pir_item is not None and pir_item.code not in self.shown_ticks:
                summary = result.summary
                save_patiently(
                    self.app,
                    lambda: tick_item(
                        self.db, self.visit_id, pir_item.code, summary, expected_version=0
                    ),
                    recorded,
                    not_ticked,
                )
            else:
                recorded(None)

        clock: Callable[[], float] = time.monotonic
        if self.pir_clock is not None:
            clock = self.pir_clock
        elif callable(app_clock := getattr(self.app, "clock", None)):
            clock = app_clock
        self.app.push_screen(PirScreen(self.visit_id, clock=clock), done)

    def action_record_test(self) -> None:
        """Record one clinical test result."""
        from kinesio_tui.views.record_test import RecordTestDialog

        def done(result: RecordedResult | None) -> None:
            if result is not None:
                self.push_recorded(result)
                self.refresh_view()

        self.app.push_screen(RecordTestDialog(self.visit_id, self.episode.side), done)

    def push_recorded(self, result: RecordedResult) -> None:
        """Remember how to undo a recorded test result."""
        previous = result.previous

        key = ("test", result.test_code, result.side or "")
        self.written[key] = result.version

        def undo() -> None:
            expected = self.written.get(key, 0)
            if previous is None:
                delete_measurement(self.db, result.measurement_id, expected_version=expected)
                self.written[key] = 0
            else:
                measurement_id = record_measurement(
                    self.db,
                    self.visit_id,
                    previous.test_code,
                    previous.value,
                    previous.side,
                    expected_version=expected,
                )
                self.written[key] = next(
                    m.version
                    for m in measurements_of(self.db, self.visit_id)
                    if m.id == measurement_id
                )

        self.push_undo(result.description, undo)

    def on_doctor_form_check_entered(self, event: DoctorForm.CheckEntered) -> None:
        """Save a doctor's check the form was given, based on the version it showed; tell
        the form how it went. A saved check can be undone."""
        from kinesio_tui.views.record_test import record_result

        form, test, side, value = event.form, event.test, event.side, event.value

        def write() -> RecordedResult:
            return record_result(
                self.host, self.visit_id, test.code, value, side, expected_version=event.version
            )

        def saved(result: RecordedResult) -> None:
            self.push_recorded(result)
            if form.is_attached:
                form.check_saved(test, side, value, result)
                self.refresh_records()

        def failed(problem: KinesioError) -> None:
            newer = None
            if isinstance(problem, StaleRecord) and form.is_attached:
                newer = next(
                    (
                        m
                        for m in measurements_of(self.db, self.visit_id)
                        if m.test_code == test.code and m.side == side
                    ),
                    None,
                )
            if not form.is_attached or not form.check_refused(test, side, value, problem, newer):
                say_failed(self.app, problem)

        save_patiently(self.app, write, saved, failed)

    def on_doctor_form_flags_ticked(self, event: DoctorForm.FlagsTicked) -> None:
        """Record the red-flag screen the form's boxes show, based on the one they showed."""
        form, flags = event.form, event.flags

        def write() -> int:
            return screen_red_flags(
                self.db,
                self.episode.id,
                flags,
                visit_id=self.visit_id,
                today=self.host.today,
                expected_version=event.version,
            )

        def saved(screen_id: int) -> None:
            form.flags_saved(screen_id, flags, event.box)
            self.flags_screened(flags)

        def failed(problem: KinesioError) -> None:
            say_failed(self.app, problem)
            if not isinstance(problem, StaleRecord | DatabaseBusy) or not form.is_attached:
                return
            form.flags_refused(
                latest_red_flag_screen(self.db, self.episode.id), event.box, event.wanted
            )
            self.flags_screened(form.flags_shown)

        save_patiently(self.app, write, saved, failed)

    def flags_screened(self, flags: list[str]) -> None:
        """The red-flag screen is now `flags`: update the banner, and say so when raised."""
        if not self.on_stack:
            return
        self.refresh_alarm()
        if flags:
            self.notify(
                markup=False,
                message=_(
                    "Red flag raised: refer the patient to a doctor now (r records the "
                    "referral). Therapy is on hold until a doctor clears it (h)."
                ),
                title=_("Red flag"),
                severity="error",
            )

    # --- note -----------------------------------------------------------------------------

    def action_focus_note(self) -> None:
        """Move to the visit note."""
        self.query_one("#visit-note", TextArea).focus()

    @on(TextArea.Changed, "#visit-note")
    def note_changed(self, event: TextArea.Changed) -> None:
        """Save after a pause in typing."""
        self._note_text = event.text_area.text
        if self._note_timer is not None:
            self._note_timer.stop()
        self._note_timer = self.set_timer(NOTE_SAVE_DELAY, self.save_note)

    @on(events.DescendantBlur)
    def note_left(self, event: events.DescendantBlur) -> None:
        if event.widget.id == "visit-note":
            self.save_note()

    def save_note(self) -> None:
        """Write the note if it changed since the last save, based on the visit as shown."""
        if self._note_saving:
            return  # a save already queued writes the latest text when its turn comes
        if self._note_text.strip() == self._saved_note.strip():
            return
        self._note_saving = True

        def write() -> tuple[str, int]:
            text = self._note_text
            version = set_visit_note(
                self.db, self.visit_id, text, expected_version=self.visit.version
            )
            return text, version

        def saved(done: tuple[str, int]) -> None:
            self._note_saving = False
            text, version = done
            self._saved_note = text
            self.visit = replace(self.visit, note=text, version=version)
            if self._note_text.strip() != text.strip() and self.on_stack:
                self.save_note()  # typed on while it waited

        def failed(error: KinesioError) -> None:
            self._note_saving = False
            if isinstance(error, StaleRecord) and self.on_stack:
                self.note_changed_elsewhere()
            say_failed(self.app, error)  # busy: the text stays in the field, unsaved

        save_patiently(self.app, write, saved, failed)

    def note_changed_elsewhere(self) -> None:
        """Show the note another terminal saved; keep what was typed here, below it."""
        typed = self._note_text
        self.show_visit_note(get_visit(self.db, self.visit_id))
        if typed.strip() and typed.strip() != self._saved_note.strip():
            self._kept_note = typed
            kept = self.query_one("#note-kept", Static)
            kept.update(
                _("Your note, not saved (Ctrl+R puts it back after theirs):\n{typed}", typed=typed)
            )
            kept.display = True
            self.refresh_bindings()

    def action_put_note_back(self) -> None:
        """Ctrl+R: add the note typed here back, after the one another terminal saved."""
        if not self._kept_note:
            return
        note = self.query_one("#visit-note", TextArea)
        kept, self._kept_note = self._kept_note, ""
        note.text = f"{note.text}\n{kept}" if note.text.strip() else kept
        note.move_cursor(note.document.end)
        note.focus()
        self.query_one("#note-kept", Static).display = False
        self.refresh_bindings()

    def on_unmount(self) -> None:
        """Quitting the app mid-typing (Ctrl+Q) still keeps the last words of the note."""
        if self._note_text.strip() != self._saved_note.strip() and not self._note_saving:
            # the app may have closed its connection first (DatabaseGone); nothing more can
            # be done then
            with contextlib.suppress(KinesioError):
                set_visit_note(
                    self.db, self.visit_id, self._note_text, expected_version=self.visit.version
                )

    # --- leaving --------------------------------------------------------------------------

    def action_back(self) -> None:
        """Escape: out of a field back to the list or form (keys work again), else leave."""
        if isinstance(self.focused, TextArea | Input | Select):
            self.save_note()
            if self.visit.is_doctor:
                from kinesio_tui.views.doctor import DoctorForm

                self.query_one(DoctorForm).focus()
            else:
                self.query_one(Checklist).focus()
            return
        self.save_note()
        if self.note_at_risk():
            return
        self.dismiss(False)

    def save_before_leaving(self) -> bool:
        """For quitting: save the note now; True (and says why) if something is unsaved."""
        self.save_note()
        return self.note_at_risk()

    def note_at_risk(self) -> bool:
        """True (and says so) while typed note text is not saved: leaving would lose it."""
        if self._kept_note:
            self.notify(
                markup=False,
                message=_(
                    "Your note was not saved (changed in another terminal): "
                    "Ctrl+R puts it back, then leave or complete."
                ),
                title=_("Note not saved"),
                severity="warning",
            )
            return True
        if self._note_saving or write_queue(self.app).waiting:
            self.notify(
                markup=False,
                message=_("Still saving (the database is busy): try again in a moment."),
                title=_("Waiting for the database"),
                severity="warning",
            )
            return True
        return False

    def action_complete(self) -> None:
        """Complete the visit (asking first when checklist items are unticked)."""
        self.save_note()
        if self.note_at_risk():
            return
        if self.visit.is_doctor:
            self._complete()
            return
        missing = sum(1 for item in self.items if item.code not in self.shown_ticks)
        if not missing:
            self._complete()
            return
        question = _(
            "{missing} of {total} checklist items are not ticked.\nComplete the visit anyway?",
            missing=missing,
            total=len(self.items),
        )
        from kinesio_tui.views.widgets import Confirm

        self.app.push_screen(Confirm(question), lambda yes: self._complete() if yes else None)

    def _complete(self) -> None:
        def completed(_visit: Visit) -> None:
            self.notify(
                markup=False,
                message=_(
                    "Visit {n}/{total} completed.",
                    n=self.visit.number,
                    total=protocol().visits_per_module,
                ),
            )
            if self.is_current:
                self.dismiss(True)

        save_patiently(
            self.app,
            lambda: complete_visit(self.db, self.visit_id, expected_version=self.visit.version),
            completed,
            self.write_failed,
        )
