"""The "before DATA" step: a delivery is durably `sending` before its message is handed over.

The transport awaits this step after RCPT is accepted and before DATA. It completes when
the recorder has committed, in one transaction, this delivery's `sending` state and
every outcome this connection produced before. So after a crash at any instant, a row
that is not `sending` was certainly not handed over in that run, and at most one message
per connection was handed over without its outcome recorded.
"""

from __future__ import annotations

import asyncio

from digest.delivery.recorder import LeaseLost, Recorder

__all__ = ["BeforeData", "LeaseLost"]


class BeforeData:
    """The step for one delivery, as the transport's `ready`: calling it registers the
    mark and returns a future (no task per message), which raises `LeaseLost` when the
    row is no longer ours.

    Lazy: nothing is marked until the transport calls it (an address the transport
    refuses before MAIL is never marked).
    """

    __slots__ = ("delivery_id", "recorder")

    def __init__(self, recorder: Recorder, delivery_id: int) -> None:
        self.recorder = recorder
        self.delivery_id = delivery_id

    def __call__(self) -> asyncio.Future[None]:
        return self.recorder.mark_sending(self.delivery_id)
