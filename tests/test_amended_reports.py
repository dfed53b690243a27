"""Corrections and removals made on held visits, as the visit note and the module report
print them: a corrected value carries a 'corrected' mark and a footnote (when, by whom,
why); a removed value is not printed, its footnote says it was removed and why."""

from __future__ import annotations

import re

import pytest
from conftest import DAY
from test_export_render import md_to_html, parse_html

from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain.amendments import (
    correct_dosage,
    correct_measurement,
    correct_pir_set,
    remove_measurement,
    remove_pir_set,
    remove_tick,
)
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient, PirCycle, Visit
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.visits import (
    complete_visit,
    get_visit,
    measurements_of,
    next_visit,
    pir_cycles_of,
    record_measurement,
    record_pir_cycle,
    start_visit,
    tick_item,
)
from kinesio_tui.export import render_export
from kinesio_tui.export.context import report_amendments

HOSTILE = "<b>typo</b> | **x** [y](javascript:z) " + "ž" * 400

# Corrections read back and printed from either engine (issue 17).
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def held(db: ClinicDB) -> tuple[int, int, Visit, Visit]:
    """A lumbar patient whose first appointment (visit 1, VAS 7 and SLR) and first session
    (visit 2: a tick with dosage, a PIR set, VAS 6) are held."""
    pid = create_patient(db, NewPatient("Jonas", "Testas", "1980-03-04", "M"), today=DAY)
    episode_id = open_episode(db, pid, NewEpisode("radiculitis", "lumbar", "R"), today=DAY)
    first = next_visit(db, episode_id)
    assert first is not None
    start_visit(db, first.id, today=DAY)
    record_measurement(db, first.id, "vas", 7)
    record_measurement(db, first.id, "slr_angle", 40, "R")
    complete_visit(db, first.id)
    session = next_visit(db, episode_id)
    assert session is not None
    start_visit(db, session.id, today=DAY)
    tick_item(db, session.id, "m1_decompression_hangs", "3 × 30 s")
    tick_item(db, session.id, "m1_cat_cow", "")
    record_pir_cycle(db, session.id, PirCycle("piriformis", "R", 7, 30, 10, 3, 30, 45, 6, 4))
    record_measurement(db, session.id, "vas", 6)
    complete_visit(db, session.id)
    return pid, episode_id, get_visit(db, first.id), get_visit(db, session.id)


def row_of(text: str, first_cell: str) -> str:
    """The Markdown table row that starts with `first_cell`."""
    found = [line for line in text.splitlines() if line.startswith(f"| {first_cell} ")]
    assert found, f"no row {first_cell!r}"
    return found[0]


def test_a_corrected_result_in_the_visit_note_is_marked_with_a_footnote(
    db_target: str,
) -> None:
    with connect(db_target, actor="Ona Gydytoja") as db:
        pid, _eid, _first, session = held(db)
        (m,) = measurements_of(db, session.id)
        correct_measurement(db, m.id, 2, "misread the scale", expected_version=m.version)
        note = render_export(db, pid, kind="visit", fmt="md", visit_id=session.id, today=DAY)
    row = row_of(note, "VAS pain")
    assert "2/10" in row and "corrected [1]" in row
    footnote = next(line for line in note.splitlines() if line.startswith("[1]"))
    assert "corrected" in footnote and "25 Nov 2026" in footnote
    assert "Ona Gydytoja" in footnote and "misread the scale" in footnote
    assert "6/10" not in row  # the wrong value is not printed again


def test_removed_values_are_not_printed_and_their_footnotes_say_why(db_target: str) -> None:
    with connect(db_target, actor="Ona") as db:
        pid, _eid, _first, session = held(db)
        (m,) = measurements_of(db, session.id)
        remove_measurement(db, m.id, "recorded on the wrong patient")
        ((pir_id, _cycle),) = pir_cycles_of(db, session.id)
        remove_pir_set(db, pir_id, "set not done")
        remove_tick(db, session.id, "m1_cat_cow", "ticked by mistake")
        note = render_export(db, pid, kind="visit", fmt="md", visit_id=session.id, today=DAY)
        html = render_export(db, pid, kind="visit", fmt="html", visit_id=session.id, today=DAY)
    assert "| VAS pain" not in note and "6/10" not in note
    assert "piriformis" not in row_of(note, "Decompression hangs")
    lines = [line for line in note.splitlines() if re.match(r"\[\d\] ", line)]
    assert len(lines) == 3, lines
    assert any("VAS pain" in x and "removed" in x and "wrong patient" in x for x in lines)
    assert any("PIR piriformis" in x and "removed" in x and "set not done" in x for x in lines)
    assert any("removed" in x and "ticked by mistake" in x for x in lines)
    assert "removed [" in row_of(note, "Fascial release: cat-cow")
    parse_html(html)
    assert "recorded on the wrong patient" in html and "set not done" in html


def test_dosage_and_pir_corrections_are_marked_and_typed_reasons_stay_text(
    db_target: str,
) -> None:
    with connect(db_target, actor="Ona") as db:
        pid, _eid, _first, session = held(db)
        ((pir_id, cycle),) = pir_cycles_of(db, session.id)
        corrected = PirCycle("piriformis", "R", 7, 30, 10, 4, 30, 50, 6, 3)
        correct_pir_set(db, pir_id, corrected, HOSTILE)
        correct_dosage(db, session.id, "m1_decompression_hangs", "3 × 40 s", "typo")
        (m,) = measurements_of(db, session.id)
        correct_measurement(db, m.id, 5, "misread")  # corrected after the PIR set
        note = render_export(db, pid, kind="visit", fmt="md", visit_id=session.id, today=DAY)
        html = render_export(db, pid, kind="visit", fmt="html", visit_id=session.id, today=DAY)
    assert "corrected [" in row_of(note, "piriformis")
    assert "3 × 40 s corrected [" in row_of(note, "Decompression hangs")
    assert "<b>typo</b>" not in note and "[y](javascript" not in note
    # numbered as the note is read: checklist, PIR, results
    marks = [int(n) for n in re.findall(r"corrected \[(\d)\]", note)]
    assert marks == [1, 2, 3], marks
    md_to_html(note)
    parse_html(html)
    assert "<b>typo</b>" not in html and "&lt;b&gt;typo&lt;/b&gt;" in html
    assert "\x1b" not in html
    del cycle


def test_the_module_report_marks_a_corrected_check_and_a_removed_one(db_target: str) -> None:
    from kinesio_tui.domain.visits import visits_of

    with connect(db_target, actor="Ona") as db:
        pid, eid, first, _session = held(db)
        for visit in visits_of(db, eid)[2:8]:  # held up to the control appointment (visit 8)
            start_visit(db, visit.id, today=DAY)
            if visit.is_doctor:
                record_measurement(db, visit.id, "vas", 4)
                record_measurement(db, visit.id, "slr_angle", 50, "R")
            complete_visit(db, visit.id)
        control = next(v for v in visits_of(db, eid) if v.is_doctor and v.seq > 1)
        by_code = {m.test_code: m for m in measurements_of(db, control.id)}
        correct_measurement(db, by_code["vas"].id, 3, "misheard")
        remove_measurement(db, by_code["slr_angle"].id, "wrong leg")
        vas_first = next(m for m in measurements_of(db, first.id) if m.test_code == "vas")
        correct_measurement(db, vas_first.id, 8, "baseline typo")
        report = render_export(db, pid, kind="module", fmt="md", module=1, today=DAY)
        html = render_export(db, pid, kind="module", fmt="html", module=1, today=DAY)
    vas_rows = [line for line in report.splitlines() if line.startswith("| VAS pain")]
    assert vas_rows and all("8/10 corrected [" in line for line in vas_rows)
    assert "3/10 corrected [" in vas_rows[-1]
    slr = [line for line in report.splitlines() if line.startswith("| Straight-leg raise")][-1]
    assert "50" not in slr and "removed [" in slr
    notes = [line for line in report.splitlines() if re.match(r"\[\d\] ", line)]
    assert any("misheard" in x for x in notes) and any("wrong leg" in x for x in notes)
    assert any("baseline typo" in x for x in notes)
    parse_html(html)
    assert "wrong leg" in html


def test_the_lookup_answers_per_visit_and_value(db_target: str) -> None:
    with connect(db_target, actor="Ona") as db:
        _pid, eid, first, session = held(db)
        (m,) = measurements_of(db, session.id)
        correct_measurement(db, m.id, 2, "misread")
        notes = report_amendments(db, eid)
    assert notes.result(first.seq, "vas", None) == ""
    mark = notes.result(session.seq, "vas", None)
    assert mark == "corrected [1]"
    assert notes.result(session.seq, "vas", None) == mark  # the same footnote, once
    (footnote,) = notes.footnotes()
    assert footnote["number"] == 1 and footnote["reason"] == "misread"
    assert footnote["by"] == "Ona" and footnote["kind"] == "corrected"
