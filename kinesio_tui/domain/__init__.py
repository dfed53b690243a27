"""The clinic's domain: patients, episodes, visits and derived progress. Imports no Textual.

The names below load on first use (PEP 562): the patient list needs only `domain.roster`,
and importing every module of the domain before its first frame cost ~35 ms of each start
of the workstation (issue 7). `from kinesio_tui.domain import progress` works as before.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kinesio_tui.domain.episodes import (
        close_episode,
        current_episode,
        get_episode,
        latest_red_flag_screen,
        open_episode,
        plan_visits,
        raised_red_flags,
        screen_red_flags,
    )
    from kinesio_tui.domain.models import (
        Episode,
        Measurement,
        NewEpisode,
        NewPatient,
        Patient,
        PirCycle,
        Tick,
        Visit,
    )
    from kinesio_tui.domain.outcomes import (
        Change,
        Progress,
        Standing,
        asymmetry_pct,
        change_for_test,
        change_from_baseline,
        latest_results,
        progress,
        series,
        standing,
    )
    from kinesio_tui.domain.patients import (
        archive_patient,
        count_patients,
        create_patient,
        find_patients,
        get_patient,
        restore_patient,
        update_patient,
    )
    from kinesio_tui.domain.search import fold
    from kinesio_tui.domain.visits import (
        checklist_for_visit,
        complete_visit,
        delete_measurement,
        delete_pir_cycle,
        doctor_checks_for_visit,
        get_visit,
        mark_missed,
        measurements_of,
        next_visit,
        pir_cycles_of,
        record_measurement,
        record_pir_cycle,
        reschedule_planned,
        set_visit_note,
        start_visit,
        tick_item,
        ticks_of,
        untick_item,
        update_pir_cycle,
        visits_of,
    )

#: Where the public names live, searched in this order on first use.
_SUBMODULES = ("models", "patients", "search", "episodes", "visits", "outcomes")

__all__ = [
    "Change",
    "Episode",
    "Measurement",
    "NewEpisode",
    "NewPatient",
    "Patient",
    "PirCycle",
    "Progress",
    "Standing",
    "Tick",
    "Visit",
    "archive_patient",
    "asymmetry_pct",
    "change_for_test",
    "change_from_baseline",
    "checklist_for_visit",
    "close_episode",
    "complete_visit",
    "count_patients",
    "create_patient",
    "current_episode",
    "delete_measurement",
    "delete_pir_cycle",
    "doctor_checks_for_visit",
    "find_patients",
    "fold",
    "get_episode",
    "get_patient",
    "get_visit",
    "latest_red_flag_screen",
    "latest_results",
    "mark_missed",
    "measurements_of",
    "next_visit",
    "open_episode",
    "pir_cycles_of",
    "plan_visits",
    "progress",
    "raised_red_flags",
    "record_measurement",
    "record_pir_cycle",
    "reschedule_planned",
    "restore_patient",
    "screen_red_flags",
    "series",
    "set_visit_note",
    "standing",
    "start_visit",
    "tick_item",
    "ticks_of",
    "untick_item",
    "update_patient",
    "update_pir_cycle",
    "visits_of",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        for submodule in _SUBMODULES:
            module = importlib.import_module(f"{__name__}.{submodule}")
            if hasattr(module, name):
                value = getattr(module, name)
                globals()[name] = value
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
