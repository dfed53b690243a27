"""The `kinesio` command. Thin: parses arguments, calls the domain, prints, exits 2 on bad input.

Textual is imported only when the TUI opens, so CLI commands start fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from kinesio_tui import clock
from kinesio_tui.errors import KinesioError

app = typer.Typer(
    name="kinesio",
    help="Kinesiotherapy clinician workstation for the radiculitis and sciatica programme.",
    pretty_exceptions_show_locals=False,
    no_args_is_help=False,
    add_completion=False,
)
patients_app = typer.Typer(help="List, add and show patients.", no_args_is_help=True)
episode_app = typer.Typer(help="Open or close an episode of care.", no_args_is_help=True)
app.add_typer(patients_app, name="patients")
app.add_typer(episode_app, name="episode")

F = TypeVar("F", bound=Callable[..., Any])

# KINESIO_DB is read once, by the main callback: were it also a command option's envvar, it
# would override an explicit `kinesio --db X command`.
MainDbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        envvar="KINESIO_DB",
        help="Database file (default: your data directory).",
        show_default=False,
    ),
]
DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="Database file (default: `kinesio --db`, $KINESIO_DB, or your data directory).",
        show_default=False,
    ),
]


class State:
    db_path: Path | None = None
    actor: str | None = None


state = State()


def fail(error: KinesioError) -> typer.Exit:
    """Print one clinician-readable line to stderr (as the workstation's launcher does); exit 2
    (bad input, a refused file), or 1 when another program kept the database locked: the
    command was right, try it again later."""
    from kinesio_tui.errors import DatabaseBusy
    from kinesio_tui.launch import say_error

    say_error(error)
    return typer.Exit(code=1 if isinstance(error, DatabaseBusy) else 2)


def say_waiting() -> None:
    """One line while a command waits for another program's write lock."""
    typer.echo("Waiting for the database: another program is writing to it...", err=True)


def db_path(override: Path | None = None) -> Path:
    from kinesio_tui.locations import resolve_db_path

    return resolve_db_path(override or state.db_path)


@contextmanager
def clinic_db(override: Path | None = None, *, create: bool = False) -> Iterator[Any]:
    """Open the database for one command; KinesioError becomes a message and exit 2.

    Only `create` (init) makes a database where there is none; every other command refuses
    a missing or empty path before anything is created there. SQLite's own failures (a
    damaged page, a full disk, a read-only folder) become one line too.
    """
    import sqlite3

    from kinesio_tui.data.db import connect, explain_sqlite_error

    path = db_path(override)
    try:
        db = connect(path, actor=state.actor, create=create, on_wait=say_waiting)
    except KinesioError as error:
        raise fail(error) from None
    try:
        yield db
    except KinesioError as error:
        raise fail(error) from None
    except sqlite3.DatabaseError as error:
        raise fail(explain_sqlite_error(path, error)) from None
    finally:
        db.close()


def run_tui(path: Path, *, demo: bool = False) -> None:
    """Open the workstation; a file it must refuse (newer, not ours) is refused before the UI."""
    from kinesio_tui.launch import open_workstation  # Textual loads only for the TUI

    try:
        code = open_workstation(path, actor=state.actor, demo=demo)
    except KinesioError as error:
        raise fail(error) from None
    if code:
        raise typer.Exit(code)


@app.callback(invoke_without_command=True)
def main_callback(
    ctx: typer.Context,
    db: MainDbOption = None,
    therapist: Annotated[
        str | None,
        typer.Option(
            "--therapist", envvar="KINESIO_THERAPIST", help="Your name for the audit trail."
        ),
    ] = None,
) -> None:
    """Open the workstation (with no command), or run a command."""
    from kinesio_tui.domain.validate import therapist_name

    state.db_path = db
    try:
        state.actor = therapist_name(therapist)  # before any command opens the file
    except KinesioError as error:
        raise fail(error) from None
    if ctx.invoked_subcommand is None:
        run_tui(db_path())


@app.command()
def init(db: DbOption = None) -> None:
    """Create (or upgrade) the database file and say where it is."""
    with clinic_db(db, create=True) as conn:
        from kinesio_tui.data.db import schema_version

        typer.echo(f"Database ready: {conn.path} (schema {schema_version(conn)})")


@app.command()
def demo(
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            help="Where to write the demo file (default: demo.db in your data directory).",
            show_default=False,
        ),
    ] = None,
    build_only: Annotated[
        bool, typer.Option("--build-only", help="Create the demo file, do not open the UI.")
    ] = False,
) -> None:
    """Open the workstation on a fresh demo database (the clinic's published cases and more)."""
    from kinesio_tui.demo import build_demo
    from kinesio_tui.locations import data_dir, private_dir

    # Not KINESIO_DB: that names the clinic's real file, and the demo replaces its target.
    path = db or private_dir(data_dir()) / "demo.db"
    try:
        build_demo(path)
    except KinesioError as error:
        raise fail(error) from None
    if build_only:
        typer.echo(f"Demo database written: {path}")
        return
    state.db_path = path
    run_tui(path, demo=True)


# --- patients -------------------------------------------------------------------------------


def find_one_patient(conn: Any, ref: str) -> Any:
    """A patient by id, or by a search that matches exactly one active or archived patient."""
    from kinesio_tui.domain import find_patients, get_patient

    if ref.isdigit():
        return get_patient(conn, int(ref))
    found = find_patients(conn, ref, limit=5) or find_patients(conn, ref, archived=True, limit=5)
    if not found:
        raise KinesioError("Not found", f"No patient matches {ref!r}.")
    if len(found) > 1:
        listing = "; ".join(f"{p.id}: {p.full_name}" for p in found[:5])  # say_error: shown()
        raise KinesioError(
            "More than one patient", f"{ref!r} matches several ({listing}); use the id."
        )
    return found[0]


@patients_app.command("list")
def patients_list(
    query: Annotated[
        str, typer.Argument(help="Filter by name, surname, phone or birth year.")
    ] = "",
    archived: Annotated[
        bool, typer.Option("--archived", help="List archived patients instead.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 200,
    db: DbOption = None,
) -> None:
    """List patients with their place in the programme."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from kinesio_tui.domain.roster import roster
    from kinesio_tui.plain_text import shown
    from kinesio_tui.protocol import protocol

    with clinic_db(db) as conn:
        rows = roster(conn, query, archived=archived, limit=limit)
        proto = protocol()
        today = clock.today()
        table = Table(
            "Id", "Name", "Age", "Condition", "Module", "Visit", "Next", "VAS", "Alert", box=None
        )
        for r in rows:
            cells = [
                str(r.patient_id),
                r.name,
                str(r.age_on(today)),
                proto.condition_words(r.condition, r.subtype or "", r.side or "")
                if r.condition
                else "no episode",
                str(r.module or "-"),
                f"{r.number}/15" if r.number else (r.episode_status or "-"),
                r.next_planned.isoformat() if r.next_planned else "-",
                f"{r.last_vas:g}" if r.last_vas is not None else "-",
            ]
            # Text, not str: Rich reads a str cell as markup (a surname `Closing[/]` crashed it)
            table.add_row(
                *(Text(shown(cell)) for cell in cells),
                Text("RED FLAG", style="bold red") if r.red_flags else "",
            )
        console = Console()
        if not console.is_terminal:
            console = Console(width=200)  # piped or redirected: whole rows, not wrapped at 80
        console.print(table)
        if not rows:
            typer.echo(
                "No patients match."
                if query
                else "No patients yet: add one with `kinesio patients add`."
            )


@patients_app.command("add")
def patients_add(
    first: Annotated[str, typer.Option("--first", help="First name.", prompt=False)],
    last: Annotated[str, typer.Option("--last", help="Surname.")],
    born: Annotated[str, typer.Option("--born", help="Birth date, YYYY-MM-DD.")],
    sex: Annotated[str, typer.Option("--sex", help="F, M or X.")],
    phone: Annotated[str, typer.Option("--phone")] = "",
    occupation: Annotated[str, typer.Option("--occupation")] = "",
    notes: Annotated[str, typer.Option("--notes")] = "",
    db: DbOption = None,
) -> None:
    """Register a patient; prints the new id."""
    from kinesio_tui.domain import NewPatient, create_patient

    with clinic_db(db) as conn:
        patient_id = create_patient(
            conn, NewPatient(first, last, born, sex.upper(), phone, occupation, notes)
        )
        typer.echo(f"Patient {patient_id} added.")


@patients_app.command("show")
def patients_show(
    patient: Annotated[str, typer.Argument(help="Patient id or a unique search.")],
    db: DbOption = None,
) -> None:
    """Show a patient, the current episode and where it stands."""
    from kinesio_tui.domain import current_episode, progress
    from kinesio_tui.plain_text import shown
    from kinesio_tui.protocol import protocol

    with clinic_db(db) as conn:
        p = find_one_patient(conn, patient)
        today = clock.today()
        typer.echo(
            f"{shown(p.full_name)} (id {p.id}), born {p.birth_date.isoformat()}, "
            f"age {p.age_on(today)}, sex {p.sex}"
        )
        if p.phone:
            typer.echo(f"Phone: {shown(p.phone)}")
        if p.occupation:
            typer.echo(f"Occupation: {shown(p.occupation)}")
        if p.archived:
            typer.echo("Archived.")
        episode = current_episode(conn, p.id)
        if episode is None:
            typer.echo("No episode of care yet: `kinesio episode open`.")
            return
        pr = progress(conn, episode.id, today=today)
        s = pr.standing
        proto = protocol()
        condition = proto.condition_words(episode.condition, episode.subtype, episode.side)
        typer.echo(shown(f"Episode {episode.id}: {condition}; {episode.course}, {episode.status}"))
        if pr.red_flags:
            typer.secho(
                "RED FLAGS - refer to a doctor now: "
                + "; ".join(proto.red_flag_words(pr.red_flags)),
                fg=typer.colors.RED,
            )
        if s.finished:
            typer.echo(f"Programme finished: {s.done} visits held, {s.missed} missed.")
        else:
            nxt = s.next_visit
            kind = ("doctor's appointment" if nxt.is_doctor else "therapy session") if nxt else ""
            if nxt is not None and nxt.in_progress and nxt.held_on:
                when = f"{kind} in progress since {nxt.held_on.isoformat()}"
            else:
                when = f"{kind} on {nxt.planned_date.isoformat()}" if nxt else "-"
            typer.echo(f"Module {s.module}, visit {s.number}/15 (overall {s.seq}/45); next: {when}")
        if pr.vas_change:
            c = pr.vas_change
            pct = f" ({c.percent:+.0f}%)" if c.percent is not None else ""
            typer.echo(
                f"VAS {c.baseline:g} -> {c.latest:g}: {c.delta:+g}{pct}"
                f"{' clinically important' if c.important else ''}"
            )


# --- episodes -------------------------------------------------------------------------------


@episode_app.command("open")
def episode_open(
    patient: Annotated[str, typer.Argument(help="Patient id or a unique search.")],
    condition: Annotated[str, typer.Option("--condition", help="radiculitis or sciatica.")],
    subtype: Annotated[
        str, typer.Option("--subtype", help="cervical/thoracic/lumbar or upper/middle/lower.")
    ],
    side: Annotated[str, typer.Option("--side", help="L, R or both.")],
    course: Annotated[str, typer.Option("--course", help="acute or chronic.")] = "acute",
    onset: Annotated[str | None, typer.Option("--onset", help="Onset date, YYYY-MM-DD.")] = None,
    medication: Annotated[str, typer.Option("--medication")] = "",
    red_flag: Annotated[
        list[str] | None, typer.Option("--red-flag", help="A red flag raised at intake.")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", help="First visit date (default today).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Open an episode of care and plan its 45 visits."""
    from kinesio_tui.domain import NewEpisode, open_episode
    from kinesio_tui.domain.validate import parse_date

    with clinic_db(db) as conn:
        p = find_one_patient(conn, patient)
        start_day = parse_date("start", start) if start else None
        episode_id = open_episode(
            conn,
            p.id,
            NewEpisode(condition, subtype, side, course, onset, medication, tuple(red_flag or ())),
            start=start_day,
        )
        typer.echo(f"Episode {episode_id} opened: 45 visits planned.")


@episode_app.command("close")
def episode_close(
    patient: Annotated[str, typer.Argument(help="Patient id or a unique search.")],
    completed: Annotated[
        bool,
        typer.Option("--completed", help="The programme is done (default: ended early)."),
    ] = False,
    db: DbOption = None,
) -> None:
    """End the patient's active episode; the visits still planned are cancelled."""
    from kinesio_tui.domain import close_episode, current_episode

    with clinic_db(db) as conn:
        p = find_one_patient(conn, patient)
        episode = current_episode(conn, p.id)
        if episode is None or episode.status != "active":
            raise fail(KinesioError("No active episode", f"Patient {p.id} has no open episode."))
        close_episode(
            conn,
            episode.id,
            status="completed" if completed else "closed",
            expected_version=episode.version,  # as read above: refused if changed since
        )
        typer.echo(f"Episode {episode.id} {'completed' if completed else 'closed'}.")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # unexpected: a scrubbed report, one calm line, exit 1
        from kinesio_tui.crash import report_and_exit

        report_and_exit(error)


# Maintenance commands (backup, restore, check, audit, erase) register themselves on `app`.
from kinesio_tui import cli_maintenance as _cli_maintenance  # noqa: E402, F401

# Reports: `kinesio export` and `kinesio templates path|copy`.
from kinesio_tui.cli_export import register as _register_export  # noqa: E402

_register_export(app)
