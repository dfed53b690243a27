"""Placeholder replaced by the workstation issue."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def build_app(db_path: Path, **options: Any) -> Any:
    from textual.app import App
    from textual.widgets import Footer, Static

    class KinesioApp(App[None]):
        BINDINGS = [("q", "quit", "Quit")]

        def compose(self):  # type: ignore[no-untyped-def]
            yield Static(f"kinesio-tui: {db_path}")
            yield Footer()

    return KinesioApp()
