"""The home-exercise sheet: the patient's current module's exercises as the doctor tailored
them, steps from the instructions file (which the clinic may override), the clinic's
contact, the safety line, and nothing clinical.

Regenerate goldens with KINESIO_UPDATE_GOLDEN=1."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

import pytest
from conftest import DAY, held_episode
from real_cli import assert_one_line_refusal, run
from test_export_render import (
    CASES,
    GOLDEN,
    assert_self_contained,
    md_to_html,
    parse_html,
    patient_id,
)

from kinesio_tui.clinic_identity import ClinicIdentity
from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.episodes import close_episode, current_episode, screen_red_flags
from kinesio_tui.domain.models import NewEpisode, NewPatient, Visit
from kinesio_tui.domain.patients import create_patient, get_patient
from kinesio_tui.domain.plan import (
    add_plan_item,
    patient_home_exercises,
    remove_plan_item,
    set_target_dosage,
)
from kinesio_tui.errors import KinesioError
from kinesio_tui.exercise_instructions import BUILTIN_FILE, clinic_file, exercise_instructions
from kinesio_tui.export import export_patient, render_export
from kinesio_tui.export.fmt import day
from kinesio_tui.protocol import protocol
from kinesio_tui.settings import Settings, save_settings, settings_path

#: Markup, Markdown structure and a link, as a clinic's file or an old record might hold them.
MARKUP = "<script>alert(1)</script> **x** [y](javascript:z) | cell"
#: One unbroken word far wider than an A4 page.
LONG_WORD = "Ž" * 280

# Sheets built from what either engine reads back, and the real command on both (issue 17);
# the dialog test drives the screens on the file (test_tui_patient's helper takes a path).
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def sheet(db: ClinicDB, pid: int, fmt: str = "md") -> str:
    return render_export(db, pid, kind="exercises", fmt=fmt, today=DAY)  # type: ignore[arg-type]


def lumbar(db: ClinicDB, held: int = 1, at: object = None) -> tuple[int, int, list[Visit]]:
    return held_episode(db, NewEpisode("radiculitis", "lumbar", "R"), held=held, at=at)  # type: ignore[arg-type]


def test_demo_sheets_parse_and_match_golden_files(demo_db: ClinicDB) -> None:
    update = os.environ.get("KINESIO_UPDATE_GOLDEN") == "1"
    mismatched = []
    save_settings(
        Settings(
            clinic=ClinicIdentity(
                name="Judesys", address="Laisvės al. 1\nKaunas", phone="+370 600 12345"
            )
        )
    )
    for case in CASES:
        pid = patient_id(demo_db, case)
        for fmt in ("html", "md"):
            text = sheet(demo_db, pid, fmt)
            if fmt == "html":
                tree = parse_html(text)
                assert tree.find(".//script") is None
                assert_self_contained(text)
                assert tree.findall(".//ol[@class='steps']")
            else:
                assert "<ol>" in md_to_html(text)
            assert "Judesys" in text and "+370 600 12345" in text  # whom to call
            golden = GOLDEN / f"{case}-exercises.{fmt}"
            if update:
                golden.write_text(text, encoding="utf-8")
            elif not golden.exists() or golden.read_text(encoding="utf-8") != text:
                mismatched.append(golden.name)
    assert not mismatched, f"differ from golden files (KINESIO_UPDATE_GOLDEN=1): {mismatched}"


def test_the_sheet_lists_the_current_modules_exercises_as_tailored(demo_db: ClinicDB) -> None:
    pid = patient_id(demo_db, "zemaite")  # in module 2
    episode = current_episode(demo_db, pid)
    assert episode is not None
    mine = patient_home_exercises(demo_db, episode.id, 2)
    text = sheet(demo_db, pid)
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [f"## {i}. {e.label}" for i, e in enumerate(mine, 1)]
    for e in mine:
        assert f"**{e.target}**" in text
    # the doctor's dosage, not the programme's: Petrauskas drives for a living
    assert "every 45 min of driving" in sheet(demo_db, patient_id(demo_db, "petrauskas"))


def test_nothing_clinical_is_on_the_sheet(demo_db: ClinicDB) -> None:
    pid = patient_id(demo_db, "petrauskas")
    patient = get_patient(demo_db, pid)
    text = sheet(demo_db, pid) + sheet(demo_db, pid, "html")
    for clinical in (
        "Radiculitis",
        "Sciatica",
        "M54",  # a diagnosis code
        "VAS",
        "Lasegue",
        "Red flag",
        "red flag",
        "Pain medication",
        "Note",
        str(patient.birth_date),
        day(patient.birth_date),
        "Confidential health record",
    ):
        assert not clinical or clinical not in text, clinical
    for note in (patient.notes, patient.occupation):
        assert not note or note not in text


def test_tailoring_removes_adds_and_doses_the_patients_exercises(db: ClinicDB) -> None:
    def tailor(visit: Visit) -> None:
        if visit.seq == 1:
            remove_plan_item(db, visit.id, "h1_walking", reason="walks a lot", which="home")
            add_plan_item(
                db, visit.id, label="Stairs, one at a time", dosage="2 flights", reason="home",
                which="home",
            )  # fmt: skip
            set_target_dosage(db, visit.id, "h1_knee_to_chest", "3 x 20 s", which="home")

    pid, _eid, _visits = lumbar(db, held=1, at=tailor)
    text = sheet(db, pid)
    assert "Walking at an easy pace" not in text
    assert "## 1. Knee to chest, lying on your back\n\n**3 x 20 s**" in text
    stairs = text.split("Stairs, one at a time")[1].split("##")[0]
    assert "**2 flights**" in stairs and "Your therapist will show you how." in stairs


def test_every_home_exercise_has_steps_and_the_file_is_complete() -> None:
    data = tomllib.loads(BUILTIN_FILE.read_text(encoding="utf-8"))
    codes = {e.code for m in protocol().modules for e in m.home_exercises}
    assert set(data["exercises"]) == codes
    words = exercise_instructions()
    for code in codes:
        assert words.steps[code] and all(step.strip() for step in words.steps[code]), code
    assert words.safety.startswith("Stop") and "call the clinic" in words.safety


def test_the_clinics_file_replaces_the_exercises_it_names(db: ClinicDB) -> None:
    pid, _eid, _visits = lumbar(db)
    own = clinic_file()
    own.parent.mkdir(parents=True, exist_ok=True)
    own.write_text(
        'safety = "Call Dr Ona on 8 600 00000 if the leg goes numb."\n'
        '[exercises.h1_knee_to_chest]\nsteps = ["Our way, step one.", "Our way, step two."]\n',
        encoding="utf-8",
    )
    text = sheet(db, pid)
    assert "1. Our way, step one.\n2. Our way, step two." in text
    assert "Lying on your back, pull" not in text
    assert "**Call Dr Ona on 8 600 00000 if the leg goes numb.**" in text
    assert "1. Sit tall on a chair." in text  # an exercise the clinic left alone keeps its steps
    own.write_text('[exercises.h1_knee_to_chest]\nsteps = ["Edited."]\n', encoding="utf-8")
    text = sheet(db, pid)
    assert "1. Edited." in text  # read afresh: an edit shows on the next sheet
    assert "**Stop the exercise and call the clinic" in text


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('[exercises.h1_knee_to_chest\nsteps = ["x"]\n', "line"),
        ('[exercises.h9_moonwalk]\nsteps = ["x"]\n', "exercises.h9_moonwalk"),
        ("[exercises.h1_knee_to_chest]\nsteps = []\n", "exercises.h1_knee_to_chest.steps"),
        ('[exercises.h1_knee_to_chest]\nsteps = ["  "]\n', "steps[0]"),
        ('[exercises.h1_knee_to_chest]\nsteps = ["' + "x" * 301 + '"]\n', "too long"),
        ('[exercises.h1_knee_to_chest]\nsteps = ["a\\u001b[2Jb"]\n', "control"),
        ('[exercises.h1_knee_to_chest]\nsteps = ["evil \\u202egnp.exe"]\n', "text-direction"),
        ('[exercises.h1_knee_to_chest]\nsteps = ["two\\nlines"]\n', "one line"),
        ('[exercises.h1_knee_to_chest]\nsteps = "x"\n', "list"),
        ('safety = ""\n', "safety"),
        ('colour = "red"\n', "colour"),
    ],
)
def test_a_broken_clinic_file_is_refused_in_one_line_naming_it(
    db: ClinicDB, tmp_path: Path, content: str, says: str
) -> None:
    pid, _eid, _visits = lumbar(db)
    own = clinic_file()
    own.parent.mkdir(parents=True, exist_ok=True)
    own.write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(KinesioError) as error:
        export_patient(db, pid, kind="exercises", fmt="html", out_dir=out, today=DAY)
    message = error.value.message
    assert str(own) in message and says in message and "\n" not in message
    assert not out.exists()


def test_hostile_text_in_the_name_and_the_clinics_file_is_inert(db: ClinicDB) -> None:
    pid, _eid, _visits = lumbar(db)
    # what an older version or a hand edit may have left: markup, controls, bidi, long
    legacy = f"{MARKUP} \x1b[2J\x9b31m \u202eevil {LONG_WORD}"
    db.execute("UPDATE patients SET first_name = ? WHERE id = ?", [legacy, pid])
    own = clinic_file()
    own.parent.mkdir(parents=True, exist_ok=True)
    step = MARKUP + " " + "Ž" * 200
    own.write_text(
        f"safety = {step!r}\n[exercises.h1_knee_to_chest]\nsteps = [{step!r}, {LONG_WORD[:300]!r}]\n"
        .replace("'", '"'),
        encoding="utf-8",
    )  # fmt: skip
    html = sheet(db, pid, "html")
    tree = parse_html(html)
    assert tree.find(".//script") is None and tree.find(".//a") is None
    content = "".join(tree.itertext())
    assert MARKUP in content and LONG_WORD in content  # intact, as text
    assert "\x1b" not in html and "\x9b" not in html and "\u202e" not in html
    assert "overflow-wrap: anywhere" in html  # a long word wraps on the page
    text = sheet(db, pid)
    rendered = md_to_html(text)
    assert "<script" not in rendered and "<a " not in rendered and "<table" not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt; **x** [y](javascript:z) | cell" in rendered
    assert "\x1b" not in text and "\u202e" not in text


def test_a_finished_programme_gets_its_last_modules_sheet(demo_db: ClinicDB) -> None:
    text = sheet(demo_db, patient_id(demo_db, "simkus"))  # completed
    assert "module 3 of 3" in text and "Keep doing these exercises at home." in text
    assert "Keep doing" not in sheet(demo_db, patient_id(demo_db, "petrauskas"))


def test_no_programme_closed_or_on_hold_is_refused(db: ClinicDB, tmp_path: Path) -> None:
    alone = create_patient(db, NewPatient("Be", "Programos", "1970-01-01", "M"), today=DAY)
    closed, closed_episode, _v = lumbar(db)
    close_episode(db, closed_episode, today=DAY)
    held, held_episode_id, _v = held_episode(
        db,
        NewEpisode("radiculitis", "lumbar", "L"),
        patient=NewPatient("A", "B", "1970-01-01", "F"),
    )
    screen_red_flags(db, held_episode_id, ["bladder_bowel"], today=DAY)
    out = tmp_path / "out"
    for pid, says in ((alone, "no programme"), (closed, "closed early"), (held, "on hold")):
        with pytest.raises(KinesioError) as error:
            export_patient(db, pid, kind="exercises", fmt="md", out_dir=out, today=DAY)
        assert says in error.value.message and "\n" not in error.value.message
    assert not out.exists()


@pytest.mark.sqlite_only  # sheets from PostgreSQL: above; the process's files are the exporter's
@pytest.mark.slow
def test_the_real_kinesio_writes_a_sheet_and_refuses_without_a_file(
    demo_target: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    ran = run("export", "zemaite", "--kind", "exercises", "--format", "md", "--out", out,
              "--db", demo_target)  # fmt: skip
    assert ran.code == 0, ran
    written = Path(ran.out.strip())
    assert written.parent == out and written.name.startswith("patient-0002-exercises-module-2-")
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert "# Your home exercises" in written.read_text(encoding="utf-8")
    again = run("export", "zemaite", "--kind", "exercises", "--format", "md", "--out", out,
                "--db", demo_target)  # fmt: skip
    assert_one_line_refusal(again)  # exists: replaced only with --force
    forced = run("export", "zemaite", "--kind", "exercises", "--format", "md", "--out", out,
                 "--force", "--db", demo_target)  # fmt: skip
    assert forced.code == 0, forced
    # a patient without a programme: one line, exit 2, nothing written
    empty = tmp_path / "empty"
    made = run("patients", "add", "--first", "Be", "--last", "Programos", "--born",
               "1970-01-01", "--sex", "M", "--db", demo_target)  # fmt: skip
    assert made.code == 0, made
    refused = run("export", "Programos", "--kind", "exercises", "--out", empty,
                  "--db", demo_target)  # fmt: skip
    assert_one_line_refusal(refused)
    assert "no programme" in refused.err and not empty.exists()
    # a broken clinic file: one line naming it, nothing written
    own = clinic_file()
    own.parent.mkdir(parents=True, exist_ok=True)
    own.write_text('[exercises.h9_moonwalk]\nsteps = ["x"]\n', encoding="utf-8")
    broken = run("export", "zemaite", "--kind", "exercises", "--out", empty,
                 "--db", demo_target)  # fmt: skip
    assert_one_line_refusal(broken)
    assert str(own) in broken.err and not empty.exists()
    assert settings_path().parent == own.parent  # beside the settings, as the README says


def test_the_export_dialog_writes_the_sheet(demo_db_path: Path) -> None:
    from test_tui_patient import on_patient
    from textual.pilot import Pilot
    from textual.widgets import RadioSet

    from kinesio_tui.app import KinesioApp
    from kinesio_tui.export import default_export_dir
    from kinesio_tui.views.export_dialog import ExportDialog
    from kinesio_tui.views.patient import PatientScreen

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        # the kinds: summary, visit, module, home exercises; Enter on the last chooses it
        await pilot.press("down", "down", "down", "enter")
        chosen = app.screen.query_one("#export-kind", RadioSet).pressed_button
        assert chosen is not None and chosen.id == "kind-exercises"
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, PatientScreen)
        (written,) = default_export_dir().iterdir()
        assert written.name.startswith("patient-0002-exercises-module-2-")
        assert written.suffix == ".html" and "Your home exercises" in written.read_text()

    on_patient(demo_db_path, "zemaite", script)
