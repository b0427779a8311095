"""Compatibility names for the sender, which lives in `digest.delivery` now."""

from __future__ import annotations

from digest.delivery.copies import iter_would_send, rehearse, send_copies
from digest.delivery.options import SendOptions
from digest.delivery.pacing import (
    TokenBucket,
    backoff_delay,
    envelope_for,
    message_id_factory,
    run_coroutine,
)
from digest.delivery.results import DrainResult, ProgressCallback
from digest.delivery.run import drain

__all__ = [
    "DrainResult",
    "ProgressCallback",
    "SendOptions",
    "TokenBucket",
    "backoff_delay",
    "drain",
    "envelope_for",
    "iter_would_send",
    "message_id_factory",
    "rehearse",
    "run_coroutine",
    "send_copies",
]
