"""The one width at which every screen changes from its narrow layout to its wide one.

The app sets it as Textual's responsive breakpoints, so each screen carries the class
`-narrow` or `-wide` for its CSS; what a screen lays out in Python (columns, dates, the
phone) asks `is_wide` of the same width.
"""

from __future__ import annotations

#: From this many columns a screen is wide: room for the phone, the onset, full test names,
#: the last session beside the checklist.
WIDE_FROM = 110

#: Textual's HORIZONTAL_BREAKPOINTS: the class each screen carries at its width.
BREAKPOINTS: list[tuple[int, str]] = [(0, "-narrow"), (WIDE_FROM, "-wide")]


def is_wide(width: int) -> bool:
    """Whether a screen `width` columns wide is laid out wide (it has the `-wide` class).

    Asked of the width, not the class: a screen's own resize handler runs before Textual
    sets the class for the new width.
    """
    return width >= WIDE_FROM


def width_class(width: int) -> str:
    """The breakpoint class Textual gives a screen `width` columns wide (`BREAKPOINTS`).

    A screen built with it already carries the class its first resize would add: adding a
    class restyles every widget of the screen, a whole pass over a doctor's form's ~200.
    """
    return "-wide" if is_wide(width) else "-narrow"
