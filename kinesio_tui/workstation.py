"""Opening the workstation: the one way both the fast path and the CLI start the TUI."""

from __future__ import annotations

from pathlib import Path


def open_workstation(path: Path, *, actor: str | None, demo: bool = False) -> int:
    """Open the TUI on `path`; returns the app's exit code (1 after a crash report).

    A file it must refuse (newer, not ours) raises KinesioError before the UI starts. The
    day's automatic backup is taken behind the first frame (not for the demo clinic).
    `actor` is `--therapist` or KINESIO_THERAPIST; without one, the name this OS user gave
    last; without that, the workstation asks who is treating before anything else.
    """
    from kinesio_tui.app import build_app  # Textual: loaded only when the UI opens
    from kinesio_tui.domain.therapist import remembered_name

    actor = actor or remembered_name()  # else the first screen asks who is treating
    tui = build_app(
        path, actor=actor, demo=demo, daily_backup=not demo, ask_therapist=actor is None
    )  # opens or migrates
    tui.run()
    return tui.return_code or 0
