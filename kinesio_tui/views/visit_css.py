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

The copy also holds the default CSS of the widgets the therapy session and the PIR recorder
are built of (a widget's DEFAULT_CSS is added to the app's stylesheet, and the whole sheet
parsed again, when the first widget of its kind is mounted: three or four times on the UI
thread as each opened, ~3 and ~7 ms, traced). Added as Textual adds them, they are found
already there.

Only public Stylesheet methods are used (copy, read, add_source, has_source, parse, update),
and Textual's own list of a widget class's default CSS. If the app's stylesheet changed
meanwhile (another screen's CSS, a theme), the parsed copy is dropped and Textual loads
`visit.tcss` itself, as it did before.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from textual.app import App
from textual.css.stylesheet import Stylesheet
from textual.css.types import CSSLocation
from textual.dom import DOMNode

#: The CSS_PATH of the visit screens (resolved as Textual resolves it: next to the module).
VISIT_CSS = Path(__file__).with_name("visit.tcss")


def visit_css_loaded(app: App[Any]) -> bool:
    """Whether the app's stylesheet holds `visit.tcss` already."""
    return app.stylesheet.has_source(str(VISIT_CSS), "")


#: One widget class's default CSS as Textual adds it: location, CSS, tie-breaker, scope.
DefaultCss = tuple[CSSLocation, str, int, str]


def default_css(widget_class: type[DOMNode]) -> list[DefaultCss]:
    """What mounting a `widget_class` adds to the app's stylesheet (App._register ->
    Widget._post_register: DOMNode._get_default_css of the widget, for each of its CSS
    bases)."""
    widget = SimpleNamespace(_node_bases=widget_class._css_bases(widget_class))
    return DOMNode._get_default_css(cast(DOMNode, widget))


def visit_widgets_css() -> list[DefaultCss]:
    """The default CSS of the widgets the therapy session and the PIR recorder are built of
    (imported here, in the warm-up's thread: the patient list never loads them)."""
    from textual.containers import Horizontal, Vertical
    from textual.widgets import Button, Static, TextArea

    from kinesio_tui.views.checklist import Checklist
    from kinesio_tui.views.choice import Choice
    from kinesio_tui.views.footer import KeyFooter
    from kinesio_tui.views.pir import FieldRow
    from kinesio_tui.views.styled_once import FieldInput

    widgets: tuple[type[DOMNode], ...] = (
        Vertical, Horizontal, Static, Checklist, TextArea, KeyFooter,
        FieldRow, FieldInput, Choice, Button,
    )  # fmt: skip
    return [css for widget in widgets for css in default_css(widget)]


#: The parsed copy, the stylesheet it was copied from, the theme it was parsed for, and the
#: sources it holds that the app's did not (visit.tcss and widgets' default CSS).
Parsed = tuple[Stylesheet, Stylesheet, str, frozenset[CSSLocation]]


def parse_visit_css(app: App[Any]) -> Parsed | None:
    """The app's stylesheet with `visit.tcss` added and parsed, the stylesheet it was
    copied from and the theme it was parsed for; None if it is loaded already. Safe in a worker thread: it reads the app's
    stylesheet once (a copy) and builds a new one."""
    current, theme = app.stylesheet, app.theme
    if current.has_source(str(VISIT_CSS), ""):
        return None
    sheet = current.copy()
    sheet.read(VISIT_CSS)
    known = frozenset(sheet.source)
    for location, css, tie_breaker, scope in visit_widgets_css():
        if location not in known:  # (what is there already is left as Textual keeps it)
            sheet.add_source(
                css, read_from=location, is_default_css=True, tie_breaker=tie_breaker, scope=scope
            )
    sheet.parse()
    added = frozenset(sheet.source) - frozenset(current.source)
    return sheet, current, theme, added


def adopt_visit_css(app: App[Any], parsed: Parsed | None) -> bool:
    """On the UI thread: make the parsed stylesheet the app's and restyle what is shown,
    unless the app's stylesheet (or its theme, the CSS variables) changed since it was
    copied. True if adopted."""
    if parsed is None:
        return False
    sheet, based_on, theme, added = parsed
    current = app.stylesheet
    if current is not based_on or app.theme != theme or visit_css_loaded(app):
        return False
    if {k: v for k, v in sheet.source.items() if k not in added} != current.source:
        return False  # a source was added or changed while it was parsed
    app.stylesheet = sheet
    sheet.update(app)
    for screen in app.screen_stack:
        sheet.update(screen)
    return True
