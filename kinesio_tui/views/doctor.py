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
from textual.containers import VerticalScroll
from textual.content import Content
from textual.css.scalar import ScalarOffset
from textual.geometry import Region, Size
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


@dataclass
class CheckLine:
    """One check's row as the sheet draws it: its name in the left column, a side letter
    two cells before each sided field, the earlier value and allowed range right of the
    fields; the fields themselves are the form's widgets, placed over the row."""

    code: str
    check_name: str
    sides: tuple[str | None, ...]
    #: The earlier value and the allowed range, right of the fields ("was 5/10 (v7)").
    earlier: str
    #: The row's fields, left to right.
    fields: tuple[Widget, ...]
    #: Where each field starts, in the order of `fields` (set as the sheet is laid out).
    xs: tuple[int, ...] = ()
    #: The row's first line on the sheet.
    y: int = 0

    def name_width(self) -> int:
        """The name's column: the first field's left margin, less its side letter's."""
        margin = self.fields[0].styles.margin.left if self.fields else 0
        return max(1, margin - (2 if self.sides[0] else 0))

    def name_lines(self) -> list[Content]:
        """The check's name, wrapped in its column as a label would wrap it."""
        return Content(self.check_name).wrap(self.name_width())

    def field_xs(self) -> tuple[int, ...]:
        """Where each field starts, with the widths and margins of the fields' styles
        (visit.tcss: `.check-field.-first`, `.-second`), adjacent margins collapsed as a
        row of widgets would lay them out."""
        xs = []
        x = right = 0
        for field in self.fields:
            margin = field.styles.margin
            x += max(right, margin.left)
            xs.append(x)
            x += int(field.styles.width.value if field.styles.width else 0)
            right = margin.right
        return tuple(xs)

    def earlier_x(self) -> int:
        """Where the earlier value starts: after the last field and its right margin."""
        if not self.fields:
            return 0
        last = self.fields[-1]
        width = int(last.styles.width.value if last.styles.width else 0)
        return self.field_xs()[-1] + width + last.styles.margin.right

    def earlier_lines(self, width: int) -> list[Content]:
        """The earlier value wrapped in what the sheet's `width` leaves right of the fields."""
        room = width - self.earlier_x()
        return Content(self.earlier).wrap(room) if self.earlier and room > 0 else []

    def height(self, width: int) -> int:
        return max(1, len(self.name_lines()), len(self.earlier_lines(width)))


class CheckSheet(Widget):
    """The doctor's checks drawn by one widget: the section titles, each check's row (see
    `CheckLine`) and room under a row for its message. The fields (and each row's message,
    once it has one) are the form's children, placed over the sheet where their row says
    (`position: absolute`, an offset each). A row of widgets per check (a Horizontal with
    the name, side letters and earlier value drawn in it) was a fifth of the form's first
    open: 18 more widgets to mount, style and lay out, each measured for its height."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "check-sheet--title",
        "check-sheet--side",
        "check-sheet--earlier",
    }
    DEFAULT_CSS = """
    CheckSheet {
        height: auto;
    }
    CheckSheet > .check-sheet--title {
        text-style: bold underline;
    }
    CheckSheet > .check-sheet--side {
        text-style: bold;
    }
    CheckSheet > .check-sheet--earlier {
        color: $text-muted;
    }
    """

    def __init__(self, titles: tuple[str, str], rows: Sequence[CheckLine], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: The checks' title (above the rows) and the red flags' (below them).
        self.titles = titles
        self.rows = tuple(rows)
        #: Messages under rows, by check code (the form mounts them when first needed).
        self.messages: dict[str, Widget] = {}
        #: The width the rows were placed for, and the sheet's height there.
        self._placed: tuple[int, int] | None = None

    def row(self, code: str) -> CheckLine:
        return next(row for row in self.rows if row.code == code)

    def title_lines(self, title: str, width: int) -> list[Content]:
        return Content(title).wrap(max(1, width))

    def message_height(self, message: Widget, width: int) -> int:
        """The lines a row's message takes at the sheet's `width` (its padding left of it)."""
        if not message.display:
            return 0
        room = max(1, width - message.styles.gutter.width)
        text = message.render()
        content = text if isinstance(text, Content) else Content(str(text))
        return len(content.wrap(room))

    def place(self, width: int) -> int:
        """Lay the rows out at `width`: each row's first line, each field's and message's
        offset (set only where it moved). Returns the sheet's height."""
        if width <= 0:
            return self._placed[1] if self._placed else 0
        y = 1 + len(self.title_lines(self.titles[0], width))  # a blank line above the title
        for row in self.rows:
            row.y = y
            row.xs = row.field_xs()
            for field, x in zip(row.fields, row.xs, strict=True):
                move(field, x, y)
            y += row.height(width)
            message = self.messages.get(row.code)
            if message is not None:
                move(message, 0, y)
                y += self.message_height(message, width)
        height = y + 1 + len(self.title_lines(self.titles[1], width))
        self._placed = (width, height)
        return height

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if self._placed is not None and self._placed[0] == width:
            return self._placed[1]
        return self.place(width)

    def replace(self) -> None:
        """A row's message or name changed: place the rows again and draw them."""
        self._placed = None
        self.refresh(layout=True)

    def render(self) -> RenderResult:
        width = self.content_size.width or (self._placed[0] if self._placed else 0)
        if self._placed is None or self._placed[0] != width:
            self.place(width)
        assert self._placed is not None
        lines: list[Content] = [Content()] * self._placed[1]
        title_style = self.get_visual_style("check-sheet--title")
        first = self.title_lines(self.titles[0], width)
        lines[1 : 1 + len(first)] = [line.stylize(title_style) for line in first]
        side_style = self.get_visual_style("check-sheet--side")
        earlier_style = self.get_visual_style("check-sheet--earlier")
        for row in self.rows:
            names = [line.truncate(row.name_width()) for line in row.name_lines()] or [Content()]
            first_line = names[0]
            for x, side in zip(row.xs, row.sides, strict=False):
                if side and x - 2 >= first_line.cell_length:
                    first_line = Content.assemble(
                        first_line,
                        " " * (x - 2 - first_line.cell_length),
                        Content(side).stylize(side_style),
                    )
            drawn = [first_line, *names[1:]]
            earlier = row.earlier_lines(width)
            drawn += [Content()] * (len(earlier) - len(drawn))
            at = row.earlier_x()
            for index, said in enumerate(earlier):
                line = drawn[index]
                drawn[index] = Content.assemble(
                    line, " " * max(0, at - line.cell_length), said.stylize(earlier_style)
                )
            lines[row.y : row.y + len(drawn)] = drawn
        last = self.title_lines(self.titles[1], width)
        lines[len(lines) - len(last) :] = [line.stylize(title_style) for line in last]
        return Content("\n").join(lines)


class PlacedOnSheet(Widget):
    """A widget the sheet places (`position: absolute` and an offset): its virtual region is
    where it is drawn. Textual keeps an absolutely placed widget's virtual region at its
    container's origin and adds the offset only as it draws it, so the focus order (top to
    bottom, then left to right, by virtual region) and scrolling a focused field into view
    would both see every field at the form's top left corner.

    A mixin named last among a widget's bases (see `StyledWhenAttached`)."""

    @property
    def virtual_region(self) -> Region:
        region = super().virtual_region
        styles = self.styles
        if styles.position == "absolute" and styles.has_rule("offset"):
            offset = styles.offset
            return region.translate((int(offset.x.value), int(offset.y.value)))
        return region


class CheckInput(FieldInput, PlacedOnSheet):
    """A typed check's field, placed on the sheet."""


class CheckChoice(Choice[str], PlacedOnSheet):
    """A check's choice (a scale), placed on the sheet."""


def move(widget: Widget, x: int, y: int) -> None:
    """Put a widget the sheet places at (x, y) of the form, unless it is there already.
    Before the form's first layout, the offset is only noted (that layout reads it): a
    request to lay the screen out for each field would be answered by a second layout."""
    offset = widget.styles.offset
    if widget.styles.has_rule("offset") and (offset.x.value, offset.y.value) == (x, y):
        return
    if widget.size:
        widget.styles.offset = (x, y)
    else:
        widget.styles.set_rule("offset", ScalarOffset.from_offset((x, y)))


class DoctorForm(VerticalScroll):
    """The checks of a doctor's appointment. A dumb widget: the screen hands it what to
    show; it posts `CheckEntered` and `FlagsTicked`, and the screen writes and says how
    it went (`check_saved`, `check_refused`, `flags_saved`, `flags_refused`)."""

    # The fields and the rows' messages sit where the sheet places them (CheckSheet.place).
    DEFAULT_CSS = """
    DoctorForm > .check-field, DoctorForm > .check-error {
        position: absolute;
    }
    """

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
        """The sheet (titles and rows, drawn), the fields placed over it, the red flags."""
        rows = [self.check_line(test) for test in self.checks]
        yield CheckSheet(
            (
                _("Doctor's checks · Enter or leaving a field saves it · ✔ saved · ✖ not saved"),
                _("Red-flag screen (any one: refer to a doctor now)"),
            ),
            rows,
            id="check-sheet",
        )
        for row in rows:
            yield from row.fields
        raised = set(self.flags_shown)
        for flag in self.red_flags:
            yield FlagBox(flag.label, flag.code in raised, id=f"flag-{flag.code}", compact=True)

    def check_line(self, test: ClinicalTest) -> CheckLine:
        """One check: its name, a field per side, the earlier value. The line under it (why
        a value was refused, the last one saved) is added when it first has something to
        say: every widget on the form costs its first open (traced: mounting, styling and
        layout of each of the ~250 widgets it once had). The sheet draws the rest."""
        sides: tuple[str | None, ...] = ("L", "R") if test.sided else (None,)
        fields = tuple(
            self.make_field(test, side, "-first" if index == 0 else "-second")
            for index, side in enumerate(sides)
        )
        return CheckLine(
            test.code, self.name_of(test), sides, self.previous_text(test, sides), fields
        )

    @property
    def sheet(self) -> CheckSheet:
        return self.query_one(CheckSheet)

    def name_of(self, test: ClinicalTest) -> str:
        """The catalog's short name on a narrow screen (13 characters at most), else in full."""
        return test.label if self.wide else test.short_label

    def on_mount(self) -> None:
        """Show the scrollbar from the start when the form cannot fit the terminal: Textual
        shows it after laying the form out, and showing it lays the screen out twice more
        (traced: two passes of every widget after the first frame, at 80x24). Place the
        fields for the width the form will have, so that its first layout moves none."""
        if self.lines_at_least() > self.app.size.height:
            self.show_vertical_scrollbar = True
        scrollbar = self.styles.scrollbar_size_vertical if self.show_vertical_scrollbar else 0
        self.sheet.place(self.app.size.width - self.styles.gutter.width - scrollbar)

    def lines_at_least(self) -> int:
        """The form's height if every row took one line: two titles (each a line below a
        blank), a line per check and per red flag."""
        return 2 + len(self.checks) + 2 + len(self.red_flags)

    def on_resize(self) -> None:
        """Name the checks for the screen's width, once it crosses the breakpoint."""
        wide = is_wide(self.screen.size.width)
        if wide != self.wide:
            self.wide = wide
            sheet = self.sheet
            for test in self.checks:
                sheet.row(test.code).check_name = self.name_of(test)
            sheet.replace()

    def make_field(self, test: ClinicalTest, side: str | None, place: str) -> Input | Select[str]:
        """The field of one side of a check (`place`: -first or -second in its row)."""
        classes = f"check-field {place} -sided" if side else f"check-field {place}"
        if test.kind == "scale":
            return CheckChoice(
                [(c, c) for c in test.choices],
                prompt="–",
                id=field_id(test.code, side),
                classes=classes,
                compact=True,
            )
        # the previous value is shown once, beside the row, where it stays while typing
        return CheckInput(
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
        sheet = self.sheet
        message = sheet.messages.get(test.code)
        if message is None:
            if not lines:
                return
            message = Static(markup=False, content="", classes="check-error", id=f"err-{test.code}")
            sheet.messages[test.code] = message
            self.mount(message)
        assert isinstance(message, Static)
        message.update("\n".join(lines))
        message.set_class(bool(refused), "-shown")
        message.set_class(not refused and test.code in self.worse, "-worse")
        message.display = bool(lines)
        sheet.replace()

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
