"""An episode's diagnosis as a letter or a FHIR Condition codes it: ICD-10, in the edition the
clinic codes in (the WHO's, or a national modification such as ICD-10-AM).

The codes are data (protocol.toml `[icd10]` and each subtype's `icd10`); the edition is the
clinic's setting `clinic.icd10_variant`, the protocol's default when not set.
"""

from __future__ import annotations

from dataclasses import dataclass

from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.protocol import Protocol


@dataclass(frozen=True)
class Diagnosis:
    """A diagnosis code with its title, and the edition it comes from."""

    code: str  # "M54.16"
    title: str  # "Radiculopathy, lumbar region"
    system: str  # the FHIR system URI of the edition
    variant: str  # "am"
    variant_label: str  # "ICD-10-AM"


def icd10_variants(protocol: Protocol) -> tuple[str, ...]:
    """The editions a clinic may choose (`clinic.icd10_variant`)."""
    return tuple(v.code for v in protocol.icd10.variants)


def episode_diagnosis(
    protocol: Protocol, condition: str, subtype: str, variant: str | None = None
) -> Diagnosis:
    """The ICD-10 code of an episode's condition and subtype, in `variant` (the protocol's
    default edition when None or empty). KinesioError when the edition or the subtype is not
    one the protocol knows."""
    edition = protocol.icd10.variant(variant or protocol.icd10.default_variant)
    if edition is None:
        raise KinesioError(
            _("Unknown ICD-10 edition"),
            _(
                "clinic.icd10_variant is {variant!r}; choose one of: {known}.",
                variant=variant,
                known=", ".join(icd10_variants(protocol)),
            ),
        )
    found = protocol.condition(condition)
    sub = found.subtype(subtype) if found else None
    code = sub.icd10_code(edition.code) if sub else None
    if code is None:
        raise KinesioError(
            _("No diagnosis code"),
            _("The programme has no ICD-10 code for {condition}, {subtype}.",
              condition=condition, subtype=subtype),
        )  # fmt: skip
    return Diagnosis(code, edition.title(code) or "", edition.system, edition.code, edition.label)
