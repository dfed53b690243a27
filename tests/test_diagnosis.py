"""Diagnosis codes: each subtype coded in every ICD-10 edition the programme knows, the
clinic's edition a setting checked by `kinesio settings set`."""

from __future__ import annotations

import pytest
from real_cli import run
from typer.testing import CliRunner

from kinesio_tui.cli import app
from kinesio_tui.domain.diagnosis import Diagnosis, episode_diagnosis, icd10_variants
from kinesio_tui.errors import KinesioError
from kinesio_tui.protocol import protocol
from kinesio_tui.settings import load_settings, settings_path

runner = CliRunner()


def test_every_subtype_has_a_titled_code_in_every_edition() -> None:
    proto = protocol()
    assert icd10_variants(proto) == ("who", "am")
    for condition in proto.conditions:
        for subtype in condition.subtypes:
            for variant in icd10_variants(proto):
                found = episode_diagnosis(proto, condition.code, subtype.code, variant)
                assert found.code and found.title, (condition.code, subtype.code, variant)


def test_the_who_edition_is_the_default() -> None:
    assert episode_diagnosis(protocol(), "radiculitis", "lumbar") == Diagnosis(
        "M54.1", "Radiculopathy", "http://hl7.org/fhir/sid/icd-10", "who", "ICD-10"
    )
    assert episode_diagnosis(protocol(), "sciatica", "upper", "").code == "M54.3"


def test_icd10_am_names_the_spinal_region_of_a_radiculopathy() -> None:
    codes = {
        sub: episode_diagnosis(protocol(), "radiculitis", sub, "am")
        for sub in ("cervical", "thoracic", "lumbar")
    }
    assert {sub: d.code for sub, d in codes.items()} == {
        "cervical": "M54.12",
        "thoracic": "M54.14",
        "lumbar": "M54.16",
    }
    assert codes["lumbar"].title == "Radiculopathy, lumbar region"
    assert codes["lumbar"].variant_label == "ICD-10-AM"
    assert codes["lumbar"].system == "http://hl7.org/fhir/sid/icd-10-am"


def test_an_unknown_edition_or_subtype_is_an_error_not_a_blank_code() -> None:
    with pytest.raises(KinesioError, match="choose one of: who, am"):
        episode_diagnosis(protocol(), "radiculitis", "lumbar", "cm")
    with pytest.raises(KinesioError, match="no ICD-10 code"):
        episode_diagnosis(protocol(), "radiculitis", "sacral")


def test_settings_set_the_edition_and_show_the_default() -> None:
    shown = runner.invoke(app, ["settings", "show"], catch_exceptions=False).stdout
    assert "clinic.icd10_variant = -  (the programme's default: who)" in shown
    result = runner.invoke(app, ["settings", "set", "clinic.icd10_variant", "am"])
    assert result.exit_code == 0, result.stderr
    assert load_settings().clinic.icd10_variant == "am"
    # the edition is not a header: a clinic that set only it prints no empty header
    assert not load_settings().clinic.is_set()
    shown = runner.invoke(app, ["settings", "show"], catch_exceptions=False).stdout
    assert 'clinic.icd10_variant = "am"' in shown


@pytest.mark.slow
def test_an_edition_without_codes_is_refused_and_nothing_written() -> None:
    assert run("settings", "set", "clinic.name", "Judesys").code == 0
    before = settings_path().read_bytes()
    for value, says in [
        ("cm", "clinic.icd10_variant: one of the editions the programme has codes for: who, am"),
        ("A M", "clinic.icd10_variant: an ICD-10 edition's short name"),
        ("am\x1b[2J", "clinic.icd10_variant: plain text only"),
    ]:
        ran = run("settings", "set", "clinic.icd10_variant", value)
        assert ran.code == 2, ran
        assert len(ran.err_lines) == 1 and says in ran.err, ran
        assert settings_path().read_bytes() == before
