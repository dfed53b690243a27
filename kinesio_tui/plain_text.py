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
#: The same, found ten times faster in a report of mostly plain text: every character of the
#: other planes is a suspect (a class of 34 single astral code points makes `re` slow on
#: every character), and `_unless_allowed` keeps those that are no noncharacter.
_SUSPECTS = re.compile(
    f"[{CONTROL_CHARS}\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff\U00010000-\U0010ffff]"
)
#: What stands in for each of them on the command line: visible, and harmless.
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"


def has_control(text: str) -> bool:
    """Whether `text` holds a character a terminal would act on."""
    return CONTROL.search(text) is not None


def shown(text: object) -> str:
    """`text` as it may be printed: each control (or lone surrogate) replaced by U+FFFD."""
    return _UNPRINTABLE.sub(REPLACEMENT, str(text))


def printable_document(text: str) -> str:
    """A report as it may be written: controls and noncharacters replaced by U+FFFD
    (`_NOT_IN_DOCUMENTS`, found through `_SUSPECTS`)."""
    return _SUSPECTS.sub(_unless_allowed, text)


def _unless_allowed(found: re.Match[str]) -> str:
    """A suspect replaced, unless it is a character of another plane that is no
    noncharacter (U+1FFFE, U+1FFFF, ... U+10FFFF are)."""
    code = ord(found[0])
    return found[0] if code > 0xFFFF and code & 0xFFFE != 0xFFFE else REPLACEMENT
