"""The discharge letter as it comes out of a printer: headless Chromium prints it to A4 PDF
and the pages are counted. One page for a typical episode, two at most, the clinic's header
included; a worst case (the whole programme, every typed field at its longest, a red-flag
hold with its referral, the doctor's own items) still fits two."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import DAY
from printed import printed_pages, screenshot

from kinesio_tui.clinic_identity import ClinicIdentity
from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.discharge import (
    MAX_FOLLOW_UP,
    MAX_MEDICATION,
    MAX_RECOMMENDATIONS,
    MAX_WORK_NOTE,
    DischargeText,
    discharge_of,
    final_appointment,
    record_discharge,
)
from kinesio_tui.domain.episodes import current_episode, screen_red_flags
from kinesio_tui.domain.holds import record_referral
from kinesio_tui.domain.patients import find_patients
from kinesio_tui.domain.referrer import MAX_INSTITUTION, MAX_REFERRER, set_referring_doctor
from kinesio_tui.domain.visits import visits_of
from kinesio_tui.export import render_export
from kinesio_tui.settings import Settings, save_settings

pytestmark = pytest.mark.slow  # Chromium prints each letter in about a second


@pytest.fixture(autouse=True)
def clinic_header() -> None:
    """A clinic's header as a real one prints it: name, two address lines, contact."""
    save_settings(
        Settings(
            clinic=ClinicIdentity(
                name="Kauno kineziterapijos klinika",
                address="Laisvės al. 1\nLT-44001 Kaunas",
                phone="+370 600 12345",
                email="reception@klinika.lt",
                registration_code="304050607",
            )
        )
    )


def completed(db: ClinicDB) -> dict[str, int]:
    """Every demo patient whose programme is completed: last name -> patient id."""
    found = {}
    for patient in find_patients(db, ""):
        episode = current_episode(db, patient.id)
        if episode is not None and episode.status == "completed":
            found[patient.last_name] = patient.id
    return found


def test_every_demo_discharge_letter_prints_on_two_pages_at_most(
    demo_db: ClinicDB, tmp_path: Path
) -> None:
    letters = completed(demo_db)
    assert len(letters) >= 10  # the published case completed, and the past patients
    pages = {}
    for name, pid in letters.items():
        text = render_export(demo_db, pid, kind="summary", fmt="html", today=DAY)
        assert "<h1>Discharge letter</h1>" in text
        pages[name] = printed_pages(text, tmp_path, f"letter-{pid}")
    assert max(pages.values()) <= 2, pages
    # typical: a programme the doctor ended at module 1's final appointment (15 visits);
    # the subtypes with the most checks and a questionnaire take a second page
    typical = ("Adomaitis", "Balčiūnienė", "Bielskis", "Jakštienė", "Lukoševičius", "Rimkus")
    assert {name: pages[name] for name in typical} == dict.fromkeys(typical, 1), pages


def test_a_worst_case_letter_prints_on_two_pages(demo_db: ClinicDB, tmp_path: Path) -> None:
    pid = find_patients(demo_db, "simkus")[0].id  # all 45 visits, every module's checks
    episode = current_episode(demo_db, pid)
    assert episode is not None
    visits = visits_of(demo_db, episode.id)
    set_referring_doctor(demo_db, episode.id, "W" * MAX_REFERRER, "W" * MAX_INSTITUTION)
    screen_red_flags(demo_db, episode.id, ["saddle_numbness"], visit_id=visits[7].id, today=DAY)
    record_referral(
        demo_db,
        episode.id,
        to=("Neurology " * 8)[:80],
        on=DAY,
        why="Saddle numbness " * 10,
        today=DAY,
    )
    final = final_appointment(demo_db, episode.id)
    assert final is not None
    recorded = discharge_of(demo_db, episode.id)
    words = "Long words of advice, " * 40
    record_discharge(
        demo_db,
        final.id,
        DischargeText(
            medication=words[:MAX_MEDICATION],
            work_status="modified",
            work_note=words[:MAX_WORK_NOTE],
            recommendations=words[:MAX_RECOMMENDATIONS],
            follow_up=words[:MAX_FOLLOW_UP],
            review_date="2027-02-25",
        ),
        today=DAY,
        expected_version=recorded.version if recorded else 0,
    )
    text = render_export(demo_db, pid, kind="summary", fmt="html", today=DAY)
    assert words[:MAX_RECOMMENDATIONS].strip() in text
    assert printed_pages(text, tmp_path, "worst") <= 2


PICTURE = Path(__file__).parent.parent / "docs" / "discharge-letter.png"


def test_the_readme_shows_a_demo_letters_first_page(demo_db: ClinicDB, tmp_path: Path) -> None:
    """docs/discharge-letter.png: a demo letter's first page as Chromium shows it (A4 at
    96 dpi); KINESIO_UPDATE_GOLDEN=1 takes it again."""
    if os.environ.get("KINESIO_UPDATE_GOLDEN") == "1":
        pid = find_patients(demo_db, "lukoševičius")[0].id
        html = tmp_path / "letter.html"
        html.write_text(render_export(demo_db, pid, kind="summary", fmt="html", today=DAY))
        screenshot(html, PICTURE, tmp_path / "profile", width=820, height=1160)
    data = PICTURE.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) < 250_000  # kept small: the repository carries it
    assert "docs/discharge-letter.png" in (PICTURE.parent.parent / "README.md").read_text()
