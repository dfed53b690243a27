"""The discharge letter (the summary of a completed episode): what a GP needs, each value
with its date, nothing stale passed off as current."""

from __future__ import annotations

import html
from datetime import date

import pytest
from conftest import DAY, held_episode
from test_export_render import md_to_html, parse_html
from typer.testing import CliRunner

from kinesio_tui.cli.command import app
from kinesio_tui.data.db import ClinicDB, connect, write_transaction
from kinesio_tui.domain.discharge import DischargeText, record_discharge
from kinesio_tui.domain.episodes import close_episode, open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient, Visit
from kinesio_tui.domain.patients import create_patient, find_patients
from kinesio_tui.domain.visits import complete_visit, record_measurement, start_visit, visits_of
from kinesio_tui.export import render_export
from kinesio_tui.export.fmt import day

runner = CliRunner()

# The letter from what either engine reads back (issue 17).
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def row_of(text: str, label: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"| {label} |"))


def test_a_latest_value_measured_long_ago_carries_its_date(db: ClinicDB) -> None:
    """Schober last measured at visit 8, pain at visit 15: the summary must say when."""

    def record(visit: Visit) -> None:
        if visit.is_doctor:
            record_measurement(db, visit.id, "vas", 7 if visit.seq == 1 else 3)
        if visit.seq in (1, 8):
            record_measurement(db, visit.id, "schober", 2.5 if visit.seq == 1 else 3.5)

    pid, _eid, planned = held_episode(
        db,
        NewEpisode("radiculitis", "lumbar", "L"),
        start=DAY.replace(month=10),
        held=15,
        at=record,
    )
    text = render_export(db, pid, kind="summary", fmt="md", today=DAY)
    schober = row_of(text, "Lumbar flexion (Schober)")
    assert day(planned[7].planned_date) in schober, schober  # the last value's date (visit 8)
    assert day(planned[0].planned_date) in schober, schober  # and the baseline's


def test_the_module_table_gives_first_and_last_visit_dates_in_their_own_columns(
    demo_db: ClinicDB,
) -> None:
    pid = find_patients(demo_db, "simkus")[0].id
    for fmt in ("md", "html"):
        text = render_export(demo_db, pid, kind="summary", fmt=fmt, today=DAY)
        assert " to 11 Sep 2026" not in text  # no "10 Aug 2026 to 11 Sep 2026" in one cell
        assert "First visit" in text and "Last visit" in text


def test_the_letter_is_addressed_to_the_referring_doctor(demo_target: str) -> None:
    result = runner.invoke(
        app,
        [
            "episode",
            "set",
            "simkus",
            "--referring-doctor",
            "Dr Jonas Petraitis",
            "--referring-institution",
            "Kauno poliklinika",
            "--db",
            demo_target,
        ],
    )
    assert result.exit_code == 0, result.stderr
    db = connect(demo_target)
    try:
        pid = find_patients(db, "simkus")[0].id
        text = render_export(db, pid, kind="summary", fmt="md", today=DAY)
    finally:
        db.close()
    assert "Dr Jonas Petraitis" in text and "Kauno poliklinika" in text


def test_the_letter_codes_the_diagnosis_in_icd10(demo_db: ClinicDB) -> None:
    pid = find_patients(demo_db, "simkus")[0].id  # lumbar radiculitis
    text = render_export(demo_db, pid, kind="summary", fmt="md", today=DAY)
    assert "M54.1" in text and "ICD-10" in text


MARKUP = "<script>alert(1)</script> **b** [l](javascript:x) | cell {{ 7*7 }} &amp;"


def hostile_letter(db: ClinicDB) -> int:
    """A completed programme whose every letter field tries to break out of its place."""
    pid = create_patient(
        db, NewPatient("Ona", "Laiškienė", "1970-01-01", "F", occupation=MARKUP), today=DAY
    )
    eid = open_episode(
        db,
        pid,
        NewEpisode(
            "radiculitis",
            "lumbar",
            "R",
            pain_medication=MARKUP,
            referring_doctor=MARKUP,
            referring_institution="# heading " + MARKUP,
        ),
        start=date(2026, 10, 1),
        today=date(2026, 10, 1),
    )
    for visit in visits_of(db, eid)[:15]:
        start_visit(db, visit.id, today=visit.planned_date)
        if visit.is_doctor:
            record_measurement(db, visit.id, "vas", 6 if visit.seq == 1 else 2)
        if visit.seq == 15:
            record_discharge(
                db,
                visit.id,
                DischargeText(
                    medication=MARKUP,
                    work_status="modified",
                    work_note=MARKUP,
                    recommendations="- item\n" + MARKUP + "\n<img src=x onerror=alert(2)>",
                    follow_up="> quote\n" + MARKUP,
                    review_date="2027-01-04",
                ),
                today=DAY,
            )
        complete_visit(db, visit.id)
    close_episode(db, eid, status="completed", today=DAY)
    return pid


def test_hostile_letter_text_is_escaped_in_html(db: ClinicDB) -> None:
    pid = hostile_letter(db)
    text = render_export(db, pid, kind="summary", fmt="html", today=DAY)
    tree = parse_html(text)
    assert tree.find(".//script") is None and tree.find(".//img") is None
    assert not any("javascript:" in (a.get("href") or "") for a in tree.iter("a"))
    content = "".join(tree.itertext())
    assert content.count(MARKUP) >= 6  # referrer, medication twice, work, recommendations, ...
    assert "<img src=x onerror=alert(2)>" in content
    assert "{{ 7*7 }}" in content and "49" not in content.split("Laiškienė")[1][:50]


def test_hostile_letter_text_is_plain_in_markdown(db: ClinicDB) -> None:
    pid = hostile_letter(db)
    text = render_export(db, pid, kind="summary", fmt="md", today=DAY)
    rendered = md_to_html(text)
    assert "<script" not in rendered and "<img" not in rendered and "<a " not in rendered
    assert rendered.count("<h1>") == 1 and "<blockquote>" not in rendered  # "# h", "> q" text
    # each field printed as typed: the markup shows as its characters
    inert = html.escape(MARKUP, quote=False)
    assert rendered.count(inert) >= 6, rendered
    # every table row keeps its cells: a typed | never opens a new column
    for table in rendered.split("<table>")[1:]:
        rows = table.split("</table>")[0].split("<tr>")[1:]
        assert len({row.count("<td>") + row.count("<th>") for row in rows}) == 1


def test_text_an_older_version_stored_with_controls_prints_as_replacement(
    db: ClinicDB,
) -> None:
    pid = hostile_letter(db)
    if db.kind == "sqlite":
        db.execute("DROP TRIGGER IF EXISTS audit_guard_update")  # a hand edit with sqlite3
    with write_transaction(db):  # by hand, past the domain's checks (PostgreSQL: as psql)
        db.execute(
            "UPDATE discharges SET recommendations = ?, medication = ?",
            ["esc \x1b[31m red \u202e evil", "bell\x07"],
        )
        db.execute("UPDATE episodes SET referring_doctor = ?", ["Dr \x9b nine"])
    for fmt in ("html", "md"):
        text = render_export(db, pid, kind="summary", fmt=fmt, today=DAY)
        assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
        assert "\x9b" not in text and "\ufffd" in text
    parse_html(render_export(db, pid, kind="summary", fmt="html", today=DAY))


def test_a_corrected_value_is_the_one_printed_and_marked_with_its_footnote(db: ClinicDB) -> None:
    from kinesio_tui.domain.amendments import correct_measurement
    from kinesio_tui.domain.visits import measurements_of

    pid = hostile_letter(db)
    from kinesio_tui.domain.episodes import current_episode

    episode = current_episode(db, pid)
    assert episode is not None
    final = next(v for v in visits_of(db, episode.id) if v.seq == 15)
    (vas,) = [m for m in measurements_of(db, final.id) if m.test_code == "vas"]
    correct_measurement(db, vas.id, 1, "typed 2 for 1", expected_version=vas.version)
    for fmt in ("md", "html"):
        text = render_export(db, pid, kind="summary", fmt=fmt, today=DAY)
        assert "2/10" not in text.split("VAS pain")[1][:200]  # the wrong value is not printed
        assert "1/10" in text.split("VAS pain")[1][:200] and "corrected [1]" in text
        assert "typed 2 for 1" in text  # the footnote: why
