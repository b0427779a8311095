"""Worker processes for parsing files: only when they pay, only when they are safe.

feedparser is pure Python, so a second core helps only through a second process. On a
shared machine whose cores are busy, workers lose (measured: a quarter slower on two
busy cores); with a core to spare they nearly double throughput. So the automatic
choice asks for megabytes of files and an idle core, as `make -l` does.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import suppress
from pathlib import Path

#: Below this many bytes of files, parsing them in this process beats starting workers.
PARALLEL_MIN_BYTES = 1_000_000
#: Worker processes at most (each holds one parsed source at a time).
MAX_PROCESSES = 4


def parsing_pool(files: list[Path], processes: int | None) -> Executor | None:
    """A process pool for `files`, or None to parse them here.

    `processes`: None decides from the files' size and the idle cores; 0 or 1 means none;
    more asks for that many. Workers fork (cheap: everything is imported already), so
    only on Linux and only while this process runs no other thread.
    """
    if len(files) < 2 or sys.platform != "linux" or threading.active_count() > 1:
        return None
    wanted = _automatic(files) if processes is None else processes
    wanted = min(wanted, len(files), MAX_PROCESSES)
    if wanted < 2:
        return None
    try:
        return ProcessPoolExecutor(
            max_workers=wanted, mp_context=multiprocessing.get_context("fork")
        )
    except (OSError, ValueError):
        return None  # no process support here (a sandbox): parse in this process


def _automatic(files: list[Path]) -> int:
    if _total_size(files) < PARALLEL_MIN_BYTES:
        return 0
    cores = len(os.sched_getaffinity(0))
    try:
        busy = os.getloadavg()[0]
    except OSError:
        return 0
    # This process is one of the busy ones; each idle core adds a worker beside it.
    return int(cores - busy) + 1


def _total_size(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        with suppress(OSError):  # a missing file is reported when it is read
            total += path.stat().st_size
    return total
