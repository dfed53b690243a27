"""The patient's details form when another terminal saved the patient first: nothing is
overwritten and nothing typed is lost.

A field only I changed keeps my value; a field only they changed shows theirs; a field we
both changed shows theirs with mine kept under it, and Ctrl+R puts mine back. The next
Ctrl+S saves what the form then shows, knowingly.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from conftest import DAY
from textual.pilot import Pilot
from textual.widgets import Input, Static

from kinesio_tui.app import KinesioApp, build_app
from kinesio_tui.data.db import open_db
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import find_patients, get_patient, patient_form, update_patient
from kinesio_tui.upstream_hooks import shown_notifications
from kinesio_tui.views.patient import PatientScreen
from kinesio_tui.views.patient_form import PatientForm

THEIR_PHONE = "+370 600 00000"
MY_PHONE = "+370 611 11111"
THEIR_OCCUPATION = "Lorry driver, 10 h a day"
MY_NOTES = "[red]Sits 8 h[/red] a day"  # markup in typed text is data
THEIR_NOTES = "Prefers mornings"


def save_elsewhere(path: Path, patient_id: int, **changes: str) -> None:
    with open_db(path) as other:
        current = get_patient(other, patient_id)
        form = patient_form(current)
        update_patient(
            other,
            patient_id,
            NewPatient(**{**form.__dict__, **changes}),
            expected_version=current.version,
            today=DAY,
        )


def details_form(demo_db_path: Path, script_name: str = "petrauskas") -> tuple[int, KinesioApp]:
    with open_db(demo_db_path) as db:
        (patient,) = find_patients(db, script_name)
    return patient.id, build_app(demo_db_path)


def kept_line(form: PatientForm, name: str) -> Static:
    return form.query_one(f"#error-{name}", Static)


def test_a_stale_save_keeps_what_i_typed_and_shows_what_they_saved(demo_db_path: Path) -> None:
    pid, app = details_form(demo_db_path)
    with open_db(demo_db_path) as db:
        before = get_patient(db, pid)

    async def main() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            app.open_patient(pid)
            await pilot.pause()
            assert isinstance(app.screen, PatientScreen)
            await pilot.press("d")
            form = app.screen
            assert isinstance(form, PatientForm)
            form.query_one("#phone", Input).value = MY_PHONE
            form.query_one("#notes", Input).value = MY_NOTES
            save_elsewhere(
                demo_db_path,
                pid,
                phone=THEIR_PHONE,
                occupation=THEIR_OCCUPATION,
                notes=THEIR_NOTES,
            )
            await pilot.press("ctrl+s")
            await pilot.pause()

            await refused_and_kept(app, pilot, form)

    async def refused_and_kept(app: KinesioApp, pilot: Pilot[None], form: PatientForm) -> None:
        assert app.screen is form  # kept open
        with open_db(demo_db_path) as db:  # nothing of mine was written
            stored = get_patient(db, pid)
        assert (stored.phone, stored.occupation, stored.notes) == (
            THEIR_PHONE,
            THEIR_OCCUPATION,
            THEIR_NOTES,
        )
        # both changed: theirs shows, mine is kept under the field, as plain text
        assert form.query_one("#phone", Input).value == THEIR_PHONE
        phone_line = str(kept_line(form, "phone").render())
        assert kept_line(form, "phone").display and MY_PHONE in phone_line
        assert "Ctrl+R" in phone_line
        notes_line = str(kept_line(form, "notes").render())
        assert "[red]Sits 8 h[/red]" in notes_line
        # only they changed it: theirs; only I changed it: nothing to keep, it is untouched
        assert form.query_one("#occupation", Input).value == THEIR_OCCUPATION
        assert not kept_line(form, "occupation").display
        assert form.query_one("#first-name", Input).value == before.first_name
        assert any("changed elsewhere" in n.message.lower() for n in shown_notifications(app))

        await pilot.press("ctrl+r")  # mine back where we both changed it
        await pilot.pause()
        assert form.query_one("#phone", Input).value == MY_PHONE
        assert form.query_one("#notes", Input).value == MY_NOTES
        assert not kept_line(form, "phone").display
        await pilot.press("ctrl+s")  # and saved over theirs, knowingly
        await pilot.pause()
        assert app.screen is not form

    asyncio.run(main())
    with open_db(demo_db_path) as db:
        after = get_patient(db, pid)
    assert after.phone == MY_PHONE
    assert after.occupation == THEIR_OCCUPATION  # theirs, which I never touched, survives
    assert after.first_name == before.first_name


def test_a_field_only_i_changed_keeps_my_value_after_a_stale_save(demo_db_path: Path) -> None:
    pid, app = details_form(demo_db_path)

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_patient(pid)
            await pilot.pause()
            await pilot.press("d")
            form = app.screen
            assert isinstance(form, PatientForm)
            form.query_one("#occupation", Input).value = "Teacher"
            save_elsewhere(demo_db_path, pid, phone=THEIR_PHONE)
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.screen is form
            assert form.query_one("#occupation", Input).value == "Teacher"
            assert form.query_one("#phone", Input).value == THEIR_PHONE
            assert not any(line.display for line in form.query(".field-error"))
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.screen is not form

    asyncio.run(main())
    with open_db(demo_db_path) as db:
        after = get_patient(db, pid)
    assert (after.phone, after.occupation) == (THEIR_PHONE, "Teacher")
