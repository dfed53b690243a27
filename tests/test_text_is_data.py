"""Text a person typed is data: never Rich/Textual markup, never a terminal control.

Hostile names and notes (markup that would crash the app, make a link, bind a click to
quitting, or eat a word) go through every screen of the workstation and every command that
prints them. Each check reads what reaches the terminal: the text shows literally, and the
output holds no escape sequence but the colours and cursor moves the app makes itself.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import DAY
from rich.console import Console
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Select, TextArea
from typer.main import get_command

from kinesio_tui.app import KinesioApp, build_app
from kinesio_tui.cli import app as cli_app
from kinesio_tui.data.db import connect, write_transaction
from kinesio_tui.domain.episodes import current_episode, open_episode, screen_red_flags
from kinesio_tui.domain.models import NewEpisode, NewPatient, PirCycle
from kinesio_tui.domain.patients import archive_patient, create_patient
from kinesio_tui.domain.visits import (
    checklist_for_visit,
    complete_visit,
    record_measurement,
    record_pir_cycle,
    set_visit_note,
    start_visit,
    tick_item,
    visits_of,
)
from kinesio_tui.upstream_hooks import Toast
from kinesio_tui.views.doctor import DoctorForm
from kinesio_tui.views.export_dialog import ExportDialog
from kinesio_tui.views.help import HelpScreen
from kinesio_tui.views.patient import PatientScreen
from kinesio_tui.views.patient_form import EpisodeForm, PatientForm
from kinesio_tui.views.patients import PatientsScreen
from kinesio_tui.views.pir import PirScreen
from kinesio_tui.views.record_test import RecordTestDialog
from kinesio_tui.views.visit import VisitScreen

#: Each would be markup: a crash ([/] closes nothing), a link, a click action, a lost word.
HOSTILE = (
    "Closing[/]",
    "Test [/b]",
    "[link=https://x]a[/link]",
    "[@click=app.quit]x[/]",
    "Anna [twin]",
    "[bold]B[/bold]",
)
THERAPIST = "[b]Dr[/b] [/]Who"
#: What an older version (or sqlite3 by hand) may have left in the file: an escape sequence
#: that clears the screen, a 7-bit and an 8-bit CSI, DEL, a right-to-left override, an isolate.
LEGACY = "Evil\x1b[2J\x1b]0;owned\x07\x9b31m\x7f\u202eenil\u2066x\u2069"
LEGACY_SHOWN = "Evil"  # what must still be readable around the controls

#: The app's own sequences: colours (SGR) and cursor moves. Anything else is a leak.
_OWN = re.compile(r"\x1b\[[0-9;]*m|\x1b\[\d+;\d+H")
_FRAME = re.compile("[\u2500-\u259f]")  # borders and blocks a dialog is drawn with
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@dataclass
class Clinic:
    path: Path | str  # as --db takes it: a file, or a PostgreSQL URL
    ids: dict[str, int]  # hostile surname -> patient id
    legacy: int  # a patient whose stored text holds controls (written around validation)


def hostile_clinic(path: Path | str) -> Clinic:
    """Six patients named by HOSTILE, with hostile text in every free-text field.

    "Closing[/]" has held the intake (a text test result) and a session (a dosage note, a PIR
    set on a typed muscle, a visit note), so their next session shows all of it; "Test [/b]"
    has only their episode, so their next visit is the doctor's intake form.
    """
    ids: dict[str, int] = {}
    with connect(path, actor=THERAPIST) as db:
        for name in HOSTILE:
            ids[name] = create_patient(
                db,
                NewPatient(name, name, "1970-01-01", "F", occupation=name, notes=name),
                today=DAY,
            )
        for name in ("Closing[/]", "Test [/b]"):
            open_episode(
                db,
                ids[name],
                NewEpisode("sciatica", "upper", "L", pain_medication="[red]meds[/]"),
                start=DAY,
                today=DAY,
            )
        episode = current_episode(db, ids["Closing[/]"])
        assert episode is not None
        intake, session = visits_of(db, episode.id)[:2]
        start_visit(db, intake.id, therapist=THERAPIST, today=DAY)
        record_measurement(db, intake.id, "emg_finding", "[link=https://x]a[/link]")
        screen_red_flags(db, episode.id, [], visit_id=intake.id, note="[/]", today=DAY)
        complete_visit(db, intake.id)
        start_visit(db, session.id, therapist=THERAPIST, today=DAY)
        item = checklist_for_visit(db, session)[0]
        tick_item(db, session.id, item.code, "Test [/b] 3 x 10")
        record_pir_cycle(db, session.id, PirCycle("[@click=app.quit]x[/]", "L", 7, 30, 20))
        set_visit_note(db, session.id, "Anna [twin] note")
        complete_visit(db, session.id)
        legacy = create_patient(db, NewPatient("Old", "Record", "1960-01-01", "M"), today=DAY)
        open_episode(db, legacy, NewEpisode("sciatica", "upper", "L"), start=DAY, today=DAY)
    by_hand = [
        (
            "UPDATE patients SET first_name = ?, last_name = ?, occupation = ?, notes = ? "
            "WHERE id = ?",
            (LEGACY, LEGACY, LEGACY, LEGACY, legacy),
        ),
        ("UPDATE episodes SET pain_medication = ? WHERE patient_id = ?", (LEGACY, legacy)),
    ]
    if str(path).startswith("postgresql://"):  # past the domain, as psql would
        with connect(path) as db, write_transaction(db):
            for sql, values in by_hand:
                db.execute(sql, values)
    else:
        raw = sqlite3.connect(path)
        with raw:
            for sql, values in by_hand:
                raw.execute(sql, values)
        raw.close()
    return Clinic(path, ids, legacy)


@pytest.fixture
def clinic(tmp_path: Path) -> Clinic:
    """The hostile clinic in a file: the screens' tests drive the workstation on it."""
    return hostile_clinic(tmp_path / "hostile.db")


@pytest.fixture
def cli_clinic(db_target: str) -> Clinic:
    """The hostile clinic on each engine (issue 17): what the command line prints of it."""
    return hostile_clinic(db_target)


# --- reading what reaches the terminal --------------------------------------------------------


def terminal_output(app: KinesioApp) -> str:
    """The bytes a full repaint of the current screen (and any screen under a dialog) sends."""
    screen = io.StringIO()
    console = Console(
        file=screen,
        force_terminal=True,
        color_system="truecolor",
        width=app.size.width,
        height=app.size.height,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    output = screen.getvalue()
    return output


def screen_text(app: KinesioApp) -> str:
    """The screen as plain text, after checking it carries no stray control or link."""
    output = terminal_output(app)
    text = _OWN.sub("", output)
    leaks = sorted({repr(ch) for ch in _UNSAFE.findall(text)})
    assert not leaks, f"raw controls reach the terminal: {leaks}"
    return text


def shows(app: KinesioApp, *texts: str) -> None:
    screen = screen_text(app)
    flat = " ".join(screen.split())  # a long line may wrap
    for text in texts:
        assert text in screen or text in flat, f"{text!r} is not shown literally"


def shows_in(app: KinesioApp, widget: Widget, *texts: str) -> None:
    """`texts` in what the terminal shows in `widget`'s region (a dialog wraps its lines)."""
    rows = re.split(
        r"\x1b\[\d+;\d+H",
        _OWN.sub(lambda m: "" if m[0].endswith("m") else m[0], terminal_output(app)),
    )[1:]
    region = widget.region
    shown = " ".join(
        " ".join(_FRAME.sub("", row.rstrip("\n")[region.x : region.right]).split())
        for row in rows[region.y : region.bottom]
    )
    screen_text(app)  # and nothing unsafe anywhere on the screen
    for text in texts:
        assert text in shown, f"{text!r} is not shown literally in {shown!r}"


async def settle(app: KinesioApp, pilot: Pilot[None]) -> None:
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


Script = Callable[[KinesioApp, Pilot[None]], Awaitable[None]]


def drive(clinic: Clinic, script: Script, *, size: tuple[int, int] = (160, 50)) -> None:
    async def main() -> None:
        app = build_app(clinic.path)
        async with app.run_test(size=size, notifications=True) as pilot:
            await settle(app, pilot)
            await script(app, pilot)
            assert app.is_running  # [@click=app.quit] did not become an action

    asyncio.run(main())


async def open_patient(app: KinesioApp, pilot: Pilot[None], patient_id: int) -> PatientScreen:
    app.open_patient(patient_id)
    await settle(app, pilot)
    assert isinstance(app.screen, PatientScreen)
    return app.screen


# --- the workstation --------------------------------------------------------------------------


def test_the_patient_list_shows_every_name_literally(clinic: Clinic) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        assert isinstance(app.screen, PatientsScreen)
        shows(app, *HOSTILE, LEGACY_SHOWN)

    drive(clinic, script)


@pytest.mark.parametrize("typed", ["[/]", "Anna [twin]", "[bold]B", "[@click=app.quit]x[/]"])
def test_markup_typed_in_the_search_box_is_searched_for(clinic: Clinic, typed: str) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        search = app.screen.query_one("#search", Input)
        search.focus()
        await pilot.press(*typed)
        await settle(app, pilot)
        assert search.value == typed
        shows(app, typed)

    drive(clinic, script)


@pytest.mark.parametrize("name", HOSTILE)
def test_patient_screen_details_form_archive_and_help(clinic: Clinic, name: str) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        screen = await open_patient(app, pilot, clinic.ids[name])
        shows(app, f"{name} {name}", name)
        screen.action_edit()
        await settle(app, pilot)
        assert isinstance(app.screen, PatientForm)
        shows(app, f"Change details: {name} {name}")
        assert app.screen.query_one("#last-name", Input).value == name
        await pilot.press("escape")
        await settle(app, pilot)
        screen.action_toggle_archive()
        await settle(app, pilot)
        assert isinstance(app.screen, ModalScreen)
        shows_in(app, app.screen.query_one("#confirm-question"), f"Archive {name} {name}?")
        await pilot.press("y")
        await settle(app, pilot)
        assert isinstance(app.screen, PatientScreen)
        shows(app, f"{name} {name}")
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        screen_text(app)
        await pilot.press("escape")
        await settle(app, pilot)
        screen.action_toggle_archive()  # restore
        await settle(app, pilot)
        assert isinstance(app.screen, ModalScreen)
        question = app.screen.query_one("#confirm-question")
        shows_in(app, question, f"Restore {name} {name} to the active list?")
        await pilot.press("y")
        await settle(app, pilot)

    drive(clinic, script)


@pytest.mark.parametrize("name", HOSTILE)
def test_episode_form_names_the_patient_literally(clinic: Clinic, name: str) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        app.push_screen(EpisodeForm(clinic.ids[name]))
        await settle(app, pilot)
        shows(app, f"Open an episode of care: {name} {name}")
        app.screen.query_one("#medication", Input).value = name
        await pilot.press("ctrl+s")  # no condition chosen: refused, field by field
        await settle(app, pilot)
        assert isinstance(app.screen, EpisodeForm)
        screen_text(app)

    drive(clinic, script)


def test_a_new_patient_typed_with_markup_goes_through_both_forms(clinic: Clinic) -> None:
    typed = {
        "#first-name": "[@click=app.quit]x[/]",
        "#last-name": "Closing[/] [bold]New",
        "#birth-date": "1980-02-03",
        "#occupation": "[link=https://x]driver[/link]",
        "#notes": "Anna [twin]",
    }

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        screen = app.screen
        assert isinstance(screen, PatientsScreen)
        screen.action_new_patient()
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, PatientForm)
        for selector, value in typed.items():
            form.query_one(selector, Input).value = value
        form.query_one("#sex", Select).value = "F"
        shows(app, *(v for k, v in typed.items() if k != "#notes"))
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, EpisodeForm)
        shows(app, "Open an episode of care: [@click=app.quit]x[/] Closing[/] [bold]New")
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, PatientScreen)
        shows(app, "[@click=app.quit]x[/] Closing[/] [bold]New", "[link=https://x]driver[/link]")

    drive(clinic, script)


def test_the_visit_shows_notes_dosages_and_typed_muscles_literally(clinic: Clinic) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        screen = await open_patient(app, pilot, clinic.ids["Closing[/]"])
        shows(app, "[red]meds[/]")
        screen.action_start_visit()
        await settle(app, pilot)
        visit = app.screen
        assert isinstance(visit, VisitScreen)
        shows(app, "Closing[/] Closing[/]", "Test [/b] 3 x 10", "[@click=app.quit]x[/] L")
        note = visit.query_one("#visit-note", TextArea)
        note.focus()
        note.insert("[bold]B[/bold] and [/]")
        await settle(app, pilot)
        shows(app, "[bold]B[/bold] and [/]")
        await pilot.press("escape")  # out of the note: it is saved
        await pilot.press("p")
        await settle(app, pilot)
        pir = app.screen
        assert isinstance(pir, PirScreen)
        shows(app, "Post-isometric relaxation (PIR) · Closing[/] Closing[/]")
        pir.query_one("#muscle", Select).value = "__other__"
        await settle(app, pilot)
        pir.query_one("#other-muscle", Input).value = "[/] [bold]rhomboid"
        pir.query_one("#cycles", Input).value = "1"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        shows(app, "[/] [bold]rhomboid")
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, VisitScreen)

    drive(clinic, script)


def test_the_doctors_form_and_the_test_dialog_show_typed_findings_literally(
    clinic: Clinic,
) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        screen = await open_patient(app, pilot, clinic.ids["Test [/b]"])
        screen.action_start_visit()
        await settle(app, pilot)
        assert isinstance(app.screen, VisitScreen)
        app.screen.query_one(DoctorForm)
        shows(app, "Test [/b] Test [/b]")
        await pilot.press("escape", "t")  # out of the first field, then a test result
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, RecordTestDialog)
        dialog.query_one("#test-select", Select).value = "emg_finding"
        await settle(app, pilot)
        dialog.query_one("#value-input", Input).value = "[link=https://x]L5[/link] [/]"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, VisitScreen)
        shows(app, "EMG finding [link=https://x]L5[/link] [/]")

    drive(clinic, script)


def test_export_dialog_and_its_messages_show_a_bracketed_folder_literally(
    clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "[/]clinic [b]data"))

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        screen = await open_patient(app, pilot, clinic.ids["Closing[/]"])
        screen.action_export()
        await settle(app, pilot)
        assert isinstance(app.screen, ExportDialog)
        shows(app, "[/]clinic [b]data")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, PatientScreen)
        toast = app.screen.query_one(Toast)
        shows_in(app, toast, "Written:", "[/]clinic [b]data")

    drive(clinic, script)


@pytest.mark.parametrize(("typed", "name"), [("closing", "Closing[/]"), ("anna", "Anna [twin]")])
def test_the_palette_offers_patients_by_their_literal_name(
    clinic: Clinic, typed: str, name: str
) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await pilot.press("ctrl+p")
        await settle(app, pilot)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*typed)
        for _ in range(40):  # the palette searches in the background
            await pilot.pause(0.05)
            if app.screen.query("CommandList Option"):
                break
        shows(app, f"Open patient {name}, {name}")
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PatientScreen)
        assert app.screen.patient_id == clinic.ids[name]

    drive(clinic, script)


def test_controls_stored_by_an_older_version_never_reach_the_terminal(clinic: Clinic) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        shows(app, LEGACY_SHOWN)  # the list
        search = app.screen.query_one("#search", Input)
        search.focus()
        await pilot.press(*"old")  # the search index holds what the domain last wrote
        await settle(app, pilot)
        shows(app, LEGACY_SHOWN)
        screen = await open_patient(app, pilot, clinic.legacy)
        shows(app, LEGACY_SHOWN)
        screen.action_edit()
        await settle(app, pilot)
        shows(app, LEGACY_SHOWN)  # the inputs hold the stored text
        await pilot.press("escape")
        await settle(app, pilot)
        screen.action_toggle_archive()
        await settle(app, pilot)
        shows_in(app, app.screen.query_one("#confirm-question"), f"Archive {LEGACY_SHOWN}")
        await pilot.press("n")
        await settle(app, pilot)
        screen.action_start_visit()
        await settle(app, pilot)
        assert isinstance(app.screen, VisitScreen)
        shows(app, LEGACY_SHOWN)

    drive(clinic, script)


# --- the command line -------------------------------------------------------------------------

runner = CliRunner()
# The command line prints the hostile clinic literally from either engine (issue 17); the
# screens' tests above and the therapist's name below take a file.
pytestmark = pytest.mark.engines("sqlite", "postgresql")
#: Typer's command built once; typed Any because Typer builds it on its own vendored copy
#: of click, which click's runner drives all the same (it only calls .main()).
COMMAND: Any = get_command(cli_app)


def cli(clinic: Clinic, *args: str) -> str:
    result = runner.invoke(COMMAND, [*args, "--db", str(clinic.path)])
    assert result.exit_code == 0, (args, result.output, repr(result.exception))
    leaks = sorted({repr(ch) for ch in _UNSAFE.findall(result.output)})
    assert not leaks, f"raw controls in the output of {args}: {leaks}"
    return result.output


def test_patients_list_prints_every_name_literally(cli_clinic: Clinic) -> None:
    output = cli(cli_clinic, "patients", "list")
    for name in HOSTILE:
        assert f"{name}, {name}" in output
    assert LEGACY_SHOWN in output
    found = cli(cli_clinic, "patients", "list", "closing")
    assert "Closing[/], Closing[/]" in found


@pytest.mark.parametrize("name", HOSTILE)
def test_patients_show_and_audit_show_print_names_literally(cli_clinic: Clinic, name: str) -> None:
    pid = str(cli_clinic.ids[name])
    assert f"{name} {name} (id {pid})" in cli(cli_clinic, "patients", "show", pid)
    assert f"Occupation: {name}" in cli(cli_clinic, "patients", "show", pid)
    history = cli(cli_clinic, "audit", "show", pid)
    assert f"last_name: - -> {name}" in history
    assert THERAPIST in history


def test_controls_stored_by_an_older_version_are_not_printed_raw(cli_clinic: Clinic) -> None:
    pid = str(cli_clinic.legacy)
    assert LEGACY_SHOWN in cli(cli_clinic, "patients", "show", pid)
    assert LEGACY_SHOWN in cli(cli_clinic, "patients", "list")
    cli(cli_clinic, "audit", "show", pid)
    with connect(cli_clinic.path, actor="Evil\x1b]0;title\x07") as db:  # as an older version did
        archive_patient(db, cli_clinic.legacy)
    assert "Evil" in cli(cli_clinic, "audit", "show", pid)


def test_a_search_matching_several_names_lists_them_literally(cli_clinic: Clinic) -> None:
    result = runner.invoke(COMMAND, ["patients", "show", "[", "--db", str(cli_clinic.path)])
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output


def test_export_prints_paths_and_writes_names_literally(cli_clinic: Clinic, tmp_path: Path) -> None:
    out = tmp_path / "[/]out [b]dir"
    for fmt in ("html", "md"):
        printed = cli(
            cli_clinic,
            "export",
            str(cli_clinic.ids["Closing[/]"]),
            "--format",
            fmt,
            "--out",
            str(out),
        )
        assert str(out) in printed
    html = next(out.glob("*.html")).read_text()
    assert "Closing[/]" in html and "[red]meds[/]" in html


# --- the therapist's name ---------------------------------------------------------------------

KINESIO = Path(sys.executable).parent / "kinesio"


def kinesio(
    tmp_path: Path, *args: str | bytes, therapist: str | bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The real `kinesio` process; `therapist` goes in KINESIO_THERAPIST (bytes as they come)."""
    env: dict[str, str | bytes] = {
        k: v for k, v in os.environ.items() if not k.startswith("KINESIO")
    }
    if therapist is not None:
        env["KINESIO_THERAPIST"] = therapist
    return subprocess.run(
        [str(KINESIO), *args],
        capture_output=True,
        env=env,  # bytes values are passed as they are (POSIX)
        timeout=60,
        check=False,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )


BAD_THERAPISTS: list[tuple[list[str | bytes], str | bytes | None, str]] = [
    (["--therapist", "Dr \x1b[31mRed"], None, "control characters"),
    (["--therapist", "Dr \u202eWho"], None, "control characters"),
    ([], "Dr \x1b]0;owned\x07Who", "control characters"),
    ([], "t" * 100_000, "at most 80 characters"),
    ([b"--therapist", b"Ona \xff\xfe"], None, "not valid text"),
    ([], b"Ona \xc5", "not valid text"),
]


@pytest.mark.parametrize(
    ("args", "env", "reason"),
    BAD_THERAPISTS,
    ids=["ESC", "RLO", "env-OSC", "env-100000", "undecodable", "env-undecodable"],
)
@pytest.mark.parametrize("command", [["patients", "list"], []], ids=["cli", "workstation"])
def test_a_bad_therapist_name_is_one_line_and_exit_2(
    tmp_path: Path,
    args: list[str | bytes],
    env: str | bytes | None,
    reason: str,
    command: list[str],
) -> None:
    """Both front doors (the CLI and the workstation's fast path) refuse it before any write."""
    db = tmp_path / "c.db"
    connect(db).close()
    before = db.read_bytes()
    proc = kinesio(tmp_path, *args, "--db", str(db), *command, therapist=env)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 2, (proc.returncode, err[:300])
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "therapist" in lines[0] and reason in lines[0], err[:300]
    assert "\x1b" not in err.replace("\x1b[31m", "").replace("\x1b[0m", "")
    assert "crash" not in err.lower() and "Traceback" not in err
    assert proc.stdout == b""
    assert db.read_bytes() == before


def test_a_good_therapist_name_reaches_the_audit_trail_literally(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    name = "[b]Dr[/b] Rūta Žemaitė"
    assert kinesio(tmp_path, "init", "--db", str(db)).returncode == 0
    added = kinesio(
        tmp_path, "--therapist", name, "patients", "add", "--first", "Ona", "--last",
        "Closing[/]", "--born", "1970-01-01", "--sex", "F", "--db", str(db),
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    shown = kinesio(tmp_path, "audit", "show", "1", "--db", str(db))
    assert shown.returncode == 0, shown.stderr
    assert f" {name}: create patients 1" in shown.stdout.decode()
