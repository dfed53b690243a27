"""A red flag's state reads the same as plain text: a ticked box differs by its glyph."""

from __future__ import annotations

from pathlib import Path

from conftest import DAY
from screen_text import screen_lines
from textual.pilot import Pilot
from textual.widgets import Checkbox
from tui_driver import drive, settle
from visit_harness import VisitHarness, clinic, press, sync

from kinesio_tui.app import KinesioApp
from kinesio_tui.data.db import connect
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import create_patient, find_patients
from kinesio_tui.protocol import RedFlag, protocol


def flag_lines(lines: list[str], flags: tuple[RedFlag, ...] | None = None) -> dict[str, str]:
    """Each red flag's screen line, by label (`flags`: those the form asks; default all)."""
    return {
        flag.label: next(line for line in lines if flag.label in line)
        for flag in (protocol().red_flags if flags is None else flags)
    }


def ticked(line: str) -> bool | None:
    """What a person reading the line without colour takes the box to say."""
    if "[x]" in line:
        return True
    if "[ ]" in line:
        return False
    return None


def test_episode_form_flags_read_ticked_or_not_without_colour(db_path: Path) -> None:
    with connect(db_path, actor="tester") as db:
        patient_id = create_patient(db, NewPatient("Ona", "Testaitė", "1970-05-06", "F"), today=DAY)

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        app.open_patient(patient_id)
        await settle(app, pilot)
        await pilot.press("o")
        await settle(app, pilot)
        before = flag_lines(screen_lines(app))
        assert all(ticked(line) is False for line in before.values()), before
        app.screen.query_one("#flags").focus()
        await pilot.press("down", "space")  # the second flag: saddle numbness
        await settle(app, pilot)
        after = flag_lines(screen_lines(app))
        states = {label: ticked(line) for label, line in after.items()}
        assert states == {f.label: f.code == "saddle_numbness" for f in protocol().red_flags}

    drive(db_path, script, size=(80, 50))  # all of the flags on screen at once


@sync
async def test_doctors_form_flags_read_ticked_or_not_without_colour(db_path: Path) -> None:
    app = VisitHarness(db_path, clinic(db_path, "radiculitis", 7))
    asked = protocol().red_flags_for("radiculitis", "lumbar")  # the clinic's episode
    async with app.run_test(size=(120, 60)) as pilot:
        await pilot.pause()
        before = flag_lines(screen_lines(app), asked)
        assert all(ticked(line) is False for line in before.values()), before
        app.screen.query_one("#flag-fever_weight_loss", Checkbox).value = True
        await press(pilot)
        lines = flag_lines(screen_lines(app), asked)
        states = {label: ticked(line) for label, line in lines.items()}
        assert states == {f.label: f.code == "fever_weight_loss" for f in asked}


def test_the_export_dialogs_choices_read_chosen_or_not_without_colour(
    demo_db_path: Path,
) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        (patient,) = find_patients(app.db, "petrauskas")
        app.open_patient(patient.id)
        await settle(app, pilot)
        await pilot.press("e")
        await settle(app, pilot)
        lines = screen_lines(app)
        for words, chosen in (
            ("Patient summary", True),
            ("Module", False),
            ("HTML (print)", True),
            ("Markdown", False),
        ):
            line = next(line for line in lines if words in line and "Module 3 ·" not in line)
            part = line[: line.index(words)][-5:]
            assert ("(•)" in part) is chosen and ("( )" in part) is not chosen, line

    drive(demo_db_path, script)
