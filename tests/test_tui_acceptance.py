"""Issue 4's acceptance flow, end to end through the real app on the demo clinic's file.

Find the driver case by typing, open him, start today's session, tick the checklist, pace
two PIR cycles with a fake clock, record a VAS and an SLR angle (bad input first), complete
the visit, and see the timeline and the pain sparkline move. Then check the database.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from conftest import DAY, FakeClock
from textual.widgets import Input, Select, Static
from tui_driver import settle

from kinesio_tui.app import build_app
from kinesio_tui.data.db import open_db
from kinesio_tui.domain.episodes import current_episode
from kinesio_tui.domain.patients import find_patients
from kinesio_tui.domain.visits import measurements_of, pir_cycles_of, ticks_of, visits_of
from kinesio_tui.views.patient import PatientScreen
from kinesio_tui.views.pir import PirScreen
from kinesio_tui.views.record_test import RecordTestDialog
from kinesio_tui.views.visit import VisitScreen
from kinesio_tui.views.widgets import ProgrammePanel


def text(screen: object, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())  # type: ignore[attr-defined]


def programme_part(screen: object, name: str) -> str:
    """One piece of the programme block as shown: timeline, standing, legend or vas."""
    panel = screen.query_one(ProgrammePanel)  # type: ignore[attr-defined]
    return str(panel.parts[name].plain)


def test_a_session_from_search_to_completed_visit(
    demo_db_path: Path, fake_clock: FakeClock
) -> None:
    app = build_app(demo_db_path, clock=fake_clock)

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await pilot.press(*"petr")
            await settle(app, pilot)
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, PatientScreen)
            patient = app.screen
            assert "visit 4/15" in programme_part(patient, "standing")
            timeline_before = programme_part(patient, "timeline")
            vas_before = programme_part(patient, "vas")

            await pilot.press("enter")  # start the current visit
            await settle(app, pilot)
            visit = app.screen
            assert isinstance(visit, VisitScreen)
            await pilot.press("space", "down", "space", "down", "space")  # tick three items
            await settle(app, pilot)

            await pilot.press("p")  # the PIR recorder
            await settle(app, pilot)
            pir = app.screen
            assert isinstance(pir, PirScreen)
            pir.query_one("#muscle", Select).value = "quadratus lumborum"
            pir.query_one("#side", Select).value = "R"
            pir.query_one("#cycles", Input).value = "2"
            pir.query_one("#rom-before", Input).value = "30"
            pir.query_one("#pain-before", Input).value = "2"
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert pir.stage == "run"
            per_cycle = 7 + 15 + 3  # tension, relax, take up the slack (protocol defaults)
            for _ in range(2 * per_cycle):  # one second at a time, as the interval would
                fake_clock.advance(1)
                pir.tick()
            assert pir.stage == "after"
            pir.query_one("#rom-after", Input).value = "42"
            pir.query_one("#pain-after", Input).value = "1"
            pir.query_one("#pain-after", Input).focus()
            await pilot.press("enter")
            await settle(app, pilot)
            assert app.screen is visit

            await pilot.press("t")  # VAS: 11 is refused, 1 is recorded
            await settle(app, pilot)
            dialog = app.screen
            assert isinstance(dialog, RecordTestDialog) and dialog.test.code == "vas"
            await pilot.press("1", "1", "enter")
            await settle(app, pilot)
            assert "from 0 to 10" in text(dialog, "#value-error")
            await pilot.press("backspace", "backspace", "1", "enter")
            await settle(app, pilot)

            await pilot.press("t")  # SLR angle on the right: -5 refused, 85 recorded
            await settle(app, pilot)
            dialog = app.screen
            assert isinstance(dialog, RecordTestDialog)
            dialog.query_one("#test-select", Select).value = "slr_angle"
            await settle(app, pilot)
            dialog.query_one("#value-input", Input).focus()
            await pilot.press("-", "5", "enter")
            await settle(app, pilot)
            assert "from 0 to 90" in text(dialog, "#value-error")
            dialog.query_one("#value-input", Input).value = ""
            await pilot.press("8", "5", "enter")
            await settle(app, pilot)
            assert app.screen is visit

            await pilot.press("c", "y")  # complete (two items left unticked: confirm)
            await settle(app, pilot)
            assert app.screen is patient
            assert "visit 5/15" in programme_part(patient, "standing")
            assert programme_part(patient, "timeline") != timeline_before
            assert programme_part(patient, "timeline").splitlines()[2].startswith("M3 ◆ ●●●○○○ ◇")
            assert programme_part(patient, "vas") != vas_before
            assert " 1  " in programme_part(patient, "vas")

    asyncio.run(main())

    with open_db(demo_db_path) as db:
        (patient,) = find_patients(db, "petrauskas")
        episode = current_episode(db, patient.id)
        assert episode is not None
        held = next(v for v in visits_of(db, episode.id) if (v.module, v.number) == (3, 4))
        assert held.status == "done" and held.held_on == DAY
        assert len(ticks_of(db, held.id)) == 3
        [(_id, cycle)] = pir_cycles_of(db, held.id)
        assert (cycle.muscle, cycle.side, cycle.cycles) == ("quadratus lumborum", "R", 2)
        assert (cycle.rom_before, cycle.rom_after, cycle.pain_before, cycle.pain_after) == (
            30,
            42,
            2,
            1,
        )
        results = {(m.test_code, m.side): m.value for m in measurements_of(db, held.id)}
        assert results == {("vas", None): 1.0, ("slr_angle", "R"): 85.0}
