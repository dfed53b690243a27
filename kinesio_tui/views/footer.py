"""The key hints at the bottom of every screen: one widget, drawn line by line.

Textual's Footer is a scrolling container of one widget per key (mounted, styled and laid out
as the screen's other widgets), rebuilt whenever the keys change. Traced from Enter to the
first patient screen's last byte, the footer's keys were ~7 ms of the ~57 ms of CPU, and
each rebuild laid the screen out again. Here the keys are a list of tuples drawn as one
Strip: a change of keys repaints one line, and nothing is mounted or laid out.

What the person sees is Textual's Footer, cell for cell (tests/test_tui_footer.py draws both):
each key's name (bold, the theme's footer-key colour) and words, the command palette's key
at the right edge after a thin bar, disabled keys dim, a key under the mouse highlighted
with its tooltip, a click on a key pressing it, the mouse wheel scrolling keys that do not
fit. A module of its own so the patient list, the first screen, loads without the programme
widgets (timeline, sparkline, results) and the protocol they read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

#: The bar left of the command palette's key (Textual's `vkey` border, left edge).
PALETTE_BAR = "▏"
#: Cells one turn of the mouse wheel scrolls the keys by.
SCROLL_STEP = 4


@dataclass(frozen=True)
class FooterKey:
    """One key as the footer shows it."""

    key: str
    key_display: str
    description: str
    action: str
    enabled: bool
    tooltip: str
    #: The command palette's key, drawn at the right edge.
    palette: bool = False


@dataclass(frozen=True)
class PlacedKey:
    """A key where it is drawn: cells [x, x + width) of the footer, `whole` when every
    cell of its name and words is on screen (not cut by the edge or the palette's key)."""

    key: FooterKey
    x: int
    width: int
    whole: bool


class KeyFooter(Widget, can_focus=False):
    """The screen's keys in one line, rebuilt only when they change, at most once per refresh.

    Keyword arguments as Textual's Footer: `compact` (less space around each key) and
    `show_command_palette` (the palette's key at the right edge).
    """

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "key-footer--key",
        "key-footer--description",
        "key-footer--bar",
        "key-footer--hover",
    }
    # Textual's Footer and FooterKey rules, as one widget's parts.
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        width: 1fr;
        color: $footer-foreground;
        background: $footer-background;
        & > .key-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .key-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .key-footer--bar {
            color: $foreground 20%;
        }
        & > .key-footer--hover {
            color: $footer-key-foreground;
            background: $block-hover-background;
        }
    }
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        show_command_palette: bool = True,
        compact: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.compact = compact
        self.show_command_palette = show_command_palette
        self._shown: tuple[tuple[str, str, bool], ...] | None = None
        self._keys_shown: tuple[FooterKey, ...] = ()
        self._rebuild_queued = False
        self._scroll_x = 0
        self._hover: FooterKey | None = None
        self._placed: tuple[int, list[PlacedKey]] | None = None  # (width, keys) as drawn
        self._strip: Strip | None = None

    # --- which keys --------------------------------------------------------------------------

    @staticmethod
    def _keys(screen: Screen[Any]) -> tuple[tuple[str, str, bool], ...]:
        """(key, description, enabled) of every binding the screen shows now."""
        return tuple(
            (binding.key, binding.description, enabled)
            for (_node, binding, enabled, _tooltip) in screen.active_bindings.values()
            if binding.show
        )

    def _footer_keys(self, screen: Screen[Any]) -> tuple[FooterKey, ...]:
        """The keys as Textual's Footer shows them: one per action (its first binding), in
        order, then the command palette's."""
        app = self.app
        active = screen.active_bindings
        first_of_action: dict[str, FooterKey] = {}
        for _node, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in first_of_action:
                first_of_action[binding.action] = FooterKey(
                    binding.key,
                    app.get_key_display(binding),
                    binding.description,
                    binding.action,
                    enabled,
                    tooltip,
                )
        keys = list(first_of_action.values())
        palette = active.get(app.COMMAND_PALETTE_BINDING)
        if self.show_command_palette and app.ENABLE_COMMAND_PALETTE and palette is not None:
            _node, binding, enabled, tooltip = palette
            keys.append(
                FooterKey(
                    binding.key,
                    app.get_key_display(binding),
                    binding.description,
                    binding.action,
                    enabled,
                    binding.tooltip or binding.description,
                    palette=True,
                )
            )
        return tuple(keys)

    @property
    def keys_shown(self) -> tuple[FooterKey, ...]:
        """The keys the footer draws now (the palette's last, if shown)."""
        return self._keys_shown

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen[Any]) -> None:
        """Queue one rebuild (as Footer does), unless one is already queued."""
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_queued:
            self._rebuild_queued = True
            self.call_after_refresh(self._rebuild)

    async def show_keys(self) -> None:
        """Take the keys of the screen's focus now (a new screen's first resume,
        views/styled_once.py), so its first frame has them."""
        self._rebuild()

    def _rebuild(self) -> None:
        """Redraw for a different set of keys, descriptions or enabled states."""
        self._rebuild_queued = False
        if not self.is_attached:
            return
        keys = self._keys(self.screen)
        if keys != self._shown:
            self._shown = keys
            self._keys_shown = self._footer_keys(self.screen)
            self._hover = None
            self._changed()

    def _changed(self) -> None:
        self._placed = None
        self._strip = None
        self.refresh()

    # --- drawing -----------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strip = None

    def on_resize(self) -> None:
        self._changed()

    def _parts(self, key: FooterKey) -> tuple[str, str]:
        """The key's name and words as drawn, with Footer's padding (compact or not: the
        palette's key is drawn compact in either, as Footer draws it)."""
        if not key.description:
            return key.key_display, ""
        if self.compact or key.palette:
            return key.key_display, " " + key.description
        return f" {key.key_display} ", key.description + " "

    def placed_keys(self) -> list[PlacedKey]:
        """Where each key is drawn at the footer's width (the palette's at the right edge)."""
        width = self.size.width
        if self._placed is not None and self._placed[0] == width:
            return self._placed[1]
        normal = [key for key in self._keys_shown if not key.palette]
        palette = [key for key in self._keys_shown if key.palette]
        gap = 1 if self.compact else 0  # FooterKey's margin-right in a compact footer
        palette_width = 0
        if palette:
            name, words = self._parts(palette[0])
            palette_width = 1 + cell_len(name + words) + 1  # bar, key, padding or margin
        limit = width - palette_width
        placed: list[PlacedKey] = []
        x = -self._scroll_x
        for key in normal:
            name, words = self._parts(key)
            size = cell_len(name + words)
            placed.append(PlacedKey(key, x, size, x >= 0 and x + size <= limit))
            x += size + gap
        if palette:
            placed.append(PlacedKey(palette[0], limit, palette_width, limit >= 0))
        self._placed = (width, placed)
        return placed

    def _content_width(self) -> int:
        """Cells the keys other than the palette's take, scrolled or not."""
        gap = 1 if self.compact else 0
        return sum(
            cell_len("".join(self._parts(key))) + gap for key in self._keys_shown if not key.palette
        )

    def render_line(self, y: int) -> Strip:
        if self._strip is None:
            self._strip = self._draw()
        return self._strip

    def _draw(self) -> Strip:
        width = self.size.width
        base = self.rich_style
        blank = Segment(" ", Style(bgcolor=base.bgcolor))
        #: What each cell shows; None: the right half of the wide character before it.
        cells: list[Segment | None] = [blank] * width
        # a key's parts over the key (as FooterKey's parts over its widget): their own
        # colours, and the key's background (the footer's, or the mouse's) where they set none
        key_style = self.get_component_rich_style("key-footer--key", partial=True)
        words_style = self.get_component_rich_style("key-footer--description", partial=True)
        hover = self.get_component_rich_style("key-footer--hover")
        for placed in self.placed_keys():
            key = placed.key
            under = base + Style(dim=True) if not key.enabled else base
            if key is self._hover:
                under += Style(color=hover.color, bgcolor=hover.bgcolor)
            name, words = self._parts(key)
            drawn: list[Segment] = []
            if key.palette:
                drawn.append(
                    Segment(PALETTE_BAR, under + self.get_component_rich_style("key-footer--bar"))
                )
            drawn += [Segment(ch, under + key_style) for ch in name]
            drawn += [Segment(ch, under + words_style) for ch in words]
            if key.palette:  # Footer's padding or margin right of it
                drawn.append(blank)
            x = placed.x
            for segment in drawn:
                for cell in (segment, None)[: cell_len(segment.text)]:
                    if 0 <= x < width:
                        cells[x] = cell
                    x += 1
        return Strip(Segment.simplify(_whole_characters(cells, blank)), width)

    # --- the mouse ---------------------------------------------------------------------------

    def _key_at(self, x: int) -> FooterKey | None:
        found = None
        for placed in self.placed_keys():
            if placed.x <= x < placed.x + placed.width:
                found = placed.key  # the palette's (last) wins where it covers another
        return found

    def on_mouse_move(self, event: events.MouseMove) -> None:
        key = self._key_at(event.x)
        if key is not self._hover:
            self._hover = key
            self.tooltip = key.tooltip if key is not None and key.tooltip else None
            self._strip = None
            self.refresh()

    def on_leave(self) -> None:
        if self._hover is not None:
            self._hover = None
            self.tooltip = None
            self._strip = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        """A click on a key presses it (a disabled one rings the bell)."""
        key = self._key_at(event.x)
        if key is None:
            return
        if key.enabled:
            self.app.simulate_key(key.key)
        else:
            self.app.bell()

    def _scroll_by(self, cells: int) -> None:
        palette = sum(p.width for p in self.placed_keys() if p.key.palette)
        most = max(0, self._content_width() - (self.size.width - palette))
        scroll_x = max(0, min(most, self._scroll_x + cells))
        if scroll_x != self._scroll_x:
            self._scroll_x = scroll_x
            self._changed()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self._scroll_by(SCROLL_STEP)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self._scroll_by(-SCROLL_STEP)


def _whole_characters(cells: list[Segment | None], blank: Segment) -> list[Segment]:
    """The cells as segments; half a wide character (cut by the edge or by another key
    drawn over it) becomes a space."""
    out: list[Segment] = []
    for index, cell in enumerate(cells):
        if cell is None:
            before = cells[index - 1] if index else None
            if before is None or cell_len(before.text) != 2:
                out.append(blank)
            continue
        if cell_len(cell.text) == 2 and (index + 1 == len(cells) or cells[index + 1] is not None):
            cell = Segment(" ", cell.style)
        out.append(cell)
    return out
