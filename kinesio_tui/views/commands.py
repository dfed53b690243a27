"""Command palette (Ctrl+P): open a patient by name, start today's visit, export, new patient.

Textual's own provider adds theme switching, quit and the keys panel.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape

from kinesio_tui.domain.search import fold
from kinesio_tui.i18n import _
from kinesio_tui.views.patients import PatientsScreen
from kinesio_tui.views.workstation import Workstation, workstation

#: Words a user may type before a name ("open petr").
_FILLER = {"open", "patient", "show", "go", "to"}


class KinesioCommands(Provider):
    """The workstation's own commands."""

    @property
    def kapp(self) -> Workstation:
        return workstation(self.app)

    def _actions(self) -> list[tuple[str, Callable[[], object], str]]:
        from kinesio_tui.views.patient import PatientScreen  # loaded behind the first frame

        screen = self.screen
        out: list[tuple[str, Callable[[], object], str]] = []
        if isinstance(screen, PatientScreen):
            if screen.can_start_visit():
                out.append(
                    (
                        _("Start today's visit"),
                        screen.action_start_visit,
                        _("The patient's current visit"),
                    )
                )
            out.append(
                (_("Export…"), screen.action_export, _("Summary, visit or module; md or html"))
            )
            out.append((_("Edit patient details"), screen.action_edit, ""))
        home = screen if isinstance(screen, PatientsScreen) else None
        out.append((_("Today's visits"), self._today, _("Every visit due today, in time order")))
        out.append((_("Patient list"), self._patients, _("Find a patient")))
        out.append((_("New patient"), partial(self._new_patient, home), _("Register a patient")))
        out.append(
            (
                _("Who is treating: switch therapist"),
                self.kapp.action_switch_therapist,
                # the palette reads help text as markup: a name is text
                _("Now: {name} (Ctrl+T)", name=escape(self.kapp.actor)),
            )
        )
        out.append((_("Help: keys on this screen"), self.kapp.action_help, ""))
        return out

    def _patients(self) -> None:
        app = self.app
        while len(app.screen_stack) > 1:
            app.pop_screen()

    def _today(self) -> None:
        from kinesio_tui.views.today import TodayScreen

        self._patients()
        self.app.push_screen(TodayScreen())

    def _new_patient(self, home: object) -> None:
        app = self.app
        while len(app.screen_stack) > 1:
            app.pop_screen()
        screen = app.screen
        if isinstance(screen, PatientsScreen):
            screen.action_new_patient()
        del home

    async def discover(self) -> Hits:
        """What the palette shows before anything is typed."""
        for name, callback, help_text in self._actions():
            yield DiscoveryHit(name, callback, help=help_text or None)

    async def search(self, query: str) -> Hits:
        """Commands matching `query`, and patients whose name matches it."""
        matcher = self.matcher(query)
        for name, callback, help_text in self._actions():
            if (score := matcher.match(name)) > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text or None)
        words = [w for w in fold(query).split() if w not in _FILLER]
        if not words:
            return

        # Deferred until the palette is used: domain.patients and the write path under it are
        # 8 % of the time Textual's own import takes and +1.5 MiB on the list's start
        # (measured with `python -X importtime` and ru_maxrss).
        from kinesio_tui.domain.patients import find_patients

        # A local indexed query (~0.1 ms): fine on the UI thread.
        for archived in (False, True):
            for patient in find_patients(self.kapp.db, " ".join(words), archived=archived, limit=8):
                label = _("Open patient {name}", name=f"{patient.last_name}, {patient.first_name}")
                if archived:
                    label += _(" (archived)")
                yield Hit(
                    1.0 if not archived else 0.6,  # a name match beats a fuzzy command
                    Content(label),  # a name is not markup: the palette reads a str as such
                    partial(self.kapp.open_patient, patient.id),
                    help=_("born {year}", year=patient.birth_date.year),
                )
