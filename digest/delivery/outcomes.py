"""Writing what each try of a delivery came to, in the caller's transaction.

An outcome is written with one executemany per row shape: a message sent at its first
try (nearly all of them) takes 4 values, any other outcome 11. A failure to a bad
address also counts towards the subscriber's bounces (`record`); the sender's group
commit writes the deliveries' part (`record_rows`) and counts the bounces itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, null, update
from sqlalchemy.orm import Session

from digest.characters import storable_text
from digest.delivery.leases import LEASE
from digest.models import Delivery, DeliveryStatus, FailureKind
from subscribers import store

_deliveries = cast(Table, Delivery.__table__)


def row_values(
    delivery_id: int,
    status: str,
    attempts: int,
    now: datetime,
    *,
    error: str | None = None,
    message_id: str | None = None,
    sent_at: datetime | None = None,
    next_attempt_at: datetime | None = None,
    lease_owner: str | None = None,
    lease_expires_at: datetime | None = None,
    failure_kind: str | None = None,
) -> dict[str, Any]:
    return {
        "b_id": delivery_id,
        "b_status": status,
        "b_attempts": attempts,
        "b_error": storable_text(error[:2000]) if error else error,
        "b_message_id": message_id,
        "b_sent_at": sent_at,
        "b_next": next_attempt_at,
        "b_owner": lease_owner,
        "b_lease": lease_expires_at,
        "b_kind": failure_kind,
        "b_now": now,
    }


RECORD = (
    update(_deliveries)
    .where(_deliveries.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        attempts=bindparam("b_attempts"),
        last_error=bindparam("b_error"),
        message_id=bindparam("b_message_id"),
        sent_at=bindparam("b_sent_at"),
        next_attempt_at=bindparam("b_next"),
        lease_owner=bindparam("b_owner"),
        lease_expires_at=bindparam("b_lease"),
        failure_kind=bindparam("b_kind"),
        updated_at=bindparam("b_now"),
    )
)


#: A delivery sent at its first row shape: the outcome of nearly every message, so it
#: gets its own statement with 4 values per row instead of `RECORD`'s 11 (binding and
#: converting each row's values was most of the commit's time in the sender).
RECORD_SENT = (
    update(_deliveries)
    .where(_deliveries.c.id == bindparam("b_id"))
    .values(
        status=DeliveryStatus.SENT,
        attempts=bindparam("b_attempts"),
        last_error=null(),
        message_id=bindparam("b_message_id"),
        sent_at=bindparam("b_now"),
        next_attempt_at=null(),
        lease_owner=null(),
        lease_expires_at=null(),
        failure_kind=null(),
        updated_at=bindparam("b_now"),
    )
)


@dataclass(slots=True)
class Outcome:
    """What one try of one delivery came to, as it will be written."""

    delivery_id: int
    subscriber_id: int
    status: DeliveryStatus
    attempts: int
    at: datetime
    error: str | None = None
    message_id: str | None = None
    #: DEFERRED only: when this run tries again (the lease is kept until then), or None
    #: when this run gave up and leaves it to the next run.
    retry_at: datetime | None = None
    #: The kind of failure (FAILED, DEFERRED): address, refused or transient.
    kind: FailureKind | None = None

    @property
    def bounce(self) -> bool:
        """Only a failed delivery to a bad address counts towards a bounce."""
        return self.status == DeliveryStatus.FAILED and self.kind == FailureKind.ADDRESS


def record(
    session: Session,
    outcomes: Iterable[Outcome],
    owner: str,
    *,
    lease: timedelta = LEASE,
    bounce_threshold: int = 0,
) -> int:
    """Write a batch of outcomes in the caller's transaction; returns subscribers bounced."""
    bounced = 0
    for outcome in record_rows(session, outcomes, owner, lease=lease):
        bounced += store.record_permanent_failure(
            session, outcome.subscriber_id, threshold=bounce_threshold, now=outcome.at
        )
    return bounced


def record_rows(
    connection: Session | Connection,
    outcomes: Iterable[Outcome],
    owner: str,
    *,
    lease: timedelta = LEASE,
) -> list[Outcome]:
    """The deliveries' part of `record` (an executemany per row shape); returns the
    bounces, whose subscribers' counts the caller still has to record."""
    values = []
    sent_values = []
    bounces: list[Outcome] = []
    for outcome in outcomes:
        sent = outcome.status == DeliveryStatus.SENT
        if sent and outcome.error is None and outcome.kind is None:
            sent_values.append(
                {
                    "b_id": outcome.delivery_id,
                    "b_attempts": outcome.attempts,
                    "b_message_id": outcome.message_id,
                    "b_now": outcome.at,
                }
            )
            continue
        deferred = outcome.status == DeliveryStatus.DEFERRED
        handed_over = sent or outcome.status == DeliveryStatus.UNCERTAIN
        values.append(
            row_values(
                outcome.delivery_id,
                outcome.status,
                outcome.attempts,
                outcome.at,
                error=outcome.error,
                message_id=outcome.message_id,
                sent_at=outcome.at if handed_over else None,
                next_attempt_at=outcome.retry_at if deferred else None,
                lease_owner=owner if deferred else None,
                lease_expires_at=(outcome.retry_at + lease)
                if deferred and outcome.retry_at
                else None,
                failure_kind=outcome.kind,
            )
        )
        if outcome.bounce:
            bounces.append(outcome)
    if values:
        connection.execute(RECORD, values)
    if sent_values:
        connection.execute(RECORD_SENT, sent_values)
    return bounces
