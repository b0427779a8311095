"""Several sender processes on one machine: what `digest send --workers N` runs.

Each worker is a whole `digest send` in its own process, with its own connections, event
loop and lease owner, exactly as N hosts each running `digest send` against one
PostgreSQL would be: they claim disjoint batches (`FOR UPDATE SKIP LOCKED`), renew their
leases, take back those of a worker that died, and each stops when nothing is left for it
to claim. The parent only starts them, passes a stop request on, and gathers their JSON
summaries; it holds no lease and sends nothing itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from digest.db import Database
from digest.delivery.reports import find_edition, remaining
from digest.errors import DigestError, ExitCode

#: How often the parent looks at its workers and at the stop request, in seconds.
POLL = 0.1


@dataclass
class WorkerOutcome:
    """How one worker process ended: its exit status and its `--json` summary."""

    number: int
    pid: int
    #: The process's exit status; negative: killed by that signal.
    returncode: int
    #: The worker's JSON summary (`{"editions": [...]}`), None if it printed none.
    summary: dict[str, Any] | None

    @property
    def editions(self) -> list[dict[str, Any]]:
        return list((self.summary or {}).get("editions", []))


#: Exit codes of workers from the least to the most serious; any other one (a worker that
#: died by a signal, or a usage error) counts as ERROR.
_SEVERITY = (ExitCode.OK, ExitCode.PARTIAL, ExitCode.REFUSED, ExitCode.ERROR)


def worst_exit_code(outcomes: Sequence[WorkerOutcome]) -> int:
    """The most serious of the workers' exit codes: ERROR if one failed or died, else
    REFUSED if the relay refused one, else PARTIAL if one left work for later, else OK."""
    ranks = [
        _SEVERITY.index(code) if code in _SEVERITY else len(_SEVERITY) - 1
        for code in (outcome.returncode for outcome in outcomes)
    ]
    return int(_SEVERITY[max(ranks, default=0)])


def taken_over(database: Database, outcomes: Sequence[WorkerOutcome]) -> bool:
    """Whether every delivery of the editions these workers (of one `run_senders` call,
    all exited) sent is final: so those of a worker that died by a signal were sent by
    the others, which take a dead sender's deliveries over (`delivery.claims`). False
    when no worker printed a summary, or an edition it names cannot be read (unknown,
    or the database unreachable): the caller then says to run the send again."""
    keys = {
        str(edition["edition"])
        for outcome in outcomes
        for edition in outcome.editions
        if edition.get("status") not in ("nothing_to_send", None)
    }
    if not keys:
        return False
    try:
        with database.session() as session:
            return all(remaining(session, find_edition(session, key).id) == 0 for key in keys)
    except (DigestError, SQLAlchemyError):  # unknown edition, database gone: say rerun
        return False


def run_senders(
    count: int,
    send_arguments: Sequence[str],
    *,
    environment: Mapping[str, str] | None = None,
    stop: threading.Event | None = None,
) -> list[WorkerOutcome]:
    """Run `count` copies of `digest -q send ARGUMENTS --json` and wait for all of them.

    Workers run in their own session, so a Ctrl-C at the terminal reaches the parent
    only. When `stop` is set the parent sends every worker SIGTERM (finish the messages
    in flight, give the rest back); an exception in the parent (a second Ctrl-C) sends
    another, which stops them at once. Raises OSError if a process cannot be started.
    """
    command = [sys.executable, "-m", "digest", "-q", *send_arguments, "--json"]
    env = {**os.environ, **(environment or {})}
    running: list[tuple[subprocess.Popen[bytes], Any]] = []
    try:
        for _ in range(count):
            output = tempfile.TemporaryFile()  # noqa: SIM115 (closed below)
            process = subprocess.Popen(command, env=env, stdout=output, start_new_session=True)
            running.append((process, output))
        _wait(running, stop)
    finally:
        for process, _output in running:
            if process.poll() is None:  # an exception in the parent: do not orphan them
                process.send_signal(signal.SIGTERM)
                process.wait()
    outcomes = []
    for number, (process, output) in enumerate(running, 1):
        output.seek(0)
        outcomes.append(
            WorkerOutcome(number, process.pid, process.returncode, _summary(output.read()))
        )
        output.close()
    return outcomes


def _wait(running: list[tuple[subprocess.Popen[bytes], Any]], stop: threading.Event | None) -> None:
    forwarded = False
    while any(process.poll() is None for process, _output in running):
        if stop is not None and stop.is_set() and not forwarded:
            forwarded = True
            for process, _output in running:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
        time.sleep(POLL)


def _summary(output: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(output.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None
