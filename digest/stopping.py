"""A stop requested by a signal, which a second signal can hurry.

The first SIGINT or SIGTERM asks the command to stop cleanly. A second one used to
abort the process at once; during a send that left the messages awaiting their
relay's reply recorded as `sending`, and the next run sent them again. While a part
that can cut its grace short is running (`StopRequest.hurry_aware`), the second signal
hurries it instead: a send records what it handed over as uncertain at once and gives
the rest back. A third signal aborts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class StopRequest(threading.Event):
    """Set by the first signal; `hurried` by the second while `can_hurry`.

    An event derived from another (`follows`: set for more reasons, such as a revised
    edition) shares its `hurried`, and is hurry-aware for it too.
    """

    def __init__(self, follows: StopRequest | None = None) -> None:
        super().__init__()
        self._follows = follows
        self.hurried: threading.Event = (
            follows.hurried if follows is not None else threading.Event()
        )
        self._aware = 0
        self._lock = threading.Lock()

    @property
    def can_hurry(self) -> bool:
        with self._lock:
            return self._aware > 0

    @contextmanager
    def hurry_aware(self) -> Iterator[None]:
        """While this runs, a second signal hurries instead of aborting."""
        with self._lock:
            self._aware += 1
        try:
            if self._follows is not None:
                with self._follows.hurry_aware():
                    yield
            else:
                yield
        finally:
            with self._lock:
                self._aware -= 1
