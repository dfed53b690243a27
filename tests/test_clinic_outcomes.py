"""The clinic's outcome summary: counted from its own episodes, every denominator shown."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import DAY, held_episode

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.clinic_outcomes import GroupOutcome, Share, clinic_outcomes
from kinesio_tui.domain.episodes import close_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient, Visit
from kinesio_tui.domain.proms import record_prom_answer
from kinesio_tui.domain.visits import record_measurement
from kinesio_tui.errors import ProtocolError, ValidationError
from kinesio_tui.protocol import PROTOCOL_FILE, load_protocol

pytestmark = pytest.mark.engines("sqlite", "postgresql")

START = DAY - timedelta(days=120)


def episode(
    db: ClinicDB,
    condition: str,
    subtype: str,
    vas: list[float],
    *,
    end: str | None = "completed",
    closed: date = DAY,
    flags: tuple[str, ...] = (),
    odi: tuple[int, int] | None = None,
) -> int:
    """An episode whose first visits hold these VAS values (one a visit), then ended as
    `end` on `closed` (None: left active). `odi`: every ODI item's score at the first and
    the second doctor's appointment (visits 1 and 8)."""
    n = db.execute("SELECT count(*) FROM patients").fetchone()[0]

    def recorded(visit: Visit) -> None:
        if visit.seq <= len(vas):
            record_measurement(db, visit.id, "vas", vas[visit.seq - 1])
        if odi and visit.seq in (1, 8):
            score = odi[0] if visit.seq == 1 else odi[1]
            for item in range(1, 11):
                record_prom_answer(db, visit.id, "odi", f"odi{item:02d}", score)

    _pid, eid, _planned = held_episode(
        db,
        NewEpisode(condition, subtype, "L", red_flags=flags),
        patient=NewPatient("Ona", f"Test{n}", "1970-01-01", "F"),
        start=START,
        held=max(len(vas), 8 if odi else 0),
        at=recorded,
    )
    if end is not None:
        close_episode(db, eid, today=closed, status=end)
    return eid


def group(summary: object, condition: str, subtype: str | None) -> GroupOutcome:
    groups = getattr(summary, "groups")  # noqa: B009
    [found] = [g for g in groups if (g.condition, g.subtype) == (condition, subtype)]
    assert isinstance(found, GroupOutcome)
    return found


def test_an_empty_clinic_has_nothing_to_count(db: ClinicDB) -> None:
    summary = clinic_outcomes(db)
    assert [(g.condition, g.subtype) for g in summary.groups] == [
        ("radiculitis", None),
        ("sciatica", None),
    ]
    for g in summary.groups:
        assert g.ended == 0 and g.pain_gone_share.percent is None
    assert group(summary, "radiculitis", None).published_percent == 89
    assert group(summary, "sciatica", None).published_percent == 85


def test_each_ended_episode_is_counted_once_by_what_happened(db: ClinicDB) -> None:
    episode(db, "radiculitis", "lumbar", [7, 0])  # pain gone, improved
    episode(db, "radiculitis", "lumbar", [7, 4, 1])  # 1/10 is "gone" (the default cut-off)
    episode(db, "radiculitis", "lumbar", [6, 5])  # 1 point: neither gone nor improved
    episode(db, "radiculitis", "lumbar", [6])  # no final VAS: not judged
    episode(db, "radiculitis", "lumbar", [8, 7], end="closed")  # dropped out
    episode(db, "radiculitis", "lumbar", [], end=None, flags=("saddle_numbness",))  # referred
    episode(db, "radiculitis", "lumbar", [8, 2], end=None)  # still in treatment: not counted
    episode(db, "sciatica", "upper", [5, 8])  # worse by 3 points
    summary = clinic_outcomes(db)
    lumbar = group(summary, "radiculitis", "lumbar")
    assert (lumbar.completed, lumbar.on_hold, lumbar.dropped_out, lumbar.ended) == (4, 1, 1, 6)
    assert (lumbar.with_vas, lumbar.pain_gone, lumbar.improved, lumbar.worsened) == (3, 2, 2, 0)
    # three episodes: counts only, a percentage would pretend precision
    assert lumbar.pain_gone_share == Share(2, 3, 5) and lumbar.pain_gone_share.percent is None
    radiculitis = group(summary, "radiculitis", None)
    assert (radiculitis.ended, radiculitis.pain_gone) == (6, 2)
    assert [g.subtype for g in summary.groups] == [None, "lumbar", None, "upper"]
    upper = group(summary, "sciatica", "upper")
    assert (upper.with_vas, upper.pain_gone, upper.improved, upper.worsened) == (1, 0, 0, 1)


def test_percentages_come_with_their_denominator_and_interval(db: ClinicDB) -> None:
    for final in (0, 0, 1, 0, 0.5, 3, 0, 1, 0):
        episode(db, "radiculitis", "cervical", [7, final])
    cervical = group(clinic_outcomes(db), "radiculitis", "cervical")
    share = cervical.pain_gone_share
    assert (share.count, share.of) == (8, 9)
    assert share.percent == pytest.approx(88.89, abs=0.01)
    low, high = share.interval or (0, 0)
    # the Wilson interval of 8/9: wide, as nine patients are
    assert (round(low, 1), round(high, 1)) == (56.5, 98.0)
    assert cervical.pain_gone_of_ended == Share(8, 9, 5)


def test_share_edges() -> None:
    assert Share(0, 0, 5).percent is None and Share(0, 0, 5).interval is None
    assert Share(4, 4, 5).percent is None  # fewer than five: no percentage
    assert Share(5, 5, 5).percent == 100
    low, high = Share(5, 5, 5).interval or (0, 0)
    assert high == 100 and 50 < low < 60
    low, high = Share(0, 5, 5).interval or (1, 1)
    assert low == 0 and 40 < high < 50


def test_the_pain_gone_cut_off_is_the_clinics_data(db: ClinicDB, tmp_path: Path) -> None:
    episode(db, "sciatica", "lower", [7, 1])
    text = PROTOCOL_FILE.read_text(encoding="utf-8")
    strict = tmp_path / "protocol.toml"
    strict.write_text(
        text.replace("pain_gone_vas_at_most = 1", "pain_gone_vas_at_most = 0"), encoding="utf-8"
    )
    assert group(clinic_outcomes(db), "sciatica", "lower").pain_gone == 1
    proto = load_protocol(strict)
    lower = group(clinic_outcomes(db, proto=proto), "sciatica", "lower")
    assert (lower.with_vas, lower.pain_gone, lower.improved) == (1, 0, 1)
    broken = tmp_path / "broken.toml"
    broken.write_text(
        text.replace("pain_gone_vas_at_most = 1", "pain_gone_vas_at_most = 11"), encoding="utf-8"
    )
    with pytest.raises(ProtocolError, match=r"outcomes\.pain_gone_vas_at_most"):
        load_protocol(broken)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text(
        text.replace('condition = "sciatica"\npain_gone', 'condition = "gout"\npain_gone'),
        encoding="utf-8",
    )
    with pytest.raises(ProtocolError, match="unknown condition 'gout'"):
        load_protocol(unknown)


def test_the_period_is_when_the_episode_ended(db: ClinicDB) -> None:
    episode(db, "radiculitis", "thoracic", [6, 0], closed=DAY - timedelta(days=40))
    episode(db, "radiculitis", "thoracic", [6, 2], closed=DAY - timedelta(days=10))
    episode(db, "radiculitis", "thoracic", [6, 6], end="closed", closed=DAY)

    def ended(since: date | None, until: date | None) -> int:
        summary = clinic_outcomes(db, since=since, until=until)
        return group(summary, "radiculitis", "thoracic").ended if len(summary.groups) > 2 else 0

    assert ended(None, None) == 3
    assert ended(DAY - timedelta(days=40), DAY - timedelta(days=10)) == 2  # both ends in
    assert ended(DAY - timedelta(days=39), None) == 2
    assert ended(None, DAY - timedelta(days=11)) == 1
    assert ended(DAY + timedelta(days=1), None) == 0
    with pytest.raises(ValidationError, match="--from"):
        clinic_outcomes(db, since=DAY, until=DAY - timedelta(days=1))


def test_questionnaires_count_by_their_mcid(db: ClinicDB) -> None:
    episode(db, "sciatica", "middle", [6, 0], odi=(3, 1))  # ODI 60 % -> 20 %: better
    episode(db, "sciatica", "middle", [6, 0], odi=(2, 2))  # 40 % -> 40 %: no change
    episode(db, "sciatica", "middle", [6, 5], odi=(1, 2))  # 20 % -> 40 %: worse
    episode(db, "sciatica", "middle", [6, 0])  # no questionnaire: not in its count
    middle = group(clinic_outcomes(db), "sciatica", "middle")
    [odi] = middle.proms
    assert (odi.short, odi.mcid, odi.measured, odi.improved, odi.worsened) == (
        "ODI",
        10,
        3,
        1,
        1,
    )
    [whole] = group(clinic_outcomes(db), "sciatica", None).proms
    assert whole == odi
