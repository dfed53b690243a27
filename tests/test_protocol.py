"""The programme file checked against the clinic's published facts, and its validation."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kinesio_tui.errors import ProtocolError
from kinesio_tui.protocol import (
    CATALOG_FILE,
    PROTOCOL_FILE,
    SHORT_LABEL_WIDTH,
    load_protocol,
    protocol,
)


def test_three_modules_of_fifteen_visits() -> None:
    p = protocol()
    assert len(p.modules) == 3
    assert [m.number for m in p.modules] == [1, 2, 3]
    assert p.visits_per_module == 15
    assert p.total_visits == 45
    kinds = [slot.kind for slot in p.cycle] * len(p.modules)
    assert kinds.count("doctor") == 9
    assert kinds.count("therapy") == 36


def test_the_cycle_order() -> None:
    cycle = protocol().cycle
    assert [s.number for s in cycle] == list(range(1, 16))
    expected = ["doctor"] + ["therapy"] * 6 + ["doctor"] + ["therapy"] * 6 + ["doctor"]
    assert [s.kind for s in cycle] == expected
    assert [(s.number, s.role) for s in cycle if s.kind == "doctor"] == [
        (1, "initial"),
        (8, "control"),
        (15, "final"),
    ]


def test_module_titles_and_goals() -> None:
    titles = [m.title for m in protocol().modules]
    assert titles == [
        "Decompression and pain relief",
        "Muscle balance",
        "Stabilisation and relapse prevention",
    ]
    assert all(m.goal for m in protocol().modules)


def _codes(module: int, condition: str, subtype: str) -> set[str]:
    return {i.code for i in protocol().module(module).checklist_for(condition, subtype)}


def test_module_1_checklist_lumbar_radiculitis_vs_sciatica() -> None:
    shared = {"m1_myofascial_rollers", "m1_pir", "m1_orthopaedic_table"}
    assert _codes(1, "radiculitis", "lumbar") == shared | {"m1_decompression_hangs", "m1_cat_cow"}
    assert _codes(1, "sciatica", "upper") == shared | {
        "m1_pelvic_traction",
        "m1_figure_four",
        "m1_pelvic_correction",
    }
    assert _codes(1, "sciatica", "lower") == _codes(1, "sciatica", "upper") | {
        "m1_ankle_mobilisation"
    }
    pir_items = [i.code for i in protocol().module(1).checklist if i.pir]
    assert pir_items == ["m1_pir"]


def test_module_2_checklist_lumbar_radiculitis_vs_sciatica() -> None:
    shared = {"m2_asymmetric", "m2_unstable_platforms"}
    assert _codes(2, "radiculitis", "lumbar") == shared | {"m2_twists_breath", "m2_taping_lumbar"}
    assert _codes(2, "sciatica", "middle") == shared | {
        "m2_hip_opening",
        "m2_gluteal_activation",
        "m2_taping_gluteal",
    }


def test_module_3_checklist_is_the_same_for_every_subtype() -> None:
    expected = {
        "m3_functional",
        "m3_biofeedback",
        "m3_multi_joint",
        "m3_breath_movement",
        "m3_self_correction",
    }
    for condition in protocol().conditions:
        for subtype in condition.subtypes:
            assert _codes(3, condition.code, subtype.code) == expected


def test_doctors_checks_per_module() -> None:
    p = protocol()
    m1, m2, m3 = (set(m.doctor_checks) for m in p.modules)
    assert {"vas", "slr_angle", "slr_sign", "nerve_tension", "palpation_tone"} <= m1
    assert {"schober", "hip_flexion"} <= m1
    assert {"emg_amplitude", "emg_finding", "strength_kg", "pelvic_position", "gait"} <= m2
    assert {"heel_walk", "toe_walk"} <= m2
    # The final re-assessment repeats the baseline tests so outcomes can be computed.
    assert m1 <= m3


def test_conditions_and_subtypes() -> None:
    p = protocol()
    assert [c.code for c in p.conditions] == ["radiculitis", "sciatica"]
    radiculitis, sciatica = p.conditions
    assert [s.code for s in radiculitis.subtypes] == ["cervical", "thoracic", "lumbar"]
    assert [s.code for s in sciatica.subtypes] == ["upper", "middle", "lower"]


def test_timing_facts() -> None:
    t = protocol().timing
    assert t.inflammation_settles_days == 21
    assert t.myelin_recovery_days == 42
    assert t.motor_pattern_weeks == (6, 8)
    assert t.module_weeks == (5, 7)
    assert t.consolidation_reps == (300, 500)
    assert t.automatic_reps == (3000, 5000)
    assert protocol().recommended_sessions == (10, 12)


def test_clinically_important_change_threshold() -> None:
    p = protocol()
    rules = p.change_rules
    assert (rules.pain_points, rules.ratio_percent, rules.ordinal_grades) == (2, 30, 1)
    scales = {t.code: t.scale for t in p.tests}
    assert (scales["vas"], scales["nrs"], scales["slr_angle"], scales["schober"]) == (
        "pain",
        "pain",
        "ratio",
        "ratio",
    )
    assert (scales["strength_mrc"], scales["slr_sign"], scales["palpation_tone"]) == (
        "ordinal",
        "ordinal",
        "ordinal",
    )
    assert (scales["pelvic_position"], scales["gait"], scales["posture_note"]) == (
        "nominal",
        "nominal",
        "none",
    )


def test_red_flags() -> None:
    labels = " / ".join(f.label.lower() for f in protocol().red_flags)
    for words in ("bladder or bowel", "saddle numbness", "foot drop", "fever", "cancer", "trauma"):
        assert words in labels
    # the clinic's own flags and the standard defaults, each saying where it comes from
    assert len(protocol().red_flags) == 14
    assert all(
        f.source.startswith(("clinic text", "standard default")) for f in protocol().red_flags
    )


def test_catalog_covers_the_tests_the_issue_asks_for() -> None:
    p = protocol()
    for code in (
        "vas",
        "nrs",
        "slr_angle",
        "slr_sign",
        "nerve_tension",
        "palpation_tone",
        "schober",
        "hip_flexion",
        "emg_amplitude",
        "emg_finding",
        "strength_kg",
        "strength_mrc",
        "pelvic_position",
        "gait",
        "heel_walk",
        "toe_walk",
    ):
        assert p.test(code) is not None, code
    vas = p.test("vas")
    assert vas is not None and (vas.min, vas.max, vas.sided) == (0, 10, False)
    tone = p.test("palpation_tone")
    assert tone is not None and tone.kind == "scale" and tone.sided
    for doctor_check in {c for m in p.modules for c in m.doctor_checks}:
        assert p.test(doctor_check) is not None


# --- a broken file names the file and the key ---------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    proto = tmp_path / "clinic-protocol.toml"
    catalog = tmp_path / "clinic-catalog.toml"
    shutil.copyfile(PROTOCOL_FILE, proto)
    shutil.copyfile(CATALOG_FILE, catalog)
    return proto, catalog


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def test_a_copy_loads_like_the_built_in(files: tuple[Path, Path]) -> None:
    assert load_protocol(*files) == protocol()


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("inflammation_settles_days = 21", "", "timing.inflammation_settles_days"),
        ("myelin_recovery_days = 42", 'myelin_recovery_days = "42"', "timing.myelin_recovery_days"),
        ("motor_pattern_weeks = [6, 8]", "motor_pattern_weeks = [8, 6]", "motor_pattern_weeks"),
        ('only = "sciatica"', 'only = "scoliosis"', "modules[0].checklist[1].only"),
        ('doctor_checks = ["vas", ', 'doctor_checks = ["vass", ', "modules[0].doctor_checks"),
        ("number = 2", "number = 3", "modules[1].number"),
        ("count = 6", "count = 0", "cycle[1].count"),
        ('kind = "therapy"', 'kind = "massage"', "cycle[1].kind"),
        ('code = "m2_asymmetric"', 'code = "m1_pir"', "modules.checklist"),
        ("visit_weekdays = [0, 2, 4]", "visit_weekdays = [0, 9]", "timing.visit_weekdays"),
        ('label = "Pelvic traction"', 'label = ""', "modules[0].checklist[1].label"),
        ("default_cycles = 3", "default_cycles = true", "pir.default_cycles"),
        ('code = "saddle_numbness"', 'code = "bladder_bowel"', "red_flags: code 'bladder_bowel'"),
        ('code = "sciatica"', 'code = "radiculitis"', "conditions: code 'radiculitis'"),
        ('{ code = "thoracic"', '{ code = "cervical"', "conditions[0].subtypes: code"),
        (
            'kind = "doctor"\nrole = "initial"',
            'kind = "therapy"\ncount = 1',
            "cycle: a module must",
        ),
        ("visit_weekdays = [0, 2, 4]", "visit_weekdays = [4, 2]", "timing.visit_weekdays"),
        ('muscles = ["piriformis"', 'muscle = ["piriformis"', "pir.muscles: is missing"),
        ('role = "control"', "", "cycle[2].role: is missing"),
        ('am = "M54.14" }', 'amm = "M54.14" }', "subtypes[1].icd10.am: is missing"),
        ('am = "M54.16" }', 'am = "M54.61" }', "code 'M54.61' has no title"),
        ('default_variant = "who"', 'default_variant = "cm"', "icd10.default_variant"),
        ('"M54.3" = "Sciatica" }\n\n', '"M54.3" = "" }\n\n', "titles.M54.3"),
    ],
)
def test_a_broken_protocol_names_file_and_key(
    files: tuple[Path, Path], old: str, new: str, key: str
) -> None:
    proto, catalog = files
    _edit(proto, old, new)
    with pytest.raises(ProtocolError) as caught:
        load_protocol(proto, catalog)
    assert caught.value.message.startswith("clinic-protocol.toml: ")
    assert key in caught.value.message


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('kind = "scale"', 'kind = "colour"', "tests[3].kind"),
        ('choices = ["negative", "positive"]', 'choices = ["positive"]', "tests[3].choices"),
        ("max = 10", "max = 0", "tests[0].min"),
        ('code = "nrs"', 'code = "vas"', "tests"),
        ('label = "VAS pain"', "label = 7", "tests[0].label"),
        ("points = 2", 'points = "2"', "change_rules.pain.points"),
        ("grades = 1", "grades = 0", "change_rules.ordinal.grades"),
        (
            'scale = "nominal"',
            'scale = "ratio"',
            "].scale: a ratio scale cannot judge a scale test",
        ),
        ('scale = "pain"', 'scale = "loud"', "tests[0].scale"),
    ],
)
def test_a_broken_catalog_names_file_and_key(
    files: tuple[Path, Path], old: str, new: str, key: str
) -> None:
    proto, catalog = files
    _edit(catalog, old, new)
    with pytest.raises(ProtocolError) as caught:
        load_protocol(proto, catalog)
    assert caught.value.message.startswith("clinic-catalog.toml: ")
    assert key in caught.value.message


def test_bad_toml_names_the_file_and_line(files: tuple[Path, Path]) -> None:
    proto, catalog = files
    _edit(proto, "[pir]", "[pir")
    with pytest.raises(ProtocolError) as caught:
        load_protocol(proto, catalog)
    assert caught.value.message.startswith("clinic-protocol.toml: ")
    assert re.search(r"line \d+", caught.value.message)


def test_a_missing_file_is_a_protocol_error(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match="does not exist"):
        load_protocol(tmp_path / "nowhere.toml", CATALOG_FILE)


def test_a_missing_section_is_named(files: tuple[Path, Path]) -> None:
    proto, catalog = files
    text = proto.read_text(encoding="utf-8")
    proto.write_text(text.replace("[timing]", "[timings]"), encoding="utf-8")
    with pytest.raises(ProtocolError, match="timing: is missing"):
        load_protocol(proto, catalog)


def test_more_visits_than_the_database_holds_is_refused(files: tuple[Path, Path]) -> None:
    proto, catalog = files
    _edit(proto, "count = 6", "count = 7")
    with pytest.raises(ProtocolError, match="cycle"):
        load_protocol(proto, catalog)


# --- the protocol is data: a changed file changes the checklist -----------------------------


def test_changing_the_checklist_needs_no_code(
    files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    from kinesio_tui.data.db import connect
    from kinesio_tui.domain import plan as plan_module
    from kinesio_tui.domain import visits as visits_module
    from kinesio_tui.domain.episodes import open_episode
    from kinesio_tui.domain.models import NewEpisode, NewPatient
    from kinesio_tui.domain.patients import create_patient

    proto, catalog = files
    _edit(
        proto,
        'code = "m1_orthopaedic_table"',
        'code = "m1_orthopaedic_table"\nlabel = "Table"\n[[modules.checklist]]\n'
        'code = "m1_heat_pack"\nonly = "sciatica"',
    )
    changed = load_protocol(proto, catalog)
    heat_pack_for = {
        (c, s): "m1_heat_pack" in {i.code for i in changed.module(1).checklist_for(c, s)}
        for c, s in (("sciatica", "upper"), ("radiculitis", "lumbar"))
    }
    assert heat_pack_for == {("sciatica", "upper"): True, ("radiculitis", "lumbar"): False}

    day = date(2026, 11, 25)
    db = connect(tmp_path / "c.db")
    try:
        pid = create_patient(db, NewPatient("Ona", "Butkienė", "1980-02-03", "F"), today=day)
        eid = open_episode(db, pid, NewEpisode("sciatica", "upper", "L"), start=day, today=day)
        session = visits_module.visits_of(db, eid)[1]
        assert "m1_heat_pack" not in {
            i.code for i in visits_module.checklist_for_visit(db, session)
        }
        monkeypatch.setattr(visits_module, "protocol", lambda: changed)
        monkeypatch.setattr(plan_module, "protocol", lambda: changed)  # the patient's list
        items = {i.code for i in visits_module.checklist_for_visit(db, session)}
    finally:
        db.close()
    assert "m1_heat_pack" in items
    assert "m1_figure_four" in items and "m1_cat_cow" not in items


def test_too_many_modules_is_refused(files: tuple[Path, Path]) -> None:
    proto, catalog = files
    text = proto.read_text(encoding="utf-8")
    proto.write_text(
        text.replace(
            "# --- muscles",
            '[[modules]]\nnumber = 4\ntitle = "x"\ngoal = "y"\ndoctor_checks = []\nchecklist = []\n# --- muscles',
        ),
        encoding="utf-8",
    )
    with pytest.raises(ProtocolError, match="modules: has 4 modules"):
        load_protocol(proto, catalog)


def test_module_and_slot_numbers_do_not_wrap_around() -> None:
    p = protocol()
    for bad in (0, -1, 4):
        with pytest.raises(IndexError):
            p.module(bad)
    for bad in (0, 16):
        with pytest.raises(IndexError):
            p.slot(bad)
    assert p.module(3).number == 3 and p.slot(15).role == "final"


def test_every_test_has_a_name_that_fits_a_narrow_column() -> None:
    for test in protocol().tests:
        assert 0 < len(test.short_label) <= SHORT_LABEL_WIDTH, test.code
    slr = protocol().test("slr_angle")
    assert slr is not None and slr.short_label == "Lasegue angle"
    assert slr.label == "Straight-leg raise (Lasegue) angle"  # the full name where it fits


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('short = "Lasegue angle"', 'short = "Straight-leg raise angle"', "tests[2].short"),
        ('short = "Lasegue angle"\n', "", "tests[2].label"),  # too long to go without one
    ],
)
def test_a_short_name_that_would_be_cut_is_refused(
    files: tuple[Path, Path], old: str, new: str, key: str
) -> None:
    proto, catalog = files
    _edit(catalog, old, new)
    with pytest.raises(ProtocolError) as caught:
        load_protocol(proto, catalog)
    assert key in caught.value.message and "13 characters" in caught.value.message
