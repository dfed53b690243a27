"""Starting (or continuing) a patient's current visit: one path for the patient screen's Enter
and the Today screen's, with the red-flag hold's override asked before a session starts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.screen import Screen

from kinesio_tui.domain.outcomes import Progress
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.views.db_wait import save_patiently, say_failed
from kinesio_tui.views.hold import OverrideDialog
from kinesio_tui.views.widgets import status_label
from kinesio_tui.views.workstation import workstation


def start_current_visit(
    screen: Screen[Any],
    prog: Progress,
    visit_id: int,
    *,
    archived: bool,
    refused: Callable[[], None],
) -> None:
    """Open the visit screen on `visit_id` if it is the one to hold next (refused with a
    warning otherwise); `refused` runs when another terminal got there first."""
    app = screen.app
    if archived:
        app.notify(_("This patient is archived: restore them first (a)."), severity="warning")
        return
    nxt = prog.standing.next_visit if prog.episode.status == "active" else None
    if nxt is None or nxt.id != visit_id:
        visit = next((v for v in prog.visits if v.id == visit_id), None)
        where = _("visit {seq}", seq=nxt.seq) if nxt else _("none: the programme is over")
        what = status_label(visit, workstation(app).today) if visit else "?"
        app.notify(
            _(
                "This visit is {what}. Only the current visit can be started ({where}).",
                what=what,
                where=where,
            ),
            severity="warning",
        )
        return
    # Deferred: the visit screen and its text editor are +1.3 MiB, and 7 % of the time
    # Textual's own import takes (measured with `python -X importtime` and ru_maxrss).
    from kinesio_tui.views.visit import VisitScreen, begin_visit

    def begin(hold_override: str | None) -> None:
        def start() -> VisitScreen:
            # from the version shown here: refused if another terminal changed it since
            return begin_visit(
                workstation(app),
                visit_id,
                expected_version=nxt.version,
                hold_override=hold_override,
            )

        def started(visit_screen: VisitScreen) -> None:
            app.push_screen(visit_screen)

        def not_started(error: KinesioError) -> None:
            say_failed(app, error)
            if screen.is_current:
                refused()  # what the other terminal did

        # the screen below reloads itself when the visit is left (on_screen_resume)
        save_patiently(app, start, started, not_started)

    hold = prog.hold
    if hold is not None and not nxt.is_doctor and nxt.started_at is None:
        # a red flag stops therapy: starting needs a reason, asked before the start and
        # kept with the hold
        def overridden(reason: bool | str | None) -> None:
            if isinstance(reason, str) and reason:
                begin(reason)

        app.push_screen(OverrideDialog(hold), overridden)
        return
    begin(None)
