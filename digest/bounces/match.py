"""Which delivery (or subscriber) a report is about.

In order of trust: a VERP envelope sender whose signature checks (the delivery itself);
our Message-ID in the returned original (the deliveries table stores each one); our
List-Id in the returned headers plus a failed address that is a subscriber's; for an
unsubscribe request, the From address. A report that matches nothing is not ours to act
on: it is left in place and reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.bounces.report import Report, ReportKind
from digest.bounces.verp import read_verp
from digest.models import Delivery
from subscribers.errors import SubscriberError
from subscribers.models import Subscriber
from subscribers.validation import normalise_email

#: Most Message-IDs looked up per report (a hostile message may quote thousands).
MESSAGE_IDS_TRIED = 20


@dataclass(frozen=True)
class Identity:
    """Who our mail goes out as: where bounces come back to and the list's id."""

    bounce_address: str
    list_id: str
    secret_key: str


@dataclass(frozen=True)
class Match:
    subscriber_id: int
    delivery_id: int | None
    #: verp | message-id | list-id | address | sender
    matched_by: str


def match_report(session: Session, report: Report, identity: Identity) -> Match | None:
    """The delivery or subscriber `report` is about; None if it is not about our mail."""
    for address in report.verp_candidates:
        delivery_id = read_verp(address, identity.bounce_address, identity.secret_key)
        if delivery_id is not None:
            found = _delivery(session, Delivery.id == delivery_id)
            if found is not None:
                return Match(found[1], found[0], "verp")
    for message_id in report.message_ids[:MESSAGE_IDS_TRIED]:
        found = _delivery(session, Delivery.message_id == message_id)
        if found is not None:
            return Match(found[1], found[0], "message-id")
    if report.kind == ReportKind.UNSUBSCRIBE:
        subscriber_id = _subscriber_id(session, report.requester)
        return None if subscriber_id is None else Match(subscriber_id, None, "sender")
    ours = any(f"<{identity.list_id}>" in value for value in report.list_ids)
    if ours or report.about_our_mail:
        addresses = [failure.recipient for failure in report.failures] + [report.complainant]
        for address in addresses:
            subscriber_id = _subscriber_id(session, address)
            if subscriber_id is not None:
                return Match(subscriber_id, None, "list-id" if ours else "address")
    return None


def _delivery(session: Session, condition: object) -> tuple[int, int] | None:
    row = session.execute(
        select(Delivery.id, Delivery.subscriber_id).where(condition).limit(1)  # type: ignore[arg-type]
    ).first()
    return None if row is None else (row[0], row[1])


def _subscriber_id(session: Session, address: str) -> int | None:
    if not address:
        return None
    try:
        email = normalise_email(address).email
    except SubscriberError:  # not an address we could ever have stored
        return None
    return session.scalar(select(Subscriber.id).where(Subscriber.email == email))
