"""The PIR recorder: set up a muscle, pace the cycles with a large countdown, log as it goes.

Rows: one `pir_cycles` row per set (muscle + side + parameters). It is written when the
first cycle completes (cycles = 1) and its `cycles` count is updated as each further cycle
completes, so leaving mid-way keeps exactly the cycles already done. ROM and pain after are
written into the same row at the end. Each update is based on the set's version as this
screen last wrote it (refused if another terminal changed the set meanwhile).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar, cast

from textual import on
from textual.app import ComposeResult, RenderResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.geometry import Size
from textual.widgets import Button, Digits, Input, Select, Static

from kinesio_tui.domain.episodes import get_episode
from kinesio_tui.domain.models import PirCycle
from kinesio_tui.domain.patients import get_patient
from kinesio_tui.domain.visits import (
    get_visit,
    record_pir_cycle,
    update_pir_cycle,
    validate_pir_cycle,
)
from kinesio_tui.errors import DatabaseBusy, KinesioError, ValidationError
from kinesio_tui.i18n import _
from kinesio_tui.pir_pacer import CycleCompleted, Finished, Phase, PhaseChanged, PirPacer
from kinesio_tui.protocol import protocol
from kinesio_tui.views.choice import Choice
from kinesio_tui.views.db_wait import save_patiently, say_failed
from kinesio_tui.views.footer import KeyFooter
from kinesio_tui.views.laid_out_once import LaidOutOnce
from kinesio_tui.views.styled_once import BuiltScreen, FieldInput
from kinesio_tui.views.visit import VisitHost, describe_pir

#: How often the countdown re-reads the clock (seconds).
TICK_S = 0.1
OTHER = "__other__"

PHASE_TEXT = {
    Phase.READY: ("◇", "Ready: Space starts"),
    Phase.TENSE: ("▲", "Tense gently"),
    Phase.RELAX: ("▼", "Relax and breathe out"),
    Phase.SLACK: ("→", "Take up the slack"),
    Phase.DONE: ("■", "Done: record ROM and pain after"),
}

# validate_pir_cycle's field names -> the input showing the message next to it
FIELD_IDS = {
    "muscle": "muscle",
    "side": "side",
    "effort": "effort",
    "tension": "tension",
    "relaxation": "relaxation",
    "cycles": "cycles",
    "ROM before": "rom-before",
    "pain before": "pain-before",
    "ROM after": "rom-after",
    "pain after": "pain-after",
}


class FieldRow(Horizontal):
    """A field of the recorder with its label drawn left of it and what is wrong with its
    value drawn right of it, by the row: a Label and an error Static per field were two
    thirds of the recorder's widgets, each styled and laid out at every first open (traced).
    The label column is the field's left margin (visit.tcss: `PirScreen .field-row > *`);
    the error wraps in what the field leaves."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"field-row--label", "field-row--error"}
    DEFAULT_CSS = """
    FieldRow > .field-row--error {
        color: $error;
        text-style: bold;
    }
    """
    #: Blank cells between the field and what is wrong with it.
    ERROR_GAP = 2

    def __init__(self, label: str, field: Input | Select[str], *, id: str) -> None:
        super().__init__(field, classes="field-row", id=id)
        self.label = label
        self.field = field
        #: What is wrong with the field's value ("✖ ..."), or "".
        self.error = ""

    def show_error(self, error: str) -> None:
        """Say what is wrong with the field's value ("" says nothing)."""
        if error != self.error:
            self.error = error
            self.refresh(layout=True)

    def label_width(self) -> int:
        return max(1, self.field.styles.margin.left)

    def error_x(self) -> int:
        width = self.field.styles.width
        return self.label_width() + int(width.value if width else 0) + self.ERROR_GAP

    def label_lines(self) -> list[Content]:
        return Content(self.label).wrap(self.label_width())

    def error_lines(self, width: int) -> list[Content]:
        room = width - self.error_x()
        return Content(self.error).wrap(room) if self.error and room > 0 else []

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self.label_lines()), len(self.error_lines(width)))

    def render(self) -> RenderResult:
        labels = [
            line.truncate(self.label_width()).stylize(self.get_visual_style("field-row--label"))
            for line in self.label_lines()
        ]
        errors = self.error_lines(self.content_size.width)
        style = self.get_visual_style("field-row--error")
        at = self.error_x()
        lines = []
        for index in range(max(len(labels), len(errors), 1)):
            line = labels[index] if index < len(labels) else Content()
            if index < len(errors):
                line = Content.assemble(
                    line, " " * max(0, at - line.cell_length), errors[index].stylize(style)
                )
            lines.append(line)
        return Content("\n").join(lines)


@dataclass(frozen=True)
class PirResult:
    """The set written by the recorder."""

    pir_id: int
    cycle: PirCycle
    #: The set's version as written here (what undoing it is based on).
    version: int = 1

    @property
    def summary(self) -> str:
        return describe_pir(self.cycle)


class PirScreen(LaidOutOnce[PirResult | None], BuiltScreen[PirResult | None]):
    """Record a PIR set; `clock` (seconds, monotonic) can be a fake in tests."""

    CSS_PATH = "visit.tcss"
    BINDINGS = [
        Binding("escape", "leave", _("Leave"), tooltip=_("Leave; the cycles done are kept")),
        Binding("space", "start_pause", _("Pause/Resume")),
        Binding("b", "toggle_bell", _("Bell")),
        Binding("ctrl+s", "save", _("Start/Save"), priority=True),
    ]

    help_title = _("PIR recorder")

    def __init__(self, visit_id: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.visit_id = visit_id
        self.clock = clock
        self.stage = "setup"  # setup -> run -> after
        self.pacer: PirPacer | None = None
        self.cycle: PirCycle | None = None
        self.pir_id: int | None = None
        #: The set's version as this screen last wrote it.
        self.pir_version = 0
        self.bell = False
        self._last = 0.0

    @property
    def host(self) -> VisitHost:
        return cast(VisitHost, self.app)

    def compose(self) -> ComposeResult:
        pir = protocol().pir
        visit = get_visit(self.host.db, self.visit_id)
        patient = get_patient(self.host.db, get_episode(self.host.db, visit.episode_id).patient_id)
        yield Static(
            markup=False,
            content=_("Post-isometric relaxation (PIR) · {name}", name=patient.full_name),
            id="pir-title",
        )
        with Vertical(id="pir-setup"):
            yield from self.field(
                _("Muscle"),
                Choice(
                    [*((m, m) for m in pir.muscles), (_("other…"), OTHER)],
                    value=pir.muscles[0],
                    allow_blank=False,
                    id="muscle",
                    compact=True,
                ),
                "muscle",
            )
            # the other muscle's row is mounted when "other…" is chosen (other_muscle_row)
            yield from self.field(
                _("Side"),
                Choice(
                    [(_("Left"), "L"), (_("Right"), "R"), (_("Both"), "both")],
                    value="both",
                    allow_blank=False,
                    id="side",
                    compact=True,
                ),
                "side",
            )
            yield from self.number_field(_("Effort %"), "effort", pir.effort_pct, "5–100 %")
            yield from self.number_field(_("Tension s"), "tension", pir.tension_s, "1–60 s")
            yield from self.number_field(
                _("Relaxation s"), "relaxation", pir.relaxation_s, "1–120 s"
            )
            yield from self.number_field(_("Cycles"), "cycles", pir.cycles, "1–20")
            yield from self.number_field(_("ROM before °"), "rom-before", None, "0–180 °")
            yield from self.number_field(_("Pain before"), "pain-before", None, "0–10")
            yield Button(_("Start (Ctrl+S)"), id="start", variant="primary", compact=True)
        # the countdown and the after stage are built as pacing starts (build_later_stages)
        yield KeyFooter(compact=True)

    def field(self, label: str, widget: Input | Select[str], key: str) -> ComposeResult:
        yield FieldRow(label, widget, id=f"row-{key}")

    def number_field(self, label: str, key: str, value: int | None, hint: str) -> ComposeResult:
        widget = FieldInput(
            "" if value is None else str(value), id=key, compact=True, placeholder=hint
        )
        yield from self.field(label, widget, key)

    def build_later_stages(self) -> None:
        """The countdown and the after stage, mounted (hidden) as pacing starts.

        The recorder opens on its setup alone: every widget a screen holds costs its first
        open (mounting, styling), and these ~17 are not shown before Start.
        """
        if self.query("#pir-run"):
            return
        run, after = Vertical(id="pir-run"), Vertical(id="pir-after")
        run.display = after.display = False
        self.mount(run, after, before=self.query_one(KeyFooter))
        run.mount(
            Static(markup=False, content="", id="pir-phase"),
            Digits("", id="pir-countdown"),
            Static(markup=False, content="", id="pir-cycle"),
            Static(markup=False, content="", id="pir-hint"),
        )
        after.mount(
            Static(markup=False, content="", id="pir-done"),
            *self.number_field(_("ROM after °"), "rom-after", None, "0–180 °"),
            *self.number_field(_("Pain after"), "pain-after", None, "0–10"),
            Button(_("Save (Enter)"), id="save-after", variant="primary", compact=True),
        )

    def other_muscle_row(self) -> FieldRow:
        """The row to type a muscle not on the list in, mounted (hidden) when first needed."""
        for row in self.query("#row-other-muscle").results(FieldRow):
            return row
        row = FieldRow(
            _("Other muscle"),
            FieldInput(id="other-muscle", compact=True, placeholder=_("type the muscle")),
            id="row-other-muscle",
        )
        row.display = False
        self.query_one("#pir-setup", Vertical).mount(row, after=self.query_one("#row-muscle"))
        return row

    def on_mount(self) -> None:
        self.show_stage("setup")
        self.query_one("#muscle").focus()
        self.set_interval(TICK_S, self.tick)

    def show_stage(self, stage: str) -> None:
        self.stage = stage
        for name in ("setup", "run", "after"):
            for part in self.query(f"#pir-{name}"):  # (run and after: once built)
                part.display = name == stage
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("start_pause", "toggle_bell"):
            return self.stage == "run"
        if action == "save":
            return self.stage in ("setup", "after")
        return True

    # --- setup ----------------------------------------------------------------------------

    @on(Select.Changed, "#muscle")
    def muscle_chosen(self, event: Select.Changed) -> None:
        if event.value == OTHER or self.query("#row-other-muscle"):
            self.other_muscle_row().display = event.value == OTHER

    def value(self, key: str) -> str:
        return self.query_one(f"#{key}", Input).value

    def show_error(self, error: ValidationError) -> None:
        key = FIELD_IDS.get(error.field, "muscle")
        if key == "muscle" and self.query_one("#muscle", Select).value == OTHER:
            key = "other-muscle"
            self.other_muscle_row().display = True
        self.query_one(f"#row-{key}", FieldRow).show_error("✖ " + error.reason)

    def clear_errors(self) -> None:
        for row in self.query(FieldRow):
            row.show_error("")

    def setup_cycle(self) -> PirCycle:
        muscle_select = self.query_one("#muscle", Select)
        muscle = cast(str, muscle_select.value)
        if muscle == OTHER:
            muscle = self.value("other-muscle") if self.query("#other-muscle") else ""
        return PirCycle(
            muscle=muscle,
            side=cast(str, self.query_one("#side", Select).value),
            tension_s=cast(int, self.value("tension")),
            effort_pct=cast(int, self.value("effort")),
            relaxation_s=cast(int, self.value("relaxation")),
            cycles=cast(int, self.value("cycles")),
            rom_before=cast(float | None, self.value("rom-before")),
            pain_before=cast(float | None, self.value("pain-before")),
        )

    @on(Input.Submitted)
    @on(Button.Pressed)
    def action_save(self) -> None:
        """Enter: start pacing (setup) or save ROM and pain after (end)."""
        if self.stage == "setup":
            self.start()
        elif self.stage == "after":
            self.save_after()

    def start(self) -> None:
        self.clear_errors()
        try:
            # validated as typed; the domain turns "7" into 7 and says what is allowed
            row = validate_pir_cycle(self.setup_cycle())
        except ValidationError as error:
            self.show_error(error)
            return
        self.cycle = PirCycle(**row)
        self.pacer = PirPacer(self.cycle.tension_s, self.cycle.relaxation_s, self.cycle.cycles)
        self.build_later_stages()
        self.show_stage("run")
        self.query_one("#pir-run").focus()
        self._last = self.clock()
        self.handle(self.pacer.start())
        self.show_countdown()

    # --- pacing ---------------------------------------------------------------------------

    def action_start_pause(self) -> None:
        """Space: pause or resume the countdown."""
        if self.pacer is None:
            return
        self._last = self.clock()
        self.handle(self.pacer.toggle())
        self.show_countdown()

    def action_toggle_bell(self) -> None:
        """Ring the terminal bell at each phase change, or stop."""
        self.bell = not self.bell
        self.notify(markup=False, message=_("Bell on") if self.bell else _("Bell off"))
        self.show_countdown()

    def tick(self) -> None:
        """Let the clock's time pass into the pacer; called by the interval (or a test)."""
        now = self.clock()
        dt, self._last = now - self._last, now
        if self.pacer is None or self.stage != "run":
            return
        events = self.pacer.advance(dt)
        self.handle(events)
        self.show_countdown()

    def handle(self, events: list[PhaseChanged | CycleCompleted | Finished]) -> None:
        for event in events:
            if isinstance(event, PhaseChanged) and self.bell:
                self.app.bell()
            elif isinstance(event, CycleCompleted):
                self.log_cycles(event.cycle)
            elif isinstance(event, Finished):
                self.finish()

    def log_cycles(self, done: int) -> None:
        """Write the set as soon as a cycle completes; later cycles update its count."""
        assert self.cycle is not None
        cycle = self.cycle = replace(self.cycle, cycles=done)

        def write() -> None:  # in turn: a set still waiting to be written is written first
            if self.pir_id is None:
                self.pir_id = record_pir_cycle(self.host.db, self.visit_id, cycle)
                self.pir_version = 1
            else:
                self.pir_version = update_pir_cycle(
                    self.host.db, self.pir_id, cycle, expected_version=self.pir_version
                )

        save_patiently(self.app, write, lambda _done: None, lambda e: say_failed(self.app, e))

    def show_countdown(self) -> None:
        if self.pacer is None or self.cycle is None:
            return
        glyph, words = PHASE_TEXT[self.pacer.phase]
        paused = self.pacer.paused and not self.pacer.finished
        phase = self.query_one("#pir-phase", Static)
        phase.update(
            f"{glyph} {_(words).upper()}" + (_("  ‖ PAUSED (Space resumes)") if paused else "")
        )
        for name in ("tense", "relax", "slack"):
            phase.set_class(self.pacer.phase.value == name, f"-{name}")
        self.query_one("#pir-countdown", Digits).update(str(math.ceil(self.pacer.remaining_s)))
        self.query_one("#pir-cycle", Static).update(
            _(
                "{muscle} {side} · cycle {n} of {total} · done {done} · "
                "tense {t} s, relax {r} s, effort {e}%",
                muscle=self.cycle.muscle,
                side=self.cycle.side,
                n=self.pacer.cycle,
                total=self.pacer.cycles,
                done=self.pacer.completed_cycles,
                t=self.cycle.tension_s,
                r=self.cycle.relaxation_s,
                e=self.cycle.effort_pct,
            )
        )
        self.query_one("#pir-hint", Static).update(
            _(
                "Space pause/resume · b bell: {bell} · Esc leave (done cycles are kept)",
                bell=_("on") if self.bell else _("off"),
            )
        )

    def finish(self) -> None:
        assert self.cycle is not None
        self.show_stage("after")
        self.query_one("#pir-done", Static).update(
            _("■ {n} cycles done. ROM and pain after:", n=self.cycle.cycles)
        )
        self.query_one("#rom-after").focus()

    # --- the end --------------------------------------------------------------------------

    def save_after(self) -> None:
        assert self.cycle is not None
        self.clear_errors()
        cycle = replace(
            self.cycle,
            rom_after=cast(float | None, self.value("rom-after")),
            pain_after=cast(float | None, self.value("pain-after")),
        )
        try:
            row = validate_pir_cycle(cycle)
        except ValidationError as error:
            self.show_error(error)
            return

        def write() -> None:
            if self.pir_id is not None:
                self.pir_version = update_pir_cycle(
                    self.host.db, self.pir_id, cycle, expected_version=self.pir_version
                )

        def saved(_done: None) -> None:
            self.cycle = PirCycle(**row)
            if self.is_current:
                self.leave()

        def failed(error: KinesioError) -> None:
            if isinstance(error, ValidationError) and self.is_current:
                self.show_error(error)
            elif isinstance(error, DatabaseBusy) and self.is_current:
                # ROM and pain after stay in their fields; Enter tries again
                self.query_one("#row-rom-after", FieldRow).show_error("✖ " + error.message)
            else:
                say_failed(self.app, error)

        save_patiently(self.app, write, saved, failed)

    def action_leave(self) -> None:
        """Escape: back to the visit; cycles already done stay recorded."""
        self.leave()

    def leave(self) -> None:
        if self.pir_id is None or self.cycle is None:
            self.dismiss(None)
            return
        self.notify(markup=False, message=_("PIR recorded: {what}", what=describe_pir(self.cycle)))
        self.dismiss(PirResult(self.pir_id, self.cycle, self.pir_version))
