"""The visit screens' stylesheet, parsed behind the first patient screen.

Every visit screen, dialog and the PIR recorder share `visit.tcss` (their CSS_PATH). Textual
reads a screen's CSS the first time the screen is shown: it re-parses the whole app's
stylesheet (its own widgets' CSS too) and restyles every widget of the app, on the UI
thread, between Enter and the visit's first frame (traced: 20-50 ms of the first visit of a
session). Here the same work happens earlier and mostly off the UI thread: a copy of the
app's stylesheet with `visit.tcss` added is parsed in a worker thread while the patient
screen is read, then adopted on the UI thread the way Textual adopts an edited CSS file
(`App._on_css_change`: copy, read, parse, swap, update). When the visit screen is then
pushed, Textual finds its CSS already loaded and does nothing.

Only public Stylesheet methods are used (copy, read, has_source, parse, update). If the
app's stylesheet changed meanwhile (another screen's CSS, a theme), the parsed copy is
dropped and Textual loads `visit.tcss` itself, as it did before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App
from textual.css.stylesheet import Stylesheet

#: The CSS_PATH of the visit screens (resolved as Textual resolves it: next to the module).
VISIT_CSS = Path(__file__).with_name("visit.tcss")


def visit_css_loaded(app: App[Any]) -> bool:
    """Whether the app's stylesheet holds `visit.tcss` already."""
    return app.stylesheet.has_source(str(VISIT_CSS), "")


Parsed = tuple[Stylesheet, Stylesheet, str]


def parse_visit_css(app: App[Any]) -> Parsed | None:
    """The app's stylesheet with `visit.tcss` added and parsed, the stylesheet it was
    copied from and the theme it was parsed for; None if it is loaded already. Safe in a worker thread: it reads the app's
    stylesheet once (a copy) and builds a new one."""
    current, theme = app.stylesheet, app.theme
    if current.has_source(str(VISIT_CSS), ""):
        return None
    sheet = current.copy()
    sheet.read(VISIT_CSS)
    sheet.parse()
    return sheet, current, theme


def adopt_visit_css(app: App[Any], parsed: Parsed | None) -> bool:
    """On the UI thread: make the parsed stylesheet the app's and restyle what is shown,
    unless the app's stylesheet (or its theme, the CSS variables) changed since it was
    copied. True if adopted."""
    if parsed is None:
        return False
    sheet, based_on, theme = parsed
    current = app.stylesheet
    if current is not based_on or app.theme != theme or visit_css_loaded(app):
        return False
    if {k: v for k, v in sheet.source.items() if k != (str(VISIT_CSS), "")} != current.source:
        return False  # a source was added or changed while it was parsed
    app.stylesheet = sheet
    sheet.update(app)
    for screen in app.screen_stack:
        sheet.update(screen)
    return True
