"""An unexpected error in the TUI shows a calm line and a scrubbed report, never patient data."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kinesio_tui.app import build_app
from kinesio_tui.crash import crash_dir
from kinesio_tui.upstream_hooks import Crashed

SECRET = "Tomas Petrauskas VAS 8"


def test_a_crash_shows_no_patient_data(
    demo_db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = build_app(demo_db_path)

    def explode() -> None:
        raise ValueError(SECRET)

    async def main() -> None:
        async with app.run_test() as pilot:
            app.call_later(explode)
            await pilot.pause()

    with pytest.raises(Crashed) as crashed:  # Pilot re-raises what the app reported
        asyncio.run(main())
    assert isinstance(crashed.value.__cause__, ValueError)
    captured = capsys.readouterr()
    shown = " ".join((captured.out + captured.err).split())
    assert "Saved records are safe" in shown
    assert SECRET not in shown and "Petrauskas" not in shown
    reports = list(crash_dir().glob("crash-*.txt"))
    assert len(reports) == 1
    text = reports[0].read_text(encoding="utf-8")
    assert "ValueError" in text and SECRET not in text
    assert reports[0].stat().st_mode & 0o777 == 0o600
    assert app.return_code == 1
