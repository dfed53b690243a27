"""Scoring the PROM questionnaires exactly (property tests), bands, MCIDs, and the clinic's
own item texts loaded from its file."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinesio_tui.domain.prom_scoring import (
    ScoreRefused,
    band_of,
    prom_change,
    score_questionnaire,
)
from kinesio_tui.errors import ProtocolError
from kinesio_tui.questionnaires import (
    Questionnaire,
    load_clinic_texts,
    offered_for,
    questionnaire,
    questionnaires,
)


def form(code: str) -> Questionnaire:
    found = questionnaire(code)
    assert found is not None
    return found


ODI, NDI, RMDQ = form("odi"), form("ndi"), form("rmdq")


def answers_of(q: Questionnaire) -> st.SearchStrategy[dict[str, int | None]]:
    """Any filled-in form: each item a score in range, or unanswered."""
    return st.fixed_dictionaries(
        {item.id: st.one_of(st.none(), st.integers(0, q.item_max)) for item in q.items}
    )


any_form = st.sampled_from(questionnaires()).flatmap(lambda q: st.tuples(st.just(q), answers_of(q)))


@settings(max_examples=300, deadline=None)
@given(answers_of(ODI))
def test_odi_is_the_sum_over_five_times_the_sections_answered(
    answers: dict[str, int | None],
) -> None:
    given_ = [v for v in answers.values() if v is not None]
    result = score_questionnaire(ODI, answers)
    missing = 10 - len(given_)
    if not given_ or missing > 2:  # the missing-section rule: at most 2 sections left out
        assert result.score is None and result.too_few and result.band is None
        return
    exact = Fraction(sum(given_), 5 * len(given_)) * 100
    assert result.score is not None
    assert result.score == pytest.approx(float(exact), abs=1e-9)
    assert 0 <= result.score <= 100
    assert (result.total, result.answered, result.items) == (sum(given_), len(given_), 10)
    assert result.band == band_of(ODI, result.score)
    assert result.percent == pytest.approx(result.score)


@settings(max_examples=300, deadline=None)
@given(answers_of(NDI))
def test_ndi_is_raw_0_to_50_with_its_percentage(answers: dict[str, int | None]) -> None:
    given_ = [v for v in answers.values() if v is not None]
    result = score_questionnaire(NDI, answers)
    if not given_ or 10 - len(given_) > 2:
        assert result.score is None
        return
    raw = Fraction(sum(given_) * 10, len(given_))  # prorated when an item is unanswered
    assert result.score is not None
    assert result.score == pytest.approx(float(raw), abs=1e-9)
    assert result.prorated == (len(given_) < 10)
    assert 0 <= result.score <= 50
    assert result.percent == pytest.approx(result.score * 2)


@settings(max_examples=300, deadline=None)
@given(answers_of(RMDQ))
def test_rmdq_counts_the_statements_0_to_24(answers: dict[str, int | None]) -> None:
    result = score_questionnaire(RMDQ, answers)
    if any(v is None for v in answers.values()):
        assert result.score is None  # every statement answered (ticked or not)
        return
    assert result.score == sum(v for v in answers.values() if v is not None)
    assert 0 <= result.score <= 24 and not result.prorated


@settings(max_examples=300, deadline=None)
@given(any_form, st.data())
def test_a_higher_answer_never_lowers_the_score(
    filled: tuple[Questionnaire, dict[str, int | None]], data: st.DataObject
) -> None:
    q, answers = filled
    before = score_questionnaire(q, answers)
    raised = [i for i, v in answers.items() if v is not None and v < q.item_max]
    if before.score is None or not raised:
        return
    item = data.draw(st.sampled_from(raised))
    after = score_questionnaire(q, {**answers, item: answers[item] + 1})  # type: ignore[operator]
    assert after.score is not None and after.score > before.score
    # the band never falls back either
    labels = [b.label for b in q.bands]
    assert labels.index(after.band) >= labels.index(before.band)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(questionnaires()),
    st.floats(0, 100, allow_nan=False).map(lambda x: round(x, 1)),
    st.floats(0, 100, allow_nan=False).map(lambda x: round(x, 1)),
)
def test_a_change_matters_at_the_mcid_better_or_worse(
    q: Questionnaire, baseline: float, now: float
) -> None:
    change = prom_change(q, baseline, now)
    delta = Fraction(str(now)) - Fraction(str(baseline))
    assert change.important == (abs(delta) >= Fraction(str(q.mcid)))
    assert change.direction == ("better" if delta < 0 else "worse" if delta > 0 else "unchanged")
    back = prom_change(q, now, baseline)
    assert back.important == change.important  # worse matters as much as better
    if baseline:
        assert change.percent == pytest.approx(float(delta / Fraction(str(baseline)) * 100))
    else:
        assert change.percent is None


@pytest.mark.parametrize(
    ("q", "answers", "score", "band"),
    [
        (ODI, dict.fromkeys([f"odi{i:02}" for i in range(1, 11)], 2), 40, "moderate disability"),
        (ODI, {f"odi{i:02}": 3 for i in range(1, 10)} | {"odi10": None}, 60, "severe disability"),
        (ODI, {f"odi{i:02}": 0 for i in range(1, 11)} | {"odi01": 1}, 2, "minimal disability"),
        (NDI, {f"ndi{i:02}": 2 for i in range(1, 11)} | {"ndi01": 0}, 18, "moderate disability"),
        (NDI, dict.fromkeys([f"ndi{i:02}" for i in range(1, 11)], 0), 0, "no disability"),
        (RMDQ, {f"rmdq{i:02}": 1 if i <= 5 else 0 for i in range(1, 25)}, 5, "moderate disability"),
    ],
)
def test_worked_examples(
    q: Questionnaire, answers: dict[str, int | None], score: float, band: str
) -> None:
    result = score_questionnaire(q, answers)
    assert (result.score, result.band) == (score, band)


def test_odi_with_a_section_missed_is_over_the_sections_answered() -> None:
    answers: dict[str, int | None] = {f"odi{i:02}": 2 for i in range(1, 10)}
    answers["odi01"] = 4  # 20 over 9 sections
    result = score_questionnaire(ODI, answers)
    assert result.score == pytest.approx(44.444444444) and result.answered == 9
    three_missing = {f"odi{i:02}": 2 for i in range(1, 8)}
    assert score_questionnaire(ODI, three_missing).score is None


def test_the_published_mcids() -> None:
    assert (ODI.mcid, NDI.mcid, RMDQ.mcid) == (10, 5, 5)
    assert prom_change(ODI, 44, 34).important_improvement
    assert not prom_change(ODI, 44, 35).important
    assert prom_change(NDI, 17, 22).important_worsening
    assert not prom_change(RMDQ, 10, 6).important


def test_answers_outside_the_form_are_refused() -> None:
    with pytest.raises(ScoreRefused):
        score_questionnaire(ODI, {"odi01": 6})
    with pytest.raises(ScoreRefused):
        score_questionnaire(ODI, {"ndi01": 1})
    with pytest.raises(ScoreRefused):
        score_questionnaire(RMDQ, {"rmdq01": 2})
    with pytest.raises(ScoreRefused):
        score_questionnaire(ODI, {"odi01": True})


def test_which_episodes_get_which_questionnaire() -> None:
    assert [q.code for q in offered_for("radiculitis", "lumbar")] == ["odi", "rmdq"]
    assert [q.code for q in offered_for("sciatica", "upper")] == ["odi", "rmdq"]
    assert [q.code for q in offered_for("radiculitis", "cervical")] == ["ndi"]


def test_only_ids_and_neutral_labels_ship() -> None:
    text = (
        Path(__file__)
        .parent.parent.joinpath("kinesio_tui", "data", "questionnaires.toml")
        .read_text(encoding="utf-8")
    )
    # no answer wording of the validated forms, only the sections' subjects
    for wording in ("I have no pain at the moment", "I can look after myself normally"):
        assert wording not in text
    assert all(len(item.label) <= 20 for q in questionnaires() for item in q.items)


def test_the_clinics_item_texts_come_from_its_file(tmp_path: Path) -> None:
    file = tmp_path / "questionnaire-texts.toml"
    assert load_clinic_texts(file).items == {}  # none supplied: the labels are shown
    file.write_text(
        '[odi]\ntitle = "Oswestry (licensed form)"\n'
        '[odi.odi01]\ntext = "Skausmo stiprumas"\n'
        'choices = ["a", "b", "c", "d", "e", "f"]\n',
        encoding="utf-8",
    )
    texts = load_clinic_texts(file)
    item = texts.item("odi", "odi01")
    assert item is not None and item.text == "Skausmo stiprumas" and len(item.choices) == 6
    assert texts.titles["odi"] == "Oswestry (licensed form)"
    file.write_text('[odi.odi01]\ntext = "x"\nchoices = ["a"]\n', encoding="utf-8")
    with pytest.raises(ProtocolError, match=r"odi\.odi01\.choices"):
        load_clinic_texts(file)
    file.write_text('[sf36.q1]\ntext = "x"\n', encoding="utf-8")
    with pytest.raises(ProtocolError, match="sf36"):
        load_clinic_texts(file)
