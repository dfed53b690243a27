"""One patient: who, red flags, the 3 x 15 programme, pain trend, latest results, visits."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from kinesio_tui.domain.episodes import current_episode
from kinesio_tui.domain.holds import flags_words, latest_hold
from kinesio_tui.domain.models import Episode, Patient, Visit
from kinesio_tui.domain.outcomes import Progress, progress
from kinesio_tui.domain.patients import archive_patient, get_patient, restore_patient
from kinesio_tui.domain.plan import episode_plan
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.protocol import protocol
from kinesio_tui.views.day_keys import DAY_ACTIONS, DAY_BINDINGS, DAY_KEYS_HINT
from kinesio_tui.views.db_wait import say_failed
from kinesio_tui.views.footer import KeyFooter
from kinesio_tui.views.layout import is_wide
from kinesio_tui.views.row_table import Column, RowTable
from kinesio_tui.views.styled_once import BuiltScreen
from kinesio_tui.views.visit_css import adopt_visit_css, parse_visit_css, visit_css_loaded
from kinesio_tui.views.widgets import (
    Confirm,
    ProgrammePanel,
    RedFlagBanner,
    legend_text,
    module_text,
    results_text,
    standing_text,
    status_label,
    timeline_text,
    vas_text,
    visit_glyph,
)
from kinesio_tui.views.workstation import Workstation, workstation

SIDE_WORDS = {"L": "left", "R": "right", "both": "both sides"}
#: After the first patient screen's first frame, how long before the visit screens' warm-up
#: starts (PatientScreen.warm_up_visits): the screen's own last frames (a scroll bar appearing)
#: come first, and the one repaint the warm-up causes (adopting the visit CSS restyles the
#: scroll bars, unchanged) comes well after the screen has settled.
VISIT_WARM_UP_AFTER_S = 0.3


class VisitTable(RowTable):
    """The episode's visits; Enter starts (or continues) the current one.

    A RowTable, as the patient list: DataTable drew the first screenful cut to the column
    headers, measured the rows when next idle and drew them all again.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "select_cursor",
            _("Start"),
            tooltip=_("Start or continue the current visit"),
        ),
        Binding(
            "enter", "open_held", _("Open"), tooltip=_("Open the highlighted held visit, read-only")
        ),
        # the same, left out of a footer that never had Enter (a programme over: no room)
        Binding(
            "enter",
            "read_held",
            _("Open"),
            tooltip=_("Open the highlighted held visit, read-only"),
            show=False,
        ),
    ]
    #: The cursor is on a held visit (Enter opens it rather than starting one).
    _on_held = False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Enter is offered while a visit is left to start (dimmed for an archived patient),
        and as Open on a held visit."""
        screen = self.screen
        if not isinstance(screen, PatientScreen):
            return True
        if action == "select_cursor":
            return False if screen.held_visit_highlighted() else screen.can_start_visit()
        if action in ("open_held", "read_held"):
            footer_has_enter = screen.can_start_visit() is not False
            return screen.held_visit_highlighted() and (action == "open_held") == footer_has_enter
        return True

    def action_open_held(self) -> None:
        """Enter on a held visit: its read-only view."""
        self.action_select_cursor()

    def action_read_held(self) -> None:
        """Enter on a held visit of a programme that is over: its read-only view."""
        self.action_select_cursor()

    def on_row_table_row_highlighted(self, event: RowTable.RowHighlighted) -> None:
        """The Enter hint follows the cursor: Open on a held visit, else Start."""
        screen = self.screen
        if isinstance(screen, PatientScreen):
            held = screen.held_visit_highlighted()
            if held != self._on_held:
                self._on_held = held
                screen.refresh_bindings()


def header_text(
    patient: Patient, episode: Episode | None, today_age: int, *, wide: bool = True
) -> Text:
    """Who the patient is and what is treated (phone and onset only when there is room)."""
    out = Text()
    out.append(patient.full_name, style="bold")
    out.append(_(", {age} y, {sex}", age=today_age, sex=patient.sex))
    if patient.occupation:
        out.append(f" · {patient.occupation}")
    if patient.phone and wide:
        out.append(f" · {patient.phone}", style="dim")
    if patient.archived:
        out.append(_("  [archived]"), style="bold reverse")
    out.append("\n")
    if episode is None:
        out.append(_("No episode of care yet: press o to open one."), style="italic")
        return out
    proto = protocol()
    condition = proto.condition(episode.condition)
    subtype = condition.subtype(episode.subtype) if condition else None
    out.append(condition.label if condition else episode.condition, style="bold")
    out.append(f", {subtype.label if subtype else episode.subtype}")
    out.append(f", {_(SIDE_WORDS.get(episode.side, episode.side))}")
    out.append(f" · {_(episode.course)}")
    if episode.onset_date and wide:
        out.append(_(" · onset {day}", day=episode.onset_date.isoformat()), style="dim")
    out.append(" · ")
    if episode.pain_medication:
        out.append(_("meds: {meds}", meds=episode.pain_medication), style="yellow")
    else:
        out.append(_("no pain medication"), style="dim")
    if episode.referring_doctor:
        out.append(_(" · referred by {who}", who=episode.referring_doctor), style="dim")
    return out


class PatientScreen(BuiltScreen[None]):
    """Everything about one patient's episode at a glance; Enter starts the current visit."""

    help_title = _("Patient")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", _("Back"), tooltip=_("Back to the patient list")),
        Binding(
            "e",
            "export",
            _("Export"),
            tooltip=_("Export a summary, a visit, a module or the home exercises"),
        ),
        Binding("d", "edit", _("Details"), tooltip=_("Change the patient's details")),
        Binding("o", "open_episode", _("New episode"), tooltip=_("Open an episode of care")),
        Binding("a", "toggle_archive", _("Archive"), tooltip=_("Archive or restore the patient")),
        Binding(
            "r",
            "referral",
            _("Refer"),
            tooltip=_("Record the referral of a red-flag hold: to whom, when, why"),
        ),
        # named in the line above the visits (with their keys): no room in the footer at 80
        Binding(
            "g",
            "referring_doctor",
            _("Referrer"),
            tooltip=_("Who referred the patient: the discharge letter's addressee"),
            show=False,
        ),
        *DAY_BINDINGS,
    ]

    #: The visit list has the focus as the screen is built, so the footer's first keys are
    #: its last (Textual's default focuses it only after the first frame).
    AUTO_FOCUS = "#visits"

    def __init__(self, patient_id: int) -> None:
        super().__init__()  # with its width class (BuiltScreen)
        self.patient_id = patient_id
        self.patient: Patient | None = None
        self.episode: Episode | None = None
        self.progress: Progress | None = None
        self._wide: bool | None = None
        self._programme_width: int | None = None  # the width the programme was laid out for
        self._shown_visits: object = None
        self._binding_state: object = None
        #: Read as the screen was built: its first resume shows that, reading nothing again.
        self._loaded_in_compose = False
        self.header = Static(id="patient-header")
        self.banner = RedFlagBanner(id="red-flags")
        self.programme = ProgrammePanel(id="programme")
        self.results = Static(id="results")
        self.module_info = Static(id="module-info")
        self.visits = VisitTable(id="visits", zebra_stripes=False)
        self.visits.set_columns(
            [
                Column("glyph", " "),
                Column("visit", _("Visit")),
                Column("date", _("Date")),
                Column("status", _("Status")),
            ]
        )

    @property
    def kapp(self) -> Workstation:
        return workstation(self.app)

    def compose(self) -> ComposeResult:
        """The widgets, already holding the patient: the first frame is the screen's last.

        Read here rather than when first shown: each widget's content, the visit list's rows
        and the keys the footer offers are then what the first layout lays out, instead of
        a layout of empty widgets, another once they are filled, and the footer rebuilt.
        """
        self._wide = is_wide(self.app.size.width)
        self._loaded_in_compose = self._show_from_db(self.app.size.width)
        yield self.header
        yield self.banner
        yield self.programme
        with Horizontal(id="patient-bottom") as bottom:
            # the visit list's keys and the referrer's (no room in the footer)
            bottom.border_title = DAY_KEYS_HINT.rstrip() + _(" · g referrer ")
            with VerticalScroll(id="results-box"):  # Tab here, then arrows, when it overflows
                yield self.results
                yield self.module_info
            yield self.visits
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        """Warm the visit screens up once this one is drawn (its keys and notifications rack
        are settled before its first layout: BuiltScreen)."""
        self.call_after_refresh(self.set_timer, VISIT_WARM_UP_AFTER_S, self.warm_up_visits)

    def warm_up_visits(self) -> None:
        """What Enter on a visit needs (its screens' modules and CSS), behind this screen,
        once it is drawn: before, they competed with its own first frames (traced: the
        imports' thread and the CSS restyle on the UI thread ~40 ms of CPU between Enter
        and the screen's last frame)."""
        self.kapp.warm_up_visit()
        if not visit_css_loaded(self.app):
            self.warm_visit_css()

    @work(thread=True, group="warm-up-css", exit_on_error=False)
    def warm_visit_css(self) -> None:
        """Parse the visit screens' CSS behind this screen (views/visit_css.py)."""
        parsed = parse_visit_css(self.app)
        self.app.call_from_thread(adopt_visit_css, self.app, parsed)

    def show_patient(self, patient_id: int) -> None:
        """Make this (already built) screen another patient's; it redraws all on resume.

        The app keeps one patient screen and reuses it (see KinesioApp.open_patient).
        """
        if patient_id == self.patient_id:
            return
        self.patient_id = patient_id
        self.patient = self.episode = self.progress = None
        self._shown_visits = None  # a new list, the cursor on the new current visit
        self._binding_state = None
        if self.is_mounted:
            self.query_one("#results-box", VerticalScroll).scroll_home(animate=False)
            self.set_focus(self.visits)

    async def on_screen_resume(self, event: events.ScreenResume) -> None:
        """Shown for the first time, or back from a visit, a form or a dialog: (re)load.

        Textual then runs BuiltScreen's handler of its own (one per class, down the MRO)."""
        if self._loaded_in_compose:  # built a moment ago, holding what is in the file now
            self._loaded_in_compose = False
            return
        self._wide = is_wide(self.size.width)
        self.refresh_data()

    def refresh_data(self) -> None:
        """Reload the patient and episode from the database and redraw."""
        self._show_from_db(self.size.width)

    def _show_from_db(self, width: int) -> bool:
        """Read the patient and episode and show them for a screen `width` columns wide
        (while the screen is built it has no size yet: the app's). False if the patient
        could not be read: that is said, and the screen leaves, once it is shown."""
        db = self.kapp.db
        today = self.kapp.today
        try:
            self.patient = get_patient(db, self.patient_id)
        except KinesioError as error:
            if not self.is_mounted:  # being built: its first resume reads, says and leaves
                return False
            say_failed(self.app, error)
            self.app.pop_screen()
            return False
        self.episode = current_episode(db, self.patient_id)
        self.progress = progress(db, self.episode.id, today=today) if self.episode else None
        self.header.update(
            header_text(self.patient, self.episode, self.patient.age_on(today), wide=is_wide(width))
        )
        proto = protocol()
        prog = self.progress
        flags = [
            (f.label if (f := proto.red_flag(code)) else code)
            for code in (prog.red_flags if prog else [])
        ]
        banner = self.banner
        hold = prog.hold if prog else None
        if hold is not None:
            # the hold dialogs' module, loaded with the first hold shown (not behind the list:
            # memory is measured on the list, and most patients have none)
            from kinesio_tui.views.hold import hold_words

            banner.show_hold(hold_words(hold, wide=is_wide(width)))
        elif flags and self.episode is not None:
            banner.show_flags(flags, flags_words(flags, latest_hold(db, self.episode.id)))
        else:
            banner.show_flags(flags)
        self.set_class(bool(flags) or hold is not None, "-red-flag")
        self._show_programme(prog, width)
        self._show_visits(
            prog.visits if prog else [],
            prog.standing.next_visit if prog else None,
            width,
            on_hold=hold is not None,
        )
        state = (
            self.episode is None,
            self.can_start_visit(),
            self.patient.archived,
            hold is not None,
        )
        if state != self._binding_state:
            # the Footer rebuilds itself on every refresh_bindings: only when keys change
            self._binding_state = state
            self.refresh_bindings()
        return True

    def _show_programme(self, prog: Progress | None, width: int) -> None:
        self._programme_width = width
        today = self.kapp.today
        wide = is_wide(width)
        panel = self.programme
        inner = width - 2  # the panel's padding
        if prog is None:
            empty = Text()
            panel.show(
                timeline=Text(_("No programme yet."), style="dim"),
                standing=empty,
                legend=empty,
                vas=empty,
                width=inner,
            )
            self.results.update("")
            self.module_info.update("")
            return
        panel.show(
            timeline=timeline_text(prog.visits, today, titles=wide),
            standing=standing_text(prog.standing, prog.episode.status),
            legend=legend_text(lines=1 if wide else 2),
            vas=vas_text(prog.vas, prog.vas_change, width=max(10, width - 64)),
            width=inner,
        )
        self.results.update(
            results_text(prog.results, max(24, width - self._visits_width(width) - 3), prog.proms)
        )
        module_info = Text()
        if prog.episode.status == "active":
            plan = episode_plan(self.kapp.db, prog.episode.id)
            module = prog.standing.module
            module_info = module_text(module, plan.checklist(module), plan.home(module))
        self.module_info.update(module_info)

    @staticmethod
    def _visits_width(width: int) -> int:
        return 48 if is_wide(width) else 41

    def _show_visits(
        self, visits: list[Visit], current: Visit | None, width: int, *, on_hold: bool = False
    ) -> None:
        """The visit list; while a red flag holds therapy, each planned session says so."""
        shown = (visits, current, is_wide(width), on_hold)
        if shown == self._shown_visits:
            return  # unchanged: keep the cursor where the user left it
        self._shown_visits = shown
        table = self.visits
        table.styles.width = self._visits_width(width)
        today = self.kapp.today
        date_format = "%a %d %b" if is_wide(width) else "%d %b"
        table.clear()
        rows = []
        for visit in visits:
            kind = _("Doctor") if visit.is_doctor else _("Session")
            label = Text(f"M{visit.module}·{visit.number:<2} {kind}")
            if visit.is_doctor:
                label.stylize("bold")
            held_back = on_hold and not visit.is_doctor and visit.status == "planned"
            status = Text(
                _("on hold") if held_back and not visit.in_progress else status_label(visit, today),
                style="bold" if current and visit.id == current.id else "",
            )
            if held_back:
                status.stylize("red")
            cells: list[str | Text] = [
                visit_glyph(visit, today),
                label,
                visit.day.strftime(date_format),
                status,
            ]
            rows.append((str(visit.id), cells))
        table.add_rows(rows)
        if current is not None:  # in view now, or at the first layout when there is no size yet
            table.move_cursor(table.get_row_index(str(current.id)))

    def on_resize(self) -> None:
        """Lay the programme out again when the width changes.

        The first layout sends a Resize too, at the size the screen was just built for
        (BuiltScreen answers it): nothing here changes then.
        """
        wide = is_wide(self.size.width)
        if wide != self._wide:
            self._wide = wide
            self.refresh_data()
        elif self.progress is not None and self.size.width != self._programme_width:
            self._show_programme(self.progress, self.size.width)

    def visit_to_start(self) -> Visit | None:
        """The visit Enter would start: the next one of an active programme."""
        prog = self.progress
        return prog.standing.next_visit if prog and prog.episode.status == "active" else None

    def can_start_visit(self) -> bool | None:
        """True: a visit can start now; None: after restoring the patient; False: none left."""
        if self.visit_to_start() is None:
            return False
        return None if self.patient is not None and self.patient.archived else True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim what cannot run for this patient right now."""
        if action == "open_episode":
            return self.episode is None or self.episode.status != "active"  # hidden otherwise
        if action == "export":
            return None if self.episode is None else True
        if action == "referring_doctor":
            return self.episode is not None
        if action == "referral":  # only while a red flag holds therapy
            return self.progress is not None and self.progress.hold is not None
        if action in DAY_ACTIONS:  # while the programme runs
            return self.progress is not None and self.progress.episode.status == "active"
        return True

    # --- actions -----------------------------------------------------------------------------

    def action_back(self) -> None:
        """Back to the patient list."""
        self.dismiss()

    @on(RowTable.RowSelected, "#visits")
    def visit_chosen(self, event: RowTable.RowSelected) -> None:
        """Enter on the current visit starts it; other visits only say what they are."""
        self.start_visit(int(event.row_key))

    def action_start_visit(self) -> None:
        """Start (or continue) today's visit: the next one in the programme."""
        nxt = self.visit_to_start()
        if nxt is None:
            self.notify(_("No visit left to start in this episode."), severity="warning")
            return
        self.start_visit(nxt.id)

    def held_visit_highlighted(self) -> bool:
        """The visit list's cursor is on a held visit (Enter reads it back)."""
        prog = self.progress
        key = self.visits.row_key(self.visits.cursor_row)
        return prog is not None and any(
            str(v.id) == key and v.status == "done" for v in prog.visits
        )

    def start_visit(self, visit_id: int) -> None:
        """Open the visit screen on `visit_id` if it is the one to hold next; a held visit
        opens read-only (its history, corrections and reopening)."""
        prog = self.progress
        if prog is None:
            return
        if any(v.id == visit_id and v.status == "done" for v in prog.visits):
            from kinesio_tui.views.visit_record import VisitRecordScreen

            self.app.push_screen(VisitRecordScreen(visit_id))
            return
        from kinesio_tui.views.visit_start import start_current_visit

        archived = self.patient is not None and self.patient.archived
        start_current_visit(self, prog, visit_id, archived=archived, refused=self.refresh_data)

    def visit_to_plan(self) -> Visit | None:
        """The visit `m`, `x` and `v` act on: the highlighted one if it is still planned and
        not started, else the current one."""
        prog = self.progress
        if prog is None or prog.episode.status != "active":
            return None
        table = self.visits
        key = table.row_key(table.cursor_row) if table.row_count else None
        chosen = next((v for v in prog.visits if str(v.id) == key), None)
        if chosen is not None and chosen.status == "planned" and not chosen.in_progress:
            return chosen
        return prog.standing.next_visit

    def _plan_dialog(self, make: Callable[[Visit], ModalScreen[object]]) -> None:
        visit = self.visit_to_plan()
        if visit is None:
            self.notify(_("No planned visit to change."), severity="warning")
            return
        self.app.push_screen(make(visit), self._planned)

    def _planned(self, result: object) -> None:
        if result is not None:
            from kinesio_tui.views.attendance import say_planned

            say_planned(self.app, result)
        self.refresh_data()

    def action_mark_missed(self) -> None:
        """The patient did not come to the highlighted visit: mark it missed, with why."""
        from kinesio_tui.views.attendance import AbsenceDialog

        self._plan_dialog(lambda visit: AbsenceDialog(visit, "missed"))

    def action_cancel_visit(self) -> None:
        """Call off the highlighted visit, with why; the programme goes on."""
        from kinesio_tui.views.attendance import AbsenceDialog

        self._plan_dialog(lambda visit: AbsenceDialog(visit, "cancelled"))

    def action_move_visit(self) -> None:
        """Move the highlighted visit, or shift the rest of the plan from it."""
        from kinesio_tui.views.attendance import MoveDialog

        prog = self.progress
        version = sum(v.version for v in prog.visits) if prog else 0  # domain.plan_version
        self._plan_dialog(lambda visit: MoveDialog(visit, version))

    def action_referral(self) -> None:
        """Record to whom, when and why the patient on hold was referred."""
        hold = self.progress.hold if self.progress else None
        if hold is None:
            self.notify(_("No red-flag hold: nothing to refer."), severity="warning")
            return

        def saved(done: bool | str | None) -> None:
            if done:
                self.notify(_("Referral recorded."))
            self.refresh_data()

        from kinesio_tui.views.hold import ReferralDialog

        self.app.push_screen(ReferralDialog(hold), saved)

    def action_referring_doctor(self) -> None:
        """Record or change who referred the patient for this episode (`g`)."""
        from kinesio_tui.domain.episodes import get_episode
        from kinesio_tui.views.referrer import ReferrerDialog

        if self.episode is None:
            return

        def saved(episode: Episode | None) -> None:
            if episode is not None:
                self.notify(markup=False, message=_("Referring doctor saved."))
            self.refresh_data()

        self.app.push_screen(ReferrerDialog(get_episode(self.kapp.db, self.episode.id)), saved)

    def action_export(self) -> None:
        """Export this patient's summary, a visit or a module."""
        # Deferred: the export code (report context, charts, markupsafe, html entities) is
        # +1.2 MiB, and 8 % of the time Textual's own import takes (measured with `python -X importtime` and ru_maxrss).
        from kinesio_tui.views.export_dialog import ExportDialog

        prog = self.progress
        if prog is None:
            return
        table = self.visits
        highlighted: Visit | None = None
        if table.row_count:
            key = table.row_key(table.cursor_row)
            highlighted = next((v for v in prog.visits if str(v.id) == key), None)
        # Only held visits, and modules with a control or final appointment held, have a report.
        held = [v for v in prog.visits if v.status == "done"]
        visit = highlighted if highlighted in held else (held[-1] if held else None)
        reviews = {slot.number for slot in protocol().reviews}
        reviewed = sorted({v.module for v in held if v.is_doctor and v.number in reviews})
        module = (
            highlighted.module
            if highlighted and highlighted.module in reviewed
            else (reviewed[-1] if reviewed else None)
        )
        self.app.push_screen(
            ExportDialog(
                self.patient_id,
                visit_id=visit.id if visit else None,
                visit_seq=visit.seq if visit else None,
                module=module,
            )
        )

    def action_edit(self) -> None:
        """Change the patient's details."""
        from kinesio_tui.views.patient_form import PatientForm

        if self.patient is not None:
            self.app.push_screen(PatientForm(self.patient))

    def action_open_episode(self) -> None:
        """Open a new episode of care (when none is active)."""
        if self.patient is not None and self.patient.archived:
            self.notify(_("Restore the patient first (a)."), severity="warning")
            return
        from kinesio_tui.views.patient_form import EpisodeForm

        self.app.push_screen(EpisodeForm(self.patient_id))

    def action_toggle_archive(self) -> None:
        """Archive (or restore) the patient, after asking."""
        patient = self.patient
        if patient is None:
            return
        if patient.archived:
            question = _("Restore {name} to the active list?", name=patient.full_name)
        else:
            question = _(
                "Archive {name}? They leave the active list; nothing is deleted.",
                name=patient.full_name,
            )

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                if patient.archived:
                    restore_patient(self.kapp.db, patient.id)
                    self.notify(_("Restored to the active list."))
                else:
                    archive_patient(self.kapp.db, patient.id)
                    self.notify(
                        _("Archived. Press a on the patient list to see archived patients.")
                    )
            except KinesioError as error:
                say_failed(self.app, error)
            self.refresh_data()

        self.app.push_screen(Confirm(question), answered)
