"""Patient-reported outcomes recorded at doctor's appointments: item answers as the patient
marked them on the form, their scores and how they moved from the baseline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from kinesio_tui.data.db import ClinicDB, write_transaction
from kinesio_tui.domain.prom_scoring import (
    PromChange,
    PromScore,
    ScoreRefused,
    prom_change,
    score_questionnaire,
)
from kinesio_tui.domain.store import (
    check_version,
    delete_row,
    fetch_row,
    fresh_version,
    insert_row,
    now_iso,
    update_row,
)
from kinesio_tui.domain.visits import _require_open
from kinesio_tui.errors import KinesioError, ValidationError
from kinesio_tui.i18n import _
from kinesio_tui.questionnaires import Questionnaire, offered_for, questionnaire


@dataclass(frozen=True)
class PromAnswer:
    id: int
    visit_id: int
    questionnaire: str
    item: str
    score: int
    version: int


@dataclass(frozen=True)
class PromResult:
    """One questionnaire filled in at one doctor's appointment."""

    questionnaire: Questionnaire
    visit_id: int
    seq: int
    day: date
    score: PromScore


@dataclass(frozen=True)
class PromOutcome:
    """A questionnaire over an episode: every appointment's score, and baseline to latest."""

    questionnaire: Questionnaire
    results: list[PromResult]  # scored ones, in programme order
    change: PromChange | None  # first to last scored result; None with fewer than two


def questionnaires_for_episode(db: ClinicDB, episode_id: int) -> tuple[Questionnaire, ...]:
    row = db.execute("SELECT condition, subtype FROM episodes WHERE id = ?", [episode_id])
    found = row.fetchone()
    return offered_for(found[0], found[1]) if found else ()


def _visit_for_proms(db: ClinicDB, visit_id: int) -> dict[str, Any]:
    """The visit, if it is an open doctor's appointment (as for a test result)."""
    visit, _episode = _require_open(db, visit_id)
    if visit["kind"] != "doctor":
        raise KinesioError(
            _("Not a doctor's appointment"),
            _("Questionnaires are recorded at the doctor's appointments."),
        )
    return visit


def record_prom_answer(
    db: ClinicDB,
    visit_id: int,
    code: str,
    item: str,
    score: int | None,
    *,
    expected_version: int | None = None,
) -> int:
    """Record (or correct, or clear with None) one item's answer at a doctor's appointment;
    returns the answer's version now (0: cleared). `expected_version` is the version shown
    (0: shown unanswered): a change another terminal made first is refused, never overwritten."""
    q = questionnaire(code)
    if q is None:
        raise ValidationError(_("questionnaire"), _("unknown questionnaire {code}", code=code))
    try:
        score_questionnaire(q, {item: score})
    except ScoreRefused:
        if q.item(item) is None:
            raise ValidationError(q.short, _("has no item {item}", item=item)) from None
        raise ValidationError(
            f"{q.short} {item}", _("a score is 0 to {top}", top=q.item_max)
        ) from None
    with write_transaction(db):
        visit = _visit_for_proms(db, visit_id)
        episode = fetch_row(db, "episodes", visit["episode_id"])
        if q not in offered_for(episode["condition"], episode["subtype"]):
            raise ValidationError(q.short, _("is not offered for this episode's condition"))
        existing = db.execute(
            "SELECT id, version FROM prom_answers WHERE visit_id = ? AND questionnaire = ? "
            "AND item = ?",
            [visit_id, code, item],
        ).fetchone()
        check_version(
            _("questionnaire answer"), item, existing[1] if existing else 0, expected_version
        )
        pid = episode["patient_id"]
        if score is None:
            if existing:
                delete_row(db, "prom_answers", existing[0], patient_id=pid)
            return 0
        if existing:
            row = update_row(
                db,
                "prom_answers",
                existing[0],
                {"score": score, "recorded_at": now_iso()},
                patient_id=pid,
            )
            return int(row["version"])
        version = fresh_version(db)
        insert_row(
            db,
            "prom_answers",
            {
                "visit_id": visit_id,
                "questionnaire": code,
                "item": item,
                "score": score,
                "recorded_at": now_iso(),
                "version": version,
            },
            patient_id=pid,
        )
        return version


def prom_answers_of(db: ClinicDB, visit_id: int, code: str) -> dict[str, PromAnswer]:
    """One questionnaire's answers at a visit, by item id."""
    rows = db.execute(
        "SELECT id, visit_id, questionnaire, item, score, version FROM prom_answers "
        "WHERE visit_id = ? AND questionnaire = ? ORDER BY id",
        [visit_id, code],
    ).fetchall()
    return {r[3]: PromAnswer(*r) for r in rows}


def prom_outcomes(db: ClinicDB, episode_id: int, *, upto_seq: int = 45) -> list[PromOutcome]:
    """Each questionnaire the episode filled in: its scores by appointment and the change
    from the first scored one to the last (up to visit `upto_seq`), by its MCID."""
    rows = db.execute(
        "SELECT a.questionnaire, a.item, a.score, v.id, v.seq, COALESCE(v.held_on, v.planned_date) "
        "FROM prom_answers a JOIN visits v ON v.id = a.visit_id "
        "WHERE v.episode_id = ? AND v.seq <= ? ORDER BY v.seq, a.id",
        [episode_id, upto_seq],
    ).fetchall()
    forms: dict[tuple[str, int], tuple[int, str, dict[str, int | None]]] = {}
    for code, item, score, visit_id, seq, day in rows:
        forms.setdefault((code, seq), (visit_id, day, {}))[2][item] = score
    outcomes = []
    known = [q for q in questionnaires_for_episode(db, episode_id)]
    known += [
        q
        for code in sorted({code for code, _seq in forms})
        if (q := questionnaire(code)) is not None and q not in known
    ]
    for q in known:
        results = []
        for (code, seq), (visit_id, day, answers) in sorted(forms.items(), key=lambda f: f[0][1]):
            if code != q.code:
                continue
            try:
                scored = score_questionnaire(q, answers)
            except ScoreRefused:  # an item a later data file no longer has
                continue
            results.append(PromResult(q, visit_id, seq, date.fromisoformat(day), scored))
        if not results:
            continue
        scored_only = [r for r in results if r.score.score is not None]
        change = (
            prom_change(q, scored_only[0].score.score, scored_only[-1].score.score)  # type: ignore[arg-type]
            if len(scored_only) >= 2
            else None
        )
        outcomes.append(PromOutcome(q, results, change))
    return outcomes
