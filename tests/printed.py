"""Reports as a printer sees them: headless Chromium prints an HTML file to PDF (A4, the
report's own @page rules) or takes a screenshot, and pypdf counts the pages.

A test that needs this fails, never skips, when Chromium is missing: `.ci/run` and
`make test` install it (Debian: `apt-get install -y chromium`). The machine has no network;
the flags keep Chromium from trying.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

#: Where Debian's package puts it; else whatever `chromium` is on the PATH.
CHROMIUM_PATHS = ("/usr/bin/chromium", "chromium", "chromium-browser")
#: Quiet, offline, no profile of the user's: a fresh --user-data-dir per call.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
TIMEOUT_S = 120


def chromium() -> str:
    """The Chromium to print with; the test fails (not skips) without one."""
    for name in CHROMIUM_PATHS:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "Chromium is not installed: the printed page count cannot be checked. "
        "Install it (Debian: apt-get install -y chromium; `make test` does)."
    )


def _run(args: list[str], profile: Path) -> None:
    profile.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"chromium exited {done.returncode}: {done.stderr[-500:]}")


def print_to_pdf(html: Path, pdf: Path, profile: Path) -> Path:
    """Print `html` as Chromium prints it (no browser header or footer) into `pdf`."""
    _run(["--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.resolve().as_uri()], profile)
    if not pdf.is_file() or pdf.stat().st_size == 0:
        pytest.fail(f"chromium wrote no PDF for {html.name}")
    return pdf


def screenshot(html: Path, png: Path, profile: Path, *, width: int, height: int) -> Path:
    """A PNG of the top `width` x `height` CSS pixels of `html` as a screen shows it."""
    _run(
        [f"--window-size={width},{height}", f"--screenshot={png}", html.resolve().as_uri()], profile
    )
    if not png.is_file() or png.stat().st_size == 0:
        pytest.fail(f"chromium wrote no screenshot for {html.name}")
    return png


def page_count(pdf: Path) -> int:
    """How many pages the PDF has."""
    return len(PdfReader(pdf).pages)


def printed_pages(html_text: str, folder: Path, name: str) -> int:
    """Write `html_text` to `folder`, print it, and count its pages."""
    folder.mkdir(parents=True, exist_ok=True)
    html = folder / f"{name}.html"
    html.write_text(html_text, encoding="utf-8")
    return page_count(print_to_pdf(html, folder / f"{name}.pdf", folder / "chromium-profile"))
