"""Patients: create, change (versioned), archive rather than delete, find."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import DAY

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient
from kinesio_tui.domain.patients import (
    archive_patient,
    count_patients,
    create_patient,
    find_patients,
    get_patient,
    patient_form,
    restore_patient,
    update_patient,
)
from kinesio_tui.domain.search import fold
from kinesio_tui.errors import KinesioError, NotFound, StaleRecord

# The domain's reads and writes, on both engines (issue 17).
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def _add(db: ClinicDB, first: str, last: str, born: str = "1981-03-14", phone: str = "") -> int:
    return create_patient(db, NewPatient(first, last, born, "F", phone), today=DAY)


def test_create_and_read_back(db: ClinicDB) -> None:
    pid = create_patient(
        db,
        NewPatient("Rūta", "Žemaitė", "1988-05-02", "F", "+370 655 18230", "Office worker", "n"),
        today=DAY,
    )
    p = get_patient(db, pid)
    assert (p.full_name, p.birth_date, p.sex, p.phone) == (
        "Rūta Žemaitė",
        date(1988, 5, 2),
        "F",
        "+370 655 18230",
    )
    assert (p.archived, p.version, p.age_on(DAY)) == (False, 1, 38)
    assert p.age_on(date(2026, 5, 1)) == 37  # the day before the birthday


def test_stale_update_is_refused_and_writes_nothing(db: ClinicDB) -> None:
    pid = _add(db, "Ona", "Butkienė")
    form = patient_form(get_patient(db, pid))
    mine = NewPatient(**{**form.__dict__, "phone": "+370 600 00001"})
    theirs = NewPatient(**{**form.__dict__, "occupation": "Teacher"})
    changed = update_patient(db, pid, theirs, expected_version=1, today=DAY)
    assert changed.version == 2 and changed.occupation == "Teacher"
    audit = db.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    with pytest.raises(StaleRecord) as caught:
        update_patient(db, pid, mine, expected_version=1, today=DAY)
    assert caught.value.title == "Changed in another terminal"
    assert get_patient(db, pid).phone == ""
    assert db.execute("SELECT count(*) FROM audit_log").fetchone()[0] == audit
    assert update_patient(db, pid, mine, expected_version=2, today=DAY).version == 3


def test_update_audits_only_what_changed(db: ClinicDB) -> None:
    pid = _add(db, "Ona", "Butkienė")
    form = patient_form(get_patient(db, pid))
    update_patient(db, pid, NewPatient(**{**form.__dict__, "notes": "x"}), expected_version=1, today=DAY)  # fmt: skip
    old, new = db.execute("SELECT old, new FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert '"notes":""' in old and '"notes":"x"' in new and "first_name" not in new


def test_archive_hides_but_keeps(db: ClinicDB) -> None:
    pid = _add(db, "Ona", "Butkienė")
    _add(db, "Ieva", "Navickienė")
    archive_patient(db, pid)
    assert get_patient(db, pid).archived
    assert [p.id for p in find_patients(db, "butk")] == []
    assert [p.id for p in find_patients(db, "butk", archived=True)] == [pid]
    assert (count_patients(db), count_patients(db, archived=True)) == (1, 1)
    with pytest.raises(KinesioError, match="Restore the patient"):
        open_episode(db, pid, NewEpisode("sciatica", "upper", "L"), start=DAY, today=DAY)
    restore_patient(db, pid)
    assert [p.id for p in find_patients(db, "butk")] == [pid]
    actions = [r[0] for r in db.execute("SELECT action FROM audit_log WHERE record_id = ? AND table_name = 'patients'", [pid])]  # fmt: skip
    assert actions == ["create", "archive", "unarchive"]


def test_get_an_unknown_patient(db: ClinicDB) -> None:
    with pytest.raises(NotFound, match="No patient with id 99"):
        get_patient(db, 99)


def test_fold_removes_case_and_diacritics() -> None:
    assert fold("Šimkus") == "simkus"
    assert fold("Žemaitė") == "zemaite"
    assert fold("ĄČĘĖĮŠŲŪŽ") == "aceeisuuz"


def test_find_by_any_word_ignoring_diacritics(db: ClinicDB) -> None:
    a = _add(db, "Algirdas", "Šimkus", "1964-02-11", "+370 698 77104")
    b = _add(db, "Rūta", "Žemaitė", "1988-05-02", "+370 655 18230")
    c = _add(db, "Ruta", "Šimkūnienė", "1990-01-01")
    assert [p.id for p in find_patients(db, "simkus")] == [a]
    assert [p.id for p in find_patients(db, "ŠIMK")] == [c, a]
    assert [p.id for p in find_patients(db, "ruta")] == [c, b]  # ordered by surname
    assert [p.id for p in find_patients(db, "ruta zem")] == [b]
    assert [p.id for p in find_patients(db, "77104")] == [a]
    assert [p.id for p in find_patients(db, "1988")] == [b]
    assert [p.id for p in find_patients(db, "imkus")] == []  # words match from their start
    assert find_patients(db, "%") == [] and find_patients(db, "_") == []
    assert [p.id for p in find_patients(db, "", limit=2, offset=1)] == [a, b]
