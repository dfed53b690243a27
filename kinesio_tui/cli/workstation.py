"""`kinesio` with no command (the workstation), `kinesio init` and `kinesio demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kinesio_tui.cli.app_role import AppRoleOption, refuse_app_role_for_a_file, say_granted
from kinesio_tui.cli.database import clinic_db, database_target
from kinesio_tui.cli.options import DbOption, root_options
from kinesio_tui.cli.refusal import fail
from kinesio_tui.data.engine import Target
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.workstation import open_workstation

workstation_app = typer.Typer()


def run_tui(ctx: typer.Context, path: Path | Target, *, demo: bool = False) -> None:
    """Open the workstation; a file it must refuse (newer, not ours) is refused before the UI."""
    try:
        code = open_workstation(path, actor=root_options(ctx).actor, demo=demo)
    except KinesioError as error:
        raise fail(error) from None
    if code:
        raise typer.Exit(code)


def open_the_workstation(ctx: typer.Context) -> None:
    """The bare `kinesio [--db] [--therapist]` when the launcher's fast path did not take it."""
    run_tui(ctx, database_target(ctx))


@workstation_app.command(
    help=_(
        "Create (or upgrade) the database and say where it is. On PostgreSQL, run it as the "
        "database owner with --app-role naming the workstations' role."
    )
)
def init(ctx: typer.Context, db: DbOption = None, app_role: AppRoleOption = None) -> None:
    from kinesio_tui.data.db import schema_version

    target = database_target(ctx, db)
    if target.kind == "postgresql":
        _init_postgres(target, app_role)
        return
    if app_role is not None:  # refused before anything is made at the path
        raise refuse_app_role_for_a_file()
    with clinic_db(ctx, db, create=True) as conn:
        typer.echo(
            _(
                "Database ready: {path} (schema {version})",
                path=conn.target.label(),
                version=schema_version(conn),
            )
        )


def _init_postgres(target: Target, app_role: str | None) -> None:
    """The schema and the application role's grants, in one transaction, as the owner."""
    from kinesio_tui.data.db import postgres_engine

    try:
        postgres_engine()  # psycopg installed, or one line saying how
        from kinesio_tui.data.engines.pg_schema import init_schema, schema_steps

        applied = init_schema(target, app_role)
    except KinesioError as error:
        raise fail(error) from None
    typer.echo(
        _(
            "Database ready: {label} (schema {version}; {count} step(s) applied now)",
            label=target.label(),
            version=len(schema_steps()),
            count=len(applied),
        )
    )
    if app_role is not None:
        say_granted(app_role)


@workstation_app.command(
    help=_(
        "Open the workstation on a fresh demo database (the clinic's published cases and "
        "more): a file, or an empty PostgreSQL schema (postgresql://OWNER@HOST/DB, with "
        "--app-role naming the workstations' role)."
    )
)
def demo(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help=_(
                "Where to write the demo: a file (default: demo.db in your data directory; "
                "an earlier demo file is replaced), or an empty PostgreSQL schema as its owner."
            ),
            show_default=False,
        ),
    ] = None,
    build_only: Annotated[
        bool, typer.Option("--build-only", help=_("Create the demo, do not open the UI."))
    ] = False,
    app_role: AppRoleOption = None,
) -> None:
    from kinesio_tui import demo as demo_clinic  # the demo's data: only for this command
    from kinesio_tui.locations import data_dir, is_postgres_url, private_dir

    if db is not None and is_postgres_url(db):
        _demo_on_server(ctx, database_target(ctx, db), app_role, build_only=build_only)
        return
    if app_role is not None:  # refused before anything is made at the path
        raise refuse_app_role_for_a_file()
    # Not KINESIO_DB: that names the clinic's real file, and the demo replaces its target.
    path = Path(db).expanduser() if db else private_dir(data_dir()) / "demo.db"
    try:
        demo_clinic.build_demo(path)
    except KinesioError as error:
        raise fail(error) from None
    if build_only:
        typer.echo(_("Demo database written: {path}", path=path))
        return
    run_tui(ctx, path, demo=True)


def _demo_on_server(
    ctx: typer.Context, target: Target, app_role: str | None, *, build_only: bool
) -> None:
    """The demo into an empty PostgreSQL schema (refused when it holds anything)."""
    from kinesio_tui import demo as demo_clinic
    from kinesio_tui.data.db import postgres_engine

    try:
        postgres_engine()  # psycopg installed, or one line saying how
        demo_clinic.build_demo_on_server(target, app_role=app_role)
    except KinesioError as error:
        raise fail(error) from None
    typer.echo(_("Demo clinic written: {label}", label=target.label()))
    if app_role is not None:
        say_granted(app_role)
    if not build_only:
        run_tui(ctx, target, demo=True)
