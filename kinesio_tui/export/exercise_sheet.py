"""The home-exercise sheet: what the patient takes home, and nothing clinical they do not need.

It names the patient and the module, lists the patient's home exercises as the doctor
tailored them (each with its dosage and short steps) and ends with the safety line; the
clinic's name and contact come with every report. No diagnosis, test result, red flag or
note is read, so none can be printed.

Which module: an active programme's current one (the module of the next visit). A completed
programme gets its last module's sheet, headed as the exercises to keep doing: the
maintenance exercises are what a discharged patient goes home with. No programme, one
closed early or one on hold for a red flag gets no sheet (a one-line refusal): exercises
nobody has prescribed, or that a red flag has stopped, must not go home on paper.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.episodes import current_episode
from kinesio_tui.domain.holds import active_hold
from kinesio_tui.domain.outcomes import standing
from kinesio_tui.domain.patients import get_patient
from kinesio_tui.domain.plan import PlanItem, patient_home_exercises
from kinesio_tui.domain.visits import visits_of
from kinesio_tui.errors import KinesioError
from kinesio_tui.exercise_instructions import ExerciseInstructions, exercise_instructions
from kinesio_tui.export.fmt import day
from kinesio_tui.i18n import _
from kinesio_tui.protocol import protocol


def sheet_module(
    db: ClinicDB, patient_id: int, module: int | None, today: date
) -> tuple[int, int, bool]:
    """(episode id, module, programme finished) for a patient's sheet, or a refusal."""
    proto = protocol()
    episode = current_episode(db, patient_id)
    if episode is None:
        raise KinesioError(
            _("No home exercises"),
            _("Patient {id} has no programme, so no home exercises to print.", id=patient_id),
        )
    if episode.status == "closed":
        raise KinesioError(
            _("No home exercises"),
            _(
                "Patient {id}'s programme was closed early: no home exercises to print.",
                id=patient_id,
            ),
        )
    if active_hold(db, episode.id) is not None:
        raise KinesioError(
            _("No home exercises"),
            _(
                "Patient {id}'s therapy is on hold for a red flag: print the sheet once a "
                "doctor has cleared it.",
                id=patient_id,
            ),
        )
    finished = episode.status == "completed"
    if module is None:
        module = (
            len(proto.modules)
            if finished
            else standing(visits_of(db, episode.id), today, proto).module
        )
    if not 1 <= module <= len(proto.modules):
        raise KinesioError(
            _("No such module"), _("Modules are numbered 1 to {n}.", n=len(proto.modules))
        )
    return episode.id, module, finished


def exercises_context(
    db: ClinicDB, patient_id: int, module: int | None, today: date
) -> dict[str, Any]:
    """The sheet's context: the patient's name, the module, the exercises, the safety line."""
    proto = protocol()
    patient = get_patient(db, patient_id)
    episode_id, number, finished = sheet_module(db, patient_id, module, today)
    words = exercise_instructions()
    items = patient_home_exercises(db, episode_id, number)
    if not items:
        raise KinesioError(
            _("No home exercises"),
            _("Patient {id} has no home exercises in module {m}.", id=patient_id, m=number),
        )
    last = finished and number == len(proto.modules)
    return {
        "kind": "exercises",
        "title": _("Your home exercises"),
        "today": day(today),
        "programme": proto.name,
        "patient": {"id": patient.id, "ref": f"{patient.id:04d}", "name": patient.full_name},
        "module": {
            "number": number,
            "title": proto.module(number).title,
            "count": len(proto.modules),
            "keep_doing": last,
        },
        "exercises": [exercise(item, words) for item in items],
        "safety": words.safety,
    }


def exercise(item: PlanItem, words: ExerciseInstructions) -> dict[str, Any]:
    """One exercise as the patient reads it: the doctor's dosage, the steps from the
    instructions file (else the programme's sentence; a doctor's own exercise has none)."""
    steps = words.steps.get(item.code) or ((item.instructions,) if item.instructions else ())
    return {
        "label": item.label,
        "dosage": item.target or _("as your therapist showed you"),
        "steps": list(steps),
        "shown_by_therapist": not steps,
    }
