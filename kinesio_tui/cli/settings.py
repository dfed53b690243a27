"""`kinesio settings`: show the clinic's settings, and set the clinic's identity on reports."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from kinesio_tui.cli.refusal import fail
from kinesio_tui.errors import KinesioError, ValidationError
from kinesio_tui.i18n import _
from kinesio_tui.plain_text import shown

settings_app = typer.Typer(
    help=_("Show the clinic's settings, or set the clinic's name, address and contact."),
    no_args_is_help=True,
)


@settings_app.command("show", help=_("Print the settings in use and the file they come from."))
def settings_show() -> None:
    from kinesio_tui.clinic_identity import CLINIC_FIELDS
    from kinesio_tui.settings import load_settings, settings_path

    try:
        settings = load_settings()
    except KinesioError as error:
        raise fail(error) from None
    path = settings_path()
    where = path if path.exists() else _("{path} (not written yet: the defaults)", path=path)
    lines = [
        _("Settings file: {where}", where=where),
        f"backups.keep = {settings.backups_to_keep}",
        f"backups.automatic = {'true' if settings.automatic_backups else 'false'}",
        f"workstation.opens_on = {settings.opens_on}",
    ]
    for field in CLINIC_FIELDS:
        value = getattr(settings.clinic, field)
        # JSON quoting: an address's line breaks show as \n, on one line
        lines.append(f"clinic.{field} = {json.dumps(value, ensure_ascii=False) if value else '-'}")
    if not settings.clinic.icd10_variant:
        from kinesio_tui.protocol import protocol

        lines[-1] += "  " + _(
            "(the programme's default: {variant})", variant=protocol().icd10.default_variant
        )
    typer.echo(shown("\n".join(lines)))


@settings_app.command(
    "set",
    help=_(
        "Set one clinic field: those shown on every report, clinic.name, clinic.address (\\n "
        "for a new line), clinic.phone, clinic.email, clinic.registration_code, clinic.logo (a "
        "PNG or JPEG file of at most 512 KB); or clinic.icd10_variant, the ICD-10 edition "
        'diagnoses are coded in (who, or am for ICD-10-AM). An empty value ("") clears it.'
    ),
)
def settings_set(
    key: Annotated[str, typer.Argument(help=_("Which setting, e.g. clinic.name."))],
    value: Annotated[str, typer.Argument(help=_("The new value."))],
) -> None:
    from dataclasses import replace

    from kinesio_tui.clinic_identity import CLINIC_FIELDS, with_field
    from kinesio_tui.settings import load_settings, save_settings

    section, _dot, field = key.partition(".")
    if section != "clinic" or field not in CLINIC_FIELDS:
        known = ", ".join(f"clinic.{f}" for f in CLINIC_FIELDS)
        raise fail(ValidationError(key, _("not a setting; choose one of: {known}.", known=known)))
    if field == "address":
        value = value.replace("\\n", "\n")
    try:
        settings = load_settings()
        clinic = with_field(settings.clinic, field, value)
        if field == "icd10_variant" and clinic.icd10_variant:
            _check_variant(clinic.icd10_variant)
        path = save_settings(replace(settings, clinic=clinic))
    except KinesioError as error:
        raise fail(error) from None
    except OSError as error:
        raise fail(
            KinesioError(_("Cannot write the settings"), str(error.strerror or error))
        ) from None
    shown_value = getattr(clinic, field)
    typer.echo(
        shown(_("clinic.{field} set in {path}.", field=field, path=path))
        if shown_value
        else shown(_("clinic.{field} cleared in {path}.", field=field, path=path))
    )


def _check_variant(variant: str) -> None:
    """Refuse an ICD-10 edition the programme has no codes for."""
    from kinesio_tui.domain.diagnosis import icd10_variants
    from kinesio_tui.protocol import protocol

    known = icd10_variants(protocol())
    if variant not in known:
        raise ValidationError(
            "clinic.icd10_variant",
            _("one of the editions the programme has codes for: {known}.", known=", ".join(known)),
        )
