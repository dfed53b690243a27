"""Patient search: the exact rule, and the FTS5 fast paths giving the very same pages."""

from __future__ import annotations

import random
from datetime import date

import pytest
from conftest import DAY

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain import search
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import (
    archive_patient,
    create_patient,
    find_patients,
    get_patient,
    patient_form,
    restore_patient,
    update_patient,
)
from kinesio_tui.domain.search import fold

pytestmark = pytest.mark.engines("sqlite", "postgresql")

PEOPLE = [
    ("Rūta", "Žemaitė", "1988-03-02", "F", "+370 612 34567"),
    ("Algirdas", "Šimkus", "1964-05-11", "M", "8 (615) 77104"),
    ("Rūta", "Šimkutė", "1990-07-30", "F", "+370 699 00012"),
    ("Seán", "O'Brien", "1979-01-15", "M", "+353 87 1234567"),
    ("Jürgen", "Müller", "1955-12-01", "M", ""),
    ("Łukasz", "Łukaszewicz", "1985-09-09", "M", "+48 601 612 345"),
    ("Lukas", "Łukaszewicz", "2001-02-03", "M", "+48 601 000 111"),
    ("María", "De la Cruz", "1970-04-04", "F", "+34 600 123 456"),
    ("Jonas", "Jankauskas", "1985-06-06", "M", "+370 655 19851"),
    ("Asta", "Kazlauskienė-Petraitė", "1968-08-08", "F", "+370 640 11111"),
    ("Zita", "Žukauskienė", "1950-10-10", "F", "+370 611 22222"),
    ("Ąžuolas", "Adomaitis", "1999-11-11", "M", "+370 622 33333"),
]

QUERIES = [
    "",
    "z",
    "Ž",
    "že",
    "zemaite",
    "ŽEMAITĖ",
    "sim",
    "ŠIMK",
    "ruta",
    "rūta šim",
    "sim sim",
    "s simk",
    "simk s",
    "ruta zem",
    "o'",
    "o'b",
    "obrien",
    "brien",
    "mull",
    "MÜLLER",
    "luk",
    "łuk",
    "lukas luk",
    "de",
    "de la",
    "cruz",
    "petraite",
    "kazlauskiene-p",
    "6",
    "61",
    "612",
    "612 34",
    "77104",
    "1985",
    "85",
    "+370",
    "(615)",
    "jonas 1985",
    "azuolas",
    "ąž",
    "%",
    "_",
    "a_b",
    "\\",
    '"',
    "j*",
    "-",
    "'",
    "zz",
    "ži 1950",
]


def add(db: ClinicDB, first: str, last: str, born: str, sex: str, phone: str) -> int:
    return create_patient(db, NewPatient(first, last, born, sex, phone), today=DAY)


def reference(db: ClinicDB, query: str, *, archived: bool = False) -> list[int]:
    """The rule written plainly in Python over every row: what the indexes must reproduce."""
    rows = db.execute("SELECT id, search_text, archived_at FROM patients").fetchall()
    words = fold(query).split()

    def matches(text: str, word: str) -> bool:
        if any(c.isdigit() for c in word) and not any(c.isalpha() for c in word):
            return "".join(c for c in word if c.isdigit()) in text
        return text.startswith(word) or f" {word}" in text

    hits = [
        (text, pid)
        for pid, text, archived_at in rows
        if (archived_at is not None) == archived and all(matches(text, w) for w in words)
    ]
    return [pid for _, pid in sorted(hits)]


@pytest.fixture
def people(db: ClinicDB) -> ClinicDB:
    for person in PEOPLE:
        add(db, *person)
    return db


def ids(db: ClinicDB, query: str, **kwargs: object) -> list[int]:
    return [p.id for p in find_patients(db, query, **kwargs)]  # type: ignore[arg-type]


def test_diacritics_case_and_word_prefixes(people: ClinicDB) -> None:
    name = {p.id: p.last_name for p in find_patients(people, limit=100)}
    assert [name[i] for i in ids(people, "zemaite")] == ["Žemaitė"]
    assert [name[i] for i in ids(people, "ŽEMAITĖ")] == ["Žemaitė"]
    assert [name[i] for i in ids(people, "šimk")] == ["Šimkus", "Šimkutė"]
    assert [name[i] for i in ids(people, "mull")] == ["Müller"]
    assert [name[i] for i in ids(people, "cruz")] == ["De la Cruz"]  # a later surname word
    assert ids(people, "imkus") == []  # prefixes of words, not substrings
    assert [name[i] for i in ids(people, "o'b")] == ["O'Brien"]
    assert ids(people, "obrien") == []  # the apostrophe is part of the folded name


def test_every_word_must_match(people: ClinicDB) -> None:
    firsts = {p.id: p.first_name for p in find_patients(people, limit=100)}
    assert [firsts[i] for i in ids(people, "ruta sim")] == ["Rūta"]
    assert [firsts[i] for i in ids(people, "lukas luk")] == ["Lukas"]
    assert ids(people, "ruta jankauskas") == []


def test_phone_fragments_and_birth_year(people: ClinicDB) -> None:
    last = {p.id: p.last_name for p in find_patients(people, limit=100)}
    assert [last[i] for i in ids(people, "77104")] == ["Šimkus"]
    assert [last[i] for i in ids(people, "(615) 771")] == ["Šimkus"]
    assert [last[i] for i in ids(people, "1988")] == ["Žemaitė"]
    # Digits anywhere in the number or the birth year: 19851 is Jonas's phone, 1985 two years.
    assert sorted(last[i] for i in ids(people, "1985")) == [
        "Jankauskas",
        "Łukaszewicz",
    ]
    assert [last[i] for i in ids(people, "jonas 1985")] == ["Jankauskas"]


def test_ordered_by_surname_then_first_name_and_paged(people: ClinicDB) -> None:
    everyone = find_patients(people, limit=100)
    keys = [(fold(p.last_name), fold(p.first_name)) for p in everyone]
    assert keys == sorted(keys)
    assert len(everyone) == len(PEOPLE)
    pages = [find_patients(people, limit=5, offset=o) for o in (0, 5, 10)]
    assert [p.id for page in pages for p in page] == [p.id for p in everyone]
    assert find_patients(people, limit=5, offset=100) == []


def test_archived_patients_are_found_only_in_the_archive(people: ClinicDB) -> None:
    (pid,) = ids(people, "zemaite")
    archive_patient(people, pid)
    assert ids(people, "zemaite") == []
    assert ids(people, "zemaite", archived=True) == [pid]
    restore_patient(people, pid)
    assert ids(people, "zemaite") == [pid]
    assert ids(people, "zemaite", archived=True) == []


def test_index_follows_a_change_of_name_and_phone(people: ClinicDB) -> None:
    (pid,) = ids(people, "zemaite")
    patient = get_patient(people, pid)
    form = patient_form(patient)
    changed = NewPatient(
        **{**form.__dict__, "last_name": "Petrauskienė", "phone": "+370 600 99887"}
    )
    update_patient(people, pid, changed, expected_version=patient.version, today=DAY)
    assert ids(people, "zemaite") == []
    assert ids(people, "612 345") == ids(people, "łuk 612")  # the old number is gone
    assert ids(people, "petrausk") == [pid]
    assert ids(people, "99887") == [pid]
    assert search._search_plan(people, ["petrausk"], 2000) == ({pid}, None)
    assert search._search_plan(people, ["99887"], 2000) == ({pid}, None)


def test_index_follows_rows_written_outside_the_domain(people: ClinicDB) -> None:
    """Triggers, not the domain, keep the index: a bulk load or a deletion stays in step."""
    people.execute(
        "INSERT INTO patients (id, uuid, first_name, last_name, birth_date, sex, search_text,"
        " created_at, updated_at) VALUES (1000, '7b0c6a52-3f52-4c0e-9d7c-0f3c1e6f6a01', 'Ona',"
        " 'Norkienė', '1940-01-01', 'F', 'norkiene ona 37061155555 1940', 'x', 'x')"
    )
    (pid,) = ids(people, "norkien")
    assert ids(people, "61155") == [pid]
    people.execute("DELETE FROM patients WHERE id = ?", [pid])
    assert search._search_plan(people, ["norkien"], 2000) == (set(), None)
    assert search._search_plan(people, ["61155"], 2000) == (set(), None)


def test_indexes_are_used_not_bypassed(people: ClinicDB) -> None:
    """A selective word is answered from the FTS5 indexes (a broken index would fall back)."""
    ids_, prefix = search._search_plan(people, ["zemaite"], 2000)
    assert ids_ is not None and prefix is None and len(ids_) == 1
    ids_, prefix = search._search_plan(people, ["612"], 2000)
    assert ids_ is not None and len(ids_) == 2
    # Too many for the cap: the first word's range plus the later-word hits.
    # Šimkus, Šimkutė, Seán: too many for a cap of 2, so "starts with s" (a range of the
    # index) plus "a later word starts with s" (Seán O'Brien).
    assert search._search_plan(people, ["s"], 2) == (set(ids(people, "sean")), "s")


@pytest.mark.parametrize("cap", [2000, 4, 1])
def test_fast_paths_match_a_plain_filter(
    people: ClinicDB, cap: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every query, every path (candidates, range + later words, ordered walk), every page."""
    monkeypatch.setattr(search, "CANDIDATE_CAP", cap)
    monkeypatch.setattr(search, "PAGE_FACTOR", 0)
    archive_patient(people, ids(people, "asta")[0])
    for query in QUERIES:
        for archived in (False, True):
            expected = reference(people, query, archived=archived)
            assert ids(people, query, archived=archived, limit=100) == expected, query
            paged = [ids(people, query, archived=archived, limit=2, offset=o) for o in (0, 2, 4)]
            assert [i for page in paged for i in page] == expected[:6], query


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_random_clinic_matches_a_plain_filter(db: ClinicDB, seed: int) -> None:
    """Random names and queries on 200 patients: same rows, same order (on PostgreSQL too,
    whose tsvector parser splits words unlike FTS5: at dots, hyphens, apostrophes, ...)."""
    rng = random.Random(seed)
    letters = "aąbcčdeęėfghiįjklmnoprsštuųūvzžöüłø'-.&:/@_ "
    for _ in range(200):
        first = "".join(rng.choice(letters[:-1]) for _ in range(rng.randint(2, 6))).strip()
        last = "".join(rng.choice(letters) for _ in range(rng.randint(2, 9))).strip()
        add(
            db,
            first or "x",
            last or "y",
            f"19{rng.randint(20, 99)}-01-01",
            "F",
            f"+370 6{rng.randint(0, 9999999):07d}",
        )
    queries = [w[: rng.randint(1, 3)] for w in (rng.choice(PEOPLE)[1] for _ in range(20))]
    queries += ["".join(rng.choice(letters) for _ in range(rng.randint(1, 3))) for _ in range(60)]
    queries += [str(rng.randint(0, 999)) for _ in range(20)]
    for cap in (2000, 10):
        search.CANDIDATE_CAP, saved = cap, search.CANDIDATE_CAP
        try:
            for query in queries:
                assert ids(db, query, limit=1000) == reference(db, query), query
        finally:
            search.CANDIDATE_CAP = saved
    db.close()


def test_roster_rows_match_the_patients_and_their_next_visit(demo_db: ClinicDB) -> None:
    """The list's page: same patients as find_patients, the visit = first planned by seq,
    "Next" = the first one not yet started."""
    from kinesio_tui.domain.roster import roster

    for query in ("", "r", "zem", "612", "petrauskas tomas"):
        rows = roster(demo_db, query, limit=100)
        assert [r.patient_id for r in rows] == ids(demo_db, query, limit=100)
    rows = roster(demo_db, "", limit=100)
    assert any(r.module for r in rows) and any(r.last_vas is not None for r in rows)
    for row in rows:
        episode = demo_db.execute(
            "SELECT id, status FROM episodes WHERE patient_id = ? "
            "ORDER BY status = 'active' DESC, opened_on DESC, id DESC LIMIT 1",
            [row.patient_id],
        ).fetchone()
        if episode is None:
            assert row.condition is None and row.module is None
            continue
        assert row.episode_status == episode[1]
        planned = demo_db.execute(
            "SELECT module, number, planned_date FROM visits WHERE episode_id = ? "
            "AND status = 'planned' ORDER BY seq LIMIT 1",
            [episode[0]],
        ).fetchone()
        # "Next" is the first visit not yet started: never the date of the one under way
        upcoming = demo_db.execute(
            "SELECT planned_date FROM visits WHERE episode_id = ? "
            "AND status = 'planned' AND started_at IS NULL ORDER BY seq LIMIT 1",
            [episode[0]],
        ).fetchone()
        got = (row.module, row.number, row.next_planned)
        want = (
            (planned[0], planned[1], date.fromisoformat(upcoming[0]) if upcoming else None)
            if planned
            else (None,) * 3
        )
        assert got == want


def test_bytes_that_are_not_text_do_not_break_the_search(db: ClinicDB) -> None:
    create_patient(
        db, NewPatient("Algirdas", "Šimkus", "1964-07-21", "M"), today=date(2026, 11, 25)
    )
    # what a Latin-1 terminal's "Š" becomes in a UTF-8 program's argv
    assert [p.last_name for p in find_patients(db, "\udcaaimkus")] == []
    assert [p.last_name for p in find_patients(db, "simkus\udcff")] == ["Šimkus"]
