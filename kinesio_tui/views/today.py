"""Today: every visit due today (and the ones overdue), in time order, with the patient, the
visit, its kind, the therapist, its status and a red-flag hold. Enter starts or continues the
visit as the patient screen's Enter does; `m`, `x` and `v` mark it missed, cancel it, move it.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from kinesio_tui.domain.models import Visit
from kinesio_tui.domain.outcomes import progress
from kinesio_tui.domain.today import DayVisit, day_list, day_row_cells
from kinesio_tui.i18n import _
from kinesio_tui.views.attendance import AbsenceDialog, MoveDialog, say_planned
from kinesio_tui.views.day_keys import DAY_ACTIONS, DAY_BINDINGS
from kinesio_tui.views.footer import KeyFooter
from kinesio_tui.views.layout import is_wide
from kinesio_tui.views.row_table import Column, RowTable
from kinesio_tui.views.visit_start import start_current_visit
from kinesio_tui.views.workstation import Workstation, workstation

#: The narrowest the patient column gets before the status gives way.
PATIENT_MIN_WIDTH = 22

_STATUS_STYLE = {
    "overdue": "bold yellow",
    "in progress": "bold",
    "done": "dim",
    "missed": "red",
    "cancelled": "dim",
}


class DayTable(RowTable):
    """The day's visits, one a line; Enter starts or continues the highlighted one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", _("Start"), tooltip=_("Start or continue this visit")),
    ]


class TodayScreen(Screen[None]):
    """The visits of the clinic's day; Enter starts or continues the highlighted one."""

    help_title = _("Today")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "start_visit", _("Start"), tooltip=_("Start or continue this visit")),
        # the same keys as the patient screen's, in this footer where there is room
        *(
            Binding(b.key, b.action, b.description, tooltip=b.tooltip, show=b.key != "x")
            for b in DAY_BINDINGS
            if isinstance(b, Binding)
        ),
        Binding("p", "open_patient", _("Patient"), tooltip=_("Open this visit's patient")),
        Binding(
            "ctrl+o,escape",
            "show_patients",
            _("Patients"),
            tooltip=_("The patient list (Ctrl+O there comes back here)"),
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[DayVisit] = []
        self._narrow: bool | None = None

    @property
    def kapp(self) -> Workstation:
        return workstation(self.app)

    def compose(self) -> ComposeResult:
        yield Static(id="today-title", markup=False)
        yield DayTable(id="today-visits", zebra_stripes=True)
        yield Static("", id="today-empty", markup=False)
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one(DayTable).focus()

    def on_screen_resume(self) -> None:
        """Shown, or back from a visit or a dialog: reload the day."""
        self.query_one(DayTable).focus()
        self.refresh_data()

    def on_resize(self) -> None:
        if self._narrow != (not is_wide(self.size.width)):
            self.refresh_data()

    def _build_columns(self, narrow: bool) -> None:
        self._narrow = narrow
        columns = [
            Column("time", _("Time")),
            # The name keeps the width of a whole "Vasiliauskienė, Agnė": the clinic has
            # namesakes ("Navickas, P…" is two patients); the status gives way first.
            Column("patient", _("Patient"), shrink=True, min_width=PATIENT_MIN_WIDTH),
            Column("visit", _("Visit")),
            Column("kind", _("Kind")),
            Column("therapist", _("Therapist")),
            Column("status", _("Status"), shrink=narrow, min_width=10),
            Column("alert", " "),
        ]
        self.query_one(DayTable).set_columns(
            [c for c in columns if not (narrow and c.key == "therapist")]
        )

    def refresh_data(self) -> None:
        """Read the day's list again (another terminal or command may have changed it)."""
        today = self.kapp.today
        narrow = not is_wide(self.size.width)
        if narrow != self._narrow:
            self._build_columns(narrow)
        table = self.query_one(DayTable)
        keep = table.row_key(table.cursor_row) if table.row_count else None
        self.rows = day_list(self.kapp.db, today)
        due = sum(r.status in ("due", "overdue", "in progress") for r in self.rows)
        self.query_one("#today-title", Static).update(
            Text(
                _("Today, {day} · {n} to see", day=today.strftime("%A %d %B %Y"), n=due),
                style="bold",
            )
        )
        table.clear()
        rows = []
        for row in self.rows:
            cells: list[str | Text] = list(day_row_cells(row, today))
            if narrow:
                del cells[4]  # the therapist: the status says more on a narrow screen
                cells[2] = f"{row.visit.module}.{row.visit.number}"  # "(n/45)": room for names
            status_at = 4 if narrow else 5
            cells[status_at] = Text(str(cells[status_at]), style=_STATUS_STYLE.get(row.status, ""))
            cells[-1] = Text(str(cells[-1]), style="bold red")
            rows.append((str(row.visit.id), cells))
        table.add_rows(rows)
        if keep is not None and table.has_row(keep):
            table.move_cursor(table.get_row_index(keep))
        empty = self.query_one("#today-empty", Static)
        empty.update("" if self.rows else _("No visits due today. Ctrl+O: the patient list."))
        empty.display = not self.rows
        self.refresh_bindings()

    def chosen(self) -> DayVisit | None:
        """The highlighted row."""
        table = self.query_one(DayTable)
        if not table.row_count:
            return None
        key = table.row_key(table.cursor_row)
        return next((r for r in self.rows if str(r.visit.id) == key), None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim what the highlighted row does not allow."""
        if action in (*DAY_ACTIONS, "start_visit", "open_patient"):
            row = self.chosen() if self.is_mounted else None
            if row is None:
                return None
            if action == "start_visit":
                return row.status in ("due", "overdue", "in progress") or None
            if action in DAY_ACTIONS:
                return row.status in ("due", "overdue") or None
        return True

    @on(RowTable.RowSelected, "#today-visits")
    def row_selected(self) -> None:
        """Enter on a row starts or continues its visit."""
        self.action_start_visit()

    @on(RowTable.RowHighlighted, "#today-visits")
    def cursor_moved(self) -> None:
        self.refresh_bindings()

    def action_start_visit(self) -> None:
        """Start or continue the highlighted visit, exactly as the patient screen's Enter."""
        row = self.chosen()
        if row is None:
            return
        prog = progress(self.kapp.db, row.visit.episode_id, today=self.kapp.today)
        start_current_visit(self, prog, row.visit.id, archived=False, refused=self.refresh_data)

    def _plan_dialog(self, dialog: ModalScreen[object] | None) -> None:
        if dialog is None:
            self.notify(_("Only a visit not yet started can be changed."), severity="warning")
            return

        def done(result: object) -> None:
            if result is not None:
                say_planned(self.app, result)
            self.refresh_data()

        self.app.push_screen(dialog, done)

    def _planned_visit(self) -> tuple[Visit, DayVisit] | None:
        row = self.chosen()
        if row is None or row.status not in ("due", "overdue"):
            return None
        return row.visit, row

    def action_mark_missed(self) -> None:
        """The patient of the highlighted visit did not come: mark it missed, with why."""
        found = self._planned_visit()
        self._plan_dialog(AbsenceDialog(found[0], "missed") if found else None)

    def action_cancel_visit(self) -> None:
        """Call off the highlighted visit, with why."""
        found = self._planned_visit()
        self._plan_dialog(AbsenceDialog(found[0], "cancelled") if found else None)

    def action_move_visit(self) -> None:
        """Move the highlighted visit, or shift the rest of its plan from it."""
        found = self._planned_visit()
        self._plan_dialog(MoveDialog(found[0], found[1].plan_version) if found else None)

    def action_open_patient(self) -> None:
        """Open the highlighted visit's patient."""
        row = self.chosen()
        if row is not None:
            self.kapp.open_patient(row.patient_id)

    def action_show_patients(self) -> None:
        """Back to the patient list (the home screen under this one)."""
        self.dismiss()
