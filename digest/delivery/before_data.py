"""The "before DATA" step: a delivery is durably `sending` before its message is handed over.

The transport awaits this step after RCPT is accepted and before DATA. It completes when
the recorder has committed, in one transaction, this delivery's `sending` state and
every outcome this connection produced before. So after a crash at any instant, a row
that is not `sending` was certainly not handed over in that run, and at most one message
per connection was handed over without its outcome recorded.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from digest.delivery.recorder import LeaseLost, Recorder

__all__ = ["BeforeData", "LeaseLost"]


class BeforeData:
    """Awaitable step for one delivery; raises `LeaseLost` when the row is no longer ours.

    Lazy: nothing is marked until the transport awaits it (an address the transport
    refuses before MAIL is never marked).
    """

    __slots__ = ("delivery_id", "recorder")

    def __init__(self, recorder: Recorder, delivery_id: int) -> None:
        self.recorder = recorder
        self.delivery_id = delivery_id

    def __await__(self) -> Generator[Any, None, None]:
        return self.recorder.mark_sending(self.delivery_id).__await__()
