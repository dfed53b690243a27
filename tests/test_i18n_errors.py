"""Every error a person reads goes through `_()`, so a translation can follow: the titles and
messages the domain and the screens raise, and the wording of the errors themselves."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kinesio_tui import errors

PACKAGE = Path(__file__).parent.parent / "kinesio_tui"
#: Errors made of (title, message): both are read.
TITLED = {"KinesioError", "DatabaseTooNew", "DatabaseDamaged", "ProtocolError"}
#: ValidationError(field, reason): the field is a key (forms translate it as they show
#: it), the reason is read.
REASON_ONLY = {"ValidationError"}


def is_bare_text(node: ast.expr) -> bool:
    """Text written in the code and not passed through `_()`."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return is_bare_text(node.left) or is_bare_text(node.right)
    if isinstance(node, ast.IfExp):
        return is_bare_text(node.body) or is_bare_text(node.orelse)
    return False


def bare_error_texts(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = (
            func.id
            if isinstance(func, ast.Name)
            else func.attr
            if isinstance(func, ast.Attribute)
            else ""
        )
        if name in TITLED:
            args = node.args[:2]
        elif name in REASON_ONLY:
            args = node.args[1:2]
        elif name == "__init__" and path.name == "errors.py":
            args = node.args[:2]  # a KinesioError subclass's own title and message
        else:
            continue
        found += [f"{path.name}:{arg.lineno}" for arg in args if is_bare_text(arg)]
    return found


MODULES = sorted([*PACKAGE.glob("domain/*.py"), *PACKAGE.glob("views/*.py"), PACKAGE / "errors.py"])


@pytest.mark.parametrize("path", MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_bare_error_text(path: Path) -> None:
    assert bare_error_texts(path) == []


def test_the_scan_finds_bare_text(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        'raise KinesioError("Cannot save", f"Visit {n} is held.")\n'
        'raise ValidationError("side", "should be L or R")\n'
        'raise ValidationError("side", _("should be L or R"))\n'
        'raise KinesioError(_("Cannot save"), "a" if x else _("b"))\n',
        encoding="utf-8",
    )
    assert bare_error_texts(sample) == ["sample.py:1", "sample.py:1", "sample.py:2", "sample.py:4"]


def test_the_error_wording_goes_through_the_translation(monkeypatch: pytest.MonkeyPatch) -> None:
    """A translation installed in place of `_` reaches what each error says."""
    monkeypatch.setattr(errors, "_", lambda text, /, **values: "«" + text.format(**values) + "»")
    refused = errors.ValidationError("phone", "«should be digits»")
    assert refused.title == "«Invalid input»"
    assert errors.StaleRecord("visit", 3).title == "«Changed in another terminal»"
    assert errors.NotFound("visit", 3).message.startswith("«")
    assert errors.DatabaseBusy(31).message.startswith("«")
