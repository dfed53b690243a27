"""A report's text keeps every character but those HTML forbids (controls, lone surrogates,
noncharacters), found by the fast pattern exactly as by the plain one."""

from __future__ import annotations

from kinesio_tui.plain_text import _NOT_IN_DOCUMENTS, REPLACEMENT, printable_document


def test_every_code_point_is_kept_or_replaced_as_the_plain_rule_says() -> None:
    every = "".join(chr(code) for code in range(0x110000))
    assert printable_document(every) == _NOT_IN_DOCUMENTS.sub(REPLACEMENT, every)


def test_a_report_with_names_emoji_and_controls() -> None:
    text = "Ona Žemaitė 😀 \x1b[2J \U0001fffe \ufdd0 \u202e ok\n\t"
    assert printable_document(text) == (
        f"Ona Žemaitė 😀 {REPLACEMENT}[2J {REPLACEMENT} {REPLACEMENT} {REPLACEMENT} ok\n\t"
    )
