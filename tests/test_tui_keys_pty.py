"""The real `kinesio` on a pseudo-terminal, keys written back to back: they go where meant.

Each burst is one `write`, so the app reads every key before it has handled the first, as it
does from a fast typist, a paste of keys, or a laggy SSH link. What was saved is read back
from the file.
"""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import pytest
from pty_session import PtySession, ctrl, keys, kinesio_on_pty

pytestmark = pytest.mark.slow  # real processes: seconds each, a minute when busy

#: The patient screen's header: "Tomas Petrauskas, 52 y, M".
HEADER = re.compile(r"([A-ZŽŠČ][\w]+ [A-ZŽŠČ][\w]+), \d+ y, [FMX]")


def opened_patient(session: PtySession, since: int) -> str:
    """The name on the patient screen that opened after byte `since`."""
    session.wait_for(" y, ", since=since)
    session.settle(0.3)
    match = HEADER.search(session.text(since))
    assert match, session.text(since)[-400:]
    return match.group(1)


def rows(path: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    raw = sqlite3.connect(path)
    try:
        return raw.execute(sql, params).fetchall()
    finally:
        raw.close()


def quit_app(session: PtySession) -> None:
    """Escape out of any field, then Ctrl+Q; the process must end."""
    session.press("escape")
    mark = session.send(ctrl("q"))
    deadline = time.monotonic() + 30
    while session.alive() and time.monotonic() < deadline:
        session.read(0.2)
    assert not session.alive(), session.text(mark)[-800:]


def test_the_list_opens_the_patient_typed_and_letters_only_search(demo_db_path: Path) -> None:
    with kinesio_on_pty(demo_db_path) as session:
        session.wait_for("Adomaitis")  # the list's first row
        # straight away, as the list appears: the first page shown is the unfiltered one
        mark = session.send(keys("petr", "enter"))
        assert opened_patient(session, mark) == "Tomas Petrauskas"
        # back on the list its rows are Petrauskas's: Enter must wait for the new query's
        for query, name in [("zemai", "Rūta Žemaitė"), ("zukauskie", "Anna Žukauskienė")]:
            session.press("escape")
            session.wait_for("Patients (")
            mark = session.send(keys("/", query, "enter"))
            assert opened_patient(session, mark) == name
        session.press("escape")
        session.wait_for("Patients (")
        mark = session.send(keys("/qan", "enter"))  # Quit, Archived, New patient once
        session.wait_for("No patient matches", since=mark)
        session.settle(0.5)
        assert session.alive()
        assert " y, " not in session.text(mark)  # no patient screen
        assert "Birth date" not in session.text(mark)  # no new-patient form
        quit_app(session)


def test_new_patient_and_episode_forms_typed_in_one_burst(demo_db_path: Path) -> None:
    with kinesio_on_pty(demo_db_path) as session:
        session.wait_for("Adomaitis")  # the list's first row
        session.send(
            keys(
                ctrl("n"), "Ona", "tab", "Kairytė", "tab", "1980-02-03", "tab",
                "enter", "F", "enter", "tab", "+37061234567", ctrl("s"),
                "enter", "s", "enter", "tab", "enter", "down", "enter", "tab", "enter", "L",
                "enter", "tab", "tab", "2026-11-01", "tab", "ibuprofen 400", ctrl("s"),
            )
        )  # fmt: skip
        session.wait_for("Ona Kairytė, ")
        session.settle()
        quit_app(session)
    assert rows(
        demo_db_path,
        "SELECT first_name, last_name, birth_date, sex, phone FROM patients WHERE id = "
        "(SELECT max(id) FROM patients)",
    ) == [("Ona", "Kairytė", "1980-02-03", "F", "+37061234567")]
    assert rows(
        demo_db_path,
        "SELECT condition, subtype, side, onset_date, pain_medication FROM episodes "
        "WHERE id = (SELECT max(id) FROM episodes)",
    ) == [("sciatica", "upper", "L", "2026-11-01", "ibuprofen 400")]


def open_visit(session: PtySession, query: str) -> None:
    """Open `query`'s patient from the list and wait for the patient screen."""
    session.wait_for("Adomaitis")  # the list's first row
    mark = session.send(keys(query, "enter"))
    opened_patient(session, mark)


def current_visit(path: Path, surname: str) -> int:
    (visit,) = rows(
        path,
        "SELECT v.id FROM visits v JOIN episodes e ON e.id = v.episode_id "
        "JOIN patients p ON p.id = e.patient_id WHERE p.last_name = ? AND v.status = 'planned' "
        "ORDER BY v.seq LIMIT 1",
        surname,
    )
    return int(str(visit[0]))


def test_visit_dosage_test_note_and_pir_typed_in_bursts(demo_db_path: Path) -> None:
    visit = current_visit(demo_db_path, "Petrauskas")
    with kinesio_on_pty(demo_db_path) as session:
        open_visit(session, "petrauskas")
        session.send(
            keys(
                "enter",  # start the visit
                "d",
                "3 x 10, 20 kg",
                "enter",  # the first item's dosage (ticks it)
                "t",
                "4.5",
                "enter",  # a test result: VAS
                "n",
                "tolerated well, calm",  # the visit note
            )
        )
        session.wait_for("tolerated well, calm")
        session.settle(1.0)  # the note saves after a pause in typing
        session.press("escape")  # out of the note
        session.send(
            keys(
                "p", "tab", "tab", "25", "tab", "1", "tab", "1", "tab", "1",
                "tab", "40", "tab", "5", ctrl("s"),
            )
        )  # fmt: skip
        session.wait_for("cycles done", timeout=60)  # one 1 s + 1 s cycle
        session.send(keys("50", "tab", "3", "enter"))
        session.settle(1.0)
        quit_app(session)
    assert (
        rows(demo_db_path, "SELECT item_code, note FROM checklist_ticks WHERE visit_id = ?", visit)[
            0
        ][1]
        == "3 x 10, 20 kg"
    )
    assert rows(
        demo_db_path, "SELECT test_code, value_num FROM measurements WHERE visit_id = ?", visit
    ) == [("vas", 4.5)]
    assert rows(demo_db_path, "SELECT note FROM visits WHERE id = ?", visit) == [
        ("tolerated well, calm",)
    ]
    assert rows(
        demo_db_path,
        "SELECT effort_pct, tension_s, relaxation_s, cycles, rom_before, pain_before, "
        "rom_after, pain_after FROM pir_cycles WHERE visit_id = ?",
        visit,
    ) == [(25, 1, 1, 1, 40.0, 5.0, 50.0, 3.0)]


def test_doctors_form_typed_in_one_burst(demo_db_path: Path) -> None:
    visit = current_visit(demo_db_path, "Žukauskienė")
    with kinesio_on_pty(demo_db_path) as session:
        open_visit(session, "zukauskiene")
        mark = session.send(keys("enter", "6", "tab", "70", "tab", "65", "tab"))
        session.wait_for("✔ Straight-leg raise (Lasegue) angle R 65", since=mark)
        session.settle()
        quit_app(session)
    assert rows(
        demo_db_path,
        f"SELECT test_code, side, value_num FROM measurements WHERE visit_id = {visit} ORDER BY id",
    ) == [("vas", None, 6.0), ("slr_angle", "L", 70.0), ("slr_angle", "R", 65.0)]
