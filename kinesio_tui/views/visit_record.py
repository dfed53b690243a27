"""A held visit, read back: its checklist and dosages, PIR sets, test results, note, who held
it and when, and what was amended since.

Nothing on this screen writes by itself: the visit screen's keys (Space, d, p, t, n, c,
Ctrl+Z) are not here. Three keys ask first and write only with a reason: `x` corrects the
highlighted value, Del removes it, `o` reopens the visit (only while the next visit has
not started). Each amendment is based on the version shown: one made from a stale screen
(another terminal amended first) is refused, and the newer values are shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from kinesio_tui.domain.amendments import (
    amendments_of,
    correct_dosage,
    correct_measurement,
    correct_pir_set,
    pir_set_versions,
    remove_measurement,
    remove_pir_set,
    remove_tick,
    reopen_refusal,
    reopen_visit,
)
from kinesio_tui.domain.episodes import get_episode
from kinesio_tui.domain.models import Measurement, PirCycle, Tick, Visit
from kinesio_tui.domain.patients import get_patient
from kinesio_tui.domain.visits import (
    checklist_for_visit,
    doctor_checks_for_visit,
    get_visit,
    measurements_of,
    pir_cycles_of,
    ticks_of,
)
from kinesio_tui.errors import KinesioError, StaleRecord, ValidationError
from kinesio_tui.i18n import _
from kinesio_tui.plain_text import shown
from kinesio_tui.protocol import protocol
from kinesio_tui.views.asked import AskDialog, checked_reason
from kinesio_tui.views.db_wait import save_patiently, say_failed
from kinesio_tui.views.footer import KeyFooter
from kinesio_tui.views.visit import describe_measurement, describe_pir, held_by
from kinesio_tui.views.workstation import Workstation, workstation

KIND_WORDS = {
    "reopen": _("Reopened"),
    "correct": _("Corrected"),
    "remove": _("Removed"),
}


@dataclass(frozen=True)
class Recorded:
    """One line of the record a correction can act on."""

    kind: str  # tick / pir / test
    label: str
    value: str  # as a correction dialog starts from
    version: int
    key: str  # item code, PIR set id or measurement id
    test_code: str = ""
    side: str | None = None


def pir_line(cycle: PirCycle) -> str:
    """A PIR set as its correction is typed: cycles; ROM before; after; pain before; after."""

    def part(value: float | None) -> str:
        return "-" if value is None else f"{value:g}"

    return "; ".join(
        [
            str(cycle.cycles),
            part(cycle.rom_before),
            part(cycle.rom_after),
            part(cycle.pain_before),
            part(cycle.pain_after),
        ]
    )


def parse_pir_line(cycle: PirCycle, text: str) -> PirCycle:
    """The set with the five typed values (`-` for none); ValidationError if not five."""
    parts = [p.strip() for p in text.split(";")]
    if len(parts) != 5:
        raise ValidationError(
            "PIR set",
            _("give five values: cycles; ROM before; ROM after; pain before; pain after"),
        )

    def value(p: str) -> str | None:
        return None if p in ("", "-") else p

    cycles, rom_b, rom_a, pain_b, pain_a = (value(p) for p in parts)
    return PirCycle(
        muscle=cycle.muscle,
        side=cycle.side,
        tension_s=cycle.tension_s,
        effort_pct=cycle.effort_pct,
        relaxation_s=cycle.relaxation_s,
        cycles=cycles,  # type: ignore[arg-type]  # checked as a whole number by the domain
        rom_before=rom_b,  # type: ignore[arg-type]  # the domain parses and checks numbers
        rom_after=rom_a,  # type: ignore[arg-type]
        pain_before=pain_b,  # type: ignore[arg-type]
        pain_after=pain_a,  # type: ignore[arg-type]
    )


class RecordList(OptionList):
    """The visit's recorded values; `x` corrects the highlighted one, Del removes it."""


class VisitRecordScreen(Screen[None]):
    """A held visit, read-only; corrections and reopening ask for a reason first."""

    CSS_PATH = "visit.tcss"
    help_title = _("Held visit (read-only)")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", _("Back")),
        Binding("x", "correct", _("Correct"), tooltip=_("Correct the highlighted value")),
        Binding("delete", "remove", _("Remove"), tooltip=_("Remove the highlighted value")),
        Binding("o", "reopen", _("Reopen"), tooltip=_("Reopen a visit completed by mistake")),
        Binding("ctrl+z", "undo", _("Undo"), show=False),
    ]

    def __init__(self, visit_id: int) -> None:
        super().__init__(classes="-record")
        self.visit_id = visit_id
        #: The visit as shown (read as the screen mounts): amendments are based on it.
        self.visit: Visit | None = None
        self.entries: list[Recorded | None] = []

    @property
    def kapp(self) -> Workstation:
        return workstation(self.app)

    def compose(self) -> ComposeResult:
        yield Static(markup=False, content="", id="record-header")
        with VerticalScroll(id="record-body"):
            yield Static(markup=False, content="", id="record-who")
            yield Static(markup=False, content="", id="record-amendments")
            yield RecordList(id="record-list")
            yield Static(markup=False, content="", id="record-note")
        yield KeyFooter(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.refresh_data()
        self.query_one(RecordList).focus()

    # --- reading --------------------------------------------------------------------------

    def refresh_data(self) -> None:
        """Read the visit again (another terminal may have amended it)."""
        db = self.kapp.db
        visit = self.visit = get_visit(db, self.visit_id)
        episode = get_episode(db, visit.episode_id)
        patient = get_patient(db, episode.patient_id)
        proto = protocol()
        kind = proto.slot(visit.number).label if visit.is_doctor else _("Therapy session")
        header = Text(patient.full_name, style="bold")
        header.append(
            _(
                " · M{m} visit {n}/{total} · {kind} · read-only",
                m=visit.module,
                n=visit.number,
                total=proto.visits_per_module,
                kind=kind,
            )
        )
        self.query_one("#record-header", Static).update(header)
        self.query_one("#record-who", Static).update(self.who_text(visit))
        self.query_one("#record-amendments", Static).update(self.amendments_text())
        self.show_entries(visit)
        note = Text(_("Note: "), style="bold")
        note.append(shown(visit.note) if visit.note.strip() else _("none"))
        self.query_one("#record-note", Static).update(note)

    def who_text(self, visit: Visit) -> Text:
        status = {"done": _("completed"), "planned": _("in progress")}.get(
            visit.status, visit.status
        )
        text = Text(held_by(visit), style="bold")
        text.append(
            _(
                "Held on {day}, started {start}, {status}{end}.",
                day=visit.held_on.isoformat() if visit.held_on else "?",
                start=_clock_time(visit.started_at),
                status=status,
                end=_(" {at}", at=_clock_time(visit.completed_at)) if visit.completed_at else "",
            )
        )
        return text

    def amendments_text(self) -> Text:
        text = Text()
        for a in amendments_of(self.kapp.db, self.visit_id):
            if text:
                text.append("\n")
            text.append(f"{KIND_WORDS.get(a.kind, a.kind)} {a.what}", style="bold")
            if a.kind != "reopen":
                was = a.old_value or _("none")
                change = f"{was} → {a.new_value}" if a.kind == "correct" else was
                text.append(f" ({change})")
            text.append(
                _(
                    " by {who} {at}: {why}",
                    who=a.amended_by,
                    at=_local_moment(a.recorded_at),
                    why=a.reason,
                )
            )
        return text

    def show_entries(self, visit: Visit) -> None:
        db = self.kapp.db
        listing = self.query_one(RecordList)
        highlighted = listing.highlighted
        listing.clear_options()
        self.entries = []
        options: list[Option | None] = []

        def heading(words: str) -> None:
            options.append(Option(Text(words, style="bold underline"), disabled=True))
            self.entries.append(None)

        def add(line: Text, entry: Recorded | None) -> None:
            options.append(Option(line))
            self.entries.append(entry)

        items = checklist_for_visit(db, visit)
        if items:
            ticks = ticks_of(db, visit.id)
            done = sum(1 for i in items if i.code in ticks)
            heading(_("Checklist {done}/{total}", done=done, total=len(items)))
            for item in items:
                tick: Tick | None = ticks.get(item.code)
                line = Text("[x] " if tick else "[ ] ")
                line.append(item.label, style="bold" if tick else "")
                if tick and tick.note:
                    line.append(f" · {tick.note}", style="italic")
                entry = (
                    Recorded("tick", item.label, tick.note, tick.version, item.code)
                    if tick
                    else None
                )
                add(line, entry)
        pir = pir_cycles_of(db, visit.id)
        heading(_("PIR sets") if pir else _("PIR sets: none"))
        versions = pir_set_versions(db, visit.id)
        for pir_id, cycle in pir:
            label = _("PIR {muscle} {side}", muscle=cycle.muscle, side=cycle.side)
            add(
                Text(describe_pir(cycle)),
                Recorded("pir", label, pir_line(cycle), versions[pir_id], str(pir_id)),
            )
        measured = measurements_of(db, visit.id)
        if visit.is_doctor and not measured:
            checks = doctor_checks_for_visit(db, visit)
            heading(_("Checks: none recorded of {n}", n=len(checks)))
        else:
            heading(_("Test results") if measured else _("Test results: none"))
        for m in measured:
            add(Text(describe_measurement(m)), self.test_entry(m))
        listing.add_options([o for o in options if o is not None])
        first = next((i for i, e in enumerate(self.entries) if e is not None), None)
        if highlighted is not None and highlighted < len(self.entries):
            listing.highlighted = highlighted
        elif first is not None:
            listing.highlighted = first

    @staticmethod
    def test_entry(m: Measurement) -> Recorded:
        test = protocol().test(m.test_code)
        label = (test.label if test else m.test_code) + (f" {m.side}" if m.side else "")
        value = (
            "" if m.value is None else f"{m.value:g}" if m.value_num is not None else str(m.value)
        )
        return Recorded("test", label, value, m.version, str(m.id), m.test_code, m.side)

    def highlighted_entry(self) -> Recorded | None:
        index = self.query_one(RecordList).highlighted
        if index is None or index >= len(self.entries):
            return None
        return self.entries[index]

    # --- amending -------------------------------------------------------------------------

    def ask_reason(self, title: str, context: str, then: Callable[[str], None]) -> None:
        """Ask why (required), then run `then` with the reason."""

        def given(reason: str | None) -> None:
            if reason:
                then(reason)

        self.app.push_screen(
            AskDialog(
                title,
                _("Why? The reason is kept with the amendment and on the audit trail."),
                check=checked_reason,
                placeholder=_("reason"),
                max_length=500,
                context=context,
                dialog_id="amend-reason",
            ),
            given,
        )

    def write(self, run: Callable[[], Any], done: str) -> None:
        def saved(_result: Any) -> None:
            self.notify(markup=False, message=done)
            if self.is_attached:
                self.refresh_data()

        def failed(error: KinesioError) -> None:
            say_failed(self.app, error)
            if isinstance(error, StaleRecord) and self.is_attached:
                self.refresh_data()

        save_patiently(self.app, run, saved, failed)

    def action_correct(self) -> None:
        """`x`: correct the highlighted value (the new value, then why)."""
        entry = self.highlighted_entry()
        if entry is None:
            self.notify(markup=False, message=_("Nothing recorded here to correct."))
            return
        db = self.kapp.db
        hint, check = self.value_rule(entry)

        def corrected(value: str | None) -> None:
            if value is None:
                return

            def run_with(reason: str) -> None:
                if entry.kind == "test":
                    self.write(
                        lambda: correct_measurement(
                            db, int(entry.key), value, reason, expected_version=entry.version
                        ),
                        _("Corrected: {what}.", what=entry.label),
                    )
                elif entry.kind == "pir":
                    cycle = dict(pir_cycles_of(db, self.visit_id)).get(int(entry.key))
                    if cycle is None:
                        self.refresh_data()
                        return
                    self.write(
                        lambda: correct_pir_set(
                            db,
                            int(entry.key),
                            parse_pir_line(cycle, value),
                            reason,
                            expected_version=entry.version,
                        ),
                        _("Corrected: {what}.", what=entry.label),
                    )
                else:
                    self.write(
                        lambda: correct_dosage(
                            db,
                            self.visit_id,
                            entry.key,
                            value,
                            reason,
                            expected_version=entry.version,
                        ),
                        _("Corrected: {what}.", what=entry.label),
                    )

            self.ask_reason(
                _("Why correct {what}?", what=entry.label),
                _("Was: {old} · now: {new}", old=entry.value or "-", new=value or "-"),
                run_with,
            )

        self.app.push_screen(
            AskDialog(
                _("Correct {what}", what=entry.label),
                hint,
                check=check,
                value=shown(entry.value),
                placeholder=_("the corrected value"),
                max_length=500,
                dialog_id="amend-value",
            ),
            corrected,
        )

    def value_rule(self, entry: Recorded) -> tuple[str, Callable[[str], str]]:
        """What a corrected value looks like, and its check (the domain's, before the reason)."""
        if entry.kind == "test":
            from kinesio_tui.domain.visits import validate_measurement

            test = protocol().test(entry.test_code)
            side = entry.side

            def check_test(text: str) -> str:
                validate_measurement(entry.test_code, text.strip(), side)
                return text.strip()

            if test and test.kind == "scale":
                hint = _("One of: {choices}.", choices=", ".join(test.choices))
            elif test and test.kind == "number":
                hint = _(
                    "A number from {lo:g} to {hi:g} {unit}.",
                    lo=test.min or 0,
                    hi=test.max or 0,
                    unit=test.unit,
                )
            else:
                hint = _("The finding, as text.")
            return hint, check_test
        if entry.kind == "pir":
            cycle = dict(pir_cycles_of(self.kapp.db, self.visit_id)).get(int(entry.key))

            def check_pir(text: str) -> str:
                from kinesio_tui.domain.visits import validate_pir_cycle

                if cycle is not None:
                    validate_pir_cycle(parse_pir_line(cycle, text))
                return text

            return (
                _("cycles; ROM before; ROM after; pain before; pain after (- for none)"),
                check_pir,
            )

        def check_dosage(text: str) -> str:
            from kinesio_tui.domain.validate import bounded_text

            return bounded_text("dosage", text, max_len=500)

        return _("Dosage / parameters, e.g. 3 × 10, 20 kg, 5 min."), check_dosage

    def action_remove(self) -> None:
        """Del: remove the highlighted value recorded by mistake (asks why)."""
        entry = self.highlighted_entry()
        if entry is None:
            self.notify(markup=False, message=_("Nothing recorded here to remove."))
            return
        db = self.kapp.db

        def run_with(reason: str) -> None:
            if entry.kind == "test":
                run: Callable[[], Any] = lambda: remove_measurement(  # noqa: E731
                    db, int(entry.key), reason, expected_version=entry.version
                )
            elif entry.kind == "pir":
                run = lambda: remove_pir_set(  # noqa: E731
                    db, int(entry.key), reason, expected_version=entry.version
                )
            else:
                run = lambda: remove_tick(  # noqa: E731
                    db, self.visit_id, entry.key, reason, expected_version=entry.version
                )
            self.write(run, _("Removed: {what}.", what=entry.label))

        self.ask_reason(
            _("Why remove {what}?", what=entry.label),
            _("Recorded: {old}", old=entry.value or _("ticked")),
            run_with,
        )

    def action_reopen(self) -> None:
        """`o`: reopen a visit completed by mistake (asks why; refused once the next started)."""
        db = self.kapp.db
        refusal = reopen_refusal(db, self.visit_id)
        if refusal is not None:
            self.notify(markup=False, message=refusal, title=_("Cannot reopen"), severity="warning")
            return
        if self.visit is None:
            return
        version, seq = self.visit.version, self.visit.seq

        def run_with(reason: str) -> None:
            def reopened(visit: Visit) -> None:
                self.notify(
                    markup=False,
                    message=_(
                        "Visit {seq} reopened: it is in progress again (Enter on it continues).",
                        seq=visit.seq,
                    ),
                )
                if self.is_current:
                    self.dismiss(None)

            def failed(error: KinesioError) -> None:
                say_failed(self.app, error)
                if self.is_attached:
                    self.refresh_data()

            save_patiently(
                self.app,
                lambda: reopen_visit(db, self.visit_id, reason, expected_version=version),
                reopened,
                failed,
            )

        self.ask_reason(
            _("Reopen visit {seq}?", seq=seq),
            _("It becomes the visit in progress again; everything recorded stays."),
            run_with,
        )

    def action_undo(self) -> None:
        """Ctrl+Z: nothing to undo on a held visit; say what to do instead."""
        self.notify(
            markup=False,
            message=_(
                "A held visit is not changed by undo: x corrects a value, Del removes it, "
                "o reopens the visit."
            ),
        )

    @on(OptionList.OptionSelected, "#record-list")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        """Enter on a value only says what can be done with it (it writes nothing)."""
        event.stop()
        if self.highlighted_entry() is not None:
            self.notify(markup=False, message=_("x corrects this value, Del removes it."))

    def action_back(self) -> None:
        """Back to the patient."""
        self.dismiss(None)


def _clock_time(stamp: str | None, shape: str = "%H:%M") -> str:
    """HH:MM of a stored UTC moment, in local time ('?' if none)."""
    if not stamp:
        return "?"
    from datetime import datetime

    try:
        return datetime.fromisoformat(stamp).astimezone().strftime(shape)
    except ValueError:
        return "?"


def _local_moment(stamp: str) -> str:
    """YYYY-MM-DD HH:MM of a stored UTC moment, in local time."""
    return _clock_time(stamp, "%Y-%m-%d %H:%M")
