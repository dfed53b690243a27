"""`export --all`: every active patient's report, read and rendered by a small pool of
processes, written a page at a time.

The patients go out in pages of `PAGE`, to `workers` processes (each with its own read
connection, and the templates compiled once, before the pool was made). A worker reads and
renders its page, then writes the page's files through a few threads: each file is still
written whole and fsynced before it is named (`write_private`), but the fsyncs overlap and
share the file system's journal commits instead of waiting one after another (measured on
this machine's ext4: ~6 ms a file one by one, ~1.3 ms with 8 threads). The caller gets
each patient's `Outcome` in the patients' order (`EveryoneExport.pages`), so the paths
printed, the progress bar and the file names are the same as one process writing them in
turn.

A patient whose report cannot be made (a broken override template, a record the code
cannot read) is a `failed` outcome and the others go on; a file the system will not write
(full disk, read-only folder) is `unwritable`, and the caller stops sending pages: the rest
would fail the same way. Outcomes carry ids and our own messages only, never patient text.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.data.engine import Target
from kinesio_tui.errors import KinesioError
from kinesio_tui.i18n import _

if TYPE_CHECKING:
    from kinesio_tui.clinic_identity import ClinicIdentity
    from kinesio_tui.domain.patient_record import ReportPage

#: Patients per page: enough to keep a worker busy between pages, few enough that the
#: progress bar moves and a stop (full disk) leaves little in flight.
PAGE = 25
#: Threads writing one page's files (each fsync waits on the disk, not on Python).
WRITERS = 8
#: Pages in flight per worker: the next one is waiting when a worker finishes.
AHEAD = 2

Status = Literal["written", "exists", "skipped", "failed", "unwritable"]


@dataclass(frozen=True)
class Job:
    """What `export --all` writes: one kind of report (or the FHIR bundle), for everyone."""

    db: Target  # the clinic's database, as the command opened it
    kind: str
    fmt: str  # md, html or fhir
    out_dir: Path
    module: int | None
    overwrite: bool
    today: date
    #: The clinic's settings as the run read them at its start (its header, its ICD-10
    #: edition), the same for every report; None: each report reads the settings file.
    clinic: ClinicIdentity | None = None


@dataclass(frozen=True)
class Outcome:
    """One patient's result: the file written, or why not (our words, ids only)."""

    patient_id: int
    status: Status
    path: Path | None = None
    why: str = ""


def default_workers() -> int:
    """The processes to use: the cores this process may run on, at most 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


class EveryoneExport:
    """`export --all` under way: `pages()` yields each page's outcomes, in order.

    Made before anything else starts a thread (the progress bar's): the worker processes
    are forked here, at once, with the modules and compiled templates this process has;
    the caller has closed its own database connection (SQLite's locks must not be
    inherited). `stop()` sends no more pages; those already sent still report. A worker
    that dies fails its page's patients, and a fresh pool takes the pages left.
    """

    def __init__(
        self,
        job: Job,
        patient_ids: Sequence[int],
        *,
        workers: int,
        without_episode: Collection[int] = frozenset(),
    ) -> None:
        self.job = job
        self._skip = frozenset(without_episode)
        self._todo = _pages(patient_ids, self._skip)
        self._workers = workers if len(self._todo) > 1 else 1
        self._go_on = True
        self._flight: deque[tuple[list[int], Future[list[Outcome]]]] = deque()
        self._pool: ProcessPoolExecutor | None = None
        warm_templates(job)
        if self._workers > 1:
            self._start_pool()

    def __enter__(self) -> EveryoneExport:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def stop(self) -> None:
        self._go_on = False

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def pages(self) -> Iterator[list[Outcome]]:
        """Each page's outcomes, in the patients' order."""
        if self._workers == 1:
            yield from self._here()
            return
        while self._flight:
            page, future = self._flight.popleft()
            try:
                outcomes = future.result()
            except BrokenProcessPool:  # a worker died (killed, out of memory)
                why = _("the export process ended")
                outcomes = [Outcome(pid, "failed", why=why) for pid in self._work(page)]
                self._todo.extendleft(reversed([p for p, _f in self._flight]))  # once more
                self._flight.clear()
                self.close()
                if self._go_on and self._todo:
                    self._start_pool()
            yield self._in_order(page, outcomes)
            self._send()

    def _here(self) -> Iterator[list[Outcome]]:
        db = _open(self.job.db)
        try:
            with ThreadPoolExecutor(WRITERS) as writers:
                while self._go_on and self._todo:
                    page = self._todo.popleft()
                    work = self._work(page)
                    done = export_page(db, self.job, work, writers=writers) if work else []
                    yield self._in_order(page, done)
        finally:
            db.close()

    def _work(self, page: list[int]) -> list[int]:
        """The patients of `page` a worker reads and renders (not those known to be skipped)."""
        return [pid for pid in page if pid not in self._skip]

    def _in_order(self, page: list[int], outcomes: list[Outcome]) -> list[Outcome]:
        """The page's outcomes in its patients' order, the skipped ones told here."""
        if len(outcomes) == len(page):
            return outcomes
        from kinesio_tui.domain.patient_record import no_episode

        made = {outcome.patient_id: outcome for outcome in outcomes}
        return [
            made.get(pid) or Outcome(pid, "skipped", why=no_episode(pid).message) for pid in page
        ]

    def _start_pool(self) -> None:
        # fork: a worker starts in milliseconds; every worker is forked by the first submit
        self._pool = ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_worker_start,
            initargs=(self.job.db,),
        )
        self._send()

    def _send(self) -> None:
        """Keep AHEAD pages per worker in flight while the run goes on."""
        while (
            self._pool is not None
            and self._go_on
            and self._todo
            and len(self._flight) < self._workers * AHEAD
        ):
            page = self._todo.popleft()
            work = self._work(page)
            if work:
                future = self._pool.submit(_worker_page, self.job, work)
            else:  # every patient of it skipped: nothing to send
                future = Future()
                future.set_result([])
            self._flight.append((page, future))


def _pages(patient_ids: Sequence[int], skip: frozenset[int]) -> deque[list[int]]:
    """The patients in pages, each with PAGE patients to export (the last may have fewer)
    and the skipped patients among them, in the patients' order."""
    pages: deque[list[int]] = deque()
    page: list[int] = []
    work = 0
    for pid in patient_ids:
        page.append(pid)
        if pid not in skip:
            work += 1
            if work == PAGE:
                pages.append(page)
                page, work = [], 0
    if page:
        pages.append(page)
    return pages


def without_episode(db: ClinicDB, job: Job, patient_ids: Sequence[int]) -> frozenset[int]:
    """The patients with no episode, for a report that needs one: one query for the whole
    clinic, so that pages carry only patients there is something to read for."""
    if job.fmt == "fhir" or job.kind not in NEED_AN_EPISODE:
        return frozenset()
    from kinesio_tui.domain.patient_record import patients_with_an_episode

    return frozenset(patient_ids) - patients_with_an_episode(db)


# --- one page ---------------------------------------------------------------------------

#: The worker process's own read connection and file writers (made by `_worker_start`).
_worker_db: list[ClinicDB] = []
_worker_writers: list[ThreadPoolExecutor] = []


def _open(db: Target) -> ClinicDB:
    return connect(db, migrate=False, create=False)


def _worker_start(db: Target) -> None:
    _worker_db.append(_open(db))
    # made once: starting WRITERS threads for every page cost ~0.2 ms CPU per report
    _worker_writers.append(ThreadPoolExecutor(WRITERS))


def _worker_page(job: Job, page: list[int]) -> list[Outcome]:
    return export_page(_worker_db[0], job, page, writers=_worker_writers[0])


def warm_templates(job: Job) -> None:
    """Compile the report's templates once, here, before any worker is made (each worker
    then starts with them compiled)."""
    if job.fmt in ("md", "html"):
        from kinesio_tui.export.render import compiled_templates

        compiled_templates(job.kind, job.fmt)  # type: ignore[arg-type]


def _prepared(
    db: ClinicDB, job: Job, patient_id: int, records: ReportPage | None
) -> tuple[str, str]:
    if job.fmt == "fhir":
        from kinesio_tui.export.fhir import fhir_export

        return fhir_export(db, patient_id, today=job.today, clinic=job.clinic)
    from kinesio_tui.export import prepare_export

    return prepare_export(
        db,
        patient_id,
        kind=job.kind,  # type: ignore[arg-type]
        fmt=job.fmt,  # type: ignore[arg-type]
        module=job.module,
        today=job.today,
        page=records,
        clinic=job.clinic,
    )


#: The reports whose records are read a page at a time (domain.patient_record).
READ_BY_PAGE = ("summary", "module")


def _page_records(db: ClinicDB, job: Job, page: Sequence[int]) -> ReportPage | None:
    """The page's records in one batch of queries; None (each patient read alone) for the
    other reports, or when the batch itself cannot be read."""
    if job.fmt == "fhir" or job.kind not in READ_BY_PAGE:
        return None
    from kinesio_tui.domain.patient_record import ReportPage

    try:
        return ReportPage(db, page)
    except Exception:  # each patient's own read then says which one, and the rest go on
        return None


def _write(job: Job, patient_id: int, name: str, text: str) -> Outcome:
    from kinesio_tui.export import write_export
    from kinesio_tui.export.fhir import write_fhir
    from kinesio_tui.export.files import ExportExists, ExportWriteFailed

    write = write_fhir if job.fmt == "fhir" else write_export
    try:
        # the folder is fsynced once, after the page's last file (export_page)
        path = write(job.out_dir, name, text, overwrite=job.overwrite, sync_name=False)
    except ExportExists as error:
        return Outcome(patient_id, "exists", why=error.message)
    except ExportWriteFailed as error:
        return Outcome(patient_id, "unwritable", why=error.message)
    except Exception as error:  # only its type: a message could quote the path's text
        return Outcome(patient_id, "failed", why=type(error).__name__)
    return Outcome(patient_id, "written", path=path)


#: The reports that need an episode of care, and say so first (patient_record.no_episode).
NEED_AN_EPISODE = ("summary", "visit", "module")


def export_page(
    db: ClinicDB, job: Job, page: Sequence[int], *, writers: ThreadPoolExecutor
) -> list[Outcome]:
    """Read and render each patient of `page`, then write the page's files at once (the
    first alone, as it may make the folder; the rest by `writers`), and fsync the folder
    once so that every name given is durable before the page's outcomes are told."""
    from kinesio_tui.export.render import TemplateBroken
    from kinesio_tui.private_files import sync_folder

    made: dict[int, Outcome | tuple[str, str]] = {}
    records = _page_records(db, job, page)
    for patient_id in page:
        try:
            made[patient_id] = _prepared(db, job, patient_id, records)
        except TemplateBroken as error:
            made[patient_id] = Outcome(patient_id, "failed", why=error.message)
        except KinesioError as error:  # nothing to report for this patient
            made[patient_id] = Outcome(patient_id, "skipped", why=error.message)
        except Exception as error:  # a record the code cannot read: only the error's type
            made[patient_id] = Outcome(patient_id, "failed", why=type(error).__name__)
    to_write = [(pid, got) for pid, got in made.items() if isinstance(got, tuple)]
    written = [_write(job, pid, *got) for pid, got in to_write[:1]]  # makes the folder
    written += writers.map(lambda item: _write(job, item[0], *item[1]), to_write[1:])
    for outcome in written:
        made[outcome.patient_id] = outcome
    if any(outcome.status == "written" for outcome in written):
        sync_folder(Path(job.out_dir).expanduser())
    return [got for got in made.values() if isinstance(got, Outcome)]
