"""What a patient summary adds for a GP, and what the discharge letter prints: the referring
doctor, the diagnosis and its ICD-10 code, the treatments delivered, the red-flag screens,
and what the doctor recorded at the final appointment (medication, work, recommendations,
follow-up), signed by the doctor of that appointment.

Text a person typed stays a plain `str` (each output format escapes it); values formatted
here hold no user text.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from kinesio_tui.domain.diagnosis import episode_diagnosis
from kinesio_tui.domain.discharge import (
    is_final_appointment,
    work_status_label,
)
from kinesio_tui.export.fmt import day
from kinesio_tui.i18n import _
from kinesio_tui.protocol import Protocol

if TYPE_CHECKING:
    from kinesio_tui.clinic_identity import ClinicIdentity
    from kinesio_tui.domain.plan import PlanItem
    from kinesio_tui.export.context import EpisodeData


def referrer_info(data: EpisodeData) -> dict[str, str] | None:
    """The referring doctor (the letter's addressee), None when not recorded."""
    episode = data.episode
    if not episode.referring_doctor:
        return None
    return {"name": episode.referring_doctor, "institution": episode.referring_institution}


def diagnosis_info(
    data: EpisodeData, proto: Protocol, clinic: ClinicIdentity | None = None
) -> dict[str, str]:
    """The episode's diagnosis code in the clinic's ICD-10 edition (a setting: `clinic` as
    the caller read it, else the settings file's)."""
    from kinesio_tui.export.clinic import clinic_identity

    variant = clinic_identity(clinic).icd10_variant
    found = episode_diagnosis(proto, data.episode.condition, data.episode.subtype, variant)
    return {"code": found.code, "title": found.title, "edition": found.variant_label}


def programme_dates(data: EpisodeData) -> dict[str, str] | None:
    """The first and the last visit held (None before the first)."""
    held = [v for v in data.visits if v.status == "done" and v.held_on is not None]
    if not held:
        return None
    return {"first": day(held[0].held_on), "last": day(held[-1].held_on)}


def treatments_delivered(data: EpisodeData, proto: Protocol) -> list[dict[str, Any]]:
    """Per module, each checklist item of the patient's own lists (as the doctor tailored
    them, the doctor's own items included): in how many held therapy sessions it was done,
    of the sessions whose list had it."""
    from kinesio_tui.export.context import module_checklist, session_checklist

    ticked = data.records.ticked
    modules = []
    for module in proto.modules:
        held = [
            v
            for v in data.visits
            if v.module == module.number and v.kind == "therapy" and v.status == "done"
        ]
        if not held:
            continue
        rows: dict[str, dict[str, Any]] = {}
        same = module_checklist(data, module.number)
        if same is not None:  # one list at every session: each item due at each of them
            times = Counter(code for visit in held for code in ticked.get(visit.id, ()))
            for item in same:
                _count(rows, item, len(held), times[item.code])
        else:
            for visit in held:
                done = ticked.get(visit.id, set())
                for item in session_checklist(data, module.number, visit.seq):
                    _count(rows, item, 1, item.code in done)
        items = sorted(rows.values(), key=lambda r: (r["order"], r["label"]))
        modules.append(
            {
                "number": module.number,
                "title": module.title,
                "sessions": len(held),
                "items": items,
            }
        )
    return modules


def _count(rows: dict[str, dict[str, Any]], item: PlanItem, due: int, done: int) -> None:
    """Add sessions that listed `item` (`due`) and ticked it (`done`) to its row."""
    row = rows.get(item.code)
    if row is None:  # an item's row is made once, not at every session
        row = rows[item.code] = {
            "label": item.label,
            "own": item.origin == "own",
            "tailored": item.origin != "programme",
            "order": item.order,
            "done": 0,
            "due": 0,
        }
    row["due"] += due
    row["done"] += done


def screens_info(data: EpisodeData, proto: Protocol) -> list[dict[str, Any]]:
    """Every red-flag screen: its date, where (intake or a visit) and what it found."""
    out = []
    for screen in data.records.screens:
        labels = proto.red_flag_words(list(screen.flags))
        out.append(
            {
                "date": day(screen.screened_on),
                "where": _("visit {seq}", seq=screen.seq) if screen.seq else _("intake"),
                "raised": bool(labels),
                "result": "; ".join(labels) if labels else _("none ticked"),
            }
        )
    return out


def at_discharge(data: EpisodeData, proto: Protocol) -> dict[str, Any]:
    """What the doctor recorded for the letter at the final appointment, and who signs."""
    # as discharge.final_appointment reads it, from the visits the report already has
    held = [
        v for v in data.visits if is_final_appointment(v) and (v.status == "done" or v.in_progress)
    ]
    final = held[-1] if held else None
    recorded = data.records.discharge
    signer = (final.doctor or final.therapist) if final else ""
    return {
        "recorded": recorded is not None,
        "medication_start": data.episode.pain_medication,
        "medication": recorded.medication if recorded else "",
        "work_status": work_status_label(recorded.work_status) if recorded else "",
        "work_note": recorded.work_note if recorded else "",
        "recommendations": recorded.recommendations if recorded else "",
        "follow_up": recorded.follow_up if recorded else "",
        "review_date": day(recorded.review_date) if recorded and recorded.review_date else None,
        "final": {
            "seq": final.seq,
            "date": day(final.day),
            "label": proto.slot(final.number).label,
            "note": final.note,
        }
        if final
        else None,
        "signer": signer,
    }


def letter_context(
    data: EpisodeData,
    proto: Protocol,
    outcomes: list[dict[str, Any]],
    clinic: ClinicIdentity | None = None,
) -> dict[str, Any]:
    """The keys a summary template gets beside the summary's own (README: templates)."""
    return {
        "referrer": referrer_info(data),
        "diagnosis": diagnosis_info(data, proto, clinic),
        "dates": programme_dates(data),
        "treatments": treatments_delivered(data, proto),
        "screens": screens_info(data, proto),
        "at_discharge": at_discharge(data, proto),
        "outcome_groups": letter_outcomes(data, outcomes),
    }


SIDE_SHORT = {"left": "L", "right": "R"}


def _sided(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """One cell for a test's sides: [{side: '', value}] or [{side: 'L', ...}, {side: 'R', ...}]
    (the template joins them; a value stays what it was, text a person typed included)."""
    if len(rows) == 1:
        return [{"side": "", "value": rows[0][key]}]
    return [{"side": SIDE_SHORT.get(r["side"], r["side"]), "value": r[key]} for r in rows]


def _marks(rows: list[dict[str, Any]], key: str) -> Markup:
    """The amendment marks of a test's sides ('corrected [1]; corrected [2]'), '' if none."""
    return Markup("; ").join(dict.fromkeys(r[key] for r in rows if r[key]))


def letter_outcomes(data: EpisodeData, outcomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The outcome table of a letter, compact enough for a page: the rows grouped by the
    visits their baseline and last values come from (the group names both dates, so every
    value has its date), a test's sides in one row, and the tests unchanged from baseline
    to last value listed in one line of their group."""
    reviews = data.reviews
    last_review = reviews[-1] if reviews else 0
    tests: dict[tuple[str, int, int], list[dict[str, Any]]] = {}
    for row in outcomes:
        key = (row["test"], row["baseline_visit"], row["latest_visit"])
        tests.setdefault(key, []).append(row)
    groups: dict[tuple[int, int], dict[str, Any]] = {}
    for (test, first, last), rows in tests.items():
        group = groups.setdefault(
            (first, last),
            {
                "baseline_visit": first,
                "baseline_date": rows[0]["baseline_date"],
                "latest_visit": last,
                "latest_date": rows[0]["latest_date"],
                "old": last < last_review,
                "rows": [],
                "unchanged": [],
            },
        )
        corrected = any(r["baseline_amended"] or r["latest_amended"] for r in rows)
        if first != last and not corrected and all(r["baseline"] == r["latest"] for r in rows):
            sides = "/".join(SIDE_SHORT.get(r["side"], "") for r in rows if r["side"])
            group["unchanged"].append(
                {
                    "test": test,
                    "values": _sided(rows[:1], "latest")
                    if len({str(r["latest"]) for r in rows}) == 1
                    else _sided(rows, "latest"),
                    "sides": sides,
                }
            )
            continue
        same_change = len({(r["change"], r["important"], r["direction"]) for r in rows}) == 1
        group["rows"].append(
            {
                "test": test,
                "numeric": rows[0]["numeric"],
                "baseline": _sided(rows, "baseline"),
                "latest": _sided(rows, "latest"),
                "baseline_amended": _marks(rows, "baseline_amended"),
                "latest_amended": _marks(rows, "latest_amended"),
                "sides": [
                    {**r, "side": SIDE_SHORT.get(r["side"], "") if not same_change else ""}
                    for r in (rows[:1] if same_change else rows)
                ],
            }
        )
    return sorted(groups.values(), key=lambda g: (-g["latest_visit"], g["baseline_visit"]))
