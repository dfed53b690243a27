"""Export throughput: patient summaries per second for a clinic of 1,000 patients.

    .venv/bin/python benchmarks/export_throughput.py [--patients 1000] [--runs 5] [--db PATH]

The clinic is generated through the domain functions (audited writes, the same rules the
workstation obeys) inside one write transaction and cached in benchmarks/.cache/. Three
rates per format, medians over the runs:

- end_to_end: export_patient (queries, render, private file write);
- render: render_export (queries and render, no file);
- template_only: the Jinja2 render (charts included) from prepared contexts, no database.

Each as wall-clock rate and rate per CPU second; on a shared machine the second is steadier.

`measure(db_path, n)` is the importable entry point (benchmarks/run.py calls it).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from kinesio_tui.data.db import connect, known_migrations, write_transaction
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient, PirCycle
from kinesio_tui.domain.patients import create_patient, find_patients
from kinesio_tui.domain.visits import (
    checklist_for_visit,
    complete_visit,
    mark_missed,
    record_measurement,
    record_pir_cycle,
    start_visit,
    tick_item,
    visits_of,
)
from kinesio_tui.export import export_patient, render_export
from kinesio_tui.export.context import build_context
from kinesio_tui.export.render import render

GENERATOR_VERSION = 1
SEED = 5
TODAY = date(2026, 11, 25)
CACHE = Path(__file__).resolve().parent / ".cache"
FIRST = ["Ona", "Jonas", "Eglė", "Darius", "Ieva", "Paulius", "Rūta", "Tomas", "Agnė", "Lukas"]
LAST = ["Kazlauskas", "Žemaitė", "Šimkus", "Butkus", "Urbonienė", "Navickas", "Čepulis"]


def cached_clinic(patients: int = 1000, *, verbose: bool = True) -> Path:
    """The cached benchmark clinic of `patients` patients, built on first use."""
    CACHE.mkdir(mode=0o700, exist_ok=True)
    key = f"v{GENERATOR_VERSION}-s{len(known_migrations())}"
    path = CACHE / f"export-{patients}-{key}.db"
    if not path.exists():
        if verbose:
            print(f"building {path.name} through the domain (one-off) ...", file=sys.stderr)
        started = time.perf_counter()
        tmp = path.with_suffix(".tmp")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)
        build_clinic(tmp, patients)
        tmp.rename(path)
        if verbose:
            print(f"built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


def build_clinic(path: Path, patients: int, *, seed: int = SEED) -> None:
    """`patients` patients, each in the programme for 1-45 visits, written via the domain."""
    rng = random.Random(seed)
    db = connect(path, actor="benchmark")
    try:
        with write_transaction(db):
            for index in range(patients):
                _patient(db, index, rng)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def _patient(db: Any, index: int, rng: random.Random) -> None:
    sciatica = index % 2 == 1
    pid = create_patient(
        db,
        NewPatient(
            rng.choice(FIRST),
            f"{rng.choice(LAST)} {index}",
            date(1950 + rng.randrange(50), 1 + rng.randrange(12), 1 + rng.randrange(28)),
            rng.choice("FM"),
            occupation="Office worker",
            notes="Pain worse after sitting.",
        ),
        today=TODAY,
    )
    held = rng.choice([3, 8, 15, 23, 30, 38, 45])
    start = TODAY - timedelta(days=held * 7 // 3 + 3)
    episode = open_episode(
        db,
        pid,
        NewEpisode(
            "sciatica" if sciatica else "radiculitis",
            "upper" if sciatica else "lumbar",
            rng.choice(["L", "R", "both"]),
        ),
        start=start,
        today=start,
    )
    vas0 = rng.choice([6, 7, 8, 9])
    for visit in visits_of(db, episode)[:held]:
        if rng.random() < 0.04:
            mark_missed(db, visit.id, today=visit.planned_date)
            continue
        start_visit(db, visit.id, therapist="Bench", today=visit.planned_date)
        vas = max(0.0, round(vas0 - visit.seq * vas0 / 40 + rng.uniform(-0.5, 0.5), 1))
        record_measurement(db, visit.id, "vas", vas)
        if visit.kind == "doctor":
            for side in ("L", "R"):
                record_measurement(db, visit.id, "slr_angle", min(90, 35 + visit.seq), side)
            record_measurement(db, visit.id, "schober", min(15.0, 2.5 + visit.seq / 15))
            record_measurement(db, visit.id, "gait", "antalgic" if visit.seq < 20 else "normal")
        else:
            for item in checklist_for_visit(db, visit):
                tick_item(db, visit.id, item.code)
            if visit.module == 1:
                record_pir_cycle(
                    db,
                    visit.id,
                    PirCycle("piriformis", "L", 7, 20, 15, 3, 30, 40, vas, max(0.0, vas - 1)),
                )
        complete_visit(db, visit.id)


def _timed(fn: Any) -> tuple[float, float]:
    """Wall and CPU seconds of `fn()` (CPU time is steadier on a shared, busy machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _rates(count: int, samples: list[tuple[float, float]]) -> dict[str, float]:
    wall = statistics.median(s[0] for s in samples)
    cpu = statistics.median(s[1] for s in samples)
    return {"per_s": round(count / wall, 1), "cpu_per_s": round(count / cpu, 1)}


def measure(db_path: Path, n: int, *, runs: int = 5) -> dict[str, Any]:
    """Summaries per second over the first `n` active patients of `db_path` (medians).

    A missing `db_path` is built with `n` patients first (through the domain). Each rate
    comes as wall-clock (`per_s`) and per CPU second (`cpu_per_s`).
    """
    if not Path(db_path).exists():
        build_clinic(Path(db_path), n)
    db = connect(Path(db_path), actor="benchmark")
    try:
        ids = [p.id for p in find_patients(db, "", limit=n)]
        result: dict[str, Any] = {"patients": len(ids), "runs": runs}
        for fmt in ("html", "md"):
            end_to_end, rendered, template = [], [], []
            for _run in range(runs):
                out = Path(tempfile.mkdtemp(prefix="kinesio-export-bench-"))
                try:
                    end_to_end.append(
                        _timed(
                            lambda out=out, fmt=fmt: [
                                export_patient(
                                    db, pid, kind="summary", fmt=fmt, out_dir=out, today=TODAY
                                )
                                for pid in ids
                            ]
                        )
                    )
                finally:
                    shutil.rmtree(out)
                rendered.append(
                    _timed(
                        lambda fmt=fmt: [
                            render_export(db, pid, kind="summary", fmt=fmt, today=TODAY)
                            for pid in ids
                        ]
                    )
                )
                # Fresh contexts each run: their charts are drawn when first printed.
                contexts = [build_context(db, pid, kind="summary", today=TODAY) for pid in ids]
                template.append(
                    _timed(lambda fmt=fmt, c=contexts: [render("summary", fmt, x) for x in c])
                )
            result[fmt] = {
                "end_to_end": _rates(len(ids), end_to_end),
                "render": _rates(len(ids), rendered),
                "template_only": _rates(len(ids), template),
            }
        result["exercise_sheets"] = exercise_sheets(db, ids, runs)
        result["fhir_bundles"] = fhir_bundles(db, ids, runs)
        return result
    finally:
        db.close()


def exercise_sheets(db: Any, ids: list[int], runs: int) -> dict[str, Any]:
    """Home-exercise sheets written per second (end to end, medians), for the patients who
    get one (a programme closed early or on hold gets a refusal instead)."""
    from kinesio_tui.errors import KinesioError

    given = []
    for pid in ids:
        try:
            render_export(db, pid, kind="exercises", fmt="md", today=TODAY)
        except KinesioError:
            continue
        given.append(pid)
    out: dict[str, Any] = {"patients": len(given)}
    for fmt in ("html", "md"):
        samples = []
        for _run in range(runs):
            folder = Path(tempfile.mkdtemp(prefix="kinesio-export-bench-"))
            try:
                samples.append(
                    _timed(
                        lambda folder=folder, fmt=fmt: [
                            export_patient(
                                db, pid, kind="exercises", fmt=fmt, out_dir=folder, today=TODAY
                            )
                            for pid in given
                        ]
                    )
                )
            finally:
                shutil.rmtree(folder)
        out[fmt] = _rates(len(given), samples)
    return out


def fhir_bundles(db: Any, ids: list[int], runs: int) -> dict[str, Any]:
    """FHIR bundles per second (medians): written end to end (read, build, JSON, write), and
    built alone from records already read (the builder is a pure function of them)."""
    from kinesio_tui.domain.patient_record import patient_record
    from kinesio_tui.export.fhir import build_bundle, bundle_json, export_fhir

    end_to_end, built = [], []
    for _run in range(runs):
        folder = Path(tempfile.mkdtemp(prefix="kinesio-export-bench-"))
        try:
            end_to_end.append(
                _timed(
                    lambda folder=folder: [
                        export_fhir(db, pid, out_dir=folder, today=TODAY) for pid in ids
                    ]
                )
            )
        finally:
            shutil.rmtree(folder)
        records = [patient_record(db, pid) for pid in ids]
        built.append(_timed(lambda r=records: [bundle_json(build_bundle(x)) for x in r]))
    return {
        "patients": len(ids),
        "end_to_end": _rates(len(ids), end_to_end),
        "build_only": _rates(len(ids), built),
    }


def export_all(clinic: Path, *, runs: int = 3, template_sample: int = 300) -> dict[str, Any]:
    """`kinesio export --all --format html` on `clinic`, the whole process (its workers
    included): summaries written per second, medians of `runs`, wall-clock and per CPU
    second; beside it the template-only rate, the Jinja2 render (charts included) of the
    same summaries from prepared contexts, in one process (the first `template_sample`).
    """
    import os
    import resource
    import subprocess

    kinesio = Path(sys.executable).with_name("kinesio")
    samples: list[tuple[float, float]] = []
    written: list[str] = []
    total = 0
    with tempfile.TemporaryDirectory(prefix="kinesio-export-all-") as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env |= {"XDG_CONFIG_HOME": f"{tmp}/config", "XDG_DATA_HOME": f"{tmp}/data"}
        for run in range(runs):
            out = Path(tmp) / f"out-{run}"
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            argv = [str(kinesio), "--db", str(clinic), "export", "--all", "--format", "html"]
            done = subprocess.run(
                [*argv, "--out", str(out)],
                env=env,
                capture_output=True,
                text=True,
                timeout=3600,
                check=False,
            )
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if done.returncode != 0:
                raise RuntimeError(f"export --all exited {done.returncode}: {done.stderr[-300:]}")
            cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            samples.append((wall, cpu))
            written = done.stdout.split()
            total = len(written) + done.stderr.count(" skipped: ")
            shutil.rmtree(out)
    ids = [int(Path(path).name.split("-")[1]) for path in written[:template_sample]]
    db = connect(clinic, migrate=False, create=False)
    try:
        contexts = [build_context(db, pid, kind="summary", today=date.today()) for pid in ids]
    finally:
        db.close()
    render("summary", "html", contexts[0])  # compiled once, as export --all does first
    template = _timed(lambda: [render("summary", "html", c) for c in contexts])
    rates = _rates(len(written), samples)
    return {
        "patients": total,
        "written": len(written),
        "runs": runs,
        "per_s": rates["per_s"],
        "cpu_per_s": rates["cpu_per_s"],
        "template_only_per_s": round(len(ids) / template[0], 1),
        "template_only_cpu_per_s": round(len(ids) / template[1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", type=Path, help="use this clinic instead of the cached one")
    args = parser.parse_args()
    path = args.db or cached_clinic(args.patients)
    result = measure(path, args.patients, runs=args.runs)
    print(f"{result['patients']} patient summaries, median of {result['runs']} runs")
    print("        summaries/s (wall; per CPU second)")
    for fmt in ("html", "md"):
        r = result[fmt]
        cells = "   ".join(
            f"{label} {r[key]['per_s']:7.1f} ({r[key]['cpu_per_s']:7.1f})"
            for key, label in (
                ("end_to_end", "end to end"),
                ("render", "render"),
                ("template_only", "template only"),
            )
        )
        print(f"  {fmt:4}  {cells}")
    sheets = result["exercise_sheets"]
    print(f"{sheets['patients']} home-exercise sheets, end to end (wall; per CPU second)")
    for fmt in ("html", "md"):
        print(f"  {fmt:4}  {sheets[fmt]['per_s']:7.1f} ({sheets[fmt]['cpu_per_s']:7.1f})")
    fhir = result["fhir_bundles"]
    print(f"{fhir['patients']} FHIR bundles (wall; per CPU second)")
    for key, label in (("end_to_end", "end to end"), ("build_only", "built from read records")):
        print(f"  {label:24} {fhir[key]['per_s']:7.1f} ({fhir[key]['cpu_per_s']:7.1f})")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
