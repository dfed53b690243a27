"""`kinesio templates path | copy`: where a clinic's own report templates go."""

from __future__ import annotations

import typer

from kinesio_tui.cli.refusal import fail
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _

templates_app = typer.Typer(
    help=_("Report templates: where a clinic's own versions go."), no_args_is_help=True
)


@templates_app.command(
    "path", help=_("Print the folder where a clinic's own templates override the built-in ones.")
)
def templates_path() -> None:
    from kinesio_tui.export.render import override_dir

    typer.echo(str(override_dir()))


@templates_app.command(
    "copy",
    help=_("Seed the override folder with the built-in templates (existing files are kept)."),
)
def templates_copy() -> None:
    from kinesio_tui.export.render import builtin_template_files, override_dir
    from kinesio_tui.locations import private_dir
    from kinesio_tui.private_files import TargetExists, write_private_file

    try:
        sources = list(builtin_template_files())
    except KinesioError as error:
        raise fail(error) from None
    target = override_dir()
    copied = kept = 0
    try:
        private_dir(target)
        for name, source in sources:
            dest = target.joinpath(*name.parts)
            if not dest.parent.is_dir():
                private_dir(dest.parent)  # 0700 like the folder above, whatever the umask
            try:
                write_private_file(dest, source.read_bytes())  # 0600, whole or not at all
            except TargetExists:
                kept += 1
            else:
                copied += 1
    except OSError as error:
        from kinesio_tui.crash import known_failure

        raise fail(
            known_failure(error)
            or KinesioError(
                _("Cannot copy templates"),
                _("{why}: {path}", why=error.strerror, path=error.filename),
            )
        ) from None
    typer.echo(
        _(
            "{copied} templates copied, {kept} already there: {dir}",
            copied=copied,
            kept=kept,
            dir=target,
        )
    )
