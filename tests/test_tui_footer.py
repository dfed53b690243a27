"""The key footer: drawn as Textual's Footer draws it, rebuilt when the keys change, and only
then; the mouse works on it as on Footer's keys."""

from __future__ import annotations

import asyncio
import unicodedata
from pathlib import Path
from typing import Any, ClassVar

import pytest
from textual import events
from textual import keys as textual_keys
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.pilot import Pilot
from textual.widgets import Footer, Input, Static
from tui_driver import drive, settle

from kinesio_tui.app import KEY_DISPLAYS, KinesioApp, build_app
from kinesio_tui.domain.patients import find_patients
from kinesio_tui.views.footer import FooterKey, KeyFooter

Cell = tuple[str, str]


def footer_keys(app: KinesioApp) -> tuple[FooterKey, ...]:
    return app.screen.query_one(KeyFooter).keys_shown


def bottom_line(app: App[Any]) -> list[Cell]:
    """The terminal's last row, cell by cell: (character, style)."""
    strip = app.screen._compositor.render_strips()[-1]
    return [(ch, str(segment.style)) for segment in strip for ch in segment.text]


class Keys(App[None]):
    """A screen with the kinds of keys the workstation's footers show."""

    AUTO_FOCUS = None
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", tooltip="Open the highlighted row"),
        Binding("ctrl+n", "new", "New patient"),
        Binding("x,delete", "remove", "Remove"),  # one key per action, the first
        Binding("slash", "search", "Search"),
        Binding("question_mark", "help", "Help"),
        Binding("d", "details", "Details"),  # disabled: check_action says None
        Binding("f", "hidden", "Hidden", show=False),
        Binding("k", "nameless", ""),  # a key without words
    ]

    def __init__(self, footer: Footer | KeyFooter, *, focus_input: bool = False) -> None:
        super().__init__()
        self.footer = footer
        self.focus_input = focus_input
        self.done: list[str] = []
        self.rung = 0

    def compose(self) -> ComposeResult:
        yield Static("body")
        yield Input(id="field")
        yield self.footer

    def on_mount(self) -> None:
        if self.focus_input:
            self.query_one(Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if action == "details" else True

    def action_open(self) -> None:
        self.done.append("open")

    def bell(self) -> None:
        self.rung += 1


def drawn(
    footer: Footer | KeyFooter, size: tuple[int, int], *, hover_x: int | None = None
) -> list[Cell]:
    """The bottom line of a Keys app with `footer`, at `size` (the mouse at `hover_x`)."""
    app = Keys(footer)
    line: list[Cell] = []

    async def run() -> None:
        async with app.run_test(size=size) as pilot:
            for _ in range(3):
                await pilot.pause()
            if hover_x is not None:
                await pilot.hover(offset=(hover_x, size[1] - 1))
                for _ in range(3):
                    await pilot.pause()
            line.extend(bottom_line(app))

    asyncio.run(run())
    return line


@pytest.mark.parametrize("compact", [True, False])
@pytest.mark.parametrize("palette", [True, False])
@pytest.mark.parametrize("width", [100, 60, 34])
def test_the_footer_draws_what_textuals_footer_draws(
    compact: bool, palette: bool, width: int
) -> None:
    """Cell for cell, style for style: keys, words, spacing, dim disabled keys, the palette's
    key and its bar, keys cut at the palette's key or the edge."""
    size = (width, 5)
    theirs = drawn(Footer(compact=compact, show_command_palette=palette), size)
    ours = drawn(KeyFooter(compact=compact, show_command_palette=palette), size)
    text = "".join(ch for ch, _style in ours)
    assert "Open" in text and "Hidden" not in text
    overflows = "Help" not in "".join(ch for ch, _style in theirs)
    if compact and palette and overflows:
        # Textual leaves its last column showing a cut key's letter (its scrolled keys,
        # under the palette key's margin); here that column is the margin, blank
        assert ours[-1][0] == " " and theirs[-1][0] != " "
        ours, theirs = ours[:-1], theirs[:-1]
    assert ours == theirs


def test_a_key_under_the_mouse_is_highlighted_as_in_textuals_footer() -> None:
    size = (100, 5)
    x = 10  # on "^n New patient"
    theirs = drawn(Footer(compact=True), size, hover_x=x)
    ours = drawn(KeyFooter(compact=True), size, hover_x=x)
    assert ours == theirs
    assert ours != drawn(KeyFooter(compact=True), size)


def test_a_click_presses_the_key_and_a_disabled_key_rings() -> None:
    app = Keys(KeyFooter(compact=True))

    async def run() -> None:
        async with app.run_test(size=(100, 5)) as pilot:
            await pilot.pause()
            footer = app.query_one(KeyFooter)
            placed = {p.key.action: p for p in footer.placed_keys()}
            assert footer.tooltip is None
            await pilot.hover(KeyFooter, offset=(placed["open"].x, 0))
            await pilot.pause()
            assert footer.tooltip == "Open the highlighted row"
            await pilot.click(KeyFooter, offset=(placed["open"].x + 2, 0))
            await pilot.pause()
            assert app.done == ["open"]
            await pilot.click(KeyFooter, offset=(placed["details"].x, 0))
            await pilot.pause()
            assert app.rung == 1 and app.done == ["open"]

    asyncio.run(run())


def test_the_mouse_wheel_scrolls_keys_that_do_not_fit() -> None:
    app = Keys(KeyFooter(compact=True))

    async def run() -> None:
        async with app.run_test(size=(34, 5)) as pilot:
            await pilot.pause()
            footer = app.query_one(KeyFooter)
            before = {p.key.action: p for p in footer.placed_keys()}
            assert not before["help"].whole and before["open"].whole
            for _ in range(10):  # as the terminal's wheel arrives over the footer
                footer.post_message(
                    events.MouseScrollDown(footer, 1, 0, 0, 1, 0, False, False, False)
                )
            await pilot.pause()
            after = {p.key.action: p for p in footer.placed_keys()}
            assert after["help"].whole and not after["open"].whole
            assert "Help" in "".join(ch for ch, _style in bottom_line(app))
            for _ in range(10):
                footer.post_message(
                    events.MouseScrollUp(footer, 1, 0, 0, -1, 0, False, False, False)
                )
            await pilot.pause()
            assert footer.placed_keys() == list(before.values())

    asyncio.run(run())


def test_keys_an_input_takes_are_not_offered_while_it_has_the_focus() -> None:
    """As Footer: with the cursor in a field, letters and "?" are typed, not keys."""
    app = Keys(KeyFooter(compact=True), focus_input=True)

    async def run() -> None:
        async with app.run_test(size=(100, 5)) as pilot:
            for _ in range(3):
                await pilot.pause()
            shown = {key.key for key in app.query_one(KeyFooter).keys_shown}
            assert "ctrl+n" in shown and "x" not in shown and "question_mark" not in shown

    asyncio.run(run())


def test_footer_follows_the_keys_but_skips_identical_rebuilds(demo_db_path: Path) -> None:
    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        before = footer_keys(app)
        assert "Search" in " ".join(key.description for key in before)
        app.screen.refresh_bindings()  # same keys: nothing to rebuild
        await settle(app, pilot)
        assert footer_keys(app) is before
        (patient,) = find_patients(app.db, "petrauskas")
        app.open_patient(patient.id)
        await settle(app, pilot)
        shown = " ".join(key.description for key in footer_keys(app))
        assert "Export" in shown and "Search" not in shown

    drive(demo_db_path, script)


def test_a_new_screen_builds_its_footer_once(
    demo_db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mounted, focused, data loaded: three bindings refreshes, one rebuild with the last keys."""
    rebuilt: list[str] = []
    build = KeyFooter._footer_keys

    def counting(self: KeyFooter, screen: Any) -> tuple[FooterKey, ...]:
        rebuilt.append(type(screen).__name__)
        return build(self, screen)

    monkeypatch.setattr(KeyFooter, "_footer_keys", counting)

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        (patient,) = find_patients(app.db, "petrauskas")
        rebuilt.clear()
        app.open_patient(patient.id)
        await settle(app, pilot)
        assert rebuilt == ["PatientScreen"]
        shown = [(key.key, key.description) for key in footer_keys(app)]
        assert ("enter", "Start") in shown and ("e", "Export") in shown

    drive(demo_db_path, script)


KEYS_SHOWN = [
    *KEY_DISPLAYS,
    *"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "escape",
    "enter",
    "space",
    "up",
    "down",
    "delete",
    "backspace",
    "pageup",
    "f1",
    "exclamation_mark",
]


@pytest.mark.parametrize("key", KEYS_SHOWN)
def test_the_workstation_shows_a_key_as_textual_does(key: str, db_path: Path) -> None:
    app = build_app(db_path)
    for bound in (key, f"ctrl+{key}", f"shift+{key}", f"ctrl+shift+{key}"):
        binding = Binding(bound, "bell", "Ring")
        assert app.get_key_display(binding) == App.get_key_display(app, binding), bound
    assert app.get_key_display(Binding(key, "bell", "Ring", key_display="K")) == "K"
    app.db.close()


class NameLookups:
    """unicodedata as textual.keys sees it, recording the names looked up."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def lookup(self, name: str) -> str:
        self.names.append(name)
        return unicodedata.lookup(name)

    def name(self, character: str) -> str:
        self.names.append(character)
        return unicodedata.name(character)


def test_a_list_session_never_reads_unicode_names(
    demo_db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The footer's keys and the keys Textual checks against the focused widget are named
    without the Unicode name database (its pages are ~0.8 MiB of the list's memory)."""
    looked_up = NameLookups()
    monkeypatch.setattr(textual_keys, "unicodedata", looked_up)

    async def script(app: KinesioApp, pilot: Pilot[None]) -> None:
        await pilot.press("down", "down", "up", "j", "a", "n")
        await settle(app, pilot)
        await pilot.press("down", "escape", "question_mark")
        await settle(app, pilot)
        await pilot.press("escape")
        (patient,) = find_patients(app.db, "petrauskas")
        app.open_patient(patient.id)
        await settle(app, pilot)
        assert "Export" in " ".join(key.description for key in footer_keys(app))

    drive(demo_db_path, script)
    assert looked_up.names == []
