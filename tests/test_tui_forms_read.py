"""Forms say each thing once, keep every field's message, and drop a message once it is fixed."""

from __future__ import annotations

from pathlib import Path

from conftest import DAY
from screen_text import screen_lines
from textual.pilot import Pilot
from textual.widgets import Input, Static
from tui_driver import drive, settle
from visit_harness import VisitHarness, clinic, press, sync, type_text

from kinesio_tui.app import KinesioApp
from kinesio_tui.data.db import connect
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.visits import measurements_of
from kinesio_tui.views.doctor import DoctorForm


def control_appointment(db_path: Path) -> VisitHarness:
    """Module 1's control appointment: every check has an intake value to compare with."""
    return VisitHarness(db_path, clinic(db_path, "radiculitis", 7))


def row_message(form: DoctorForm, code: str) -> str:
    message = form.query_one(f"#err-{code}", Static)
    return str(message.render()) if message.display else ""


@sync
async def test_the_previous_value_is_shown_once(db_path: Path) -> None:
    app = control_appointment(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        [vas_line] = [line for line in screen_lines(app) if "VAS pain" in line]
        assert vas_line.count("was") == 1, vas_line
        form = app.screen.query_one(DoctorForm)
        assert "was" not in form.query_one("#f-slr_angle-L", Input).placeholder


@sync
async def test_a_corrected_value_takes_its_message_away(db_path: Path) -> None:
    app = control_appointment(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        form = app.screen.query_one(DoctorForm)
        await type_text(pilot, "4.6")
        await press(pilot, "enter")
        assert "✔" in row_message(form, "vas")
        vas = form.query_one("#f-vas-x", Input)
        vas.value = "11"
        await press(pilot, "enter")
        assert "should be a number from 0 to 10" in row_message(form, "vas")
        vas.value = "4.6"  # back to the value already saved: nothing to write, nothing wrong
        await press(pilot, "enter")
        assert "should be" not in row_message(form, "vas")
        vas.value = "12"
        await press(pilot, "enter")
        vas.value = ""  # emptied: not measured, no longer wrong
        await press(pilot, "enter")
        assert "should be" not in row_message(form, "vas")
        [saved] = measurements_of(app.db, app.visit_id)
        assert saved.value == 4.6


@sync
async def test_each_field_of_a_row_keeps_its_own_message(db_path: Path) -> None:
    app = control_appointment(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        form = app.screen.query_one(DoctorForm)
        form.query_one("#f-slr_angle-L", Input).focus()
        await type_text(pilot, "95")
        await press(pilot, "tab")  # on to the right side: the left is refused
        await type_text(pilot, "99")
        await press(pilot, "tab")
        message = row_message(form, "slr_angle")
        assert "L: should be a number from 0 to 90" in message, message
        assert "R: should be a number from 0 to 90" in message, message
        left = form.query_one("#f-slr_angle-L", Input)
        left.value = "45"
        left.focus()
        await press(pilot, "enter")
        message = row_message(form, "slr_angle")
        assert "L: should be" not in message and "R: should be" in message, message
        saved = {(m.test_code, m.side) for m in measurements_of(app.db, app.visit_id)}
        assert saved == {("slr_angle", "L")}


def test_the_episode_form_asks_for_the_condition_before_the_subtype(db_path: Path) -> None:
    with connect(db_path, actor="tester") as db:
        patient_id = create_patient(db, NewPatient("Ona", "Testaitė", "1970-05-06", "F"), today=DAY)

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        app.open_patient(patient_id)
        await settle(app, pilot)
        await pilot.press("o")
        await settle(app, pilot)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        condition = app.screen.query_one("#error-condition", Static)
        subtype = app.screen.query_one("#error-subtype", Static)
        assert "one of: -" not in str(subtype.render())
        # the choices in the words the lists show, not the database's codes
        said = str(condition.render())
        assert "Radiculitis (radiculopathy) or Sciatica" in said, said
        side = str(app.screen.query_one("#error-side", Static).render())
        assert "left, right or both" in side and "L, R" not in side, side

    drive(db_path, script)


def test_the_allowed_range_hint_says_a_scale_once() -> None:
    """The forms' hint beside a field: "0–10" for VAS (/10), "0–90 °" for an angle."""
    from kinesio_tui.protocol import load_protocol
    from kinesio_tui.views.record_test import allowed_text

    protocol = load_protocol()
    vas, slr = protocol.test("vas"), protocol.test("slr_angle")
    assert vas is not None and slr is not None
    assert allowed_text(vas) == "0–10"
    assert allowed_text(slr).endswith("0–90 °")
