"""The built-in demo clinic: the clinic's three published cases plus a realistic patient list.

Deterministic: the same `today` gives the same database. Histories are written through the
domain functions (so they obey every rule) inside one transaction.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from kinesio_tui import clock
from kinesio_tui.data.db import ClinicDB, connect, inspect_file, write_transaction
from kinesio_tui.domain.discharge import DischargeText, final_appointment, record_discharge
from kinesio_tui.domain.episodes import (
    close_episode,
    next_visit_day,
    open_episode,
    screen_red_flags,
)
from kinesio_tui.domain.holds import record_referral
from kinesio_tui.domain.models import NewEpisode, NewPatient, PirCycle, Visit
from kinesio_tui.domain.patients import archive_patient, create_patient
from kinesio_tui.domain.plan import PlanEdit, tailor_checklist
from kinesio_tui.domain.proms import record_prom_answer
from kinesio_tui.domain.schedule import move_visit, record_absence
from kinesio_tui.domain.today import day_list
from kinesio_tui.domain.visits import (
    checklist_for_visit,
    complete_visit,
    doctor_checks_for_visit,
    mark_missed,
    record_measurement,
    record_pir_cycle,
    reschedule_planned,
    set_visit_note,
    start_visit,
    tick_item,
    visits_of,
)
from kinesio_tui.errors import KinesioError
from kinesio_tui.protocol import ClinicalTest, protocol
from kinesio_tui.questionnaires import offered_for

if TYPE_CHECKING:
    from kinesio_tui.data.engine import Target
    from kinesio_tui.maintenance.transfer import Copied

SEED = 20261125
DEMO_ACTOR = "demo"
THERAPISTS = ("R. Paupienė", "T. Kazlauskas")
#: The family doctors who refer the demo's patients (the discharge letter's addressees),
#: picked by the case's age and name, not drawn, so every other draw stays as it was.
REFERRERS = (
    ("Dr Aušra Jankauskienė", "Šilainių poliklinika, Kaunas"),
    ("Dr Tomas Vaitkus", "Kalniečių poliklinika, Kaunas"),
    ("Dr Jurgita Paulauskienė", "Centro poliklinika, Kaunas"),
)


@dataclass
class Case:
    first_name: str
    last_name: str
    sex: str
    age: int
    occupation: str
    condition: str
    subtype: str
    side: str
    course: str
    medication: str = ""
    visits_done: int = 0  # how many of the 45 visits are behind the patient
    vas_start: float = 7.0
    vas_end: float = 1.0  # pain at the end of the programme
    relief_by: int = 45  # visit by which pain reaches vas_end
    missed: tuple[int, ...] = ()
    red_flags: tuple[str, ...] = ()
    notes: str = ""
    phone: str = ""
    in_progress: bool = False  # the next visit is started today
    next_in_days: int = 0  # the next planned visit is on the first clinic day from today + this
    archived: bool = False
    first_note: str = ""
    final_note: str = ""
    #: Doctor's notes at other visits (programme position 1-45 -> note).
    notes_at: dict[int, str] = field(default_factory=dict)
    #: Days from onset to the first visit; None: a plausible draw for an acute or chronic case.
    onset_days: int | None = None
    pir_muscles: tuple[str, ...] = ()  # () : the subtype's usual muscles (PIR_MUSCLES)
    #: How the doctor tailored the plan at a doctor's appointment (its place 1-45 -> changes).
    tailored_at: dict[int, tuple[PlanEdit, ...]] = field(default_factory=dict)
    extra: dict[str, float] = field(default_factory=dict)
    #: A past patient: the first visit was this many weeks before today (None: a current one).
    weeks_ago: int | None = None
    #: How a past patient's episode ended after `visits_done` visits: "completed" (the
    #: doctor ends the programme at that final appointment) or "closed" (stopped coming).
    ended: str = ""
    #: The questionnaire of the subtype (ODI, NDI) filled in at each doctor's appointment.
    proms: bool = False
    #: Checklist items a session in progress today has begun with (else the list's first).
    started_with: tuple[str, ...] = ()


#: The muscles a therapist would relax first for each subtype.
PIR_MUSCLES = {
    "cervical": ("upper trapezius", "levator scapulae"),
    "thoracic": ("erector spinae", "pectoralis major"),
    "lumbar": ("quadratus lumborum", "iliopsoas"),
    "upper": ("piriformis", "gluteus medius"),
    "middle": ("hamstrings", "adductors"),
    "lower": ("gastrocnemius", "hamstrings"),
}
#: The nerve roots (or the thoracic band) each subtype's demo patients have trouble with.
AFFECTED_ROOTS = {
    "cervical": {"C6"},
    "thoracic": {"T"},
    "lumbar": {"L5"},
    "upper": {"L5", "S1"},
    "middle": {"S1"},
    "lower": {"L5"},
}
#: The root each neurological test examines.
TEST_ROOT = {
    "sensation_c5": "C5", "sensation_c6": "C6", "sensation_c7": "C7", "sensation_c8": "C8",
    "sensation_thoracic": "T", "sensation_l4": "L4", "sensation_l5": "L5", "sensation_s1": "S1",
    "reflex_biceps": "C5", "reflex_brachioradialis": "C6", "reflex_triceps": "C7",
    "reflex_abdominal": "T", "reflex_knee": "L4", "reflex_ankle": "S1",
    "myotome_c5": "C5", "myotome_c6": "C6", "myotome_c7": "C7", "myotome_c8": "C8",
    "myotome_t1": "T1", "myotome_l4": "L4", "myotome_l5": "L5", "myotome_s1": "S1",
}  # fmt: skip
#: What an EMG of the problem area finds before recovery, per subtype.
EMG_FINDINGS = {
    "cervical": "Reduced C6 recruitment (biceps, wrist extensors) on the affected side",
    "thoracic": "Reduced recruitment of the thoracic paraspinals at the affected level",
    "lumbar": "Reduced L5-S1 recruitment on the affected side",
    "upper": "Reduced gluteus maximus and hamstring recruitment on the affected side",
    "middle": "Reduced hamstring and calf recruitment on the affected side",
    "lower": "Reduced tibialis anterior and peroneal recruitment on the affected side",
}
POSTURE_BEFORE = {
    "cervical": "Forward head posture, rounded shoulders",
    "thoracic": "Increased thoracic kyphosis, guarded shallow breathing",
    "lumbar": "Antalgic lean, lumbar lordosis flattened",
}
#: Normal and impaired values of the number tests, for plausible histories.
NORMAL = {
    "slr_angle": 80, "schober": 5.0, "hip_flexion": 120, "hip_internal_rotation": 40,
    "hip_external_rotation": 45, "emg_amplitude": 900, "strength_kg": 40, "strength_mrc": 5,
    "sitting_tolerance": 120, "cervical_flexion": 50, "cervical_extension": 60,
    "cervical_rotation": 75, "cervical_lateral_flexion": 40, "grip_strength": 38,
    "thoracic_rotation": 45, "chest_expansion": 5.5, "ankle_dorsiflexion": 40,
}  # fmt: skip
IMPAIRED = {
    "slr_angle": 35, "schober": 2.5, "hip_flexion": 85, "hip_internal_rotation": 25,
    "hip_external_rotation": 30, "emg_amplitude": 450, "strength_kg": 26, "strength_mrc": 3,
    "sitting_tolerance": 20, "cervical_flexion": 30, "cervical_extension": 35,
    "cervical_rotation": 45, "cervical_lateral_flexion": 20, "grip_strength": 26,
    "thoracic_rotation": 25, "chest_expansion": 3.0, "ankle_dorsiflexion": 28,
}  # fmt: skip


CASES = (
    Case(
        "Tomas",
        "Petrauskas",
        "M",
        45,
        "Professional driver",
        "radiculitis",
        "lumbar",
        "R",
        "acute",
        medication="Ibuprofen 400 mg as needed",
        visits_done=33,
        vas_start=8,
        vas_end=0,
        relief_by=24,
        notes="Cannot sit over 20 minutes at intake; drives a delivery van.",
        phone="+370 612 40451",
        onset_days=12,
        first_note="Acute low-back pain radiating into the right leg. Sitting tolerance 20 min.",
        # module 2 ends: pain gone since week 8, back at work; module 3 trains his working day
        notes_at={
            30: "Pain-free since week 8; back at work driving. Module 3: stabilisation in "
            "simulated working postures (cab seat, loading)."
        },
        pir_muscles=("quadratus lumborum", "iliopsoas"),
        tailored_at={
            1: (
                PlanEdit(
                    "session",
                    "dosage",
                    "m1_decompression_hangs",
                    dosage="3 x 30 s at 20 % body weight",
                    reason="Acute: start light, add 5 % a week as the leg allows",
                ),
                PlanEdit(
                    "home",
                    "remove",
                    "h1_knee_to_chest",
                    reason="Flexion sends the pain further down the right leg",
                ),
            ),
            31: (
                PlanEdit(
                    "session",
                    "add",
                    label="Simulated driving: sitting in a van seat, self-correcting posture",
                    dosage="20 min, 5 min more each session",
                    reason="Drives a delivery van: needs 2 h of sitting",
                ),
                PlanEdit(
                    "home",
                    "dosage",
                    "h3_posture_breaks",
                    dosage="every 45 min of driving: stop, walk 2 min",
                    reason="Professional driver",
                ),
            ),
        },
    ),
    Case(
        "Rūta",
        "Žemaitė",
        "F",
        38,
        "Office worker",
        "sciatica",
        "upper",
        "L",
        "acute",
        visits_done=16,
        vas_start=6,
        vas_end=0,
        relief_by=15,
        in_progress=True,
        notes="Buttock pain, evening numbness in the left leg.",
        phone="+370 655 18230",
        onset_days=30,
        first_note="Piriformis pattern; numbness in the evening after sitting (L5, S1 reduced).",
        # the final appointment of module 1, 5 weeks in: what the clinic reports
        notes_at={15: "At 5 weeks sensation normal, no pain."},
        pir_muscles=("piriformis", "gluteus medius"),
        # module 2 begins with the gluteal activation the clinic names for her
        started_with=("m2_asymmetric", "m2_gluteal_activation"),
    ),
    Case(
        "Algirdas",
        "Šimkus",
        "M",
        62,
        "Retired",
        "radiculitis",
        "lumbar",
        "both",
        "chronic",
        medication="Diclofenac 75 mg daily (stopped in module 3)",
        visits_done=45,
        vas_start=7,
        vas_end=1.4,
        relief_by=45,
        missed=(9, 27),
        notes="Constant aching pain for 3 years.",
        phone="+370 698 77104",
        onset_days=3 * 365 + 20,
        first_note="Chronic constant aching pain, dependent on painkillers.",
        final_note="After 3 months 80% less pain, no medication.",
        pir_muscles=("erector spinae", "hamstrings"),
        tailored_at={
            1: (
                PlanEdit(
                    "session",
                    "remove",
                    "m1_decompression_hangs",
                    reason="62, chronic, osteopenia: gentle traction on the table instead",
                ),
                PlanEdit(
                    "session",
                    "dosage",
                    "m1_orthopaedic_table",
                    dosage="10 min at 15 % body weight, slow release",
                    reason="Gentle traction",
                ),
            ),
        },
    ),
)

_FIRST_F = [
    "Ona",
    "Jurgita",
    "Eglė",
    "Ieva",
    "Aušra",
    "Gintarė",
    "Laura",
    "Agnė",
    "Dalia",
    "Birutė",
    "Maria",
    "Anna",
]
_FIRST_M = [
    "Jonas",
    "Mindaugas",
    "Darius",
    "Žygimantas",
    "Vytautas",
    "Andrius",
    "Kęstutis",
    "Paulius",
    "Peter",
    "Lukas",
]
_LAST = [
    ("Kazlauskas", "Kazlauskienė"),
    ("Jankauskas", "Jankauskienė"),
    ("Vasiliauskas", "Vasiliauskienė"),
    ("Žukauskas", "Žukauskienė"),
    ("Butkus", "Butkienė"),
    ("Paulauskas", "Paulauskienė"),
    ("Urbonas", "Urbonienė"),
    ("Čepulis", "Čepulienė"),
    ("Navickas", "Navickienė"),
    ("Šimkūnas", "Šimkūnienė"),
    ("Smith", "Smith"),
    ("Nowak", "Nowak"),
]
_JOBS = [
    "Office worker",
    "Nurse",
    "Teacher",
    "Warehouse worker",
    "Programmer",
    "Farmer",
    "Retired",
    "Cashier",
    "Electrician",
    "Accountant",
    "Builder",
    "Hairdresser",
]


def _extra_cases(rng: random.Random) -> list[Case]:
    proto = protocol()
    cases: list[Case] = []
    used: set[tuple[str, str]] = set()
    for i in range(24):
        sex = "F" if i % 2 else "M"
        first, last = "", ""
        while not first or (first, last) in used:
            first = rng.choice(_FIRST_F if sex == "F" else _FIRST_M)
            last = rng.choice(_LAST)[1 if sex == "F" else 0]
        used.add((first, last))
        condition = proto.conditions[i % 2]
        subtype = rng.choice(condition.subtypes).code
        done = rng.choice([0, 1, 3, 7, 8, 12, 15, 16, 20, 23, 29, 31, 38, 44])
        vas0 = rng.choice([5, 6, 7, 8, 9])
        cases.append(
            Case(
                first,
                last,
                sex,
                rng.randint(24, 78),
                rng.choice(_JOBS),
                condition.code,
                subtype,
                rng.choice(["L", "R", "R", "both"]),
                rng.choice(["acute", "acute", "chronic"]),
                medication=rng.choice(["", "", "Paracetamol as needed", "NSAID daily"]),
                visits_done=min(done, 1) if i == 5 else done,  # red flag: referred at intake
                vas_start=vas0,
                vas_end=rng.choice([0, 1, 2, 3]),
                relief_by=rng.randint(20, 45),
                missed=tuple(sorted(rng.sample(range(2, 44), rng.choice([0, 0, 1, 2])))),
                red_flags=("progressive_weakness",) if i == 5 else (),
                phone=f"+370 6{rng.randint(10, 99)} {rng.randint(10000, 99999)}",
                archived=i == 7,
                in_progress=i in (2, 9),
                # not everyone is due today (no rng draw: the published cases stay as they are)
                # one patient did not come on the last clinic day: overdue on today's list
                next_in_days=-2 if i == 10 else 0 if i in (2, 9) else (0, 1, 2, 5, 0, 6)[i % 6],
            )
        )
    return cases


#: Past patients whose programmes ended: what the clinic's outcome summary counts. Most end
#: with pain gone; some only better; one of each condition stopped coming. A programme the
#: doctor ends at a module's final appointment (pain gone, goals met) is completed too.
PAST_CASES = (
    Case("Vaida", "Stankevičienė", "F", 41, "Accountant", "radiculitis", "cervical", "R",
         "acute", visits_done=15, vas_start=6, vas_end=0, relief_by=13, weeks_ago=40,
         ended="completed", proms=True, phone="+370 611 20417",
         final_note="Module 1 goals met: no neck or arm pain, grip equal. Programme ends."),
    Case("Mantas", "Mažeika", "M", 53, "Bus driver", "radiculitis", "cervical", "L",
         "chronic", visits_done=30, vas_start=7, vas_end=2, relief_by=28, weeks_ago=30,
         ended="completed", proms=True, phone="+370 622 51904",
         final_note="Pain 2/10 at the end of module 2; continues the home exercises."),
    Case("Irena", "Balčiūnienė", "F", 58, "Teacher", "radiculitis", "thoracic", "R",
         "acute", visits_done=15, vas_start=5, vas_end=0, relief_by=12, weeks_ago=25,
         ended="completed", phone="+370 633 80126",
         final_note="Intercostal pain gone, breathing free. Programme ends."),
    Case("Rimantas", "Rimkus", "M", 66, "Retired", "radiculitis", "thoracic", "L",
         "acute", visits_done=15, vas_start=6, vas_end=1, relief_by=13, weeks_ago=36,
         ended="completed", phone="+370 644 31578"),
    Case("Saulius", "Lukoševičius", "M", 39, "Warehouse worker", "radiculitis", "lumbar",
         "R", "acute", visits_done=15, vas_start=8, vas_end=1, relief_by=13, weeks_ago=20,
         ended="completed", proms=True, phone="+370 655 62230",
         final_note="Lifts at work without pain after module 1. Programme ends."),
    Case("Laima", "Kavaliauskienė", "F", 47, "Nurse", "radiculitis", "lumbar", "L",
         "acute", visits_done=9, vas_start=7, vas_end=5, relief_by=45, weeks_ago=18,
         ended="closed", phone="+370 666 10984"),
    Case("Kristina", "Sakalauskienė", "F", 34, "Programmer", "sciatica", "upper", "L",
         "acute", visits_done=15, vas_start=6, vas_end=0, relief_by=12, weeks_ago=44,
         ended="completed", proms=True, phone="+370 677 40251",
         final_note="Sits through the working day without pain. Programme ends."),
    Case("Gediminas", "Grigas", "M", 61, "Farmer", "sciatica", "upper", "R", "chronic",
         visits_done=30, vas_start=7, vas_end=3, relief_by=28, weeks_ago=33,
         ended="completed", proms=True, phone="+370 688 73302",
         final_note="Pain 3/10 after long days in the field; better, not gone."),
    Case("Rasa", "Jakštienė", "F", 45, "Cashier", "sciatica", "middle", "R", "acute",
         visits_done=15, vas_start=5, vas_end=1, relief_by=13, weeks_ago=28,
         ended="completed", proms=True, phone="+370 699 21845"),
    Case("Tadas", "Adomaitis", "M", 50, "Electrician", "sciatica", "middle", "L", "acute",
         visits_done=15, vas_start=8, vas_end=0, relief_by=13, weeks_ago=22,
         ended="completed", phone="+370 610 58411"),
    Case("Aldona", "Ramanauskienė", "F", 69, "Retired", "sciatica", "lower", "R", "chronic",
         visits_done=45, vas_start=7, vas_end=1, relief_by=42, weeks_ago=48, missed=(20,),
         ended="completed", proms=True, phone="+370 621 94470",
         final_note="Heel walk normal, no pain walking to the shop. Programme completed."),
    Case("Vilius", "Bielskis", "M", 29, "Builder", "sciatica", "lower", "L", "acute",
         visits_done=15, vas_start=5, vas_end=0, relief_by=12, weeks_ago=24,
         ended="completed", phone="+370 632 17760"),
    Case("Eglė", "Tamošiūnienė", "F", 36, "Hairdresser", "sciatica", "middle", "L",
         "chronic", visits_done=5, vas_start=6, vas_end=6, relief_by=45, weeks_ago=16,
         ended="closed", phone="+370 643 62009"),
)  # fmt: skip


def _onset_days(case: Case, rng: random.Random) -> int:
    """Days from onset to the first visit: chronic means over 3 months, acute under 6 weeks."""
    if case.onset_days is not None:
        return case.onset_days
    return rng.randint(100, 900) if case.course == "chronic" else rng.randint(5, 40)


def _value_for(
    test: ClinicalTest, case: Case, t: float, side: str | None, rng: random.Random
) -> object:
    """A plausible result at programme fraction `t` (0 = intake, 1 = relief reached)."""
    affected = side is None or case.side == "both" or side == case.side
    root = TEST_ROOT.get(test.code)
    if root is not None:  # the neurological screen: only the subtype's roots are affected
        affected = affected and root in AFFECTED_ROOTS[case.subtype]
    if test.kind == "scale":
        worst = len(test.choices) - 1
        if root is not None:  # sensation and reflexes reduced, not gone, until nearly relieved
            return test.choices[1 if affected and t < 0.9 else 0]
        level = 0 if not affected else round(min(worst, 2) * (1 - t))
        return test.choices[level]
    if test.kind == "text":
        if test.code == "emg_finding":
            return EMG_FINDINGS[case.subtype] if t < 0.8 else "Recruitment within normal limits"
        before = POSTURE_BEFORE.get(case.subtype, "Weight shifted off the affected leg")
        return before if t < 0.7 else "Upright, symmetrical"
    assert test.min is not None and test.max is not None
    if root is not None:  # a myotome's MRC grade
        return 5 if not affected or t >= 0.8 else 4
    normal = NORMAL.get(test.code, test.max)
    impaired = IMPAIRED.get(test.code, test.min)
    start = impaired if affected else normal * 0.97
    value = start + (normal - start) * t + (rng.uniform(-0.04, 0.04) * normal if 0 < t < 1 else 0)
    value = max(test.min, min(test.max, value))
    return round(value) if test.integer or test.unit in ("°", "µV", "min") else round(value, 1)


def _vas(case: Case, seq: int) -> float:
    t = min(1.0, (seq - 1) / max(1, case.relief_by - 1))
    return round(case.vas_start + (case.vas_end - case.vas_start) * t, 1)


def _write_case(db: ClinicDB, case: Case, today: date, rng: random.Random) -> None:
    proto = protocol()
    weekdays = proto.timing.visit_weekdays
    # Start far enough back that `visits_done` clinic days have passed before today.
    start = today - timedelta(days=(case.visits_done * 7) // len(weekdays) + 3)
    if case.weeks_ago is not None:  # a past patient
        start = today - timedelta(weeks=case.weeks_ago)
    start = next_visit_day(start, weekdays, inclusive=True)
    month, day = 1 + rng.randrange(12), 1 + rng.randrange(28)
    # born early enough in the year that the case is its published age today
    year = today.year - case.age - ((month, day) > (today.month, today.day))
    birth = date(year, month, day)
    patient_id = create_patient(
        db,
        NewPatient(
            case.first_name,
            case.last_name,
            birth,
            case.sex,
            case.phone,
            case.occupation,
            case.notes,
        ),
        today=today,
    )
    episode_id = open_episode(
        db,
        patient_id,
        NewEpisode(
            case.condition,
            case.subtype,
            case.side,
            case.course,
            onset_date=start - timedelta(days=_onset_days(case, rng)),
            pain_medication=case.medication,
            red_flags=case.red_flags,
            referring_doctor=_referrer(case)[0],
            referring_institution=_referrer(case)[1],
        ),
        start=start,
        today=start,
    )
    visits = visits_of(db, episode_id)
    therapist = THERAPISTS[rng.randrange(len(THERAPISTS))]
    for visit in visits[: case.visits_done]:
        if visit.seq in case.missed:
            mark_missed(db, visit.id, today=visit.planned_date)
            continue
        _hold_visit(db, case, visit, therapist, rng, complete=True)
    if case.ended == "completed" or case.visits_done == len(visits):
        _discharge(db, case, episode_id)
    if case.ended and case.visits_done < len(visits):  # the 45th visit completes it itself
        last = visits_of(db, episode_id)[case.visits_done - 1]
        # completed at the final appointment; stopped coming: closed after two weeks of calls
        end = last.day if case.ended == "completed" else last.day + timedelta(days=14)
        close_episode(db, episode_id, today=end, status=case.ended)
    elif not case.ended and case.visits_done < len(visits):
        reschedule_planned(db, episode_id, today + timedelta(days=case.next_in_days), today=today)
    if case.in_progress and case.visits_done < len(visits):
        nxt = visits_of(db, episode_id)[case.visits_done]
        _hold_visit(db, case, nxt, therapist, rng, complete=False, day=today)
    if case.red_flags:
        screen_red_flags(
            db, episode_id, list(case.red_flags), note="Reported at intake; referred", today=start
        )
        # the red flag put the episode on hold at intake; the doctor referred the patient on
        record_referral(
            db,
            episode_id,
            to="Neurologist, Santaros klinikos",
            on=start,
            why="; ".join(protocol().red_flag_words(case.red_flags))
            + ": urgent neurological assessment and imaging",
            today=today,
        )
    if case.archived:
        archive_patient(db, patient_id)


def _referrer(case: Case) -> tuple[str, str]:
    """The referring doctor of a programme that has ended (its letter's addressee); the
    current patients' are left to be recorded."""
    if case.weeks_ago is None and case.visits_done < protocol().total_visits:
        return ("", "")
    return REFERRERS[(case.age + len(case.last_name)) % len(REFERRERS)]


def _discharge(db: ClinicDB, case: Case, episode_id: int) -> None:
    """What the doctor types for the letter at the final appointment that ends the programme."""
    final = final_appointment(db, episode_id)
    assert final is not None
    retired = case.occupation == "Retired"
    work = "retired" if retired else "as_before" if case.vas_end <= 2 else "modified"
    record_discharge(
        db,
        final.id,
        DischargeText(
            medication="none" if case.vas_end <= 1.5 else "Paracetamol 500 mg when needed",
            work_status=work,
            work_note="" if retired or work == "as_before" else "lighter loads for 4 more weeks",
            recommendations=(
                "Home exercises of the last module daily (10-15 min); keep the self-correction "
                "of posture at work and when lifting; avoid long sitting without breaks."
            ),
            follow_up=(
                "Review by the family doctor in 3 months. Back to the clinic sooner if pain "
                "returns above 3/10 or any red flag appears."
            ),
            review_date=final.day + timedelta(days=91),
        ),
        today=final.day,
    )


def _hold_visit(
    db: ClinicDB,
    case: Case,
    visit: Visit,
    therapist: str,
    rng: random.Random,
    *,
    complete: bool,
    day: date | None = None,
) -> None:
    start_visit(db, visit.id, therapist=therapist, today=day or visit.planned_date)
    vas = _vas(case, visit.seq)
    if visit.kind == "doctor":
        t = min(1.0, (visit.seq - 1) / max(1, case.relief_by - 1))
        for test in doctor_checks_for_visit(db, visit):
            if test.code == "vas":
                record_measurement(db, visit.id, "vas", vas)
            elif test.sided:
                for side in ("L", "R"):
                    record_measurement(
                        db, visit.id, test.code, _value_for(test, case, t, side, rng), side
                    )
            else:
                record_measurement(db, visit.id, test.code, _value_for(test, case, t, None, rng))
        if case.proms:
            _fill_in_questionnaire(db, case, visit, vas)
        last = case.visits_done if case.ended else 45
        note = {1: case.first_note, last: case.final_note, **case.notes_at}.get(visit.seq)
        if note:
            set_visit_note(db, visit.id, note)
        if visit.seq in case.tailored_at:
            tailor_checklist(db, visit.id, case.tailored_at[visit.seq])
    else:
        record_measurement(db, visit.id, "vas", vas)
        # the dosages are drawn for the programme's list, as for an untailored patient, so
        # tailoring one patient leaves every other patient's draws as they were
        usual = protocol().module(visit.module).checklist_for(case.condition, case.subtype)
        if not complete:  # begun with what the case names first
            usual = tuple(sorted(usual, key=lambda item: item.code not in case.started_with))
        skip = rng.random() < 0.2
        drawn = {
            item.code: _dosage(item.code, visit.number, rng)
            for index, item in enumerate(usual)
            if (complete or index < 2) and not (skip and index == len(usual) - 1 and complete)
        }
        items = checklist_for_visit(db, visit)
        if not complete:
            items = tuple(sorted(items, key=lambda item: item.code not in case.started_with))
        for index, item in enumerate(items):
            if skip and index == len(items) - 1 and complete:
                continue
            if complete or index < 2:
                tick_item(db, visit.id, item.code, item.target or drawn.get(item.code, ""))
        if visit.module == 1 and (complete or visit.number % 2):
            side = "both" if case.side == "both" else case.side
            for muscle in case.pir_muscles or PIR_MUSCLES[case.subtype]:
                rom0 = rng.randint(20, 45)
                record_pir_cycle(
                    db,
                    visit.id,
                    PirCycle(
                        muscle,
                        side,
                        tension_s=7,
                        effort_pct=20,
                        relaxation_s=15,
                        cycles=rng.randint(3, 5),
                        rom_before=rom0,
                        rom_after=rom0 + rng.randint(5, 15),
                        pain_before=vas,
                        pain_after=max(0.0, round(vas - rng.choice([0.5, 1, 1.5]), 1)),
                    ),
                )
    if complete:
        complete_visit(db, visit.id)


def _fill_in_questionnaire(db: ClinicDB, case: Case, visit: Visit, vas: float) -> None:
    """The subtype's disability questionnaire (ODI, NDI) as a patient in this much pain
    marks it: each section a little above or below what the pain suggests."""
    offered = offered_for(case.condition, case.subtype)
    if not offered:
        return
    form = offered[0]
    for index, item in enumerate(form.items):
        level = vas * 0.35 + (index % 3 - 1) * 0.5
        record_prom_answer(
            db, visit.id, form.code, item.id, max(0, min(form.item_max, round(level)))
        )


def _dosage(code: str, number: int, rng: random.Random) -> str:
    if code == "m1_cervical_traction":
        return f"{rng.choice([6, 8, 10])} kg, {3 + number // 3} x 30 s"
    if "hangs" in code or "traction" in code:
        return f"{3 + number // 3} x 30 s, {rng.choice([20, 25, 30])} % body weight"
    if "taping" in code:
        return "Y-strip, 20 % tension"
    if rng.random() < 0.5:
        return f"{rng.choice([2, 3])} x {rng.choice([8, 10, 12])}"
    return ""


#: The day's appointment times, handed out in the list's order.
_DAY_TIMES = ("08:30", "09:15", "10:00", "10:45", "11:30", "13:00", "13:45", "14:30", "15:15")


def _clinic_day(db: ClinicDB, today: date) -> None:
    """A believable day: today's visits at times of day, and the first one a no-show."""
    due = [row for row in day_list(db, today) if row.status == "due"]
    for row, at in zip(due, _DAY_TIMES, strict=False):
        move_visit(db, row.visit.id, today, time=at, today=today)
    if len(due) > 2:
        record_absence(
            db, due[0].visit.id, "missed", "No-show; did not answer the phone", today=today
        )


def is_demo(db: ClinicDB) -> bool:
    """True if the open clinic was made by the demo (its first audit entry is the demo's)."""
    row = db.execute("SELECT actor FROM audit_log ORDER BY id LIMIT 1").fetchone()
    return row is not None and row[0] == DEMO_ACTOR


def is_demo_file(path: Path) -> bool:
    """True if the file at `path` was created by `build_demo` (read through the engine,
    without upgrading or creating anything)."""
    try:
        db = connect(path, migrate=False, create=False)
    except KinesioError:
        return False
    try:
        return is_demo(db)
    finally:
        db.close()


def fill_demo(db: ClinicDB, *, today: date | None = None) -> None:
    """Write the demo clinic into the open, empty clinic `db` (either engine), as one
    transaction."""
    if db.execute("SELECT 1 FROM audit_log LIMIT 1").fetchone() is not None:
        raise KinesioError(
            "Not an empty clinic", "The demo is written only into a clinic with no records."
        )
    today = today or clock.today()
    rng = random.Random(SEED)
    with write_transaction(db):
        for case in (*CASES, *_extra_cases(rng), *PAST_CASES):
            _write_case(db, case, today, rng)
        _clinic_day(db, today)
        # A registered patient with no episode yet: the list shows "no episode".
        create_patient(
            db,
            NewPatient(
                "Lina",
                "Mockutė",
                date(today.year - 29, 5, 17),
                "F",
                "+370 640 55512",
                "Student",
            ),
            today=today,
        )


def build_demo_on_server(
    target: Target, *, app_role: str | None = None, today: date | None = None
) -> Copied:
    """Write the demo clinic into an empty PostgreSQL schema (the URL names its owner) and
    grant `app_role` as `kinesio init --app-role` does; returns what was copied.

    A schema holding anything (records, another program's tables, an earlier demo) and a
    role init would refuse are refused first, with nothing built or written. The clinic is
    the demo file's: built by `build_demo` in a private temporary folder, then moved by
    `kinesio migrate`'s copier (rows, head and both trails compared, one transaction).
    Writing it through the domain over the network instead took 83 s against 6.3 s for
    the file plus 3.6 s for the copy (measured at load 5.8), every write a round trip.
    """
    from kinesio_tui.maintenance.transfer import check_postgres_target, copy_to_postgres

    check_postgres_target(target, actor=DEMO_ACTOR, app_role=app_role)
    with tempfile.TemporaryDirectory(prefix="kinesio-demo-") as folder:  # 0700
        built = build_demo(Path(folder) / "demo.db", today=today)
        source = connect(built, actor=DEMO_ACTOR, migrate=False, create=False)
        try:
            return copy_to_postgres(source, target, actor=DEMO_ACTOR, app_role=app_role)
        finally:
            source.close()


def build_demo(path: Path, *, today: date | None = None) -> Path:
    """Create (replacing an earlier demo file at `path`) the demo clinic; returns the path.

    A file at `path` that is not a demo database is refused untouched: the clinic's records
    must never be overwritten by a mistyped path.
    """
    path = Path(path)
    # A folder, a device, another program's or a newer file is refused before any change.
    if inspect_file(path) == "kinesio" and not is_demo_file(path):
        raise KinesioError(
            "Not a demo database",
            f"{path} holds other data; the demo only replaces an earlier demo file. "
            "Choose another path.",
        )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = connect(path, actor=DEMO_ACTOR)
    try:
        fill_demo(db, today=today)
    finally:
        db.close()
    return path
