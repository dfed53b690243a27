"""Opening the workstation: the one way both the fast path and the CLI start the TUI."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kinesio_tui.data.engine import Target


def open_workstation(target: Path | Target, *, actor: str | None, demo: bool = False) -> int:
    """Open the TUI on `target` (a file, or a PostgreSQL database); returns the app's exit
    code (1 after a crash report).

    A database it must refuse (newer, not ours, unreachable) raises KinesioError before the
    UI starts. The day's automatic backup of a file is taken behind the first frame (not for
    the demo clinic; PostgreSQL's backups are the server's).
    `actor` is `--therapist` or KINESIO_THERAPIST; without one, the name this OS user gave
    last; without that, the workstation asks who is treating before anything else.
    """
    from kinesio_tui.app import build_app  # Textual: loaded only when the UI opens
    from kinesio_tui.domain.therapist import remembered_name

    actor = actor or remembered_name()  # else the first screen asks who is treating
    tui = build_app(
        target, actor=actor, demo=demo, daily_backup=not demo, ask_therapist=actor is None
    )  # opens or migrates
    tui.run()
    return tui.return_code or 0
