"""The report environment's shortcuts give exactly what Jinja2's own classes give: each value
escaped as markupsafe escapes it, each dict key and attribute found (or not) as Jinja2 finds
it, a clinic's override template rendered to the same bytes."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import jinja2
import markupsafe
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinesio_tui.export.templating import ReportEnvironment, escape


class Html:
    def __html__(self) -> str:
        return "<b>ours</b>"

    def __repr__(self) -> str:  # the test's id, the same in every worker
        return "Html()"


class Plain:
    def __str__(self) -> str:
        return "a < b & 'c' \"d\""

    def __repr__(self) -> str:
        return "Plain()"


VALUES: list[Any] = [
    "",
    "plain",
    "<script>alert('x')</script> & \"quoted\"",
    "Žemaitė, naïve · 35°",
    markupsafe.Markup("<em>ours</em>"),
    markupsafe.Markup(""),
    0,
    -12,
    10**30,
    True,
    False,
    None,
    3.25,
    float("nan"),
    Html(),
    Plain(),
    ["<a>"],
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_escape_gives_markupsafes_result(value: Any) -> None:
    got, want = escape(value), markupsafe.escape(value)
    assert type(got) is markupsafe.Markup
    assert str(got) == str(want)


@given(st.text())
def test_escape_gives_markupsafes_result_for_any_text(text: str) -> None:
    assert str(escape(text)) == str(markupsafe.escape(text))
    assert type(escape(text)) is markupsafe.Markup


def test_a_subclass_of_str_or_int_goes_to_markupsafe() -> None:
    class Shouting(str):
        def __html__(self) -> str:
            return self.upper()

    class Code(int):
        def __str__(self) -> str:
            return "<code>"

    assert escape(Shouting("<i>x</i>")) == markupsafe.escape(Shouting("<i>x</i>")) == "<I>X</I>"
    assert escape(Code(3)) == markupsafe.escape(Code(3)) == "&lt;code&gt;"


LOOKUPS = [
    "{{ d.name }}",
    "{{ d['name'] }}",
    "{{ d.items is callable }}",  # dict's own method, as Jinja2 gives it
    "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
    "{{ d.get('name') }} {{ d.get('nothing', 'none') }}",
    "{{ d.values is callable }}",  # the method, not the key 'values', as in Jinja2
    "{{ d['values'] }}",
    "{{ d.__class__.__name__ }}",
    "{{ d.nested.deeper }}",
    "{{ d.count }} {{ d.keys | list if false else '' }}",
    "{{ o.name }} {{ o.items is callable }}",  # not a plain dict: Jinja2's own lookup
    "{{ l.pop is callable }} {{ l.0 }}",
    "{% if d.missing is defined %}yes{% else %}no{% endif %}",
    "{{ d.number + 1 }} {{ d.text | upper }}",
]


def context() -> dict[str, Any]:
    return {
        "d": {
            "name": "<Ona>",
            "items": ["a", "b"],
            "values": [1, 2, 3],
            "count": 7,
            "nested": {"deeper": markupsafe.Markup("<i>ok</i>")},
            "number": 41,
            "text": "é & é",
        },
        "o": OrderedDict(name="<ordered>", items="kept"),
        "l": ["x", "y"],
    }


@pytest.mark.parametrize("autoescape", [True, False])
@pytest.mark.parametrize("source", LOOKUPS)
def test_templates_render_as_with_jinjas_own_environment(source: str, autoescape: bool) -> None:
    ours = ReportEnvironment(autoescape=autoescape, undefined=jinja2.StrictUndefined)
    theirs = jinja2.Environment(autoescape=autoescape, undefined=jinja2.StrictUndefined)
    assert ours.from_string(source).render(context()) == theirs.from_string(source).render(
        context()
    )


@pytest.mark.parametrize("source", ["{{ d.missing }}", "{{ d.nested.missing }}", "{{ o.missing }}"])
def test_a_missing_key_fails_as_with_jinjas_own_environment(source: str) -> None:
    ours = ReportEnvironment(autoescape=True, undefined=jinja2.StrictUndefined)
    theirs = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    with pytest.raises(jinja2.UndefinedError) as want:
        theirs.from_string(source).render(context())
    with pytest.raises(jinja2.UndefinedError) as got:
        ours.from_string(source).render(context())
    assert str(got.value) == str(want.value)


def test_the_templates_escape_through_the_shortcut() -> None:
    """The compiled templates call this module's escape (else the shortcut saves nothing)."""
    template = ReportEnvironment(autoescape=True).from_string("{{ x }}")
    assert template.root_render_func.__globals__["escape"] is escape
    assert template.render(x="<&>") == "&lt;&amp;&gt;"
