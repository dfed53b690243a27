"""One entry point for user-visible text, so the interface can be translated later.

English is the only language today; `_` returns its argument formatted. A later
catalog lookup replaces the body of `_`, not its callers.
"""

from __future__ import annotations


def _(text: str, /, **values: object) -> str:
    """Translate `text` (a format string) and fill in `values`."""
    return text.format(**values) if values else text
