"""A recorded value reads the same on the patient screen, the visit screen and in reports:
one formatter decides the decimals and where the unit goes."""

from __future__ import annotations

import pytest

from kinesio_tui.domain.models import Measurement
from kinesio_tui.domain.outcomes import LatestResult
from kinesio_tui.export.context import display
from kinesio_tui.export.fmt import MINUS, NBSP
from kinesio_tui.protocol import ClinicalTest
from kinesio_tui.views.visit import describe_measurement
from kinesio_tui.views.widgets import results_text

CASES = [
    # (the catalog's test with this unit, or none, unit, value, as written)
    ("vas", "/10", 4.0, "4/10"),
    ("vas", "/10", 6.5, "6.5/10"),
    ("slr_angle", "°", 35.0, "35°"),
    ("schober", "cm", 4.25, "4.25 cm"),  # a reading to a quarter centimetre is not rounded
    ("schober", "cm", 3.333, "3.33 cm"),
    ("strength_kg", "kg", 40.0, "40 kg"),
    ("emg_amplitude", "µV", 900.0, "900 µV"),
    (None, "/100", 50.0, "50/100"),  # any scale "of n" is written closed up
    (None, "%", 42.0, "42 %"),
    (None, "", 7.0, "7"),
]


def plain(text: str) -> str:
    """Reports set a no-break space and a true minus; the screens a space and a hyphen."""
    return text.replace(NBSP, " ").replace(MINUS, "-")


@pytest.mark.parametrize(("code", "unit", "value", "written"), CASES)
def test_a_value_reads_the_same_everywhere(
    code: str | None, unit: str, value: float, written: str
) -> None:
    test = ClinicalTest("t", "Test", "number", unit=unit, min=0, max=10_000)
    result = LatestResult("t", "Test", unit, value, None, None, 1)

    report = plain(str(display(test, value)))
    # the column titles, the visit the value is from, then the value's row
    patient_screen = results_text([result], 60).plain.splitlines()[2].split()[1:]
    assert report == written
    assert " ".join(patient_screen) == written
    if code is not None:
        measured = Measurement(1, 1, code, None, value, None, "2026-11-25T10:00:00")
        visit_screen = describe_measurement(measured)
        assert visit_screen.endswith(f" {written}")
