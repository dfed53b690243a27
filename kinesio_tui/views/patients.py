"""Home: the patient list, searched as you type, paged so a large clinic stays fluid."""

from __future__ import annotations

import threading
from datetime import date
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from kinesio_tui.data.db import ClinicDB, connect_reader
from kinesio_tui.domain.roster import RosterRow, roster
from kinesio_tui.domain.search import count_patients
from kinesio_tui.i18n import _
from kinesio_tui.views.footer import KeyFooter
from kinesio_tui.views.layout import is_wide
from kinesio_tui.views.row_table import Column, RowTable
from kinesio_tui.views.workstation import Workstation, workstation

#: Rows per page: a screenful even at 200x60. Each keystroke asks for one page, so it is
#: kept small: 61 rows cut the search p95 from 13.5 to 5.7 ms CPU against 201 on the
#: 100,000-patient benchmark clinic (benchmarks/RESULTS.md); more load as the cursor nears the end.
PAGE = 60
#: Load the next page when the cursor comes this close to the last loaded row.
PREFETCH = 20

SIDES = {"L": "L", "R": "R", "both": "L+R"}


def condition_cell(row: RosterRow, *, narrow: bool) -> str:
    if row.condition is None:
        return _("no episode")
    # the codes are the conditions' own words ("sciatica upper"); capitalised they read as
    # words without loading the protocol before the list's first frame
    cond = row.condition[:3].capitalize() + "." if narrow else row.condition.capitalize()
    sub = (row.subtype or "")[:4] + "." if narrow and len(row.subtype or "") > 5 else row.subtype
    return f"{cond} {sub} {SIDES.get(row.side or '', row.side or '')}"


def visit_cell(row: RosterRow) -> str:
    if row.episode_status != "active":
        return _(row.episode_status or "-") if row.condition else "-"
    if row.module is None or row.number is None:
        return "-"
    return f"M{row.module} {row.number:>2}/{row.module_visits}"


def next_cell(row: RosterRow, today: date, *, narrow: bool) -> str | Text:
    """The next visit: under way ("▶ started"), on hold (a red flag), else its day."""
    if row.on_hold and not row.next_started:
        return Text(_("on hold"), style="bold red")
    if row.next_started:
        return Text(_("▶ started"), style="bold")
    return day_cell(row.next_planned, today, narrow=narrow)


def day_cell(day: date | None, today: date, *, narrow: bool) -> str | Text:
    """The next planned visit: "today", a date, or an overdue date marked with "!"."""
    if day is None:
        return "-"
    if day == today:
        return Text(_("today"), style="bold")
    text = day.strftime("%d %b" if narrow else "%a %d %b")
    return Text("!" + text, style="bold yellow") if day < today else text


class PatientTable(RowTable):
    """The patient rows. Every printable key typed here goes to the search box: the list's
    commands are on Ctrl keys, so a name starting with n, a or q is only ever a search."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", _("Open"), tooltip=_("Open the highlighted patient")),
        # the hint, while there is room for it (no search to clear); the screen's own
        # Ctrl+O works always
        Binding("ctrl+o", "screen.show_today_hint", _("Today"), tooltip=_("Today's visits")),
    ]

    #: The search box printable keys go to (set by the screen).
    type_into: Input | None = None
    #: True from the first key typed on the list until the list has focus again.
    typing = False

    def on_key(self, event: events.Key) -> None:
        search = self.type_into
        if search is None or not (
            event.is_printable and event.character and event.character not in " /?"
        ):
            return
        event.stop()
        event.prevent_default()
        if self.typing:  # a key that reached the list before the focus moved
            search.insert_text_at_cursor(event.character)
            return
        # A search typed from the list is a new search, not more of the last one (coming
        # back from a patient, "zem" must not search "petrzem").
        self.typing = True
        search.value = event.character
        search.cursor_position = len(search.value)
        self.screen.set_focus(search)

    def on_focus(self) -> None:
        self.typing = False


class PatientsScreen(Screen[None]):
    """All active (or archived) patients; type to filter, Enter to open."""

    help_title = _("Patient list")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "search",
            _("Search"),
            tooltip=_("Search by name, surname, phone or birth year"),
        ),
        Binding(
            "ctrl+n",
            "new_patient",
            _("New patient"),
            tooltip=_("Add a patient, then their episode"),
        ),
        Binding(
            "ctrl+r",
            "toggle_archived",
            _("Archived"),
            tooltip=_("Show archived patients (Ctrl+R again: active ones)"),
        ),
        Binding("escape", "clear_search", _("Clear"), tooltip=_("Clear the search")),
        Binding(
            "ctrl+o",
            "show_today",
            _("Today"),
            tooltip=_("Today's visits (Ctrl+O there comes back here)"),
            show=False,  # shown by the table: while searching the footer has no room
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.archived = False
        self._query = ""
        self._generation = 0
        self._more = False
        self._loading = False
        self._total_shown = 0
        self._narrow: bool | None = None
        self._rows: list[RosterRow] = []  # what the table shows, in order
        #: The (query, archived) the table's rows were found for: Enter opens a row only
        #: when it is the query typed so far.
        self._shown: tuple[str, bool] | None = None
        self._total: int | None = None  # patients in the current (active/archived) list
        # One reader connection serves every search worker (opening one per keystroke cost
        # 3-18 ms and a cold page cache); the lock keeps a cancelled worker's query and the
        # next one apart.
        self._reader: ClinicDB | None = None
        self._reader_lock = threading.Lock()

    @property
    def kapp(self) -> Workstation:
        return workstation(self.app)

    def compose(self) -> ComposeResult:
        with Horizontal(id="search-bar"):
            yield Static(_("Patients"), id="list-title")
            yield Input(
                placeholder=_("type to search: name, phone or birth year"),
                id="search",
                compact=True,
                select_on_focus=False,
            )
        yield PatientTable(id="patients", zebra_stripes=True)
        yield Static("", id="list-empty", markup=False)  # it quotes the search
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one(PatientTable).type_into = self.query_one("#search", Input)
        self.query_one(PatientTable).focus()
        self._build_columns(not is_wide(self.size.width))
        # The first page inline (a few ms), so the first frame is not an empty list.
        rows = roster(self.kapp.db, "", limit=PAGE + 1)
        self._show_page(rows, 0, PAGE, self._generation, None, None)

    def on_unmount(self) -> None:
        """Close the search workers' reader connection."""
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    def on_screen_resume(self) -> None:
        """Coming back from a patient: their row may have changed; keys go to the list again."""
        self.query_one(PatientTable).focus()
        self.reload(keep_cursor=True)

    def refresh_data(self) -> None:
        """Another process committed: reload the visible rows."""
        self.reload(keep_cursor=True)

    def on_resize(self, event: events.Resize) -> None:
        narrow = not is_wide(event.size.width)
        if narrow != self._narrow:
            self._build_columns(narrow)
            self.reload(keep_cursor=True)

    def _build_columns(self, narrow: bool) -> None:
        self._narrow = narrow
        self._rows = []
        columns = [
            Column("flag", " ", width=1),
            Column("name", _("Name"), shrink=True, min_width=14),
            Column("age", _("Age")),
            Column("phone", _("Phone")),
            Column("condition", _("Condition")),
            Column("visit", _("Visit")),
            Column("next", _("Next")),
            Column("vas", _("VAS")),
        ]
        self.query_one(PatientTable).set_columns(
            [col for col in columns if not (narrow and col.key == "phone")]
        )

    # --- loading -----------------------------------------------------------------------------

    def reload(self, *, keep_cursor: bool = False) -> None:
        """Load the first page for the current query (off the UI thread)."""
        self._generation += 1
        table = self.query_one(PatientTable)
        keep = None
        if keep_cursor and table.row_count:
            keep = table.row_key(table.cursor_row)
        self._loading = True
        self.load_page(
            self._query,
            self.archived,
            0,
            max(PAGE, len(self._rows) if keep_cursor else 0),
            self._generation,
            keep,
        )

    @work(exclusive=True, thread=True, group="roster", exit_on_error=False)
    def load_page(
        self,
        query: str,
        archived: bool,
        offset: int,
        limit: int,
        generation: int,
        keep: str | None,
    ) -> None:
        """Query one page in a worker thread, on the screen's reader connection."""
        worker = get_current_worker()
        with self._reader_lock:
            if worker.is_cancelled:
                return
            if self._reader is None:
                self._reader = connect_reader(self.kapp.target)
            db = self._reader
            rows = roster(db, query, archived=archived, limit=limit + 1, offset=offset)
            total = None if offset or query else count_patients(db, archived=archived)
        if worker.is_cancelled:
            return
        self.app.call_from_thread(self._show_page, rows, offset, limit, generation, keep, total)

    def _show_page(
        self,
        rows: list[RosterRow],
        offset: int,
        limit: int,
        generation: int,
        keep: str | None,
        total: int | None,
    ) -> None:
        if generation != self._generation:
            return  # a newer query has been typed since
        self._loading = False
        if offset == 0:
            # every change of query or list reloads with a new generation: these rows are
            # the current query's
            self._shown = (self._query, self.archived)
        table = self.query_one(PatientTable)
        self._more = len(rows) > limit
        rows = rows[:limit]
        today = self.kapp.today
        narrow = bool(self._narrow)
        if offset == 0 and self._same_keys(rows):
            # A refresh of the same patients: repaint only rows that changed (cheap over SSH).
            for old, new in zip(self._rows, rows, strict=True):
                if old != new:
                    table.update_row(str(new.patient_id), self._cells(new, today, narrow))
            self._rows = rows
            self._show_state(total)
            return
        if offset == 0:
            table.clear()
            self._rows = []
        table.add_rows((str(row.patient_id), self._cells(row, today, narrow)) for row in rows)
        self._rows += rows
        if offset == 0 and keep is not None and table.has_row(keep):
            table.move_cursor(table.get_row_index(keep))
        self._show_state(total)

    def _same_keys(self, rows: list[RosterRow]) -> bool:
        return len(rows) == len(self._rows) and all(
            a.patient_id == b.patient_id for a, b in zip(rows, self._rows, strict=True)
        )

    def _cells(self, row: RosterRow, today: date, narrow: bool) -> list[str | Text]:
        flagged = row.red_flags or row.on_hold
        flag = Text("!", style="bold red") if flagged else Text(" ")
        name = Text(row.name, style="bold red" if flagged else "")
        cells: list[str | Text] = [flag, name, str(row.age_on(today))]
        if not narrow:
            cells.append(row.phone or "-")
        cells += [
            condition_cell(row, narrow=narrow),
            visit_cell(row),
            next_cell(row, today, narrow=narrow),
            f"{row.last_vas:g}" if row.last_vas is not None else "-",
        ]
        return cells

    def _show_state(self, total: int | None) -> None:
        table = self.query_one(PatientTable)
        empty = self.query_one("#list-empty", Static)
        title = self.query_one("#list-title", Static)
        kind = _("Archived") if self.archived else _("Patients")
        count = table.row_count
        if total is not None and not self._query:
            self._total = total
        if not self._query and self._total is not None:
            shown = str(self._total)  # the whole list, of which a page is loaded
        else:
            shown = f"{count}{'+' if self._more else ''}"
        title.update(f"{kind} ({shown})")
        if count:
            empty.display = False
            table.display = True
            return
        table.display = False
        empty.display = True
        if self._query:
            message = _("No patient matches “{query}”. Esc clears the search.", query=self._query)
        elif self.archived:
            message = _("No archived patients. Press Ctrl+R to go back to the active list.")
        else:
            message = _(
                "No patients yet.\n\nPress Ctrl+N to add a patient,\n"
                "or run `kinesio demo` to try the workstation on a demo clinic."
            )
        empty.update(message)

    @on(RowTable.RowHighlighted, "#patients")
    def load_more(self, event: RowTable.RowHighlighted) -> None:
        """Fetch the next page before the cursor reaches the end of the loaded rows."""
        table = event.table
        if self._more and not self._loading and event.cursor_row >= table.row_count - PREFETCH:
            self._loading = True
            self.load_page(
                self._query, self.archived, table.row_count, PAGE, self._generation, None
            )

    # --- search ------------------------------------------------------------------------------

    @on(Input.Changed, "#search")
    def search(self, event: Input.Changed) -> None:
        """Filter as the user types (name, surname, phone or birth year; no diacritics needed)."""
        self._query = event.value.strip()
        self.refresh_bindings()
        self.reload()

    def rows_are_current(self) -> bool:
        """True when the rows shown were found for the text in the search box now."""
        typed = self.query_one("#search", Input).value.strip()
        return self._query == typed and self._shown == (typed, self.archived)

    def show_current_rows(self) -> None:
        """Make the rows the search box's text's, here and now if the search has not finished.

        The search runs in a worker; keys typed fast (Enter straight after the name, Down into
        the list) can arrive before its rows do. Then the first page is read on the UI
        thread (a few ms, as the first frame does), and the worker's rows, when they come,
        are dropped as out of date.
        """
        if self.rows_are_current():
            return
        self._query = self.query_one("#search", Input).value.strip()
        self._generation += 1
        db = self.kapp.db
        rows = roster(db, self._query, archived=self.archived, limit=PAGE + 1)
        total = None if self._query else count_patients(db, archived=self.archived)
        self._show_page(rows, 0, PAGE, self._generation, None, total)

    @on(Input.Submitted, "#search")
    def search_done(self) -> None:
        """Enter in the search box opens the top match of the text typed so far."""
        self.show_current_rows()
        self._open_row(self.query_one(PatientTable).cursor_row)

    def on_key(self, event: events.Key) -> None:
        """Down from the search box moves into the list (of the text typed so far)."""
        if event.key == "down" and self.focused is self.query_one("#search", Input):
            event.stop()
            self.show_current_rows()
            self.query_one(PatientTable).focus()

    def action_search(self) -> None:
        """Start a new search: an empty search box, the cursor in it."""
        search = self.query_one("#search", Input)
        search.value = ""
        search.focus()

    def action_show_today_hint(self) -> None:
        """Ctrl+O as the list's footer shows it."""
        self.action_show_today()

    def action_show_today(self) -> None:
        """The clinic's day: every visit due today, in time order."""
        from kinesio_tui.views.today import TodayScreen  # loaded when first asked for

        self.app.push_screen(TodayScreen())

    def action_clear_search(self) -> None:
        """Escape clears the search (then leaves the archived view) and goes back to the list."""
        search = self.query_one("#search", Input)
        if search.value:
            search.value = ""
        elif self.archived:
            self.action_toggle_archived()
        self.query_one(PatientTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Escape is offered only when there is something to clear."""
        if action == "clear_search":
            return bool(self._query or self.archived)
        if action == "show_today_hint":  # Esc's "Clear" takes its place in the footer
            return not (self._query or self.archived)
        return True

    # --- actions -----------------------------------------------------------------------------

    @on(RowTable.RowSelected, "#patients")
    def open_selected(self, event: RowTable.RowSelected) -> None:
        """Enter opens the highlighted patient (the top one, if the list was out of date)."""
        index = event.cursor_row
        if not self.rows_are_current():
            self.show_current_rows()
            index = self.query_one(PatientTable).cursor_row
        self._open_row(index)

    def _open_row(self, index: int) -> None:
        """Open the patient on row `index`; with no rows, say that nothing matches."""
        table = self.query_one(PatientTable)
        key = table.row_key(index) if table.row_count else None
        if key is not None:
            self.kapp.open_patient(int(key))
        elif self._query:
            self.notify(
                _("No patient matches “{query}”: nobody opened.", query=self._query),
                markup=False,
                severity="warning",
            )

    def action_new_patient(self) -> None:
        """Register a patient, then open their first episode, then show them."""
        # Deferred: the forms are 5 % of the time Textual's own import takes, kept off the
        # list's start (measured with `python -X importtime` and ru_maxrss).
        from kinesio_tui.views.patient_form import EpisodeForm, PatientForm

        def after_episode(patient_id: int) -> None:
            self.kapp.open_patient(patient_id)

        def after_patient(patient_id: int | None) -> None:
            if patient_id is None:
                return
            self.app.push_screen(
                EpisodeForm(patient_id), lambda _episode: after_episode(patient_id)
            )

        self.app.push_screen(PatientForm(), after_patient)

    def action_toggle_archived(self) -> None:
        """Switch between active and archived patients."""
        self.archived = not self.archived
        self._total = None
        self.set_class(self.archived, "-archived")
        self.refresh_bindings()
        self.reload()
