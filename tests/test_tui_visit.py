"""Pilot tests of the visit screens against a real demo database file."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DAY
from screen_text import screen_text
from textual.widgets import Checkbox, Input, Select, Static
from textual.widgets._select import SelectOverlay
from visit_harness import VisitHarness, clinic, press, sync, type_text

from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain.episodes import current_episode, open_episode, raised_red_flags
from kinesio_tui.domain.models import NewEpisode, NewPatient, Visit
from kinesio_tui.domain.outcomes import latest_results
from kinesio_tui.domain.patients import create_patient, find_patients
from kinesio_tui.domain.visits import get_visit, measurements_of, next_visit, ticks_of, visits_of
from kinesio_tui.units import value_with_unit
from kinesio_tui.views.checklist import Checklist
from kinesio_tui.views.doctor import DoctorForm
from kinesio_tui.views.record_test import RecordTestDialog
from kinesio_tui.views.visit import (
    NoteDialog,
    VisitScreen,
)
from kinesio_tui.views.widgets import Confirm


def next_visit_of(db: ClinicDB, name: str) -> Visit:
    patient = find_patients(db, name)[0]
    episode = current_episode(db, patient.id)
    assert episode is not None
    visit = next_visit(db, episode.id)
    assert visit is not None
    return visit


def new_patient_visit(db_path: Path) -> Visit:
    """A fresh radiculitis patient whose first visit (a doctor's appointment) is today."""
    with connect(db_path, actor="tester") as db:
        patient_id = create_patient(db, NewPatient("Jonas", "Testas", "1980-03-04", "M"), today=DAY)
        episode_id = open_episode(
            db, patient_id, NewEpisode("radiculitis", "lumbar", "R"), today=DAY
        )
        visit = next_visit(db, episode_id)
        assert visit is not None
        return visit


def text_of(screen: object, selector: str) -> str:
    widget = screen.query_one(selector, Static)  # type: ignore[attr-defined]
    return str(widget.render())


@sync
async def test_space_ticks_dosage_note_and_undo(demo_db_path: Path) -> None:
    with connect(demo_db_path) as db:
        visit = next_visit_of(db, "zemaite")
    assert visit.kind == "therapy" and visit.module == 2
    app = VisitHarness(demo_db_path, visit.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, VisitScreen)
        codes = [item.code for item in screen.items]
        # sciatica: the S variants only
        assert "m2_hip_opening" in codes and "m2_twists_breath" not in codes
        before = set(ticks_of(app.db, visit.id))  # the demo session is under way
        assert codes[0] in before and codes[2] not in before and codes[4] not in before
        await press(pilot, "space")  # untick item 1
        assert set(ticks_of(app.db, visit.id)) == before - {codes[0]}
        await press(pilot, "space")  # and tick it again
        assert set(ticks_of(app.db, visit.id)) == before
        await press(pilot, "down", "down", "space")
        ticked = ticks_of(app.db, visit.id)
        assert set(ticked) == before | {codes[2]} and ticked[codes[2]].note == ""
        shown = len(before) + 1
        assert f"{shown}/5" in text_of(screen, "#checklist-progress")

        await press(pilot, "d")
        assert isinstance(app.screen, NoteDialog)
        await type_text(pilot, "3 x 10 each side")
        await press(pilot, "enter")
        assert ticks_of(app.db, visit.id)[codes[2]].note == "3 x 10 each side"
        prompt = screen.query_one(Checklist).get_option_at_index(2).prompt
        assert "3 x 10 each side" in str(prompt)

        await press(pilot, "down", "down", "enter")  # Enter on an unticked item: a note ticks it
        await type_text(pilot, "blue tape")
        await press(pilot, "enter")
        assert ticks_of(app.db, visit.id)[codes[4]].note == "blue tape"

        await press(pilot, "ctrl+z")  # the last change: item 5's dosage -> unticked again
        assert codes[4] not in ticks_of(app.db, visit.id)
        await press(pilot, "ctrl+z")  # item 3's dosage -> back to no note, still ticked
        assert ticks_of(app.db, visit.id)[codes[2]].note == ""
        await press(pilot, "ctrl+z")  # the tick of item 3
        assert set(ticks_of(app.db, visit.id)) == before
        assert f"{len(before)}/5" in text_of(screen, "#checklist-progress")


@sync
async def test_record_vas_and_slr_with_validation(demo_db_path: Path) -> None:
    with connect(demo_db_path) as db:
        visit = next_visit_of(db, "petrauskas")
    assert visit.kind == "therapy" and visit.module == 3
    app = VisitHarness(demo_db_path, visit.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await press(pilot, "t")
        dialog = app.screen
        assert isinstance(dialog, RecordTestDialog) and dialog.test.code == "vas"
        await press(pilot, "1", "1", "enter")
        assert "from 0 to 10" in text_of(dialog, "#value-error")
        assert measurements_of(app.db, visit.id) == []
        await press(pilot, "backspace", "backspace", "3", "enter")
        assert app.screen is not dialog
        [vas] = measurements_of(app.db, visit.id)
        assert (vas.test_code, vas.side, vas.value) == ("vas", None, 3.0)

        await press(pilot, "t")
        dialog = app.screen
        assert isinstance(dialog, RecordTestDialog)
        dialog.query_one("#test-select", Select).value = "slr_angle"
        await pilot.pause()
        # the episode's side is offered first
        assert dialog.query_one("#side-select", Select).value == "R"
        dialog.query_one("#value-input", Input).focus()
        await press(pilot, "-", "5", "enter")
        assert "from 0 to 90" in text_of(dialog, "#value-error")
        assert len(measurements_of(app.db, visit.id)) == 1
        dialog.query_one("#value-input", Input).value = ""
        await press(pilot, "6", "0", "enter")
        slr = measurements_of(app.db, visit.id)[-1]
        assert (slr.test_code, slr.side, slr.value) == ("slr_angle", "R", 60.0)
        assert "SLR" in text_of(app.screen, "#visit-records") or "Straight-leg" in text_of(
            app.screen, "#visit-records"
        )

        await press(pilot, "ctrl+z")  # a new result is removed by undo
        assert [m.test_code for m in measurements_of(app.db, visit.id)] == ["vas"]


@sync
async def test_complete_asks_about_unticked_items_and_moves_on(demo_db_path: Path) -> None:
    with connect(demo_db_path) as db:
        visit = next_visit_of(db, "zemaite")
    app = VisitHarness(demo_db_path, visit.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await press(pilot, "space", "n")
        await type_text(pilot, "Calm session")
        await press(pilot, "escape")
        assert get_visit(app.db, visit.id).note == "Calm session"
        await press(pilot, "c")
        assert isinstance(app.screen, Confirm)
        await press(pilot, "n")  # not yet
        assert get_visit(app.db, visit.id).status == "planned"
        await press(pilot, "c", "y")
        await pilot.pause()
        assert app.results == [True]
        done = get_visit(app.db, visit.id)
        assert done.status == "done" and done.completed_at is not None
        following = next_visit(app.db, visit.episode_id)
        assert following is not None and following.seq == visit.seq + 1


@sync
async def test_visit_out_of_order_is_refused(demo_db_path: Path) -> None:
    with connect(demo_db_path) as db:
        current = next_visit_of(db, "petrauskas")
        later = visits_of(db, current.episode_id)[current.seq + 1]
    app = VisitHarness(demo_db_path, later.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.results == [False]
        assert not isinstance(app.screen, VisitScreen)
    with connect(demo_db_path) as db:
        assert get_visit(db, later.id).started_at is None


@sync
async def test_doctor_form_choice_opens_its_list_by_key_and_by_click(demo_db_path: Path) -> None:
    """A choice's list is built the first time it opens (views/choice.py): Enter opens it
    on the choice shown, arrows and Enter choose (saved at once), a click opens it too."""
    visit = new_patient_visit(demo_db_path)
    app = VisitHarness(demo_db_path, visit.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        form = app.screen.query_one(DoctorForm)
        sign = form.query_one("#f-slr_sign-R", Select)
        sign.focus()
        await press(pilot, "enter")
        assert sign.expanded
        assert "negative" in str(app.focused.render_line(1).text)  # type: ignore[union-attr]
        await press(pilot, "down", "down", "enter")  # past the blank line, past "negative"
        assert not sign.expanded and app.focused is sign
        assert sign.value == "positive"
        saved = {(m.test_code, m.side): m.value for m in measurements_of(app.db, visit.id)}
        assert saved == {("slr_sign", "R"): "positive"}

        await press(pilot, "enter")  # open again: the list is on the value chosen
        assert sign.expanded
        await press(pilot, "up", "enter")
        assert sign.value == "negative"
        saved = {(m.test_code, m.side): m.value for m in measurements_of(app.db, visit.id)}
        assert saved == {("slr_sign", "R"): "negative"}

        left = form.query_one("#f-slr_sign-L", Select)
        await pilot.click(left)
        await pilot.pause()
        assert left.expanded
        await press(pilot, "escape")
        assert not left.expanded and left.is_blank()
        assert isinstance(app.screen, VisitScreen)


@sync
async def test_doctor_form_saves_typed_values_and_red_flags(demo_db_path: Path) -> None:
    visit = new_patient_visit(demo_db_path)
    assert visit.kind == "doctor" and visit.module == 1
    app = VisitHarness(demo_db_path, visit.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, VisitScreen)
        form = screen.query_one(DoctorForm)
        assert app.focused is form.query_one("#f-vas-x")
        await press(pilot, "7", "enter")
        [vas] = measurements_of(app.db, visit.id)
        assert (vas.test_code, vas.value) == ("vas", 7.0)

        slr_left = form.query_one("#f-slr_angle-L", Input)
        slr_left.focus()
        await press(pilot, "9", "5", "tab")  # leaving the field saves it ... if valid
        assert "from 0 to 90" in text_of(form, "#err-slr_angle")
        assert len(measurements_of(app.db, visit.id)) == 1
        slr_left.value = "45"
        slr_left.focus()
        await press(pilot, "enter")
        form.query_one("#f-slr_sign-R", Select).value = "positive"
        await pilot.pause()
        saved = {(m.test_code, m.side): m.value for m in measurements_of(app.db, visit.id)}
        assert saved == {
            ("vas", None): 7.0,
            ("slr_angle", "L"): 45.0,
            ("slr_sign", "R"): "positive",
        }

        assert not screen.query_one("#visit-alarm").has_class("-raised")
        form.query_one("#flag-saddle_numbness", Checkbox).value = True
        await pilot.pause()
        assert raised_red_flags(app.db, visit.episode_id) == ["saddle_numbness"]
        screened_at = app.db.execute(
            "SELECT visit_id FROM red_flag_screens WHERE episode_id = ? ORDER BY id DESC",
            [visit.episode_id],
        ).fetchone()[0]
        assert screened_at == visit.id
        assert screen.query_one("#visit-alarm").has_class("-raised")
        assert "refer to a doctor now" in text_of(screen, "#visit-alarm")

        typing_in = screen.focused
        assert isinstance(typing_in, Input)
        await press(pilot, "escape", "ctrl+z")  # out of the field: undo the Lasegue sign
        assert ("slr_sign", "R") not in {
            (m.test_code, m.side) for m in measurements_of(app.db, visit.id)
        }
        assert form.query_one("#f-slr_sign-R", Select).is_blank()

        typing_in.focus()
        await press(pilot, "c")  # typed into the field: letters are text there
        assert get_visit(app.db, visit.id).status == "planned"
        await press(pilot, "escape", "c")  # out of the field, then complete
        assert get_visit(app.db, visit.id).status == "done"
        assert app.results == [True]


@sync
async def test_doctor_form_shows_previous_values(db_path: Path) -> None:
    with connect(db_path) as db:
        visit = get_visit(db, clinic(db_path, "radiculitis", held=7))
    assert visit.kind == "doctor" and visit.number == 8  # the control appointment
    app = VisitHarness(db_path, visit.id)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        form = app.screen.query_one(DoctorForm)
        earlier = latest_results(app.db, visit.episode_id)
        vas = next(r for r in earlier if r.code == "vas")
        vas_was = "was " + value_with_unit(vas.value, "/10")
        assert vas_was in form.sheet.row("vas").earlier
        slr = next(r for r in earlier if r.code == "slr_angle")
        assert (slr.left, slr.right) == (40, 70)
        assert "L 40°  R 70° (v1)" in form.sheet.row("slr_angle").earlier
        assert vas_was in screen_text(app)  # drawn right of the field
        assert form.query_one("#f-slr_angle-L", Input).placeholder == ""  # said once, beside
        assert measurements_of(app.db, visit.id) == []  # shown, never written


@sync
async def test_through_the_real_app_from_the_patient_screen(demo_db_path: Path) -> None:
    from kinesio_tui.app import build_app

    with connect(demo_db_path) as db:
        visit = next_visit_of(db, "petrauskas")
    app = build_app(demo_db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        patient = find_patients(app.db, "petrauskas")[0]
        app.open_patient(patient.id)
        await pilot.pause()
        patient_screen = app.screen
        await press(pilot, "enter")  # the cursor sits on the current visit
        screen = app.screen
        assert isinstance(screen, VisitScreen) and screen.visit_id == visit.id
        assert get_visit(app.db, visit.id).started_at is not None
        await press(pilot, "space")
        assert len(ticks_of(app.db, visit.id)) == 1
        await press(pilot, "c", "y")
        assert app.screen is patient_screen
        assert get_visit(app.db, visit.id).status == "done"
        following = next_visit(app.db, visit.episode_id)
        assert following is not None and following.seq == visit.seq + 1


@sync
async def test_note_typed_just_before_quitting_is_kept(
    demo_db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the typing pause never ends here, however slow the machine
    monkeypatch.setattr("kinesio_tui.views.visit.NOTE_SAVE_DELAY", 3600)
    with connect(demo_db_path) as db:
        visit = next_visit_of(db, "petrauskas")
    app = VisitHarness(demo_db_path, visit.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "n")
        await type_text(pilot, "Drove 2 h")
        assert get_visit(app.db, visit.id).note == ""  # still within the typing pause
        app.exit()
        await pilot.pause()
    with connect(demo_db_path) as db:
        assert get_visit(db, visit.id).note == "Drove 2 h"


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
@sync
async def test_tab_walks_the_doctors_fields_in_reading_order_each_in_view(
    db_path: Path, size: tuple[int, int]
) -> None:
    """Tab goes through the fields row by row, left to right, then the red flags, each one
    scrolled into view as it is focused (the fields sit where the form's sheet draws their
    rows: views/doctor.py), also after a refused value put a line under its row."""
    app = VisitHarness(db_path, clinic(db_path, "radiculitis", 7))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        form = app.screen.query_one(DoctorForm)
        fields = list(form.query(".check-field"))
        flags = list(form.query(Checkbox))
        await press(pilot, "1", "1")  # VAS 11: refused as Tab leaves it, a line under the row
        walked = [app.focused]
        for _ in range(len(fields) + len(flags) - 1):
            await press(pilot, "tab")
            focused = app.focused
            assert focused is not None
            walked.append(focused)
            shown = form.scrollable_content_region
            assert shown.contains_region(focused.region), focused.id  # on screen, whole
        assert walked == [*fields, *flags]
        tops = [(field.region.y, field.region.x) for field in fields]
        assert tops == sorted(tops)  # top to bottom, left to right
        assert "should be a number from 0 to 10" in text_of(form, "#err-vas")
        assert "should be a number from 0 to 10" in screen_text(app) or form.scroll_y > 0


@sync
async def test_a_choice_opens_its_list_below_its_line_as_wide_as_itself(db_path: Path) -> None:
    """Enter on a choice opens its list on the line below (the value and ▲ stay in view),
    as wide as the choice, so that an option as long as the field ("left side high") fits."""
    app = VisitHarness(db_path, clinic(db_path, "radiculitis", 7))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        form = app.screen.query_one(DoctorForm)
        choice = form.query_one("#f-slr_sign-L", Select)
        choice.focus()
        await press(pilot, "enter")
        assert choice.expanded
        [overlay] = choice.query(SelectOverlay)
        assert overlay.has_focus
        assert overlay.region.y == choice.region.y + 1
        assert overlay.region.width == choice.region.width
        assert "▲" in str(choice.render())
