"""Deterministic synthetic clinic for benchmarks: 100,000 patients and ~2,000,000 clinical rows.

Rows are written in bulk (executemany, one transaction) rather than through the audited
domain functions, which would take hours at this size; the schema and its meaning are the
same (search_text from the domain's `search_text_for`, visit seq/module/number from the
protocol's cycle, statuses the domain would leave). The audit trail is not generated: the
benchmarks never read it, and a synthetic history would prove nothing.

    .venv/bin/python benchmarks/generate.py [--patients N] [--out PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from kinesio_tui.data.db import connect, known_migrations
from kinesio_tui.domain.episodes import plan_visits
from kinesio_tui.domain.patients import search_text_for
from kinesio_tui.protocol import protocol

#: Bump when the generated data changes; the cache key includes it and the schema.
GENERATOR_VERSION = 3  # 2: checklists and doctor's checks per subtype; 3: record uuids
SEED = 20261125
TODAY = date(2026, 11, 25)
CACHE = Path(__file__).resolve().parent / ".cache"

# fmt: off
# Lithuanian surnames come as (male, married female, unmarried female).
LT_SURNAMES = [
    ("Kazlauskas", "Kazlauskienė", "Kazlauskaitė"),
    ("Jankauskas", "Jankauskienė", "Jankauskaitė"),
    ("Petrauskas", "Petrauskienė", "Petrauskaitė"),
    ("Stankevičius", "Stankevičienė", "Stankevičiūtė"),
    ("Vasiliauskas", "Vasiliauskienė", "Vasiliauskaitė"),
    ("Žukauskas", "Žukauskienė", "Žukauskaitė"),
    ("Butkus", "Butkienė", "Butkutė"),
    ("Paulauskas", "Paulauskienė", "Paulauskaitė"),
    ("Urbonas", "Urbonienė", "Urbonaitė"),
    ("Kavaliauskas", "Kavaliauskienė", "Kavaliauskaitė"),
    ("Šimkus", "Šimkienė", "Šimkutė"),
    ("Žemaitis", "Žemaitienė", "Žemaitė"),
    ("Navickas", "Navickienė", "Navickaitė"),
    ("Rimkus", "Rimkienė", "Rimkutė"),
    ("Baranauskas", "Baranauskienė", "Baranauskaitė"),
    ("Sakalauskas", "Sakalauskienė", "Sakalauskaitė"),
    ("Ramanauskas", "Ramanauskienė", "Ramanauskaitė"),
    ("Šimkevičius", "Šimkevičienė", "Šimkevičiūtė"),
    ("Adomaitis", "Adomaitienė", "Adomaitytė"),
    ("Balčiūnas", "Balčiūnienė", "Balčiūnaitė"),
    ("Čepulis", "Čepulienė", "Čepulytė"),
    ("Daukša", "Daukšienė", "Daukšaitė"),
    ("Gudaitis", "Gudaitienė", "Gudaitytė"),
    ("Jonaitis", "Jonaitienė", "Jonaitytė"),
    ("Kairys", "Kairienė", "Kairytė"),
    ("Lukoševičius", "Lukoševičienė", "Lukoševičiūtė"),
    ("Mockus", "Mockienė", "Mockutė"),
    ("Norkus", "Norkienė", "Norkutė"),
    ("Ožalas", "Ožalienė", "Ožalaitė"),
    ("Pocius", "Pocienė", "Pociūtė"),
    ("Šalkauskas", "Šalkauskienė", "Šalkauskaitė"),
    ("Tamošiūnas", "Tamošiūnienė", "Tamošiūnaitė"),
    ("Valaitis", "Valaitienė", "Valaitytė"),
    ("Zabiela", "Zabielienė", "Zabielaitė"),
    ("Ąžuolas", "Ąžuolienė", "Ąžuolaitė"),
    ("Vaitkus", "Vaitkienė", "Vaitkutė"),
    ("Grigas", "Grigienė", "Grigaitė"),
    ("Kučinskas", "Kučinskienė", "Kučinskaitė"),
    ("Mažeika", "Mažeikienė", "Mažeikaitė"),
    ("Ščiglinskas", "Ščiglinskienė", "Ščiglinskaitė"),
]
INTL_SURNAMES = [
    "Müller", "Nowak", "O'Brien", "Kowalski", "Dvořák", "García", "Schröder", "Ivanov",
    "Novák", "Łukaszewicz", "Østergaard", "Smith", "Johansson", "Lefèvre", "Wiśniewski",
    "Kovačević", "Jørgensen", "Nuñez", "MacDonald", "Öztürk", "Bērziņš", "Tamm", "Kask",
    "De la Cruz", "Van der Berg", "Sánchez-Ruiz", "Petrov", "Horváth", "Nagy", "Popescu",
]
MALE_FIRST = [
    "Tomas", "Jonas", "Mantas", "Lukas", "Algirdas", "Darius", "Saulius", "Mindaugas",
    "Žydrūnas", "Vytautas", "Andrius", "Paulius", "Rimantas", "Gintaras", "Kęstutis",
    "Arūnas", "Marius", "Deividas", "Povilas", "Juozas", "Šarūnas", "Egidijus", "Zigmas",
    "Michael", "Piotr", "Jan", "Seán", "José", "Łukasz", "François", "Jürgen", "Ole",
]
FEMALE_FIRST = [
    "Rūta", "Asta", "Jurgita", "Rasa", "Inga", "Eglė", "Aistė", "Gintarė", "Živilė",
    "Dalia", "Laima", "Ona", "Birutė", "Aušra", "Justina", "Ieva", "Greta", "Agnė",
    "Kristina", "Vaida", "Jūratė", "Zita", "Daiva", "Lina", "Anna", "Małgorzata",
    "Siobhán", "María", "Zoë", "Hélène", "Ingrid", "Agnieszka",
]
OCCUPATIONS = [
    "driver", "office worker", "teacher", "nurse", "builder", "programmer", "farmer",
    "retired", "cashier", "accountant", "warehouse worker", "student", "",
]
# fmt: on
PIR_MUSCLES = ["piriformis", "quadratus lumborum", "iliopsoas", "hamstrings", "erector spinae"]
SUBTYPES = {
    "radiculitis": ["cervical", "thoracic", "lumbar"],
    "sciatica": ["upper", "middle", "lower"],
}


def cache_key(patients: int) -> str:
    """Generator version + schema (migration names) + size: a new key rebuilds the file."""
    schema = ",".join(known_migrations())
    digest = hashlib.sha256(f"{GENERATOR_VERSION}|{schema}|{patients}|{SEED}".encode()).hexdigest()
    return digest[:12]


def cached_db(patients: int = 100_000, *, verbose: bool = True) -> Path:
    """The cached benchmark database of `patients` patients, built on first use."""
    CACHE.mkdir(mode=0o700, exist_ok=True)
    path = CACHE / f"clinic-{patients}-{cache_key(patients)}.db"
    if not path.exists():
        for old in CACHE.glob(f"clinic-{patients}-*.db*"):
            old.unlink()
        tmp = path.with_suffix(".building")
        started = time.perf_counter()
        counts = generate(tmp, patients)
        os.replace(tmp, path)
        (CACHE / f"{path.name}.json").write_text(
            json.dumps({**counts, "build_s": round(time.perf_counter() - started, 1)})
        )
        if verbose:
            print(
                f"built {path.name} in {time.perf_counter() - started:.1f} s: {counts}",
                file=sys.stderr,
            )
    return path


def build_facts(path: Path) -> dict[str, object]:
    """Row counts and build time recorded next to a cached database."""
    meta = CACHE / f"{path.name}.json"
    return json.loads(meta.read_text()) if meta.exists() else {}


def _phone(rng: random.Random) -> str:
    if rng.random() < 0.85:
        return f"+370 6{rng.randrange(10)}{rng.randrange(10)} {rng.randrange(100000):05d}"
    if rng.random() < 0.5:
        return f"8 (6{rng.randrange(100):02d}) {rng.randrange(100000):05d}"
    return ""


def _stamp(day: date) -> str:
    return f"{day.isoformat()}T09:00:00.000000+00:00"


def generate(path: Path, patients: int, *, seed: int = SEED) -> dict[str, int]:
    """Write a synthetic clinic of `patients` patients to a new file at `path`."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    rng = random.Random(seed)
    proto = protocol()
    cycle_kinds = {(m.number, s.number): s.kind for m in proto.modules for s in proto.cycle}
    checklists = {
        (m.number, cond, sub): [i.code for i in m.checklist_for(cond, sub)]
        for m in proto.modules
        for cond, subs in SUBTYPES.items()
        for sub in subs
    }
    doctor_checks = {
        (m.number, cond, sub): [
            t.code for t in proto.doctor_checks_for(m.number, "initial", cond, sub)
        ]
        for m in proto.modules
        for cond, subs in SUBTYPES.items()
        for sub in subs
    }
    db = connect(path, actor="benchmark")
    conn = db.conn
    conn.execute("PRAGMA synchronous = OFF")  # a throw-away file, rebuilt from the seed
    patient_rows = []
    episode_rows: list[tuple[object, ...]] = []
    visit_rows: list[tuple[object, ...]] = []
    tick_rows: list[tuple[object, ...]] = []
    pir_rows: list[tuple[object, ...]] = []
    meas_rows: list[tuple[object, ...]] = []
    screen_rows: list[tuple[object, ...]] = []
    episode_id = visit_id = 0
    for pid in range(1, patients + 1):
        sex = "F" if rng.random() < 0.55 else "M"
        if rng.random() < 0.85:
            forms = rng.choice(LT_SURNAMES)
            last = forms[0] if sex == "M" else forms[1 + (rng.random() < 0.35)]
        else:
            last = rng.choice(INTL_SURNAMES)
        first = rng.choice(MALE_FIRST if sex == "M" else FEMALE_FIRST)
        birth = date(1935, 1, 1) + timedelta(days=rng.randrange(365 * 72))
        phone = _phone(rng)
        created = TODAY - timedelta(days=rng.randrange(3650))
        archived = _stamp(created + timedelta(days=400)) if rng.random() < 0.05 else None
        patient_rows.append(
            (
                pid,
                first,
                last,
                birth.isoformat(),
                sex,
                phone,
                rng.choice(OCCUPATIONS),
                "",
                search_text_for(first, last, phone, birth),
                archived,
                _stamp(created),
                _stamp(created),
                1,
            )
        )
        # About one patient in six is (or was) in the programme; a few came twice.
        n_episodes = 0 if rng.random() < 0.84 else (1 if rng.random() < 0.9 else 2)
        for k in range(n_episodes):
            episode_id += 1
            condition = rng.choice(list(SUBTYPES))
            latest = k == n_episodes - 1
            roll = rng.random()
            if not latest or roll < 0.55:
                status, done = "completed", 45
            elif roll < 0.85 and archived is None:
                status, done = "active", rng.randrange(0, 45)
            else:
                status, done = "closed", rng.randrange(1, 30)
            start = TODAY - timedelta(days=7 * 15 * (n_episodes - k) + 3 * done + rng.randrange(60))
            plan = plan_visits(start, proto)
            if status == "active":
                # Shift so the next planned visit is today or later.
                start = TODAY - (plan[done].planned_date - start) if done < 45 else start
                plan = plan_visits(start, proto)
            closed_on = None
            if status != "active":
                closed_on = plan[min(done, 45) - 1].planned_date.isoformat()
            stamp = _stamp(start)
            subtype = rng.choice(SUBTYPES[condition])
            episode_rows.append(
                (
                    episode_id,
                    pid,
                    condition,
                    subtype,
                    rng.choice(("L", "R", "both")),
                    rng.choice(("acute", "chronic")),
                    (start - timedelta(days=rng.randrange(10, 200))).isoformat(),
                    "",
                    status,
                    start.isoformat(),
                    closed_on,
                    stamp,
                    stamp,
                    1,
                )
            )
            flags = '["progressive_weakness"]' if rng.random() < 0.01 else "[]"
            screen_rows.append((episode_id, None, start.isoformat(), flags, "intake", stamp))
            vas = rng.uniform(5, 9)
            for pv in plan:
                visit_id += 1
                held = pv.seq <= done
                if held:
                    vstatus = "missed" if rng.random() < 0.03 else "done"
                elif status == "active":
                    vstatus = "planned"
                else:
                    vstatus = "cancelled"
                day = pv.planned_date.isoformat()
                done_here = vstatus == "done"
                visit_rows.append(
                    (
                        visit_id,
                        episode_id,
                        pv.module,
                        pv.number,
                        pv.seq,
                        cycle_kinds[(pv.module, pv.number)],
                        day,
                        vstatus,
                        day if done_here else None,
                        _stamp(pv.planned_date) if done_here else None,
                        _stamp(pv.planned_date) if done_here else None,
                        "Therapist" if done_here else "",
                        "",
                        stamp,
                        2 if done_here else 1,
                    )
                )
                if not done_here:
                    continue
                vstamp = _stamp(pv.planned_date)
                if pv.kind == "therapy":
                    items = checklists[(pv.module, condition, subtype)]
                    for code in rng.sample(items, min(len(items), rng.choice((1, 2)))):
                        tick_rows.append((visit_id, code, "", vstamp))
                    if pv.module == 1:
                        pain = round(vas, 1)
                        pir_rows.append(
                            (
                                visit_id,
                                rng.choice(PIR_MUSCLES),
                                rng.choice(("L", "R")),
                                7,
                                20,
                                15,
                                3,
                                40.0,
                                55.0,
                                pain,
                                max(0.0, pain - 1),
                                vstamp,
                            )
                        )
                else:
                    vas = max(0.0, vas - rng.uniform(0.5, 2.0))
                    meas_rows.append((visit_id, "vas", None, round(vas, 1), None, vstamp))
                    for code in doctor_checks[(pv.module, condition, subtype)][1:4]:
                        test = proto.test(code)
                        if test is None or test.kind != "number":
                            continue
                        lo, hi = test.min or 0, test.max or 10
                        sides = ("L", "R") if test.sided else (None,)
                        for side in sides:
                            value = round(rng.uniform(lo, hi), 0)
                            meas_rows.append((visit_id, code, side, value, None, vstamp))
    with conn:
        conn.executemany(
            "INSERT INTO patients (id, first_name, last_name, birth_date, sex, phone, occupation,"
            " notes, search_text, archived_at, created_at, updated_at, version)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            patient_rows,
        )
        conn.executemany(
            "INSERT INTO episodes (id, patient_id, condition, subtype, side, course, onset_date,"
            " pain_medication, status, opened_on, closed_on, created_at, updated_at, version)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            episode_rows,
        )
        conn.executemany(
            "INSERT INTO red_flag_screens (episode_id, visit_id, screened_on, flags, note,"
            " recorded_at) VALUES (?,?,?,?,?,?)",
            screen_rows,
        )
        conn.executemany(
            "INSERT INTO visits (id, episode_id, module, number, seq, kind, planned_date, status,"
            " held_on, started_at, completed_at, therapist, note, updated_at, version)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            visit_rows,
        )
        conn.executemany(
            "INSERT INTO checklist_ticks (visit_id, item_code, note, ticked_at) VALUES (?,?,?,?)",
            tick_rows,
        )
        conn.executemany(
            "INSERT INTO pir_cycles (visit_id, muscle, side, tension_s, effort_pct, relaxation_s,"
            " cycles, rom_before, rom_after, pain_before, pain_after, recorded_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            pir_rows,
        )
        conn.executemany(
            "INSERT INTO measurements (visit_id, test_code, side, value_num, value_text,"
            " recorded_at) VALUES (?,?,?,?,?,?)",
            meas_rows,
        )
        # Every record's uuid, as the domain gives one: random-looking, but drawn from the
        # seed in id order so the clinic is the same every time it is built.
        conn.create_function(
            "seeded_uuid", 0, lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4))
        )
        for table in (
            "patients",
            "episodes",
            "red_flag_screens",
            "visits",
            "checklist_ticks",
            "pir_cycles",
            "measurements",
        ):
            conn.execute(f"UPDATE {table} SET uuid = seeded_uuid()")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    db.close()
    path.chmod(0o600)
    return {
        "patients": len(patient_rows),
        "episodes": len(episode_rows),
        "visits": len(visit_rows),
        "ticks": len(tick_rows),
        "pir_cycles": len(pir_rows),
        "measurements": len(meas_rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--out", type=Path, help="write here instead of the cache")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.out:
        counts = generate(args.out, args.patients)
        print(f"{args.out}: {counts} in {time.perf_counter() - started:.1f} s")
    else:
        path = cached_db(args.patients)
        print(path)


if __name__ == "__main__":
    main()
