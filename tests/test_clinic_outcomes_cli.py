"""`kinesio outcomes` and `kinesio export --kind outcomes`: the real `kinesio` process."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import DAY
from real_cli import run
from test_export_render import assert_self_contained, parse_html

from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain.clinic_outcomes import clinic_outcomes
from kinesio_tui.export.outcomes import outcomes_context, render_outcomes
from kinesio_tui.export.render import render

# The outcome report read from the demo clinic on both engines (issue 17).
pytestmark = [pytest.mark.slow, pytest.mark.engines("sqlite", "postgresql")]


def test_outcomes_prints_counts_beside_the_published_figures(demo_target: str) -> None:
    done = run("outcomes", "--db", demo_target)
    assert done.code == 0, done
    lines = done.out.splitlines()
    assert lines[0].startswith("Clinic outcomes: every episode that ended, up to ")
    assert "at most 1/10 (a standard default in protocol.toml the clinic can change)" in done.out
    # the conditions with percentages (and their uncertainty) beside the clinic's figures
    assert (
        "  Pain gone (completed, with baseline and final VAS): 4 of 6 (67 %, 95 % CI 30-90 %); "
        "the clinic publishes 89 %"
    ) in lines
    assert any(
        line.startswith("  Pain gone (completed, with baseline and final VAS): 5 of 6 (83 %")
        and line.endswith("the clinic publishes 85 %")
        for line in lines
    )
    # a subtype of two patients is two patients, not "50 %"
    assert "  Cervical: 2 ended: 2 completed, 0 on hold / referred, 0 dropped out" in lines
    assert "    Pain gone (completed, with baseline and final VAS): 1 of 2 (n = 2)" in lines
    assert "  Middle (thigh): 4 ended: 2 completed, 1 on hold / referred, 1 dropped out" in lines
    assert "    NDI (5 points matter): 2 of 2 better, 0 of 2 worse" in lines


def test_outcomes_as_json_and_markdown(demo_target: str) -> None:
    done = run("outcomes", "--format", "json", "--db", demo_target)
    assert done.code == 0, done
    data = json.loads(done.out)
    assert data["rules"] == {
        "pain_gone_vas_at_most": 1.0,
        "vas_change_points": 2,
        "fewest_for_percent": 5,
    }
    radiculitis = data["groups"][0]
    assert (radiculitis["condition"], radiculitis["subtype"]) == ("radiculitis", None)
    assert radiculitis["pain_gone"] == {
        "count": 4,
        "of": 6,
        "percent": 66.7,
        "ci95": [30.0, 90.3],
    }
    assert radiculitis["published_pain_gone_percent"] == 89
    cervical = data["groups"][1]
    assert cervical["subtype"] == "cervical" and cervical["pain_gone"]["percent"] is None
    md = run("outcomes", "--format", "markdown", "--db", demo_target)
    assert md.code == 0, md
    assert md.out.startswith("# Clinic outcomes\n")
    assert "| **Radiculitis (radiculopathy)** | 4 of 6 (67 %, 95 % CI 30-90 %) |" in md.out


def test_outcomes_for_a_period(demo_target: str) -> None:
    with connect(demo_target) as db:
        every = clinic_outcomes(db)
        since = DAY.replace(month=6, day=1)
        recent = clinic_outcomes(db, since=since)
    assert 0 < recent.ended < every.ended
    done = run("outcomes", "--from", since.isoformat(), "--format", "json", "--db", demo_target)
    assert done.code == 0, done
    data = json.loads(done.out)
    assert data["from"] == since.isoformat()
    assert sum(g["ended"] for g in data["groups"] if g["subtype"] is None) == recent.ended


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--from", "2026-13-01"), "--from: should be a date as YYYY-MM-DD"),
        (("--from", "2026-11-25", "--to", "2026-11-01"), "--from: should be on or before"),
        (("--format", "pdf"), "Invalid command line"),
    ],
)
def test_outcomes_refuses_bad_input_with_one_line(
    demo_target: str, args: tuple[str, ...], says: str
) -> None:
    done = run("outcomes", *args, "--db", demo_target)
    assert done.code == 2, done
    assert len(done.err_lines) == 1 and says in done.err, done
    assert done.out == ""


@pytest.mark.sqlite_only  # file modes and --force are the exporter's (11 s)
def test_export_writes_the_outcome_report_privately_and_never_replaces_it(
    demo_target: str, tmp_path: Path
) -> None:
    out = tmp_path / "reports" / "clinic"
    done = run("export", "--kind", "outcomes", "--out", out, "--db", demo_target)
    assert done.code == 0, done
    written = Path(done.out.strip())
    assert written.parent == out and written.name.startswith("clinic-outcomes-")
    assert written.name.endswith(".html")
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    text = written.read_text(encoding="utf-8")
    tree = parse_html(text)
    assert_self_contained(text)
    cells = ["".join(td.itertext()) for td in tree.iter("td")]
    assert "4 of 6 (67 %, 95 % CI 30-90 %)" in cells and "89 %" in cells
    before = written.stat().st_mtime_ns
    again = run("export", "--kind", "outcomes", "--out", out, "--db", demo_target)
    assert again.code == 2 and "already exists; use --force" in again.err, again
    assert written.stat().st_mtime_ns == before
    forced = run("export", "--kind", "outcomes", "--out", out, "--force", "--db", demo_target)
    assert forced.code == 0, forced
    md = run(
        "export",
        "--kind",
        "outcomes",
        "--format",
        "md",
        "--from",
        "2026-01-01",
        "--to",
        "2026-06-30",
        "--out",
        out,
        "--db",
        demo_target,
    )
    assert md.code == 0, md
    assert Path(md.out.strip()).name == "clinic-outcomes-2026-01-01-to-2026-06-30.md"
    # one report for the clinic: no patient, --all, --visit or --module with it
    for extra in (["3"], ["--all"], ["--visit", "2"], ["--module", "1"]):
        refused = run("export", *extra, "--kind", "outcomes", "--out", out, "--db", demo_target)
        assert refused.code == 2 and "--kind outcomes takes no patient" in refused.err
    patient = run("export", "3", "--from", "2026-01-01", "--out", out, "--db", demo_target)
    assert patient.code == 2 and "--from and --to are for --kind outcomes" in patient.err


def test_the_report_keeps_a_clinics_own_labels_text(demo_db: ClinicDB) -> None:
    """Labels come from the clinic's data files: whatever they hold is escaped."""
    summary = clinic_outcomes(demo_db)
    hostile = "<script>alert(1)</script> & <b>Lumbar</b>"
    groups = tuple(replace(g, label=hostile) for g in summary.groups)
    html = render("outcomes", "html", outcomes_context(replace(summary, groups=groups), DAY))
    tree = parse_html(html)
    assert tree.find(".//script") is None and tree.find(".//b") is None
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;Lumbar&lt;/b&gt;" in html
    md = render("outcomes", "md", outcomes_context(replace(summary, groups=groups), DAY))
    assert "<script>" not in md
    # the same report through the public function
    assert "<script" not in render_outcomes(demo_db, "html", today=DAY)
