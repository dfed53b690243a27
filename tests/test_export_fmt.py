"""The report's formatting is worked out once per value and kept: what is kept is what
working it out again gives, whichever of two equal values (1 and 1.0, -0.0 and 0.0) came
first."""

from __future__ import annotations

import pytest

from kinesio_tui.export import fmt

VALUES = [None, 0, 0.0, -0.0, 1, 1.0, -1, -1.0, True, 2.5, -2.25, 4.255, 1e-9, -1e-9, 35, 90.0]
VALUES += [float("nan"), float("inf"), -float("inf"), 0.1 + 0.2, 7 / 3]
UNITS = ["", "°", "/10", "cm", "%"]


def fresh_measure(value: float | None, unit: str, decimals: int) -> str:
    return str(fmt._measure.__wrapped__(value, unit, decimals))


def fresh_signed(value: float | None, unit: str, decimals: int) -> str:
    return str(fmt._signed.__wrapped__(value, unit, decimals))


@pytest.mark.parametrize("first", ["forwards", "backwards"])
def test_kept_formatting_is_what_working_it_out_gives(first: str) -> None:
    fmt._measure.cache_clear()
    fmt._signed.cache_clear()
    fmt._number.cache_clear()
    values = VALUES if first == "forwards" else VALUES[::-1]
    for _round in range(2):  # the second round reads what the first kept
        for value in values:
            for unit in UNITS:
                for decimals in (1, 2):
                    assert str(fmt.measure(value, unit, decimals=decimals)) == fresh_measure(
                        value, unit, decimals
                    )
                    assert str(fmt.signed(value, unit, decimals=decimals)) == fresh_signed(
                        value, unit, decimals
                    )
            assert fmt.number(value) == fmt._number.__wrapped__(value, 1)


def test_percent_of_minus_zero_is_not_taken_for_zero() -> None:
    assert str(fmt.percent(0.0, signed_=True)) != str(fmt.percent(-0.0, signed_=True))
    assert str(fmt.percent(-0.0, signed_=True)) == "\u22120\u00a0%"
