"""The doctor's appointment form: the module's checks as typed fields, plus the red-flag screen.

Each field is saved when it changes (a choice at once, a typed value on Enter or on leaving
the field); a value that breaks the catalog's rules shows why next to the field and writes
nothing. The previous value from earlier visits of the episode is shown for comparison.
The form holds no connection: it posts what was entered, and the visit screen writes it
and tells the form how that went.

Each save is based on the version of the value the field shows. If another terminal saved
that check first, the save is refused: the field shows their value, the line under it says
so, and Ctrl+R in the field puts the typed value back (Enter then saves it over theirs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult, RenderResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Select, Static

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.models import Measurement, Visit
from kinesio_tui.domain.visits import measurements_of, visits_of
from kinesio_tui.errors import DatabaseBusy, KinesioError, StaleRecord, ValidationError
from kinesio_tui.i18n import _
from kinesio_tui.protocol import ClinicalTest, RedFlag, protocol
from kinesio_tui.units import value_with_unit
from kinesio_tui.views.choice import Choice
from kinesio_tui.views.flags import FlagBox
from kinesio_tui.views.layout import is_wide
from kinesio_tui.views.record_test import RecordedResult, allowed_text
from kinesio_tui.views.styled_once import FieldInput

Key = tuple[str, str | None]  # test code, side


def field_id(code: str, side: str | None) -> str:
    return f"f-{code}-{side or 'x'}"


def previous_values(db: ClinicDB, visit: Visit) -> dict[Key, tuple[float | str, int]]:
    """Each test's latest value (and visit number in the programme) before this visit."""
    found: dict[Key, tuple[float | str, int]] = {}
    for earlier in visits_of(db, visit.episode_id):
        if earlier.seq >= visit.seq or earlier.status != "done":
            continue
        for m in measurements_of(db, earlier.id):
            if m.value is not None:
                found[(m.test_code, m.side)] = (m.value, earlier.seq)
    return found


def same_value(saved: float | str | None, typed: object) -> bool:
    """Whether a typed value is the one already saved (so leaving the field writes nothing)."""
    if saved is None:
        return False
    if isinstance(saved, float) and isinstance(typed, str):
        try:
            return float(typed.strip().replace(",", ".")) == saved
        except ValueError:
            return False
    return saved == typed


class CheckRow(Horizontal):
    """One check's row: its fields as widgets; the check's name, the side letters before each
    field and the earlier value after them drawn by the row itself, in the margins the fields
    leave for them (visit.tcss: `.check-field.-first`, `.-second`). Two labels per sided
    check and a Static for the earlier value were two thirds of the form's widgets, each
    styled and laid out at every first open. The name wraps in its column (a long full name
    takes two lines on a wide screen), the earlier value in what is left right of the fields."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"check-row--side", "check-row--earlier"}
    DEFAULT_CSS = """
    CheckRow > .check-row--side {
        text-style: bold;
    }
    CheckRow > .check-row--earlier {
        color: $text-muted;
    }
    """

    def __init__(
        self, name: str, sides: tuple[str | None, ...], earlier: str = "", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.check_name = name
        self.sides = sides
        #: The earlier value and the allowed range, right of the fields ("was 5/10 (v7)").
        self.earlier = earlier

    def rename(self, name: str) -> None:
        """Name the check anew (the screen crossed the wide breakpoint)."""
        self.check_name = name
        self.refresh(layout=True)

    def fields(self) -> list[Widget]:
        """The row's fields, left to right (its only children: the line under the row is
        mounted after it, not in it)."""
        return list(self.children)

    def name_width(self) -> int:
        """The name's column: the first field's left margin, less its side letter's."""
        fields = self.fields()
        margin = fields[0].styles.margin.left if fields else 0
        return max(1, margin - (2 if self.sides[0] else 0))

    def name_lines(self) -> list[Content]:
        """The check's name, wrapped in its column as a label would wrap it."""
        width = self.name_width()
        return Content(self.check_name).wrap(width)

    def earlier_x(self) -> int:
        """Where the earlier value starts: after the fields and the margin right of the last
        (their widths and margins as the row lays them out, adjacent margins collapsed)."""
        x = right = 0
        for field in self.fields():
            margin = field.styles.margin
            x += max(right, margin.left) + int(
                field.styles.width.value if field.styles.width else 0
            )
            right = margin.right
        return x + right

    def earlier_lines(self, width: int) -> list[Content]:
        """The earlier value wrapped in what the row's `width` leaves right of the fields."""
        room = width - self.earlier_x()
        return Content(self.earlier).wrap(room) if self.earlier and room > 0 else []

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(
            super().get_content_height(container, viewport, width),
            len(self.name_lines()),
            len(self.earlier_lines(width)),
        )

    def render(self) -> RenderResult:
        """The name on the left, a side letter two cells before each sided field, the
        earlier value right of the fields."""
        names = [line.truncate(self.name_width()) for line in self.name_lines()] or [Content()]
        first_line = names[0]
        if self.sides[0]:
            side_style = self.get_visual_style("check-row--side")
            here = self.region.x
            for field, side in zip(self.fields(), self.sides, strict=False):
                x = field.region.x - here - 2
                if side and x >= first_line.cell_length:
                    first_line = Content.assemble(
                        first_line,
                        " " * (x - first_line.cell_length),
                        Content(side).stylize(side_style),
                    )
        lines = [first_line, *names[1:]]
        earlier = self.earlier_lines(self.content_size.width)
        if earlier:
            at = self.earlier_x()
            style = self.get_visual_style("check-row--earlier")
            lines += [Content()] * (len(earlier) - len(lines))
            lines = [
                Content.assemble(line, " " * max(0, at - line.cell_length), said.stylize(style))
                if index < len(earlier) and (said := earlier[index]).cell_length
                else line
                for index, line in enumerate(lines)
            ]
        return Content("\n").join(lines)


class DoctorForm(VerticalScroll):
    """The checks of a doctor's appointment. A dumb widget: the screen hands it what to
    show; it posts `CheckEntered` and `FlagsTicked`, and the screen writes and says how
    it went (`check_saved`, `check_refused`, `flags_saved`, `flags_refused`)."""

    BINDINGS = [Binding("ctrl+r", "put_back", _("Put mine back"))]

    @dataclass
    class CheckEntered(Message):
        """A value typed or chosen for a check, to save based on the version shown."""

        form: DoctorForm
        test: ClinicalTest
        side: str | None
        value: Any
        version: int  # of the value the field showed (0: none)

    @dataclass
    class FlagsTicked(Message):
        """The red-flag boxes now say `flags`: a new screen, based on the one shown."""

        form: DoctorForm
        flags: list[str]
        version: int  # the red-flag screen the boxes showed (0: none)
        box: str | None  # the box that changed
        wanted: bool  # what it was changed to

    def __init__(
        self,
        checks: Sequence[ClinicalTest],
        previous: dict[Key, tuple[float | str, int]],
        flags_screen: tuple[int, list[str]],
        asked_flags: Sequence[RedFlag],
        *,
        wide: bool = False,
    ) -> None:
        super().__init__(id="doctor-form")
        self.checks = tuple(checks)
        #: Each check's latest value from an earlier visit, shown beside its row.
        self.previous = previous
        self.saved: dict[Key, float | str] = {}
        #: The version of each value as shown (0: none), what its next save is based on.
        self.versions: dict[Key, int] = {}
        #: Checks whose save waits for the database.
        self.pending: set[Key] = set()
        #: What was typed (or chosen) in a field when another terminal's value replaced it.
        self.kept: dict[str, object] = {}
        #: The red-flag screen as shown: its id (the version a new screen is based on), flags.
        self.flags_version, self.flags_shown = flags_screen
        #: The flags asked about (the episode's condition's, and any raised besides).
        self.red_flags = tuple(asked_flags)
        #: Why a field's value was not saved, per field, until it is fixed or emptied.
        self.problems: dict[Key, str] = {}
        #: The last value saved on each row, said under it ("✔ VAS pain 4/10").
        self.confirmed: dict[str, str] = {}
        #: Rows whose last saved value is a clinically important worsening since baseline.
        self.worse: set[str] = set()
        #: The checks are named in full (a wide screen), else by their short names.
        self.wide = wide

    def compose(self) -> ComposeResult:
        yield Static(
            markup=False,
            content=_(
                "Doctor's checks · Enter or leaving a field saves it · ✔ saved · ✖ not saved"
            ),
            classes="section-title",
        )
        for test in self.checks:
            yield from self.check_row(test)
        yield Static(
            markup=False,
            content=_("Red-flag screen (any one: refer to a doctor now)"),
            classes="section-title",
        )
        raised = set(self.flags_shown)
        for flag in self.red_flags:
            yield FlagBox(flag.label, flag.code in raised, id=f"flag-{flag.code}", compact=True)

    def check_row(self, test: ClinicalTest) -> ComposeResult:
        """One check: its name, a field per side, the earlier value. The line under it (why
        a value was refused, the last one saved) is added when it first has something to
        say: every widget on the form costs its first open (traced: styling and layout of
        each of the ~250 widgets it had). The row draws the check's name and the side letters
        itself (CheckRow)."""
        sides: tuple[str | None, ...] = ("L", "R") if test.sided else (None,)
        with CheckRow(
            self.name_of(test),
            sides,
            self.previous_text(test, sides),
            classes="check-row",
            id=f"row-{test.code}",
        ):
            for index, side in enumerate(sides):
                yield self.make_field(test, side, "-first" if index == 0 else "-second")

    def name_of(self, test: ClinicalTest) -> str:
        """The catalog's short name on a narrow screen (13 characters at most), else in full."""
        return test.label if self.wide else test.short_label

    def on_mount(self) -> None:
        """Show the scrollbar from the start when the form cannot fit the terminal: Textual
        shows it after laying the form out, and showing it lays the screen out twice more
        (traced: two passes of every widget after the first frame, at 80x24)."""
        if self.lines_at_least() > self.app.size.height:
            self.show_vertical_scrollbar = True

    def lines_at_least(self) -> int:
        """The form's height if every row took one line: two titles (each a line below a
        blank), a line per check and per red flag."""
        return 2 + len(self.checks) + 2 + len(self.red_flags)

    def on_resize(self) -> None:
        """Name the checks for the screen's width, once it crosses the breakpoint."""
        wide = is_wide(self.screen.size.width)
        if wide != self.wide:
            self.wide = wide
            for test in self.checks:
                self.query_one(f"#row-{test.code}", CheckRow).rename(self.name_of(test))

    def make_field(self, test: ClinicalTest, side: str | None, place: str) -> Input | Select[str]:
        """The field of one side of a check (`place`: -first or -second in its row)."""
        classes = f"check-field {place} -sided" if side else f"check-field {place}"
        if test.kind == "scale":
            return Choice(
                [(c, c) for c in test.choices],
                prompt="–",
                id=field_id(test.code, side),
                classes=classes,
                compact=True,
            )
        # the previous value is shown once, beside the row, where it stays while typing
        return FieldInput(
            id=field_id(test.code, side),
            classes=classes + (" -text" if test.kind == "text" else ""),
            compact=True,
            max_length=1000 if test.kind == "text" else 12,
        )

    def previous_text(self, test: ClinicalTest, sides: tuple[str | None, ...]) -> str:
        values = []
        for side in sides:
            previous = self.previous.get((test.code, side))
            if previous:
                value = value_with_unit(previous[0], test.unit)
                values.append(f"{side} {value}" if side else value)
        range_text = allowed_text(test) if test.kind == "number" else ""
        if not values:
            return range_text
        seq = max(p[1] for s in sides if (p := self.previous.get((test.code, s))))
        was = _("was {values} (v{seq})", values="  ".join(values), seq=seq)
        return f"{was} · {range_text}" if range_text else was

    # --- showing and saving ---------------------------------------------------------------

    def show_measurements(self, measured: Sequence[Measurement]) -> None:
        """Show this visit's recorded values in the fields (after start or an undo)."""
        current = {(m.test_code, m.side): m for m in measured}
        for test in self.checks:
            for side in ("L", "R") if test.sided else (None,):
                self.show_value(test, side, current.get((test.code, side)))

    def show_value(
        self, test: ClinicalTest, side: str | None, measured: Measurement | None
    ) -> None:
        """Put a saved value (or none) in its field, without saving it again."""
        key = (test.code, side)
        value = measured.value if measured else None
        widget = self.query_one(f"#{field_id(test.code, side)}")
        with self.prevent(Input.Changed, Select.Changed):
            if isinstance(widget, Select):
                if value is None:
                    widget.clear()
                else:
                    widget.value = value
            elif isinstance(widget, Input):
                widget.value = "" if value is None else value_with_unit(value)
        if value is None:
            self.saved.pop(key, None)
        else:
            self.saved[key] = value
        self.versions[key] = measured.version if measured else 0

    def parse_id(self, widget_id: str | None) -> tuple[ClinicalTest, str | None] | None:
        if not widget_id or not widget_id.startswith("f-"):
            return None
        code, side = widget_id[2:].rsplit("-", 1)
        test = protocol().test(code)
        return (test, None if side == "x" else side) if test else None

    def save_field(self, widget_id: str | None, value: Any) -> None:
        """Ask the screen to save a field's value, unless there is nothing new to save."""
        parsed = self.parse_id(widget_id)
        if parsed is None:
            return
        test, side = parsed
        key = (test.code, side)
        if key in self.pending:
            return
        if value is None or (isinstance(value, str) and not value.strip()):
            # an empty field is "not measured", not a value: nothing is wrong with it
            self.show_row_messages(test, fixed=key)
            return
        if same_value(self.saved.get(key), value):
            self.show_row_messages(test, fixed=key)
            return
        self.pending.add(key)
        self.post_message(self.CheckEntered(self, test, side, value, self.versions.get(key, 0)))

    def check_saved(
        self, test: ClinicalTest, side: str | None, value: Any, result: RecordedResult
    ) -> None:
        """The screen saved a value: it is the field's now, said under its row."""
        key = (test.code, side)
        self.pending.discard(key)
        self.saved[key] = value
        self.versions[key] = result.version
        self.kept.pop(field_id(test.code, side), None)
        self.confirmed[test.code] = f"✔ {result.said}"
        if result.worse:
            self.worse.add(test.code)
        else:
            self.worse.discard(test.code)
        self.problems.pop(key, None)
        self.show_row_messages(test)

    def check_refused(
        self,
        test: ClinicalTest,
        side: str | None,
        value: Any,
        problem: KinesioError,
        newer: Measurement | None,
    ) -> bool:
        """The screen could not save a value: say why under its row. After another
        terminal's change (`newer`, what it saved) the field shows theirs and keeps ours
        for Ctrl+R. False when the problem is not one a field can show."""
        key = (test.code, side)
        self.pending.discard(key)
        where = f"{side}: " if side else ""
        if isinstance(problem, ValidationError):
            self.problems[key] = f"✖ {test.label} {where}{problem.reason}"
        elif isinstance(problem, StaleRecord):
            self.show_value(test, side, newer)
            self.kept[field_id(test.code, side)] = value
            self.problems[key] = f"✖ {test.label} {where}" + _(
                "changed in another terminal: now {newer}. Yours, {typed}, is not "
                "saved: Ctrl+R puts it back.",
                newer=value_with_unit(newer.value, test.unit) if newer else _("not recorded"),
                typed=value,
            )
        elif isinstance(problem, DatabaseBusy):
            self.problems[key] = f"✖ {test.label} {where}" + _(
                "not saved: {reason} Enter tries again.", reason=problem.message
            )
        else:
            return False
        self.show_row_messages(test)
        return True

    def show_row_messages(self, test: ClinicalTest, *, fixed: Key | None = None) -> None:
        """Under a row: why each refused field was refused (a line each), and the last saved.

        `fixed` is a field whose value is fine now (unchanged from the saved one, or emptied).
        """
        if fixed is not None:
            self.problems.pop(fixed, None)
        sides: tuple[str | None, ...] = ("L", "R") if test.sided else (None,)
        refused = [text for side in sides if (text := self.problems.get((test.code, side)))]
        saved = self.confirmed.get(test.code)
        lines = refused + ([saved] if saved else [])
        found = self.query(f"#err-{test.code}").results(Static)
        message = next(found, None)
        if message is None:
            if not lines:
                return
            message = Static(markup=False, content="", classes="check-error", id=f"err-{test.code}")
            self.mount(message, after=self.query_one(f"#row-{test.code}"))
        message.update("\n".join(lines))
        message.set_class(bool(refused), "-shown")
        message.set_class(not refused and test.code in self.worse, "-worse")
        message.display = bool(lines)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "put_back":
            return bool(self.kept)
        return True

    def action_put_back(self) -> None:
        """Ctrl+R: put back what was typed in this field before another terminal's value
        replaced it (Enter saves it; a choice or a flag is saved at once)."""
        widget = self.screen.focused
        if widget is None or widget.id not in self.kept:
            self.notify(markup=False, message=_("Nothing of yours to put back in this field."))
            return
        value = self.kept.pop(widget.id)
        if isinstance(widget, Input):
            widget.value = str(value)
            widget.cursor_position = len(widget.value)
        elif isinstance(widget, Select | Checkbox):
            widget.value = value
        self.refresh_bindings()

    @on(Input.Submitted, ".check-field")
    @on(Input.Blurred, ".check-field")
    def input_done(self, event: Input.Submitted | Input.Blurred) -> None:
        self.save_field(event.input.id, event.value)

    @on(Select.Changed, ".check-field")
    def choice_made(self, event: Select.Changed) -> None:
        if event.value is not Select.BLANK:
            self.save_field(event.select.id, event.value)

    @on(Checkbox.Changed)
    def flag_changed(self, event: Checkbox.Changed) -> None:
        """Any change of the red-flag boxes asks for a new screen at this visit, based on
        the screen the boxes showed."""
        asked = {flag.code for flag in self.red_flags}
        flags = [
            flag.code
            for flag in self.red_flags
            if self.query_one(f"#flag-{flag.code}", Checkbox).value
        ] + [code for code in self.flags_shown if code not in asked]  # raised elsewhere: kept
        if set(flags) == set(self.flags_shown):
            return
        self.post_message(
            self.FlagsTicked(self, flags, self.flags_version, event.checkbox.id, event.value)
        )

    def flags_saved(self, screen_id: int, flags: list[str], box: str | None) -> None:
        """The screen recorded the red-flag screen the boxes show."""
        self.flags_version, self.flags_shown = screen_id, flags
        if box is not None:
            self.kept.pop(box, None)

    def flags_refused(self, latest: tuple[int, list[str]], box: str | None, wanted: bool) -> None:
        """The red-flag screen was not recorded: the boxes show the latest one saved
        (theirs, or ours as it was); Ctrl+R on the box puts the tick typed here back."""
        self.show_flags(latest)
        if box is not None:
            self.kept[box] = wanted
        self.refresh_bindings()

    def show_flags(self, latest: tuple[int, list[str]]) -> None:
        """Tick the boxes as the latest red-flag screen says, without recording a new one."""
        self.flags_version, self.flags_shown = latest
        with self.prevent(Checkbox.Changed):
            for flag in self.red_flags:
                self.query_one(f"#flag-{flag.code}", Checkbox).value = flag.code in self.flags_shown
