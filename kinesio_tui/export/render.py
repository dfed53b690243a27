"""The Jinja2 environments: a clinic's overrides first, then the package's templates.

Jinja2 is imported here only, when something is rendered, so neither `kinesio --help` nor
the workstation's start pays for it: 8 % of the time Textual's own import takes, +1.0 MiB
(measured with `python -X importtime` and ru_maxrss).
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from kinesio_tui.errors import KinesioError
from kinesio_tui.export import fmt
from kinesio_tui.i18n import _
from kinesio_tui.plain_text import printable_document

if TYPE_CHECKING:
    from jinja2 import Environment

    from kinesio_tui.clinic_identity import ClinicIdentity

Format = Literal["md", "html"]
TEMPLATE_NAMES = {
    "summary": "summary",
    "visit": "visit_note",
    "module": "module_report",
    "exercises": "home_exercises",
    "outcomes": "clinic_outcomes",
}
#: The built-in templates are package data: kinesio_tui/templates (partials/ inside it).
TEMPLATE_PACKAGE = "kinesio_tui"
TEMPLATE_FOLDER = "templates"
TEMPLATE_SUFFIXES = (".j2", ".css")


def builtin_templates() -> Traversable:
    """The built-in templates: the package's `templates` folder, however it was installed."""
    return resources.files(TEMPLATE_PACKAGE) / TEMPLATE_FOLDER


def builtin_template_files() -> Iterator[tuple[PurePosixPath, Traversable]]:
    """Each built-in template (and the stylesheet they include), by its name under the folder."""

    def walk(
        folder: Traversable, under: PurePosixPath
    ) -> Iterator[tuple[PurePosixPath, Traversable]]:
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.is_dir():
                yield from walk(entry, under / entry.name)
            elif entry.name.endswith(TEMPLATE_SUFFIXES):
                yield under / entry.name, entry

    folder = builtin_templates()
    if not folder.is_dir():
        raise _templates_missing()
    return walk(folder, PurePosixPath())


class TemplateBroken(KinesioError):
    """A template (a clinic's override, most likely) that cannot render: the report's
    failure, not the patient's lack of anything to report."""


def _templates_missing() -> KinesioError:
    return KinesioError(
        _("Templates missing"),
        _(
            "The built-in report templates were not found in the {package} package.",
            package=TEMPLATE_PACKAGE,
        ),
    )


def override_dir() -> Path:
    """Where a clinic drops its own templates (same names as the built-in ones)."""
    return _override_dir(*(os.environ.get(name) for name in _CONFIG_ENV))


#: What the user's config folder is worked out from (platformdirs, on each system): the
#: folder is worked out again when one changes, not for every report (~0.3 ms each).
_CONFIG_ENV = ("XDG_CONFIG_HOME", "HOME", "APPDATA", "LOCALAPPDATA", "USERPROFILE")


@functools.lru_cache(maxsize=8)
def _override_dir(*_env: str | None) -> Path:
    from kinesio_tui.locations import config_dir

    return config_dir() / "templates"


def _md_finalize(value: Any) -> Any:
    """Every `{{ }}` in a Markdown template: user text is made inert, our Markup kept."""
    from markupsafe import Markup

    if isinstance(value, Markup):
        return value
    if isinstance(value, bool | int | float) or value is None:
        return "" if value is None else str(value)
    return fmt.md_text(value)


def override_signature(overrides: Path) -> tuple[tuple[str, int], ...]:
    """The override files and their modification times (a new or edited file shows up)."""
    if not overrides.is_dir():
        return ()
    return tuple(
        sorted((str(p.relative_to(overrides)), p.stat().st_mtime_ns) for p in overrides.rglob("*"))
    )


def environment(fmt_: Format, overrides: Path) -> Environment:
    """The environment for a format; rebuilt only when the clinic's overrides change."""
    return _environment(fmt_, overrides, override_signature(overrides))


@functools.cache
def _environment(
    fmt_: Format, overrides: Path, _signature: tuple[tuple[str, int], ...]
) -> Environment:
    # Cached, so exporting 1,000 patients compiles each template once.
    import jinja2

    from kinesio_tui.export.templating import ReportEnvironment

    try:
        builtin = jinja2.PackageLoader(TEMPLATE_PACKAGE, TEMPLATE_FOLDER)
    except ValueError:  # an install without its package data
        raise _templates_missing() from None
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(overrides)), builtin])
    options: dict[str, Any] = {
        "loader": loader,
        "undefined": jinja2.StrictUndefined,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "keep_trailing_newline": True,
        # no stat of every template on every render: an edited override changes the
        # signature this environment is cached under, and the built-in ones do not change
        "auto_reload": False,
    }
    if fmt_ == "html":
        env = ReportEnvironment(autoescape=True, **options)
    else:
        env = ReportEnvironment(autoescape=False, finalize=_md_finalize, **options)
    env.filters["md"] = fmt.md_text
    env.globals["DASH"] = fmt.DASH
    return env


def compiled_templates(kind: str, fmt_: Format) -> None:
    """Compile a report's template and the partials it may include now (the clinic's
    overrides first), so that the renders after it, and the processes forked after it,
    find them compiled."""
    import jinja2

    env = environment(fmt_, override_dir())
    suffix = f".{fmt_}.j2"
    wanted = {template_name(kind, fmt_)}
    for name in env.list_templates(
        filter_func=lambda n: n in wanted or (n.startswith("partials/") and n.endswith(suffix))
    ):
        with contextlib.suppress(jinja2.TemplateError):  # said by the render that needs it
            env.get_template(name)


def template_name(kind: str, fmt_: Format) -> str:
    return f"{TEMPLATE_NAMES[kind]}.{fmt_}.j2"


def render(
    kind: str, fmt_: Format, context: dict[str, Any], clinic: ClinicIdentity | None = None
) -> str:
    """Render one report; a broken template becomes a KinesioError naming file and line.
    Its header shows `clinic` (read once by `export --all`), else the settings' clinic."""
    import jinja2

    from kinesio_tui.export.clinic import clinic_context

    name = template_name(kind, fmt_)
    context = {"clinic": clinic_context(fmt_ == "html", clinic), **context}
    env = environment(fmt_, override_dir())
    try:
        # Controls an older version may have stored are no text: HTML forbids them (and the
        # noncharacters), and a Markdown file is read in terminals too.
        return printable_document(env.get_template(name).render(context))
    except jinja2.TemplateSyntaxError as error:
        where = Path(error.filename or error.name or name).name
        raise TemplateBroken(
            _("Broken template"),
            _("{file}, line {line}: {reason}", file=where, line=error.lineno, reason=error.message),
        ) from None
    except jinja2.TemplateNotFound as error:
        raise TemplateBroken(
            _("Template missing"), _("Template {name} was not found.", name=error.name)
        ) from None
    except jinja2.UndefinedError as error:
        file, line = _template_frame(error.__traceback__, name)
        raise TemplateBroken(
            _("Broken template"),
            _("{file}, line {line}: {reason}", file=file, line=line, reason=error.message),
        ) from None
    except Exception as error:  # an override doing arithmetic on text, and the like
        # Only the error's type: its message could quote a patient's value.
        file, line = _template_frame(error.__traceback__, name)
        raise TemplateBroken(
            _("Broken template"),
            _("{file}, line {line}: {reason}", file=file, line=line, reason=type(error).__name__),
        ) from None


def _template_frame(tb: TracebackType | None, default: str) -> tuple[str, int | str]:
    """The innermost template file and line in a traceback Jinja2 has rewritten."""
    found: tuple[str, int | str] = (default, "?")
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            found = (Path(filename).name, tb.tb_lineno)
        tb = tb.tb_next
    return found
