"""A red-flag hold through the real app: the override, the referral and the clearance keys."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from conftest import DAY
from textual.pilot import Pilot
from textual.widgets import Checkbox, Static

from kinesio_tui.app import KinesioApp, build_app
from kinesio_tui.data.db import connect
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.holds import active_hold, holds_of
from kinesio_tui.domain.models import NewEpisode, NewPatient
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.visits import complete_visit, get_visit, next_visit, start_visit
from kinesio_tui.views.hold import ClearanceDialog, OverrideDialog, ReferralDialog
from kinesio_tui.views.patient import PatientScreen
from kinesio_tui.views.visit import VisitScreen


def new_patient(db_path: Path, flags: tuple[str, ...] = ()) -> tuple[int, int]:
    """A lumbar radiculitis patient whose first visit (a doctor's appointment) is today."""
    with connect(db_path, actor="tester") as db:
        pid = create_patient(db, NewPatient("Jonas", "Testas", "1980-03-04", "M"), today=DAY)
        eid = open_episode(
            db,
            pid,
            NewEpisode("radiculitis", "lumbar", "R", red_flags=flags),
            start=DAY,
            today=DAY,
        )
    return pid, eid


def on_patient(
    db_path: Path,
    pid: int,
    script: Callable[[KinesioApp, Pilot[None]], Awaitable[None]],
    *,
    size: tuple[int, int] = (80, 24),
) -> None:
    async def main() -> None:
        app = build_app(db_path)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            app.open_patient(pid)
            await pilot.pause()
            assert isinstance(app.screen, PatientScreen)
            await script(app, pilot)

    asyncio.run(main())


async def keys(pilot: Pilot[None], *pressed: str) -> None:
    for key in pressed:
        await pilot.press(key)
        await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def typed(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*text)
    await pilot.pause()


def banner(app: KinesioApp) -> str:
    return str(app.screen.query_one("#red-flags", Static).content)


def footer_keys(app: KinesioApp) -> set[str]:
    return {b.binding.key for b in app.screen.active_bindings.values() if b.enabled}


def test_a_flag_ticked_at_the_appointment_stops_the_next_session(db_path: Path) -> None:
    """Tick a red flag, `c` completes the appointment, Enter on the next session: it used
    to start the session; now it asks for an override and starts nothing without one."""
    pid, eid = new_patient(db_path)

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await keys(pilot, "enter")  # the doctor's appointment
        visit = app.screen
        assert isinstance(visit, VisitScreen) and visit.visit.is_doctor
        visit.query_one("#flag-saddle_numbness", Checkbox).value = True
        await keys(pilot, "escape", "c")  # out of the field, complete
        assert isinstance(app.screen, PatientScreen)
        session = next_visit(app.db, eid)
        assert session is not None and session.kind == "therapy"
        await keys(pilot, "enter")
        assert not isinstance(app.screen, VisitScreen), "a therapy session started on hold"
        assert isinstance(app.screen, OverrideDialog)
        await keys(pilot, "enter")  # no reason: refused, the dialog stays
        assert isinstance(app.screen, OverrideDialog)
        assert "needed" in str(app.screen.query_one("#hold-error", Static).content)
        await keys(pilot, "escape")
        assert isinstance(app.screen, PatientScreen)
        assert get_visit(app.db, session.id).started_at is None
        assert "THERAPY ON HOLD" in banner(app)

        await keys(pilot, "enter")
        await typed(pilot, "Doctor phoned: mild, go on gently")
        await keys(pilot, "enter")
        assert isinstance(app.screen, VisitScreen) and not app.screen.visit.is_doctor
        alarm = str(app.screen.query_one("#visit-alarm", Static).content)
        assert "THERAPY ON HOLD" in alarm and "go on gently" in alarm
        hold = active_hold(app.db, eid)
        assert hold is not None
        assert [o.reason for o in hold.overrides] == ["Doctor phoned: mild, go on gently"]

    on_patient(db_path, pid, script)


def test_r_records_the_referral_on_the_patient_screen(db_path: Path) -> None:
    pid, eid = new_patient(db_path, ("bladder_bowel",))
    calm, _calm_episode = new_patient(db_path)

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        assert "r" in footer_keys(app)
        assert "Not referred yet: refer to a doctor now (r records it)" in banner(app)
        assert "only a doctor's clearance ends it" in banner(app)
        await keys(pilot, "r")
        assert isinstance(app.screen, ReferralDialog)
        await typed(pilot, "Emergency department")
        await keys(pilot, "enter", "enter")  # the date is today's already
        await keys(pilot, "enter")  # no reason yet: refused
        assert isinstance(app.screen, ReferralDialog)
        await typed(pilot, "Urinary retention [b]today[/b]")
        await keys(pilot, "enter")
        assert isinstance(app.screen, PatientScreen)
        hold = active_hold(app.db, eid)
        assert hold is not None
        assert (hold.referred_to, hold.referred_on, hold.referral_reason) == (
            "Emergency department",
            DAY,
            "Urinary retention [b]today[/b]",
        )
        # wide: the reason too, as typed (never markup)
        assert (
            "referred to Emergency department on 2026-11-25: Urinary retention [b]today[/b]"
            in banner(app)
        )
        app.open_patient(calm)  # no hold: no referral key
        await pilot.pause()
        assert "r" not in footer_keys(app)

    on_patient(db_path, pid, script, size=(120, 40))


def test_h_at_the_doctors_appointment_clears_the_hold(db_path: Path) -> None:
    pid, eid = new_patient(db_path, ("cancer_history",))

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await keys(pilot, "enter")  # a doctor's appointment starts without an override
        visit = app.screen
        assert isinstance(visit, VisitScreen) and visit.visit.is_doctor
        assert "h: doctor's clearance" in str(visit.query_one("#visit-alarm", Static).content)
        await keys(pilot, "escape")  # out of the first field: keys are commands
        assert {"h", "r"} <= footer_keys(app)
        await keys(pilot, "h")
        assert isinstance(app.screen, ClearanceDialog)
        await typed(pilot, "Dr Jonaitis")
        await keys(pilot, "enter")
        await typed(pilot, "Remission 10 years; oncologist agrees")
        await keys(pilot, "enter")
        assert visit.is_current
        assert active_hold(app.db, eid) is None
        [hold] = holds_of(app.db, eid)
        assert (hold.cleared_by, hold.cleared_visit_id) == ("Dr Jonaitis", visit.visit_id)
        alarm = str(visit.query_one("#visit-alarm", Static).content)
        assert "ON HOLD" not in alarm
        # the flag stays ticked: seen and cleared, no longer "refer now"
        assert "History of cancer — cleared for therapy by Dr Jonaitis on 2026-11-25" in alarm
        assert "h" not in footer_keys(app)
        await keys(pilot, "c")
        assert isinstance(app.screen, PatientScreen)
        assert "cleared for therapy by Dr Jonaitis" in banner(app)
        assert "refer to a doctor now" not in banner(app)
        await keys(pilot, "enter")  # the next session starts: no override asked
        assert isinstance(app.screen, VisitScreen) and not app.screen.visit.is_doctor

    on_patient(db_path, pid, script)


def test_a_therapy_session_has_no_clearance_key(db_path: Path) -> None:
    pid, eid = new_patient(db_path, ("recent_trauma",))
    with connect(db_path, actor="tester") as db:
        doctor = next_visit(db, eid)
        assert doctor is not None
        start_visit(db, doctor.id, today=DAY)
        complete_visit(db, doctor.id)

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await keys(pilot, "enter")
        await typed(pilot, "Minor fall, doctor agreed by phone")
        await keys(pilot, "enter")
        assert isinstance(app.screen, VisitScreen) and not app.screen.visit.is_doctor
        assert "h" not in footer_keys(app)
        await keys(pilot, "h")  # nothing happens
        assert isinstance(app.screen, VisitScreen)
        assert active_hold(app.db, eid) is not None

    on_patient(db_path, pid, script)


def test_the_visit_list_says_each_planned_session_is_on_hold(db_path: Path) -> None:
    """Planned therapy sessions read "on hold" while the hold lasts; the doctor's
    appointments, where the patient is seen, stay planned; a clearance lifts it."""
    from kinesio_tui.domain.holds import clear_hold
    from kinesio_tui.views.patient import VisitTable

    pid, eid = new_patient(db_path, ("saddle_numbness",))

    def statuses(app: KinesioApp) -> dict[str, str]:
        table = app.screen.query_one(VisitTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        return {str(row[1]).strip(): str(row[-1]) for row in rows}

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        shown = statuses(app)
        assert shown["M1·1  Doctor"] == "today"
        assert shown["M1·2  Session"] == "on hold"
        assert shown["M1·8  Doctor"] == "planned"
        assert shown["M3·14 Session"] == "on hold"
        sessions = [status for label, status in shown.items() if "Session" in label]
        assert len(sessions) == 36 and set(sessions) == {"on hold"}
        with connect(db_path, actor="tester") as db:
            doctor = next_visit(db, eid)
            assert doctor is not None
            start_visit(db, doctor.id, today=DAY)
            clear_hold(db, eid, visit_id=doctor.id, doctor="Dr Jonaitis", note="MRI normal")
        assert isinstance(app.screen, PatientScreen)
        app.screen.refresh_data()
        await pilot.pause()
        shown = statuses(app)
        assert shown["M1·2  Session"] == "planned" and "on hold" not in shown.values()

    on_patient(db_path, pid, script, size=(120, 40))
