"""A second process for the reliability tests: writes to the clinic (DB: a file's path or a
PostgreSQL URL), reports on stdout.

    python tests/writer_child.py visits DB SEED      write whole visits until killed
    python tests/writer_child.py serve DB            fork visit writers on request (see serve)
    python tests/writer_child.py hold-lock DB SECS   add a patient, hold the write lock, commit
    python tests/writer_child.py add-patient DB      add one patient
    python tests/writer_child.py update-patient DB ID VERSION LASTNAME
    python tests/writer_child.py write DB JSON       one clinical write from a screen's basis
    python tests/writer_child.py append-notes DB VISIT TAG N   N read-append-write note edits

Every line is flushed after the commit it reports, so what the parent reads was saved.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from conftest import DAY

from kinesio_tui.data.db import connect, write_transaction
from kinesio_tui.domain.episodes import close_episode, open_episode, screen_red_flags
from kinesio_tui.domain.holds import clear_hold, record_referral
from kinesio_tui.domain.models import NewEpisode, NewPatient, PirCycle
from kinesio_tui.domain.patients import create_patient, get_patient, patient_form, update_patient
from kinesio_tui.domain.proms import record_prom_answer
from kinesio_tui.domain.visits import (
    checklist_for_visit,
    complete_visit,
    delete_measurement,
    delete_pir_cycle,
    get_visit,
    record_measurement,
    record_pir_cycle,
    set_visit_note,
    start_visit,
    tick_item,
    untick_item,
    update_pir_cycle,
)
from kinesio_tui.errors import StaleRecord

#: The child writes this note on every visit it completes; the parent checks for it.
NOTE = "child visit"


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def new_patient(n: int) -> NewPatient:
    return NewPatient(f"Child{n}", "Writer", "1970-01-01", "F")


def visits(path: str, seed: int, report: Callable[[str], None] = say) -> None:
    """Hold visit after visit, each in one transaction, reporting its id once committed."""
    db = connect(path, actor="child")
    report("ready")
    n = seed * 1000
    while True:
        row = db.execute(
            "SELECT v.id FROM visits v JOIN episodes e ON e.id = v.episode_id "
            "WHERE e.status = 'active' AND v.status = 'planned' ORDER BY e.id, v.seq LIMIT 1"
        ).fetchone()
        if row is None:
            n += 1
            with write_transaction(db):
                pid = create_patient(db, new_patient(n), today=DAY)
                open_episode(db, pid, NewEpisode("sciatica", "lower", "L"), start=DAY, today=DAY)
            continue
        visit_id = int(row[0])
        with write_transaction(db):
            start_visit(db, visit_id, today=DAY)
            for item in checklist_for_visit(db, get_visit(db, visit_id)):
                tick_item(db, visit_id, item.code, "done")
            record_pir_cycle(db, visit_id, PirCycle("piriformis", "L", 7, 30, 20, 3))
            record_measurement(db, visit_id, "vas", (visit_id % 11))
            set_visit_note(db, visit_id, NOTE)
            complete_visit(db, visit_id)
        report(str(visit_id))


def visits_to_file(path: str, seed: int, ack: Path) -> None:
    """`visits`, reporting to a file: the channel for children forked by multiprocessing.

    A flushed write sits in the kernel's page cache, so it outlives the SIGKILL.
    """
    with open(ack, "a", buffering=1) as out:

        def report(line: str) -> None:
            out.write(line + "\n")
            out.flush()

        visits(path, seed, report)


def serve(path: str) -> None:
    """A small fork server: imports once, then forks one visit writer per request.

    stdin `start SEED ACKFILE` -> forks a writer reporting to ACKFILE, answers its pid;
    stdin `reap PID` -> waits for that (killed) writer, answers its wait status.
    Python and the domain are imported once here, so each writer starts in milliseconds.
    """
    from kinesio_tui.protocol import protocol

    protocol()  # parsed once here, not in every writer
    connect(path).close()  # and the connection's own lazy imports done once
    say("serving")
    for line in sys.stdin:
        command, *args = line.split()
        if command == "start":
            pid = os.fork()
            if pid == 0:  # the writer
                try:
                    visits_to_file(path, int(args[0]), Path(args[1]))
                finally:
                    os._exit(1)
            say(str(pid))
        elif command == "reap":
            _, status = os.waitpid(int(args[0]), 0)
            say(str(status))


def hold_lock(path: str, seconds: float) -> None:
    db = connect(path, actor="child")
    with write_transaction(db):
        pid = create_patient(db, new_patient(1), today=DAY)
        say(f"locked {pid}")
        time.sleep(seconds)
    say(f"committed {pid}")


def add_patient(path: str) -> None:
    db = connect(path, actor="child")
    say(str(create_patient(db, new_patient(2), today=DAY)))


def update(path: str, patient_id: int, version: int, last_name: str) -> int:
    db = connect(path, actor="child")
    form = patient_form(get_patient(db, patient_id))
    changed = NewPatient(**{**form.__dict__, "last_name": last_name})
    try:
        update_patient(db, patient_id, changed, expected_version=version, today=DAY)
    except StaleRecord:
        say("stale")
        return 3
    say("updated")
    return 0


#: The clinical writes a screen makes, by name: each takes the version its screen showed.
WRITES: dict[str, Callable[..., object]] = {
    "note": lambda db, visit, expected, text: set_visit_note(
        db, visit, text, expected_version=expected
    ),
    "start": lambda db, visit, expected: start_visit(
        db, visit, today=DAY, expected_version=expected
    ),
    "complete": lambda db, visit, expected: complete_visit(db, visit, expected_version=expected),
    "measure": lambda db, visit, expected, test, value, side=None: record_measurement(
        db, visit, test, value, side, expected_version=expected
    ),
    "unmeasure": lambda db, measurement, expected: delete_measurement(
        db, measurement, expected_version=expected
    ),
    "tick": lambda db, visit, expected, item, note="": tick_item(
        db, visit, item, note, expected_version=expected
    ),
    "untick": lambda db, visit, expected, item: untick_item(
        db, visit, item, expected_version=expected
    ),
    "pir": lambda db, pir, expected, cycle: update_pir_cycle(
        db, pir, PirCycle(**cycle), expected_version=expected
    ),
    "unpir": lambda db, pir, expected: delete_pir_cycle(db, pir, expected_version=expected),
    "flags": lambda db, episode, expected, flags, visit=None: screen_red_flags(
        db, episode, flags, visit_id=visit, today=DAY, expected_version=expected
    ),
    "close": lambda db, episode, expected: close_episode(
        db, episode, today=DAY, expected_version=expected
    ),
    "refer": lambda db, episode, expected, to, why: record_referral(
        db, episode, to=to, on=DAY, why=why, today=DAY, expected_version=expected
    ),
    "clear": lambda db, episode, expected, visit, doctor, note: clear_hold(
        db, episode, visit_id=visit, doctor=doctor, note=note, expected_version=expected
    ),
    "override": lambda db, visit, expected, reason: start_visit(
        db, visit, today=DAY, expected_version=expected, hold_override=reason
    ),
    "prom": lambda db, visit, expected, questionnaire, item, score: record_prom_answer(
        db, visit, questionnaire, item, score, expected_version=expected
    ),
}


def write(path: str, request: str) -> int:
    """One clinical write as a second terminal's screen makes it: `ok` or `stale` (exit 3)."""
    args = json.loads(request)
    db = connect(path, actor="child")
    try:
        WRITES[args.pop("op")](db, **args)
    except StaleRecord:
        say("stale")
        return 3
    say("ok")
    return 0


def append_notes(path: str, visit_id: int, tag: str, count: int) -> None:
    """`count` edits of the visit note, each adding one line to what this terminal read;
    an edit refused as stale is read again and retried, as a person would. Starts on a
    line on stdin, so two of them run at once; reports how many edits were refused."""
    db = connect(path, actor="child")
    say("ready")
    sys.stdin.readline()
    refused = 0
    for n in range(count):
        while True:
            visit = get_visit(db, visit_id)
            time.sleep(0.002)  # the screen shows the note; the person types
            try:
                set_visit_note(
                    db, visit_id, f"{visit.note}\n{tag}{n}", expected_version=visit.version
                )
                break
            except StaleRecord:
                refused += 1
    say(f"done {refused}")


def main(argv: list[str]) -> int:
    command, path = argv[0], argv[1]  # a file's path or a postgresql:// URL
    if command == "visits":
        visits(path, int(argv[2]))
    elif command == "serve":
        serve(path)
    elif command == "hold-lock":
        hold_lock(path, float(argv[2]))
    elif command == "add-patient":
        add_patient(path)
    elif command == "update-patient":
        return update(path, int(argv[2]), int(argv[3]), argv[4])
    elif command == "write":
        return write(path, argv[2])
    elif command == "append-notes":
        append_notes(path, int(argv[2]), argv[3], int(argv[4]))
    else:
        raise SystemExit(f"unknown command {command}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
