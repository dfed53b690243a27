"""Each condition and subtype gets its own region's tests and exercises, and every patient a
neurological screen at every doctor's appointment."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DAY, held_episode
from textual.widgets import Input, Select
from visit_harness import VisitHarness, sync

from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain.models import NewEpisode, Visit
from kinesio_tui.domain.visits import checklist_for_visit, doctor_checks_for_visit
from kinesio_tui.errors import ProtocolError
from kinesio_tui.protocol import CATALOG_FILE, PROTOCOL_FILE, load_protocol, protocol
from kinesio_tui.views.doctor import DoctorForm

pytestmark = pytest.mark.engines("sqlite", "postgresql")

SUBTYPES = [
    ("radiculitis", "cervical"),
    ("radiculitis", "thoracic"),
    ("radiculitis", "lumbar"),
    ("sciatica", "upper"),
    ("sciatica", "middle"),
    ("sciatica", "lower"),
]
LUMBAR_TESTS = {"slr_angle", "slr_sign", "schober", "hip_flexion", "hip_internal_rotation"}
LUMBAR_WORK = {"m1_decompression_hangs", "m1_cat_cow", "m2_taping_lumbar"}


def _visits(db: ClinicDB, condition: str, subtype: str) -> list[Visit]:
    return held_episode(db, NewEpisode(condition, subtype, "R"))[2]


def _checks(db: ClinicDB, visit: Visit) -> set[str]:
    return {t.code for t in doctor_checks_for_visit(db, visit)}


def _items(db: ClinicDB, visit: Visit) -> set[str]:
    return {i.code for i in checklist_for_visit(db, visit)}


@sync
async def test_a_cervical_patients_doctors_appointment_offers_neck_tests_not_slr(
    db_path: Path,
) -> None:
    with connect(db_path, actor="tester") as db:
        first = _visits(db, "radiculitis", "cervical")[0]
    app = VisitHarness(db_path, first.id)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        form = app.screen.query_one(DoctorForm)
        fields = {w.id for w in form.query(".check-field")}
        for lumbar in ("f-slr_angle-L", "f-slr_sign-R", "f-schober-x", "f-hip_flexion-L"):
            assert lumbar not in fields
        for neck in (
            "f-cervical_rotation-L",
            "f-spurling-R",
            "f-ultt-L",
            "f-grip_strength-R",
            "f-sensation_c6-L",
            "f-reflex_biceps-R",
            "f-myotome_c5-L",
        ):
            assert neck in fields
        assert isinstance(form.query_one("#f-spurling-L"), Select)
        assert isinstance(form.query_one("#f-grip_strength-L"), Input)


@pytest.mark.parametrize(("condition", "subtype"), SUBTYPES)
def test_each_subtype_gets_its_regions_doctors_checks(
    db: ClinicDB, condition: str, subtype: str
) -> None:
    visits = _visits(db, condition, subtype)
    baseline = _checks(db, visits[0])
    if subtype == "cervical":
        assert not baseline & LUMBAR_TESTS
        assert {
            "cervical_flexion",
            "cervical_extension",
            "cervical_rotation",
            "cervical_lateral_flexion",
            "spurling",
            "ultt",
            "grip_strength",
        } <= baseline
    elif subtype == "thoracic":
        assert not baseline & LUMBAR_TESTS
        assert {"thoracic_rotation", "chest_expansion", "rib_springing"} <= baseline
    else:
        assert {"slr_angle", "schober", "hip_flexion"} <= baseline
        assert not baseline & {"spurling", "cervical_rotation", "chest_expansion"}
    if condition == "sciatica":
        assert "nerve_tension" in baseline and "slr_sign" not in baseline
    if subtype == "upper":
        assert "piriformis_test" in baseline
    if subtype == "lower":
        assert {"ankle_dorsiflexion"} <= baseline
        assert {"heel_walk", "toe_walk"} <= _checks(db, visits[15])
    assert {"vas", "palpation_tone"} <= baseline


@pytest.mark.parametrize(("condition", "subtype"), SUBTYPES)
def test_every_doctors_appointment_has_a_neurological_screen(
    db: ClinicDB, condition: str, subtype: str
) -> None:
    for visit in _visits(db, condition, subtype):
        checks = _checks(db, visit)
        if visit.kind != "doctor":
            assert checks == set()
            continue
        for kind in ("sensation_", "reflex_", "myotome_"):
            assert any(code.startswith(kind) for code in checks), (visit.seq, kind)
        region = {
            "cervical": "sensation_c6",
            "thoracic": "sensation_thoracic",
        }.get(subtype, "sensation_l5")
        assert region in checks, visit.seq
        if subtype != "cervical":
            assert not any(code.startswith("sensation_c") for code in checks)


@pytest.mark.parametrize(("condition", "subtype"), SUBTYPES)
def test_the_programmes_final_appointment_repeats_what_the_discharge_reports(
    db: ClinicDB, condition: str, subtype: str
) -> None:
    visits = _visits(db, condition, subtype)
    final = _checks(db, visits[44])
    assert {"emg_amplitude", "emg_finding", "strength_mrc", "posture_note"} <= final
    assert ("grip_strength" if subtype == "cervical" else "strength_kg") in final
    # ... and so do the baseline's tests, so outcomes can be computed
    assert _checks(db, visits[0]) <= final


def test_cervical_sessions_work_the_neck_and_thoracic_spine(db: ClinicDB) -> None:
    visits = _visits(db, "radiculitis", "cervical")
    m1, m2, m3 = _items(db, visits[1]), _items(db, visits[16]), _items(db, visits[31])
    assert not (m1 | m2) & LUMBAR_WORK
    assert {"m1_neck_stretch", "m1_thoracic_mobilisation", "m1_cervical_traction"} <= m1
    assert {"m1_pir", "m1_orthopaedic_table"} <= m1
    assert {"m2_neck_strengthening", "m2_taping_cervical"} <= m2
    assert "m3_self_correction" in m3


def test_thoracic_sessions_get_no_lumbar_hangs_or_taping(db: ClinicDB) -> None:
    visits = _visits(db, "radiculitis", "thoracic")
    m1, m2 = _items(db, visits[1]), _items(db, visits[16])
    assert "m1_decompression_hangs" not in m1 and "m2_taping_lumbar" not in m2
    assert {"m1_thoracic_extension", "m1_myofascial_thoracic", "m1_cat_cow"} <= m1
    assert "m1_neck_stretch" not in m1
    assert {"m2_breathing_rib_cage", "m2_taping_thoracic"} <= m2


def test_lumbar_sessions_keep_the_clinics_lumbar_work(db: ClinicDB) -> None:
    visits = _visits(db, "radiculitis", "lumbar")
    m1, m2 = _items(db, visits[1]), _items(db, visits[16])
    assert {"m1_decompression_hangs", "m1_cat_cow", "m1_myofascial_rollers"} <= m1
    assert {"m2_twists_breath", "m2_taping_lumbar"} <= m2
    assert not m1 & {"m1_neck_stretch", "m1_cervical_traction", "m1_pelvic_traction"}


@pytest.mark.parametrize("subtype", ["upper", "middle", "lower"])
def test_sciatica_sessions_stretch_piriformis_work_hips_and_pelvis(
    db: ClinicDB, subtype: str
) -> None:
    visits = _visits(db, "sciatica", subtype)
    m1, m2 = _items(db, visits[1]), _items(db, visits[16])
    assert {"m1_pelvic_traction", "m1_figure_four", "m1_pelvic_correction"} <= m1
    assert {"m2_hip_opening", "m2_gluteal_activation", "m2_taping_gluteal"} <= m2
    assert not (m1 | m2) & LUMBAR_WORK
    assert ("m1_ankle_mobilisation" in m1) == (subtype == "lower")


# --- the data says what is the clinic's and what is a standard default ------------------------

STANDARD_DEFAULTS = {
    "nrs",
    "toe_walk",
    "cervical_flexion",
    "cervical_extension",
    "cervical_rotation",
    "cervical_lateral_flexion",
    "spurling",
    "ultt",
    "grip_strength",
    "thoracic_rotation",
    "chest_expansion",
    "rib_springing",
    "slump",
    "piriformis_test",
    "m1_cervical_traction",
    "m1_myofascial_thoracic",
    "m1_thoracic_extension",
    "m2_scapular_stabilisers",
    "m2_breathing_rib_cage",
    "m2_taping_cervical",
    "m2_taping_thoracic",
}
FROM_THE_CLINIC = {
    "vas",
    "slr_angle",
    "nerve_tension",
    "m1_decompression_hangs",
    "m1_neck_stretch",
    "m1_thoracic_mobilisation",
    "m1_figure_four",
    "m1_pelvic_correction",
    "m1_ankle_mobilisation",
    "m2_neck_strengthening",
    "m2_hip_opening",
    "m2_gluteal_activation",
    "m2_foot_arch",
}


def test_each_standard_default_says_where_it_comes_from() -> None:
    proto = protocol()
    notes = {t.code: t.default for t in proto.tests} | {
        i.code: i.default for m in proto.modules for i in m.checklist
    }
    for code in STANDARD_DEFAULTS:
        assert len(notes[code]) > 10, code
    for code in FROM_THE_CLINIC:
        assert notes[code] == "", code
    for code in proto.neuro_screen:
        test = proto.test(code)
        assert test is not None and test.default, code


def test_every_region_test_is_kept_to_its_patients() -> None:
    proto = protocol()
    for code in proto.neuro_screen:
        test = proto.test(code)
        assert test is not None and test.only, code
    for code in (STANDARD_DEFAULTS - {"nrs"}) & {t.code for t in proto.tests}:
        test = proto.test(code)
        assert test is not None and test.only, code


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        (
            'only = "radiculitis.lumbar"',
            'only = "radiculitis.sacral"',
            "modules[0].checklist[0].only: unknown subtype 'radiculitis.sacral'",
        ),
        (
            'only = ["radiculitis.lumbar", "sciatica"]',
            'only = ["radiculitis.lumbar", "sciatic"]',
            "modules[0].checklist[3].only: unknown condition 'sciatic'",
        ),
        ('spurling = "radiculitis.cervical"', 'spurlin = "radiculitis.cervical"', "checks_only"),
        ('slr_sign = "radiculitis.lumbar"', 'slr_sign = "lumbar"', "checks_only.slr_sign"),
        ('checks = ["sensation_c5"', 'checks = ["sensation_c4"', "neuro_screen.checks"),
        ('final_checks = ["emg_amplitude"', 'final_checks = ["emg"', "modules[2].final_checks"),
        ("[neuro_screen]\ndefault = ", "[neuro_screen]\nsource = ", "neuro_screen.default"),
    ],
)
def test_a_broken_subtype_rule_names_file_and_key(
    tmp_path: Path, old: str, new: str, key: str
) -> None:
    proto_file = tmp_path / "clinic-protocol.toml"
    text = PROTOCOL_FILE.read_text(encoding="utf-8")
    assert old in text, old
    proto_file.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ProtocolError) as caught:
        load_protocol(proto_file, CATALOG_FILE)
    assert caught.value.message.startswith("clinic-protocol.toml: ")
    assert key in caught.value.message


def test_an_empty_source_note_is_refused(tmp_path: Path) -> None:
    catalog = tmp_path / "clinic-catalog.toml"
    text = CATALOG_FILE.read_text(encoding="utf-8")
    catalog.write_text(
        text.replace('default = "cervical radiculopathy cluster', 'default = " "#', 1),
        encoding="utf-8",
    )
    with pytest.raises(ProtocolError, match=r"tests\[\d+\]\.default: is empty"):
        load_protocol(PROTOCOL_FILE, catalog)


def test_a_side_recorded_at_an_older_visit_says_so() -> None:
    from kinesio_tui.domain.outcomes import LatestResult
    from kinesio_tui.views.widgets import results_text

    slr = LatestResult("slr_angle", "Lasegue angle", "°", None, 40.0, 75.0, 8, DAY, 1, 8)
    vas = LatestResult("vas", "VAS pain", "/10", 3.0, None, None, 9, DAY, None, None)
    lines = results_text([slr, vas], 60).plain.splitlines()
    assert lines[1] == "At visit 9 (M1·9), 25 Nov"
    assert lines[2].startswith("VAS pain") and lines[2].endswith(" 3/10")
    assert lines[3] == "At visit 8 (M1·8), 25 Nov"
    assert "40° (v1)" in lines[4] and "75°" in lines[4] and "(v8)" not in lines[4]
