"""The root group's commands, each imported only when the command line names it.

Importing every sub-app for every command line cost `kinesio patients show 1` half its time
(every module's domain, maintenance and export imports, for one command). The root group
knows each command by name, module and Typer app (`Mounted`), lists them for `--help` and
suggestions without importing anything, and builds a command the first time it is looked up,
exactly as `Typer.add_typer` would have: a named group, or the commands of an unnamed app
merged into the root. `--help` looks every command up (it shows their help), so it imports
them all; any other command line imports its own module only.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

from typer.main import get_group_from_info
from typer.models import TyperInfo

from kinesio_tui.cli.plain_params import give_plain_coercion
from kinesio_tui.cli.refusal import OneLineUsageErrors


@dataclass(frozen=True)
class Mounted:
    """One command of the root: `name` is `module`'s Typer app `app`, added as a group
    (`group=True`, `add_typer(app, name=name)`), or one command of that app merged into the
    root (`add_typer(app)`)."""

    name: str
    module: str
    app: str
    group: bool = False


class LazyCommands(MutableMapping[str, Any]):
    """The root group's `commands`: every name known up front, each command built on first
    use. Values are click commands (Typer's vendored click, private to Typer: typed Any)."""

    def __init__(self, root: LazyGroup, mounted: tuple[Mounted, ...]) -> None:
        self._root = root
        self._mounted = {entry.name: entry for entry in mounted}
        self._built: dict[str, Any] = {}

    def _build(self, entry: Mounted) -> None:
        sub_app = getattr(importlib.import_module(entry.module), entry.app)
        group = get_group_from_info(
            TyperInfo(sub_app, name=entry.name if entry.group else None),
            pretty_exceptions_short=self._root.pretty_exceptions_short,
            suggest_commands=self._root.suggest_commands,
            rich_markup_mode=self._root.rich_markup_mode,
        )
        give_plain_coercion(group)
        if entry.group:
            self._built[entry.name] = group
            return
        for name, command in group.commands.items():  # the app's other commands too
            self._built.setdefault(name, command)

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            entry = self._mounted.get(name)
            if entry is None:
                raise KeyError(name)
            self._build(entry)
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        self._mounted.pop(name, None)
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        yield from self._mounted
        yield from (name for name in self._built if name not in self._mounted)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, name: object) -> bool:
        return name in self._mounted or name in self._built


class LazyGroup(OneLineUsageErrors):
    """The root `kinesio` group, its commands those of `MOUNTED`, each imported on first use.

    A subclass names its commands (class attribute `MOUNTED`, in the order `--help` lists
    them); Typer builds the group with no commands of its own.
    """

    MOUNTED: tuple[Mounted, ...] = ()
    #: Typer's default, as `typer.Typer()` passes it to the commands it builds.
    pretty_exceptions_short = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        give_plain_coercion(self, below=False)
        self.commands = LazyCommands(self, self.MOUNTED)

    # Pass-through signature: the parameter is click's Context, private to Typer.
    def list_commands(self, ctx: Any) -> list[str]:
        """Every command's name, in order, without importing any."""
        return list(self.commands)
