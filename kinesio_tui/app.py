"""The workstation: one Textual app over the clinic's database file.

`build_app` is the one factory the CLI and the tests share.
"""

from __future__ import annotations

import gc
import importlib
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.segment import Segment
from rich.text import Text
from textual import events, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.filter import LineFilter
from textual.keys import format_key
from textual.notifications import SeverityLevel
from textual.screen import Screen

from kinesio_tui import clock as product_clock
from kinesio_tui.crash import calm_message, write_crash_report
from kinesio_tui.data.db import WORKSTATION_CACHE_KIB, ClinicDB, connect
from kinesio_tui.data.engine import Target, parse_target
from kinesio_tui.data.watch import ChangeWatcher
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.maintenance.backup import auto_backup, pre_migration_backup
from kinesio_tui.plain_text import CONTROL
from kinesio_tui.upstream_hooks import CalmCrashApp, keys_without_name_lookups
from kinesio_tui.views import db_wait
from kinesio_tui.views.commands import KinesioCommands
from kinesio_tui.views.help import HelpScreen
from kinesio_tui.views.key_order import KeyGate, is_choice_field, is_typed_letter
from kinesio_tui.views.layout import BREAKPOINTS
from kinesio_tui.views.patients import PatientsScreen

if TYPE_CHECKING:
    from kinesio_tui.views.patient import PatientScreen
    from kinesio_tui.views.workstation import Workstation

#: How often to look for commits by other processes (PRAGMA data_version costs microseconds).
POLL_SECONDS = 1.0
#: A second quit within this many seconds of "not saved yet" quits anyway.
QUIT_AGAIN_S = 10.0
#: What the patient list does not need but the next keystroke may: the patient screen (its
#: domain and widgets), loaded in the background once the list is on screen, so neither the
#: first frame nor the first patient waits for it (its imports are an eighth of the time
#: Textual's own import takes, measured with `python -X importtime` and ru_maxrss). Not the visit screen:
#: +1.3 MiB with its text editor, and memory is a target too (<= 1.3x a bare app).
WARM_UP_MODULES = ("kinesio_tui.views.patient",)
#: What Enter on a patient's visit needs, loaded behind the first patient screen of a session
#: (after it is drawn: PatientScreen.warm_up_visits): the visit screen, the doctor's form, the PIR recorder and the test
#: dialog took ~60-120 ms to import at the first visit opened (traced), and memory is
#: measured on the list, which never loads them.
WARM_UP_VISIT_MODULES = (
    "kinesio_tui.views.visit",
    "kinesio_tui.views.doctor",
    "kinesio_tui.views.pir",
    "kinesio_tui.views.record_test",
)
#: How Textual shows these keys (its format_key, tests/test_tui_footer.py checks each), for
#: keys it would look up in the Unicode name database first: see `KinesioApp.get_key_display`.
KEY_DISPLAYS = {
    "end": "end",
    "home": "home",
    "insert": "insert",
    "question_mark": "?",
    "slash": "/",
    "tab": "tab",
}


def key_shown(key: str) -> str:
    """A key's name as the footer and help show it (Textual's format_key)."""
    if key in KEY_DISPLAYS:
        return KEY_DISPLAYS[key]
    if len(key) == 1 and key.isascii() and key.isalnum():
        return key  # no character is named by one letter or digit
    return format_key(key)


class TerminalSafe(LineFilter):
    """Drops every character a terminal would act on from what the workstation draws.

    Validation refuses them in what is typed now; this keeps what an older version (or a
    hand edit) left in the file from reaching the terminal as an escape sequence, a window
    title, a bell or a text-direction override. They are all zero-width, so removing them
    leaves the layout as it was measured. A Strip caches what a filter made of it.
    """

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        if not any(CONTROL.search(segment.text) for segment in segments):
            return segments
        out = []
        for segment in segments:
            if segment.control is None and CONTROL.search(segment.text):
                text = CONTROL.sub("", segment.text)
                if text:
                    out.append(Segment(text, segment.style))
            else:
                out.append(segment)
        return out


TERMINAL_SAFE = TerminalSafe()


class KinesioApp(CalmCrashApp):
    """The clinician workstation: patient list, patient screen, visits."""

    CSS_PATH = "kinesio.tcss"
    TITLE = "kinesio"
    COMMANDS = App.COMMANDS | {KinesioCommands}
    ENABLE_COMMAND_PALETTE = True
    #: Every screen carries `-narrow` or `-wide` for its width (views/layout.py).
    HORIZONTAL_BREAKPOINTS = BREAKPOINTS
    BINDINGS: ClassVar[list[BindingType]] = [
        # Ctrl+Q, not q: a letter is text wherever a person may be typing (a name on the
        # list, a field whose focus has not arrived yet), never a way out.
        Binding(
            "ctrl+q",
            "quit",
            _("Quit"),
            tooltip=_("Quit (everything is already saved)"),
            priority=True,
        ),
        Binding("question_mark", "help", _("Help"), tooltip=_("Help: every key that works here")),
        Binding(
            "ctrl+t",
            "switch_therapist",
            _("Who treats"),
            tooltip=_("Who is treating: switch the therapist"),
            show=False,
        ),
    ]

    def __init__(
        self,
        db_path: Path | str | Target,
        *,
        actor: str | None = None,
        clock: Callable[[], float] | None = None,
        daily_backup: bool = False,
        ask_therapist: bool = False,
    ) -> None:
        super().__init__()
        #: No name was given or remembered: ask who is treating before anything else.
        self.ask_therapist = ask_therapist
        #: Take today's automatic backup once the list is on screen.
        self.daily_backup = daily_backup
        #: Monotonic seconds that pace the PIR countdown (a fake one in tests, never sleeps).
        self.clock: Callable[[], float] = clock or time.monotonic
        #: The clinic's database: a file (`db_path`, None otherwise) or a PostgreSQL one.
        self.target: Target = parse_target(db_path)
        self.db_path: Path | None = self.target.path
        # A write waits only a moment for another program's lock (the screen is still
        # meanwhile), then retries from a timer with a notice (views/db_wait.py).
        self.db: ClinicDB = connect(
            self.target,
            actor=actor,
            cache_kib=WORKSTATION_CACHE_KIB,
            write_wait_s=db_wait.ATTEMPT_WAIT_S,
            backup_first=pre_migration_backup,
        )
        self.actor: str = self.db.actor
        self._watcher = ChangeWatcher(self.db)
        self._patient_screen: PatientScreen | None = None
        #: When quit was last pressed while something was not saved yet.
        self._quit_warned_at = -QUIT_AGAIN_S
        self._keys = KeyGate(self)
        keys_without_name_lookups()

    @property
    def today(self) -> date:
        """The clinic day, read from the product's clock each time (correct past midnight)."""
        return product_clock.today()

    def get_default_screen(self) -> Screen[None]:
        """The patient list is the home screen, at the bottom of the stack."""
        return PatientsScreen()

    async def on_event(self, event: events.Event) -> None:
        """Keys one at a time, in order (see key_order); a letter on a choice field is dropped."""
        if not isinstance(event, events.Key | events.Paste):
            await super().on_event(event)
            return
        if not event.is_forwarded:
            if not self._keys.admit(event):
                return
            if (
                isinstance(event, events.Key)
                and is_typed_letter(event)
                and is_choice_field(self.focused)
            ):
                return
        with self._keys.handling():  # the key as it arrives, and as it comes back up (bindings)
            await super().on_event(event)

    def on_mount(self) -> None:
        """Start watching for other processes' commits; warm up once the list is drawn."""
        self.set_interval(POLL_SECONDS, self.poll_changes)
        self.call_after_refresh(self.warm_up)
        self.open_first_screen()
        if self.ask_therapist:
            self.ask_who_treats(first=True)
        if self.daily_backup and self.db_path is not None:  # PostgreSQL: the server's backups
            self.call_after_refresh(self.take_daily_backup)

    def open_first_screen(self) -> None:
        """Today's visits on top of the list when the settings ask for it (`opens_on`)."""
        from kinesio_tui.settings import load_settings

        try:
            opens_on = load_settings().opens_on
        except KinesioError as error:  # a broken settings file: say so, open on the list
            self.notify(error.message, title=error.title, severity="warning", timeout=15)
            return
        if opens_on == "today":
            from kinesio_tui.views.today import TodayScreen

            self.push_screen(TodayScreen())

    @work(thread=True, group="backup", exit_on_error=False)
    def take_daily_backup(self) -> None:
        """Today's automatic backup, behind the first frame; a failure warns, never stops work.

        It ran before the UI, and copying a large clinic (321 MiB at 100,000 patients) kept
        the first start of each day waiting ~2 s. The backup API reads a consistent snapshot
        on its own connection while the therapist works (WAL: readers never block writers).
        """
        try:
            assert self.db_path is not None  # only a file's (on_mount)
            auto_backup(self.db_path)
        except Exception as error:  # whatever breaks, the clinic stays open
            detail = error.message if isinstance(error, KinesioError) else type(error).__name__
            message = _("Automatic backup not taken ({detail}).", detail=detail)
            self.call_from_thread(self.notify, message, severity="warning", timeout=15)

    @work(thread=True, group="warm-up", exit_on_error=False)
    def warm_up(self) -> None:
        """Import the patient screen and read the protocol, off the UI thread.

        The list is the first screen: what the next keystroke needs (the patient screen's
        imports and the protocol's TOML) loads while the therapist reads it. Anything that
        fails here fails again, visibly, where it is used.
        """
        # Deferred to here: the protocol module and tomllib are 7 % of the time Textual's own
        # import takes and +0.6 MiB (measured with `python -X importtime` and ru_maxrss).
        from kinesio_tui.protocol import protocol

        for name in WARM_UP_MODULES:
            importlib.import_module(name)
        protocol()
        # What exists now lives as long as the app (Textual, the code, the protocol): out of
        # the collector's sight, a full collection walks only what later screens allocate
        # instead of pausing the UI ~90-100 ms every few patients (profiled, large clinic).
        gc.freeze()

    @work(thread=True, group="warm-up", exit_on_error=False)
    def warm_up_visit(self) -> None:
        """Import the visit screens off the UI thread, behind the first patient screen."""
        for name in WARM_UP_VISIT_MODULES:
            importlib.import_module(name)

    def on_unmount(self) -> None:
        """Close the main-thread connection (and PostgreSQL's listening one)."""
        self._watcher.close()
        self.db.close()

    async def action_quit(self) -> None:
        """Quit. While something typed is not saved yet (the database is busy, or a note
        was refused as changed in another terminal), the first press says so instead; a
        second press quits anyway."""
        save_first = getattr(self.screen, "save_before_leaving", None)
        at_risk = bool(save_first()) if callable(save_first) else False
        warned = time.monotonic() - self._quit_warned_at < QUIT_AGAIN_S
        if (at_risk or db_wait.write_queue(self).waiting) and not warned:
            self._quit_warned_at = time.monotonic()
            self.notify(
                _("Not everything is saved yet (see above). Quit again to leave anyway."),
                title=_("Not saved yet"),
                severity="warning",
            )
            return
        self.exit()

    def poll_changes(self) -> None:
        """Reload the current screen when another process (a second terminal, the CLI) commits."""
        if self._watcher.changed():
            self.refresh_screen()

    def refresh_screen(self) -> None:
        """Ask the current screen to reload its data, if it knows how."""
        refresh = getattr(self.screen, "refresh_data", None)
        if callable(refresh):
            refresh()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Show a notification; its text is never read as markup.

        Messages quote names, notes, typed values and paths: a `[/]` in one crashed the
        workstation. Every notification of every screen comes here (Widget.notify calls it).
        """
        del markup
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, then one that drops control characters from every drawn line."""
        return [*super().get_line_filters(), TERMINAL_SAFE]

    def get_key_display(self, binding: Binding) -> str:
        """A bound key as the footer and help show it: Textual's, without its Unicode name
        lookups for the keys `key_shown` knows.

        Textual's format_key looks each key's name up in the Unicode name database ("o",
        "solidus", "question mark"): the first lookups read pages of unicodedata's name
        tables, part of ~0.8 MiB resident on the patient list (smaps) that a bare app never
        reads; key_character (upstream_hooks.py) is the other part."""
        if binding.key_display:
            return binding.key_display
        modifiers, key = binding.parse_key()
        shown = key_shown(key)
        if "ctrl" in modifiers:
            modifiers.remove("ctrl")
            shown = f"^{shown}"
        return "+".join([*modifiers, shown])

    def crashed(self, error: Exception) -> Text:
        """An unexpected error: write a scrubbed crash report and leave with one calm line.

        Textual's default prints a traceback with local variables, which would put patient
        records on the screen. Every record shown as saved is already committed, so leaving
        loses nothing.
        """
        try:
            path: Path | None = write_crash_report(error)
        except OSError:
            path = None
        return Text(calm_message(path))

    def ask_who_treats(self, *, first: bool = False) -> None:
        """Ask who is treating (at the first start: nothing else until a name is given)."""
        from kinesio_tui.domain.therapist import remember_name
        from kinesio_tui.views.asked import AskDialog, checked_name

        def chosen(name: str | None) -> None:
            if not name:
                return
            self.set_therapist(name)
            try:
                remember_name(name)
            except KinesioError as error:
                self.notify(error.message, title=error.title, severity="warning", timeout=15)
            self.notify(_("Who is treating: {name}.", name=name))

        hint = _(
            "Your name goes on every visit, audit entry and report; it is remembered for "
            "your login, and Ctrl+T switches. Type it, then Enter."
        )
        self.push_screen(
            AskDialog(
                _("Who is treating?"),
                hint,
                check=checked_name("therapist"),
                placeholder=_("e.g. Rūta Paupienė"),
                value="" if first else self.actor,
                can_cancel=not first,
                dialog_id="who-treats",
            ),
            chosen,
        )

    def set_therapist(self, name: str) -> None:
        """From now on `name` signs every write of this workstation."""
        self.actor = name
        self.db.actor = name

    def action_switch_therapist(self) -> None:
        """Ctrl+T: another therapist takes over the workstation."""
        self.ask_who_treats()

    def action_help(self) -> None:
        """Show every key of the current screen and of the app."""
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    def open_patient(self, patient_id: int) -> None:
        """Show one patient's screen on top of the list (replacing another patient's).

        The patient screen is built once and kept (installed): the next patient reuses its
        widgets, which skips ~25 ms of the ~75 ms to its first frame (traced).
        """
        from kinesio_tui.views.patient import PatientScreen

        screen = self._patient_screen
        if screen is None:
            screen = self._patient_screen = PatientScreen(patient_id)
            self.install_screen(screen, name="patient")  # it warms the visit screens up
        while len(self.screen_stack) > 1 and self.screen is not screen:
            self.pop_screen()
        screen.show_patient(patient_id)
        if self.screen is screen:
            if screen.is_mounted:  # else it loads the patient as it is first shown
                screen.refresh_data()
        else:
            self.push_screen(screen)


def build_app(
    db_path: Path | str | Target,
    *,
    actor: str | None = None,
    demo: bool = False,
    clock: Callable[[], float] | None = None,
    daily_backup: bool = False,
    ask_therapist: bool = False,
) -> KinesioApp:
    """The workstation over `db_path` (created and migrated if needed).

    `clock` paces the PIR countdown (monotonic seconds; a fake one in tests).
    `ask_therapist`: no name was given or remembered, so the first screen asks who treats.
    """
    app = KinesioApp(
        db_path, actor=actor, clock=clock, daily_backup=daily_backup, ask_therapist=ask_therapist
    )
    if demo:
        app.sub_title = _("demo clinic")
    return app


if TYPE_CHECKING:  # the screens' view of the app they run in is this app
    _workstation: type[Workstation] = KinesioApp
