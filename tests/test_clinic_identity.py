"""The clinic's identity: each field checked, `kinesio settings`, and every report's header."""

from __future__ import annotations

import base64
import os
import struct
import zlib
from pathlib import Path

import pytest
from conftest import DAY
from real_cli import run
from test_export_render import (
    HOSTILE_NAME,
    assert_self_contained,
    md_to_html,
    parse_html,
    patient_id,
)
from typer.testing import CliRunner

from kinesio_tui.cli import app
from kinesio_tui.clinic_identity import MAX_LOGO_BYTES, ClinicIdentity, checked_field
from kinesio_tui.data.db import ClinicDB
from kinesio_tui.errors import KinesioError, ValidationError
from kinesio_tui.export import FORMATS, KINDS, Format, render_export
from kinesio_tui.export.outcomes import render_outcomes
from kinesio_tui.export.render import override_dir
from kinesio_tui.settings import Settings, load_settings, save_settings, settings_path

runner = CliRunner()

# The reports that read the clinic's settings beside its records, from either engine (issue
# 17); the settings alone take no clinic and run once.
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def tiny_png(path: Path) -> Path:
    """A real 1x1 PNG, written by hand (signature, IHDR, IDAT, IEND)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
    return path


def set_clinic(**fields: str) -> None:
    save_settings(Settings(clinic=ClinicIdentity(**fields)))


# --- each field ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "kept"),
    [
        ("name", "  Kauno kineziterapijos klinika ", "Kauno kineziterapijos klinika"),
        ("address", "Laisvės al. 1\nLT-44001 Kaunas", "Laisvės al. 1\nLT-44001 Kaunas"),
        ("phone", "+370 (600) 12-345", "+370 (600) 12-345"),
        ("email", "reception@klinika.lt", "reception@klinika.lt"),
        ("registration_code", "LT-123456789", "LT-123456789"),
        ("name", "", ""),
    ],
)
def test_good_values_are_kept(field: str, value: str, kept: str) -> None:
    assert checked_field(field, value) == kept


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("name", "x" * 121, "at most 120 characters"),
        ("name", "Klinika\x1b]0;owned\x07", "no control characters"),
        ("name", "Two\nlines", "line breaks"),
        ("name", "Bidi\u202eevil", "no control characters"),
        ("address", "\n".join("line" for _ in range(7)), "at most 6 lines"),
        ("address", "a" * 301, "at most 300 characters"),
        ("address", "Street\x00 1", "no control characters"),
        ("phone", "+370 600 CALLME", "digits, spaces and + ( ) -"),
        ("phone", "+()", "at least 3 digits"),
        ("email", "reception", "e-mail address"),
        ("email", "a@b", "e-mail address"),
        ("email", "a b@clinic.lt", "e-mail address"),
        ("registration_code", "1" * 61, "at most 60 characters"),
        ("fax", "123", "choose one of"),
    ],
)
def test_bad_values_name_the_field_and_what_is_allowed(field: str, value: str, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        checked_field(field, value)
    assert says in refused.value.message
    assert field in refused.value.message


def test_logo_is_a_small_png_or_jpeg_file_told_by_its_bytes(tmp_path: Path) -> None:
    png = tiny_png(tmp_path / "logo.png")
    assert checked_field("logo", str(png)) == str(png.resolve())
    jpeg = tmp_path / "logo.jpg"
    jpeg.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 20)
    assert checked_field("logo", str(jpeg)) == str(jpeg)
    link = tmp_path / "elsewhere" / "link.png"
    link.parent.mkdir()
    link.symlink_to(png)
    assert checked_field("logo", str(link)) == str(png.resolve())

    svg = tmp_path / "logo.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>')
    named_png = tmp_path / "fake.png"
    named_png.write_text("<svg/>")
    big = tmp_path / "big.png"
    big.write_bytes(png.read_bytes() + b"\x00" * MAX_LOGO_BYTES)
    dangling = tmp_path / "dangling.png"
    dangling.symlink_to(tmp_path / "gone.png")
    for bad, says in [
        (svg, "SVG and other types are not accepted"),
        (named_png, "SVG and other types are not accepted"),
        (big, "at most 512 KB"),
        (tmp_path, "not a folder or device"),
        (Path("/dev/zero"), "not a folder or device"),
        (tmp_path / "missing.png", "that exists"),
        (dangling, "that exists"),
    ]:
        with pytest.raises(ValidationError, match=r"clinic\.logo") as refused:
            checked_field("logo", str(bad))
        assert says in refused.value.message, bad


def test_settings_keep_the_clinic_and_refuse_a_broken_table(tmp_path: Path) -> None:
    clinic = ClinicIdentity(
        name='Klinika "Judesys" \\ UAB',
        address="Laisvės al. 1\nKaunas",
        email="info@judesys.lt",
    )
    save_settings(Settings(backups_to_keep=30, opens_on="today", clinic=clinic))
    loaded = load_settings()
    assert loaded.clinic == clinic
    assert (loaded.backups_to_keep, loaded.opens_on) == (30, "today")
    assert os.stat(settings_path()).st_mode & 0o777 == 0o600

    settings_path().write_text('[clinic]\nemail = "nobody"\n', encoding="utf-8")
    with pytest.raises(KinesioError, match=r"clinic\.email: an e-mail address"):
        load_settings()
    settings_path().write_text('[clinic]\nfax = "1"\n', encoding="utf-8")
    with pytest.raises(KinesioError, match="text fields only"):
        load_settings()


# --- kinesio settings --------------------------------------------------------------------


def test_settings_set_and_show(tmp_path: Path) -> None:
    logo = tiny_png(tmp_path / "logo.png")
    for key, value in [
        ("clinic.name", "Judesys"),
        ("clinic.address", "Laisvės al. 1\\nKaunas"),
        ("clinic.phone", "+370 600 12345"),
        ("clinic.logo", str(logo)),
    ]:
        result = runner.invoke(app, ["settings", "set", key, value], catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
    assert load_settings().clinic == ClinicIdentity(
        name="Judesys", address="Laisvės al. 1\nKaunas", phone="+370 600 12345", logo=str(logo)
    )
    shown = runner.invoke(app, ["settings", "show"], catch_exceptions=False).stdout
    assert 'clinic.name = "Judesys"' in shown
    assert 'clinic.address = "Laisvės al. 1\\nKaunas"' in shown
    assert "clinic.email = -" in shown
    assert "backups.keep = 14" in shown
    cleared = runner.invoke(app, ["settings", "set", "clinic.logo", ""], catch_exceptions=False)
    assert cleared.exit_code == 0 and load_settings().clinic.logo == ""


@pytest.mark.slow
def test_a_refused_value_leaves_the_settings_file_byte_for_byte(tmp_path: Path) -> None:
    assert run("settings", "set", "clinic.name", "Judesys").code == 0
    before = settings_path().read_bytes()
    for key, value, says in [
        ("clinic.email", "not-an-address", "Invalid input: clinic.email: an e-mail address"),
        ("clinic.logo", str(tmp_path), "clinic.logo: a regular PNG or JPEG file"),
        ("clinic.name", "A\x1b[2JB", "clinic.name: plain text only"),
        ("clinic.fax", "1", "clinic.fax: not a setting"),
    ]:
        ran = run("settings", "set", key, value)
        assert ran.code == 2, ran
        assert len(ran.err_lines) == 1 and says in ran.err, ran
        assert "Traceback" not in ran.err
        assert settings_path().read_bytes() == before


# --- on every report -----------------------------------------------------------------------


def clinic_header(text: str) -> str:
    root = parse_html(text)
    headers = root.findall(".//header")
    assert len(headers) == 1
    return " ".join("".join(headers[0].itertext()).split())


def test_every_report_shows_the_clinic_and_none_shows_an_empty_header(
    demo_db: ClinicDB, tmp_path: Path
) -> None:
    case = patient_id(demo_db, "petrauskas")
    reports = [
        (kind, fmt)
        for kind in ("summary", "visit", "module", "exercises", "outcomes")
        for fmt in FORMATS
    ]

    def report(kind: str, fmt: Format) -> str:
        if kind == "outcomes":
            return render_outcomes(demo_db, fmt, today=DAY)
        patient_kind = next(k for k in KINDS if k == kind)
        return render_export(demo_db, case, kind=patient_kind, fmt=fmt, today=DAY)

    for kind, fmt in reports:
        text = report(kind, fmt)
        if fmt == "md":
            assert text.startswith("# "), kind
        else:
            assert parse_html(text).findall(".//header") == [], kind

    set_clinic(
        name="Judesys",
        address="Laisvės al. 1\nKaunas",
        phone="+370 600 12345",
        email="info@judesys.lt",
        registration_code="304050607",
    )
    for kind, fmt in reports:
        text = report(kind, fmt)
        if fmt == "html":
            assert clinic_header(text) == (
                "Judesys Laisvės al. 1Kaunas Tel. +370 600 12345 · E-mail info@judesys.lt "
                "· Registration code 304050607"
            ), kind
            assert_self_contained(text)
        else:
            assert text.startswith(
                "**Judesys**  \nLaisvės al. 1  \nKaunas  \n"
                "Tel. +370 600 12345 · E-mail info@judesys.lt · Registration code 304050607\n\n"
            ), (kind, text[:300])


def test_the_logo_is_embedded_with_its_alt_text(demo_db: ClinicDB, tmp_path: Path) -> None:
    logo = tiny_png(tmp_path / "logo.png")
    set_clinic(name="Judesys", logo=str(logo))
    case = patient_id(demo_db, "simkus")
    text = render_export(demo_db, case, kind="summary", fmt="html", today=DAY)
    images = parse_html(text).findall(".//header/img")
    assert len(images) == 1
    src = images[0].get("src", "")
    assert src.startswith("data:image/png;base64,")
    assert base64.b64decode(src.split(",", 1)[1]) == logo.read_bytes()
    assert images[0].get("alt") == "Judesys logo"
    assert_self_contained(text)
    assert "data:image" not in render_export(demo_db, case, kind="summary", fmt="md", today=DAY)

    logo.write_text("<svg/>")  # replaced since it was set: the export stops, naming it
    with pytest.raises(KinesioError, match=r"clinic\.logo"):
        render_export(demo_db, case, kind="summary", fmt="html", today=DAY)


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_clinic_text_is_inert(demo_db: ClinicDB, fmt: Format) -> None:
    set_clinic(name=HOSTILE_NAME, address="{{ 7 * 7 }}\n{% raw %}", phone="+370 (600) 1-2")
    case = patient_id(demo_db, "zemaite")
    text = render_export(demo_db, case, kind="visit", fmt=fmt, today=DAY)
    doc = "<!DOCTYPE html><title>md</title>"
    root = parse_html(text if fmt == "html" else doc + md_to_html(text))
    assert root.findall(".//script") == [] and root.findall(".//a") == []
    words = " ".join("".join(root.itertext()).split())
    assert HOSTILE_NAME in words
    assert "{{ 7 * 7 }}" in words and "{% raw %}" in words and "49" not in words.split()
    if fmt == "html":
        assert_self_contained(text)


def test_an_override_template_reads_the_clinic(demo_db: ClinicDB) -> None:
    set_clinic(name="<b>Judesys</b>")
    override_dir().mkdir(parents=True)
    (override_dir() / "visit_note.md.j2").write_text(
        "From {{ clinic.name }}{% if clinic.logo %} with a logo{% endif %}\n", encoding="utf-8"
    )
    case = patient_id(demo_db, "zemaite")
    text = render_export(demo_db, case, kind="visit", fmt="md", today=DAY)
    assert text == "From \\<b\\>Judesys\\</b\\>"


def test_reports_read_the_settings_once_per_version_of_the_file() -> None:
    from kinesio_tui.settings import current_settings

    set_clinic(name="Judesys")
    first = current_settings()
    assert current_settings() is first  # a run of reports parses the file once
    set_clinic(name="Judesys II", phone="+370 600 12345")
    assert current_settings().clinic.name == "Judesys II"  # an edited file is read afresh
    settings_path().unlink()
    assert current_settings().clinic.name == ""  # a removed file: the defaults
