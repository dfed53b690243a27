"""The PIR recorder driven by a fake clock: cycles are logged as they complete."""

from __future__ import annotations

from pathlib import Path

from conftest import DAY
from textual.pilot import Pilot
from textual.widgets import Digits, Input, Select
from visit_harness import VisitHarness, press, sync

from kinesio_tui.data.db import connect
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient, Visit
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.visits import (
    complete_visit,
    next_visit,
    pir_cycles_of,
    start_visit,
    ticks_of,
)
from kinesio_tui.views.pir import FieldRow, PirScreen
from kinesio_tui.views.visit import VisitScreen


def module1_session(db_path: Path, condition: str = "radiculitis") -> Visit:
    """A new patient whose intake appointment is done, so a module-1 session (with PIR) is next."""
    with connect(db_path, actor="tester") as db:
        patient_id = create_patient(
            db, NewPatient("Ona", "Bandomoji", "1975-06-07", "F"), today=DAY
        )
        subtype = "lumbar" if condition == "radiculitis" else "upper"
        episode_id = open_episode(db, patient_id, NewEpisode(condition, subtype, "L"), today=DAY)
        intake = next_visit(db, episode_id)
        assert intake is not None and intake.kind == "doctor"
        start_visit(db, intake.id, today=DAY)
        complete_visit(db, intake.id)
        session = next_visit(db, episode_id)
        assert session is not None and session.kind == "therapy" and session.module == 1
        return session


def fill(screen: PirScreen, **values: str) -> None:
    for key, value in values.items():
        screen.query_one(f"#{key.replace('_', '-')}", Input).value = value


async def open_recorder(app: VisitHarness, pilot: Pilot[None]) -> PirScreen:
    assert isinstance(app.screen, VisitScreen)
    await press(pilot, "p")
    assert isinstance(app.screen, PirScreen)
    return app.screen


@sync
async def test_two_cycles_paced_by_fake_clock_are_logged(db_path: Path) -> None:
    visit = module1_session(db_path)
    app = VisitHarness(db_path, visit.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, VisitScreen)
        codes = [item.code for item in app.screen.items]  # radiculitis: the R variants only
        assert "m1_decompression_hangs" in codes and "m1_pelvic_traction" not in codes
        await press(pilot, "p")
        pir = app.screen
        assert isinstance(pir, PirScreen)
        pir.query_one("#muscle", Select).value = "iliopsoas"
        pir.query_one("#side", Select).value = "L"
        fill(pir, cycles="2", rom_before="40", pain_before="6")
        await press(pilot, "ctrl+s")
        assert pir.stage == "run"
        countdown = pir.query_one("#pir-countdown", Digits)
        assert countdown.value == "7"

        app.clock.advance(3.2)
        pir.tick()
        assert countdown.value == "4"
        await press(pilot, "space")  # pause: the clock runs on, the countdown does not
        app.clock.advance(60)
        pir.tick()
        assert countdown.value == "4"
        await press(pilot, "space")
        app.clock.advance(3.8)  # end of tension
        pir.tick()
        assert "RELAX" in str(pir.query_one("#pir-phase").render())
        app.clock.advance(15)
        pir.tick()
        assert "SLACK" in str(pir.query_one("#pir-phase").render())
        assert pir_cycles_of(app.db, visit.id) == []
        app.clock.advance(3)  # first cycle complete: the set is written with cycles = 1
        pir.tick()
        [(_id, first)] = pir_cycles_of(app.db, visit.id)
        assert (first.muscle, first.side, first.cycles) == ("iliopsoas", "L", 1)
        assert (first.rom_before, first.pain_before, first.tension_s) == (40, 6, 7)

        for _step in range(5):  # the second cycle, in uneven slices
            app.clock.advance(5)
            pir.tick()
        assert pir.stage == "after"
        [(pir_id, second)] = pir_cycles_of(app.db, visit.id)
        assert second.cycles == 2

        fill(pir, rom_after="55")
        pir.query_one("#pain-after", Input).value = "11"
        pir.query_one("#pain-after", Input).focus()
        await press(pilot, "enter")
        assert "from 0 to 10" in pir.query_one("#row-pain-after", FieldRow).error
        assert pir_cycles_of(app.db, visit.id)[0][1].pain_after is None
        pir.query_one("#pain-after", Input).value = "3"
        await press(pilot, "enter")
        assert isinstance(app.screen, VisitScreen)
        [(same_id, done)] = pir_cycles_of(app.db, visit.id)
        assert same_id == pir_id
        assert (done.cycles, done.rom_after, done.pain_after) == (2, 55, 3)
        # the module's PIR item is ticked with what was done
        tick = ticks_of(app.db, visit.id)["m1_pir"]
        assert "iliopsoas L ×2" in tick.note

        await press(pilot, "ctrl+z")  # undo removes the set and the tick it made
        assert pir_cycles_of(app.db, visit.id) == []
        assert "m1_pir" not in ticks_of(app.db, visit.id)


@sync
async def test_leaving_mid_way_keeps_the_cycles_done(db_path: Path) -> None:
    visit = module1_session(db_path, "sciatica")
    app = VisitHarness(db_path, visit.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pir = await open_recorder(app, pilot)
        fill(pir, tension="5", relaxation="10")
        await press(pilot, "ctrl+s")
        bells: list[None] = []
        app.bell = lambda: bells.append(None)  # type: ignore[method-assign]
        await press(pilot, "b")
        app.clock.advance(5 + 10 + 3 + 2)  # one cycle and a bit of the next
        pir.tick()
        assert len(bells) == 3  # relax, slack, tense again
        await press(pilot, "escape")
        assert isinstance(app.screen, VisitScreen)
        [(_id, kept)] = pir_cycles_of(app.db, visit.id)
        assert (kept.muscle, kept.cycles, kept.tension_s, kept.relaxation_s) == (
            "piriformis",
            1,
            5,
            10,
        )


@sync
async def test_bad_setup_writes_nothing_and_says_why(db_path: Path) -> None:
    visit = module1_session(db_path)
    app = VisitHarness(db_path, visit.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pir = await open_recorder(app, pilot)
        fill(pir, tension="0")
        await press(pilot, "ctrl+s")
        assert pir.stage == "setup"
        assert "from 1 to 60" in pir.query_one("#row-tension", FieldRow).error
        pir.query_one("#muscle", Select).value = "__other__"
        await pilot.pause()
        fill(pir, tension="7", other_muscle="")
        await press(pilot, "ctrl+s")
        assert "required" in pir.query_one("#row-other-muscle", FieldRow).error
        fill(pir, other_muscle="rhomboids")
        await press(pilot, "ctrl+s", "escape")  # leaving before any cycle completes
        assert isinstance(app.screen, VisitScreen)
        assert pir_cycles_of(app.db, visit.id) == []


@sync
async def test_typed_text_is_shown_as_typed_never_as_markup(db_path: Path) -> None:
    visit = module1_session(db_path)
    app = VisitHarness(db_path, visit.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pir = await open_recorder(app, pilot)
        pir.query_one("#muscle", Select).value = "__other__"
        await pilot.pause()
        fill(pir, other_muscle="[/] [bold]rhomboid", cycles="1")
        await press(pilot, "ctrl+s")
        app.clock.advance(7 + 15 + 3)
        pir.tick()
        await press(pilot, "escape")
        assert isinstance(app.screen, VisitScreen)
        shown = str(app.screen.query_one("#visit-records").render())
        assert "[/] [bold]rhomboid both ×1" in shown


@sync
async def test_the_recorder_opens_on_its_setup_alone(db_path: Path) -> None:
    """The other muscle's row, the countdown and the after stage are built when needed."""
    visit = module1_session(db_path)
    app = VisitHarness(db_path, visit.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pir = await open_recorder(app, pilot)
        assert not pir.query("#row-other-muscle, #pir-run, #pir-after")
        muscle = pir.query_one("#muscle", Select)
        listed = muscle.value
        muscle.value = "__other__"
        await pilot.pause()
        assert pir.query_one("#row-other-muscle").display
        fill(pir, other_muscle="rhomboids")
        muscle.value = listed
        await pilot.pause()
        assert not pir.query_one("#row-other-muscle").display
        await press(pilot, "ctrl+s")
        assert pir.stage == "run" and pir.cycle is not None and pir.cycle.muscle == listed
        assert pir.query_one("#pir-run").display and not pir.query_one("#pir-after").display
        assert not pir.query_one("#pir-setup").display
