"""Characters a terminal acts on instead of showing, and stored text made safe to print.

One table serves both sides: validation refuses these characters in everything a person
types (domain/validate.py), and whatever an older version or a hand edit left in the file is
shown with each of them replaced, so it can never move the cursor, clear the screen, set
the window title, start a hyperlink or reorder the text around it.
"""

from __future__ import annotations

import re

#: C0 controls (except newline and tab, which multi-line fields keep), DEL, C1 controls (an
#: 8-bit terminal reads U+009B as CSI), and the bidirectional embeddings, overrides and
#: isolates (U+202A-202E, U+2066-2069), which make a name read as another.
CONTROL_CHARS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
CONTROL = re.compile(f"[{CONTROL_CHARS}]")
#: ...and lone surrogates (undecodable bytes from the OS), which cannot be printed at all.
_UNPRINTABLE = re.compile(f"[{CONTROL_CHARS}\ud800-\udfff]")
#: Code points HTML forbids besides the controls: the noncharacters.
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
_NOT_IN_DOCUMENTS = re.compile(f"[{CONTROL_CHARS}\ud800-\udfff{_NONCHARACTERS}]")
#: What stands in for each of them on the command line: visible, and harmless.
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"


def has_control(text: str) -> bool:
    """Whether `text` holds a character a terminal would act on."""
    return CONTROL.search(text) is not None


def shown(text: object) -> str:
    """`text` as it may be printed: each control (or lone surrogate) replaced by U+FFFD."""
    return _UNPRINTABLE.sub(REPLACEMENT, str(text))


def printable_document(text: str) -> str:
    """A report as it may be written: controls and noncharacters replaced by U+FFFD."""
    return _NOT_IN_DOCUMENTS.sub(REPLACEMENT, text)
