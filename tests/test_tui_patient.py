"""The patient screen: starting the visit, archiving, editing, exporting, red flags."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from conftest import DAY
from textual.pilot import Pilot
from textual.widgets import Input, Static

from kinesio_tui.app import KinesioApp, build_app
from kinesio_tui.data.db import open_db
from kinesio_tui.domain.patients import find_patients, get_patient, patient_form, update_patient
from kinesio_tui.upstream_hooks import shown_notifications
from kinesio_tui.views.footer import KeyFooter
from kinesio_tui.views.patient import VISIT_WARM_UP_AFTER_S, PatientScreen
from kinesio_tui.views.patient_form import PatientForm
from kinesio_tui.views.patients import PatientsScreen
from kinesio_tui.views.row_table import RowTable
from kinesio_tui.views.widgets import Confirm, ProgrammePanel


def patient_id(db_path: Path, query: str, *, archived: bool = False) -> int:
    with open_db(db_path) as db:
        (patient,) = find_patients(db, query, archived=archived)
        return patient.id


def on_patient(
    db_path: Path,
    query: str,
    script: Callable[[KinesioApp, Pilot[None]], Awaitable[None]],
    *,
    size: tuple[int, int] = (80, 24),
) -> None:
    """Open the app on one patient's screen (as the palette would) and play `script`."""
    pid = patient_id(db_path, query)

    async def main() -> None:
        app = build_app(db_path)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            app.open_patient(pid)
            await pilot.pause()
            assert isinstance(app.screen, PatientScreen)
            await script(app, pilot)

    asyncio.run(main())


def text_of(app: KinesioApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


async def visits_warmed_up(app: KinesioApp, pilot: Pilot[None]) -> None:
    """Wait for the visit screens' warm-up, which starts a moment after the first patient
    screen is drawn (PatientScreen.warm_up_visits)."""
    await pilot.pause(VISIT_WARM_UP_AFTER_S + 0.05)
    await app.workers.wait_for_complete()
    await pilot.pause()


def programme_part(app: KinesioApp, name: str) -> str:
    """One piece of the programme block as shown: timeline, standing, legend or vas."""
    return app.screen.query_one(ProgrammePanel).parts[name].plain


def test_enter_on_the_current_visit_starts_it_and_the_screen_refreshes(
    demo_db_path: Path,
) -> None:
    from kinesio_tui.views.visit import VisitScreen
    from kinesio_tui.views.visit_record import VisitRecordScreen

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        table = app.screen.query_one("#visits", RowTable)
        assert "today" in str(table.get_row_at(table.cursor_row)[-1])
        await pilot.press("up", "enter")  # a done visit: read back, not started
        await pilot.pause()
        assert isinstance(app.screen, VisitRecordScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, PatientScreen)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, VisitScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, PatientScreen)
        table = app.screen.query_one("#visits", RowTable)
        assert "in progress" in str(table.get_row_at(table.cursor_row)[-1])
        assert "▶" in programme_part(app, "timeline")

    on_patient(demo_db_path, "petrauskas", script)


def test_archive_asks_then_hides_the_patient_from_the_list(demo_db_path: Path) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await pilot.press("a")
        assert isinstance(app.screen, Confirm)
        await pilot.press("n")  # changed my mind
        assert "[archived]" not in text_of(app, "#patient-header")
        await pilot.press("a", "y")
        await pilot.pause()
        assert "[archived]" in text_of(app, "#patient-header")
        await pilot.press("escape")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, PatientsScreen)
        table = app.screen.query_one("#patients", RowTable)
        shown = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert "Žemaitė, Rūta" not in shown
        await pilot.press("ctrl+r")  # the archived list
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert "Žemaitė, Rūta" in shown

    on_patient(demo_db_path, "zemaite", script)
    with open_db(demo_db_path) as db:
        assert not find_patients(db, "zemaite")
        assert find_patients(db, "zemaite", archived=True)


def test_edit_of_a_record_changed_elsewhere_is_reloaded_not_overwritten(
    demo_db_path: Path,
) -> None:
    pid = patient_id(demo_db_path, "petrauskas")

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await pilot.press("d")
        assert isinstance(app.screen, PatientForm)
        with open_db(demo_db_path) as other:  # another terminal saves first
            current = get_patient(other, pid)
            form = patient_form(current)
            update_patient(
                other,
                pid,
                type(form)(**{**form.__dict__, "phone": "+370 600 00000"}),
                expected_version=current.version,
                today=DAY,
            )
        phone = app.screen.query_one("#phone", Input)
        phone.value = "+370 611 11111"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, PatientForm)  # kept open, showing their change
        assert phone.value == "+370 600 00000"
        assert any("changed elsewhere" in n.message for n in shown_notifications(app))

    on_patient(demo_db_path, "petrauskas", script)
    with open_db(demo_db_path) as db:
        assert get_patient(db, pid).phone == "+370 600 00000"


def test_red_flag_banner_cannot_be_missed(demo_db_path: Path) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        banner = app.screen.query_one("#red-flags", Static)
        assert banner.display
        # the demo's referred patient: on hold, the referral on the banner
        assert "THERAPY ON HOLD" in str(banner.content)
        assert "referred to Neurologist" in str(banner.content)

    with open_db(demo_db_path) as db:
        flagged = db.execute(
            "SELECT p.last_name FROM red_flag_screens s JOIN episodes e ON e.id = s.episode_id "
            "JOIN patients p ON p.id = e.patient_id WHERE s.flags != '[]' AND p.archived_at IS NULL"
        ).fetchone()[0]
    on_patient(demo_db_path, flagged, script)


def test_export_writes_a_file_and_asks_before_replacing_it(demo_db_path: Path) -> None:
    from kinesio_tui.export import default_export_dir

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await pilot.press("e")
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, PatientScreen)
        (written,) = default_export_dir().iterdir()
        assert written.suffix == ".html"
        assert written.stat().st_mode & 0o077 == 0
        written.write_text("old")
        await pilot.press("e", "ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert written.read_text() != "old"
        # a visit note as Markdown: the current visit is not held yet, so the latest held one
        await pilot.press("e", "down", "space", "tab", "down", "space", "ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        (note,) = default_export_dir().glob("*.md")
        assert "visit" in note.name

    on_patient(demo_db_path, "petrauskas", script)


def test_a_patient_without_an_episode_can_open_one(demo_db_path: Path) -> None:
    from kinesio_tui.views.patient_form import EpisodeForm

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        assert "No episode of care yet" in text_of(app, "#patient-header")
        await pilot.press("o")
        assert isinstance(app.screen, EpisodeForm)

    on_patient(demo_db_path, "mockute", script)


def test_timeline_and_sparkline_read_without_colour(demo_db_path: Path) -> None:
    from kinesio_tui.domain.episodes import current_episode
    from kinesio_tui.domain.visits import visits_of
    from kinesio_tui.views.widgets import sparkline, timeline_text

    with open_db(demo_db_path) as db:
        episode = current_episode(db, patient_id(demo_db_path, "zemaite"))
        assert episode is not None
        visits = visits_of(db, episode.id)
    rows = timeline_text(visits, DAY, titles=False).plain.splitlines()
    # module 1 held, module 2 visit 2 in progress, the rest planned; doctors distinct
    assert rows[0] == "M1 ◆ ●●●●●● ◆ ●●●●●● ◆"
    assert rows[1] == "M2 ◆ ▶○○○○○ ◇ ○○○○○○ ◇"
    assert rows[2] == "M3 ◇ ○○○○○○ ◇ ○○○○○○ ◇"
    assert sparkline([10, 5, 0]) == "█▄_"


def test_a_whole_session_moves_the_timeline_and_the_pain_trend(demo_db_path: Path) -> None:
    """Driver case end to end: start today's visit, tick, record VAS, complete, come back."""
    from kinesio_tui.domain.episodes import current_episode
    from kinesio_tui.domain.visits import ticks_of, visits_of

    pid = patient_id(demo_db_path, "petrauskas")

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        assert "visit 4/15" in programme_part(app, "standing")
        await pilot.press("enter")  # the current visit: VisitScreen
        await pilot.pause()
        await pilot.press("space", "down", "space")  # tick two checklist items
        await pilot.press("t", "3", "ctrl+s")  # VAS 3 (the test dialog opens on VAS)
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("y")  # "complete anyway?" with items unticked
        await pilot.pause()
        assert isinstance(app.screen, PatientScreen)
        assert "visit 5/15" in programme_part(app, "standing")
        assert programme_part(app, "timeline").splitlines()[2].startswith("M3 ◆ ●●●○○○ ◇")
        vas = programme_part(app, "vas")
        assert vas.endswith(" 3  (v1→v34: -5, -62%) ✓ clinically important")

    on_patient(demo_db_path, "petrauskas", script)
    with open_db(demo_db_path) as db:
        episode = current_episode(db, pid)
        assert episode is not None
        held = next(v for v in visits_of(db, episode.id) if v.module == 3 and v.number == 4)
        assert held.status == "done"
        assert len(ticks_of(db, held.id)) == 2


def test_resizing_lays_the_programme_out_for_the_new_width(demo_db_path: Path) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        assert "planned" in programme_part(app, "legend").splitlines()[0]  # two lines at 80
        assert "onset" not in text_of(app, "#patient-header")
        narrow = text_of(app, "#results").splitlines()
        await pilot.resize_terminal(100, 24)  # same width class: the programme only
        await pilot.pause()
        wider = text_of(app, "#results").splitlines()
        assert len(wider) == len(narrow) and len(wider[0]) > len(narrow[0])
        await pilot.resize_terminal(120, 30)  # wide: one legend line, onset in the header
        await pilot.pause()
        assert len(programme_part(app, "legend").splitlines()) == 1
        assert "onset" in text_of(app, "#patient-header")

    on_patient(demo_db_path, "petrauskas", script)


def test_the_next_patient_reuses_the_screen_and_shows_only_their_data(demo_db_path: Path) -> None:
    """One patient screen is kept (issue 7); nothing of the previous patient may remain."""
    zemaite = patient_id(demo_db_path, "zemaite")
    simkus = patient_id(demo_db_path, "simkus algirdas")
    flagged = patient_id(demo_db_path, "jankauskiene")

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        first = app.screen
        assert "Tomas Petrauskas" in text_of(app, "#patient-header")
        table = app.screen.query_one("#visits", RowTable)
        assert "today" in str(table.get_row_at(table.cursor_row)[-1])  # Petrauskas: M3 4/15
        await pilot.press("tab")  # focus into the results, scrolled a little
        await pilot.press("down", "down")
        await pilot.press("escape")  # back to the list, then Žemaitė
        await pilot.pause()
        assert isinstance(app.screen, PatientsScreen)
        app.open_patient(zemaite)
        await pilot.pause()
        assert app.screen is first
        assert "Rūta Žemaitė" in text_of(app, "#patient-header")
        assert "Petrauskas" not in text_of(app, "#patient-header")
        table = app.screen.query_one("#visits", RowTable)
        assert "in progress" in str(table.get_row_at(table.cursor_row)[-1])  # her current visit
        assert app.screen.focused is table
        assert app.screen.query_one("#results-box").scroll_offset.y == 0
        app.open_patient(flagged)  # from the patient screen itself (as the palette does)
        await pilot.pause()
        assert app.screen is first and app.screen.has_class("-red-flag")
        app.open_patient(simkus)
        await pilot.pause()
        assert app.screen is first and len(app.screen_stack) == 2
        assert "Algirdas Šimkus" in text_of(app, "#patient-header")
        banner = app.screen.query_one("#red-flags", Static)
        assert not banner.display and "RED FLAG" not in str(banner.content)
        assert not app.screen.has_class("-red-flag")

    on_patient(demo_db_path, "petrauskas", script)


def test_every_value_on_the_patient_screen_says_which_visit_it_is_from(
    demo_db_path: Path,
) -> None:
    """The driver is in module 3: his EMG is from module 2's final appointment, his VAS from
    the last session; each value stands under the visit (and date) it was recorded at."""

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        lines = text_of(app, "#results").splitlines()
        headings = [i for i, line in enumerate(lines) if line.startswith("At visit ")]
        assert headings and headings[0] == 1  # under the column titles, before any value

        def heading_of(label: str) -> str:
            row = next(i for i, line in enumerate(lines) if line.startswith(label))
            return lines[max(h for h in headings if h < row)]

        # the plan skipped All Souls' Day (Mon 2 Nov), a public holiday: one clinic day later
        assert heading_of("VAS pain") == "At visit 33 (M3·3), 23 Nov"
        assert heading_of("EMG amplitude") == "At visit 30 (M2·15), 16 Nov"
        assert heading_of("Lasegue angle").startswith("At visit 31 (M3·1)")
        assert "(v1→v33: -8, -100%)" in programme_part(app, "vas")

    on_patient(demo_db_path, "petrauskas", script)


def test_the_visit_screens_css_is_ready_behind_the_first_patient_screen(
    demo_db_path: Path,
) -> None:
    """The visit screens' CSS is parsed behind the patient screen (views/visit_css.py):
    Enter then finds it loaded, and the visit is styled by it."""
    from kinesio_tui.views.visit import VisitScreen
    from kinesio_tui.views.visit_css import visit_css_loaded

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await visits_warmed_up(app, pilot)
        assert visit_css_loaded(app)
        sheet = app.stylesheet
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, VisitScreen)
        assert app.stylesheet is sheet  # not parsed again as the visit opened
        header = app.screen.query_one("#visit-header")
        assert header.styles.height is not None and header.styles.height.value == 1
        assert app.screen.query_one("#visit-note").border_title

    on_patient(demo_db_path, "petrauskas", script)


def test_visit_css_parsed_for_an_older_stylesheet_is_not_adopted(demo_db_path: Path) -> None:
    """If the app's stylesheet changed while the copy was parsed, Textual loads the CSS
    itself as the visit opens: the copy never drops what was added meanwhile."""
    from kinesio_tui.views.visit_css import adopt_visit_css, parse_visit_css, visit_css_loaded

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await visits_warmed_up(app, pilot)
        app.stylesheet = app.stylesheet.copy()  # as if nothing was loaded yet
        app.stylesheet.source.pop(
            next(k for k in app.stylesheet.source if k[0].endswith("visit.tcss"))
        )
        assert not visit_css_loaded(app)
        parsed = parse_visit_css(app)
        app.stylesheet.add_source("Static { height: 3; }", read_from=("elsewhere", ""))
        assert not adopt_visit_css(app, parsed)
        assert not visit_css_loaded(app)
        assert app.stylesheet.has_source("elsewhere", "")
        fresh = parse_visit_css(app)
        assert adopt_visit_css(app, fresh)
        assert visit_css_loaded(app) and app.stylesheet.has_source("elsewhere", "")

    on_patient(demo_db_path, "petrauskas", script)


def test_the_first_patient_screens_first_frame_is_its_last(demo_db_path: Path) -> None:
    """Issue 16: the first patient screen of a session is built holding what it shows: the
    patient, its width class and the footer's keys, so nothing is rebuilt or restyled once
    it is on screen (each was a layout and a repaint of the whole screen after its first
    frame: the footer composed its keys only after it, then rebuilt; the first Resize added
    the `-narrow` class, restyling every widget). And the visit screens' warm-up waits for
    that frame instead of competing with it."""
    pid = patient_id(demo_db_path, "petrauskas")
    seen: dict[str, Any] = {}

    async def main() -> None:
        app = build_app(demo_db_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            app.open_patient(pid)
            screen = app.get_screen("patient")
            seen["class as built"] = screen.has_class("-narrow")  # not when first resized

            def laid_out(_screen: object) -> None:
                if "header" not in seen:
                    seen["header"] = str(screen.query_one("#patient-header", Static).content)
                    seen["keys"] = list(screen.query_one(KeyFooter).keys_shown)
                    seen["workers"] = {worker.name for worker in app.workers}

            screen.screen_layout_refresh_signal.subscribe(app, laid_out)
            await visits_warmed_up(app, pilot)
            seen["keys now"] = list(screen.query_one(KeyFooter).keys_shown)

    asyncio.run(main())
    assert seen["class as built"]
    assert "Tomas Petrauskas" in seen["header"]
    assert [key.description for key in seen["keys"]] == [k.description for k in seen["keys now"]]
    assert "Start" in [key.description for key in seen["keys"]]
    assert all(a is b for a, b in zip(seen["keys"], seen["keys now"], strict=True))
    assert not {"warm_up_visit", "warm_visit_css"} & seen["workers"]
