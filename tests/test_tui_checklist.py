"""A checklist line draws exactly what the two-column rich grid it replaced drew."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.table import Table
from rich.text import Text
from textual._context import active_app
from textual.app import App
from textual.css.styles import RulesMap
from textual.style import Style
from textual.visual import RenderOptions

from kinesio_tui.views.checklist import ChecklistLine

#: The highlighted option's style, as Textual hands it to a prompt (a Textual style's rich form).
HIGHLIGHT = Style.from_rich_style(RichStyle(bgcolor="#0178d4", color="white", bold=True)).rich_style


NO_RULES: RulesMap = {}


@contextmanager
def app_console() -> Iterator[App[None]]:
    app: App[None] = App()
    token = active_app.set(app)
    try:
        yield app
    finally:
        active_app.reset(token)


def grid_lines(app: App[None], glyph: Text, text: Text, width: int, base: RichStyle) -> list[str]:
    """The item as the old prompt drew it: a rich grid, styled as Textual styles a rich
    renderable (every segment under the option's style), cut into lines of `width`."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=3, no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_row(glyph, text)
    console = app.console
    segments = (
        Segment(t, base + s if s else base, c)
        for t, s, c in console.render(grid, app.console_options.update_width(width))
    )
    lines = Segment.split_and_crop_lines(segments, width, include_new_lines=False, pad=False)
    return [shown(line) for line in lines]


def shown(segments: list[Segment]) -> str:
    """Each cell's character and style, runs of one style merged (as a terminal shows it)."""
    return repr([(s.text, str(s.style)) for s in Segment.simplify(segments)])


def new_lines(line: ChecklistLine, width: int, base: RichStyle) -> list[str]:
    options = RenderOptions(lambda s: Style(), NO_RULES)
    strips = line.render_strips(width, None, Style.from_rich_style(base), options)
    return [shown(list(strip)) for strip in strips]


def sample(label: str, ticked: bool, extra: list[str]) -> tuple[Text, Text]:
    text = Text(label, style="bold" if ticked else "")
    text.append("  (p: PIR)", style="italic")
    for line in extra:
        text.append("\n✎ " + line, style="italic dim")
    return Text("[x]" if ticked else "[ ]", style="bold" if ticked else ""), text


def test_a_long_item_wraps_past_the_glyph_as_the_grid_did() -> None:
    label = "Simulated driving: sitting in a van seat, self-correcting posture"
    glyph, text = sample(label, True, ["added by T. Kazlauskas on 2026-11-18: needs 2 h"])
    with app_console() as app:
        for width in (12, 20, 33, 40, 57, 76, 116, 200):
            for base in (RichStyle.null(), HIGHLIGHT):
                line = ChecklistLine(glyph, text)
                assert new_lines(line, width, base) == grid_lines(app, glyph, text, width, base)
                assert line.get_height(NO_RULES, width) == len(
                    grid_lines(app, glyph, text, width, base)
                )
        assert str(ChecklistLine(glyph, text)).startswith("[x] Simulated driving")


words = st.text(alphabet="abcdefghij ŠšžĖ·-,:", min_size=0, max_size=90)


@settings(max_examples=150, deadline=None)
@given(
    label=words,
    ticked=st.booleans(),
    extra=st.lists(words, max_size=2),
    width=st.integers(min_value=10, max_value=140),
)
def test_any_item_draws_as_the_grid_drew_it(
    label: str, ticked: bool, extra: list[str], width: int
) -> None:
    glyph, text = sample(label, ticked, extra)
    with app_console() as app:
        line = ChecklistLine(glyph, text)
        assert new_lines(line, width, HIGHLIGHT) == grid_lines(app, glyph, text, width, HIGHLIGHT)
