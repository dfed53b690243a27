"""The Jinja2 classes reports render with: Jinja2's own output, with less work per value.

A report's context is plain dicts (context.py), and a summary's templates look up some 400
values in them (`patient.name`). Jinja2 looks an attribute up first, then the key: on a dict
that is an AttributeError raised and caught for every value, about a fifth of a summary's
rendering. `ReportEnvironment.getattr` takes a plain dict's key straight away when the name
is not one of dict's own attributes, which is exactly what Jinja2 ends up doing for it; a
name dict has (`items`, `values`) still gives dict's attribute, as in Jinja2.

With autoescape, every `{{ value }}` goes through `escape`. Jinja2 calls markupsafe's, which
builds each Markup through `Markup.__new__` (a Python call) and wraps a Markup again;
`escape` here gives the same string for the kinds a report prints (text, our own Markup,
whole numbers) without that, and hands anything else to markupsafe.

Imported only when a report is rendered (render.py), like Jinja2 itself.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from types import CodeType
from typing import Any

import jinja2
import markupsafe
from markupsafe import Markup


def _text_escaper() -> Callable[[str], str] | None:
    """The C escaper markupsafe.escape uses for a str (markupsafe 3); None with an older
    markupsafe or one without its C part (markupsafe.escape itself then)."""
    try:
        from markupsafe._speedups import _escape_inner
    except ImportError:
        return None
    return _escape_inner


_escape_text = _text_escaper()
#: The names a plain dict answers as attributes (its methods, `__class__`, ...).
_DICT_ATTRIBUTES = frozenset(dir(dict))
_new_str = str.__new__


def escape(value: Any) -> Markup:
    """markupsafe.escape's result for `value`, made without its Python-level steps for a
    str, a Markup and an int (a report's values); anything else goes to markupsafe."""
    kind = type(value)
    if kind is str and _escape_text is not None:
        return _new_str(Markup, _escape_text(value))
    if kind is Markup:
        return value  # type: ignore[no-any-return]  # markupsafe: an equal Markup
    if kind is int:
        return _new_str(Markup, str(value))  # digits and a sign: nothing to escape
    return markupsafe.escape(value)


class ReportTemplate(jinja2.Template):
    """A template whose `{{ }}` output is escaped by `escape` above."""

    @classmethod
    def from_code(
        cls,
        environment: jinja2.Environment,
        code: CodeType,
        globals: MutableMapping[str, Any],
        uptodate: Callable[[], bool] | None = None,
    ) -> jinja2.Template:
        template = super().from_code(environment, code, globals, uptodate)
        # the compiled module's own name for markupsafe.escape (`from jinja2.runtime import
        # escape`), looked up when a render runs
        namespace = template.root_render_func.__globals__
        if namespace.get("escape") is markupsafe.escape:
            namespace["escape"] = escape
        return template


class ReportEnvironment(jinja2.Environment):
    """Jinja2's environment, with a plain dict's keys found without an exception."""

    template_class = ReportTemplate

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)
