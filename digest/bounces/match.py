"""Which delivery (or subscriber) a report is about.

Anybody can mail us a DSN (RFC 3464) or an ARF report (RFC 5965) saying anything; our
List-Id is in every reader's copy, and a Message-ID recorded before they were signed
can be guessed from one. So a bounce or complaint that arrived as mail is applied only
on evidence a stranger lacks:

- a VERP envelope sender whose HMAC checks (the delivery itself);
- our Message-ID in the returned original, when it ends in the HMAC of its delivery id
  (`delivery.pacing.signed_part`): as strong as VERP, and what a feedback loop keeps
  when it redacts the recipient (RFC 6449 section 3.3);
- without VERP only, an unsigned Message-ID of ours when an address the report names
  (DSN Original-/Final-Recipient, ARF Original-Rcpt-To or the returned To) is the
  subscriber that delivery went to. Our List-Id alone names nobody.

An unsubscribe request (RFC 2369 mailto) matches its From, as the README warns. A
sending service's webhook event is authenticated by its signature (`about_our_mail`):
its failed address alone may name the subscriber. A report that matches nothing is not
ours to act on: it is left in place and reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.bounces.report import Report, ReportKind
from digest.bounces.verp import read_verp
from digest.delivery.pacing import signed_part
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
    #: `mail.verp`: bounces and complaints by mail then count only through VERP.
    verp: bool = False


@dataclass(frozen=True)
class Match:
    """The subscriber a report is about, and the delivery when it names one."""

    subscriber_id: int
    delivery_id: int | None
    #: verp | message-id | list-id | address | sender
    matched_by: str


@dataclass(frozen=True)
class Found:
    """A delivery as matching needs it."""

    delivery_id: int
    subscriber_id: int
    #: The subscriber's address (normalised, as stored).
    email: str


class DeliveryLookup:
    """Deliveries by id and by Message-ID, loaded for a whole batch in a few queries.

    `prime` loads what a batch of reports may need (two IN queries); a later lookup of
    anything not primed asks the database itself. Misses are remembered too.
    """

    CHUNK = 500

    def __init__(self, session: Session, identity: Identity) -> None:
        self.session = session
        self.identity = identity
        self._by_id: dict[int, Found | None] = {}
        self._by_message_id: dict[str, Found | None] = {}

    def verp_ids(self, report: Report) -> list[int]:
        """Delivery ids of the genuine (signature-checked) VERP addresses in `report`."""
        found = (
            read_verp(address, self.identity.bounce_address, self.identity.secret_key)
            for address in report.verp_candidates
        )
        return [delivery_id for delivery_id in found if delivery_id is not None]

    def prime(self, reports: list[Report]) -> None:
        """Load every delivery these reports may name, in two queries per 500 keys."""
        ids = {i for report in reports for i in self.verp_ids(report)} - set(self._by_id)
        message_ids = {
            m for report in reports for m in report.message_ids[:MESSAGE_IDS_TRIED]
        } - set(self._by_message_id)
        self._load(Delivery.id, sorted(ids), self._by_id)
        self._load(Delivery.message_id, sorted(message_ids), self._by_message_id)

    def _load(self, column: Any, keys: list[Any], into: dict[Any, Found | None]) -> None:
        for start in range(0, len(keys), self.CHUNK):
            chunk = keys[start : start + self.CHUNK]
            into.update(dict.fromkeys(chunk))
            query = (
                select(column, Delivery.id, Delivery.subscriber_id, Subscriber.email)
                .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
                .where(column.in_(chunk))
            )
            for key, delivery_id, subscriber_id, email in self.session.execute(query):
                into[key] = Found(delivery_id, subscriber_id, email)

    def by_id(self, delivery_id: int) -> Found | None:
        """This delivery, or None if there is none."""
        if delivery_id not in self._by_id:
            self._load(Delivery.id, [delivery_id], self._by_id)
        return self._by_id[delivery_id]

    def by_message_id(self, message_id: str) -> Found | None:
        """The delivery sent with this Message-ID, or None."""
        if message_id not in self._by_message_id:
            self._load(Delivery.message_id, [message_id], self._by_message_id)
        return self._by_message_id[message_id]


def match_report(session: Session, report: Report, lookup: DeliveryLookup) -> Match | None:
    """The delivery or subscriber `report` is about; None if it is not about our mail
    or not shown to be (see the module docstring)."""
    for delivery_id in lookup.verp_ids(report):
        found = lookup.by_id(delivery_id)
        if found is not None:
            return Match(found.subscriber_id, found.delivery_id, "verp")
    if report.about_our_mail:
        return _webhook_match(session, report, lookup)
    if report.kind == ReportKind.UNSUBSCRIBE:
        subscriber_id = _subscriber_id(session, report.requester)
        return None if subscriber_id is None else Match(subscriber_id, None, "sender")
    named = {_normalised(address) for address in report.reported_addresses} - {""}
    for message_id in report.message_ids[:MESSAGE_IDS_TRIED]:
        found = lookup.by_message_id(message_id)
        if found is None:
            continue
        # A Message-ID signed with our secret is evidence as strong as a VERP address:
        # nobody but its reader had it. It is also what an ISP's feedback loop keeps
        # when it redacts the recipient (RFC 6449 section 3.3), and a feedback loop
        # reports to a fixed address, not the VERP one. One sent before Message-IDs
        # were signed counts only without VERP, with the reported address as well.
        signed = f".{signed_part(found.delivery_id, lookup.identity.secret_key)}@" in message_id
        if signed or (not lookup.identity.verp and found.email in named):
            return Match(found.subscriber_id, found.delivery_id, "message-id")
    return None


def _webhook_match(session: Session, report: Report, lookup: DeliveryLookup) -> Match | None:
    """A sending service's authenticated event: our Message-ID, else its address."""
    for message_id in report.message_ids[:MESSAGE_IDS_TRIED]:
        found = lookup.by_message_id(message_id)
        if found is not None:
            return Match(found.subscriber_id, found.delivery_id, "message-id")
    if report.kind == ReportKind.UNSUBSCRIBE:
        subscriber_id = _subscriber_id(session, report.requester)
        return None if subscriber_id is None else Match(subscriber_id, None, "sender")
    ours = any(f"<{lookup.identity.list_id}>" in value for value in report.list_ids)
    addresses = [failure.recipient for failure in report.failures] + [report.complainant]
    for address in addresses:
        subscriber_id = _subscriber_id(session, address)
        if subscriber_id is not None:
            return Match(subscriber_id, None, "list-id" if ours else "address")
    return None


def _normalised(address: str) -> str:
    try:
        return normalise_email(address).email if address else ""
    except SubscriberError:  # not an address we could ever have stored
        return ""


def _subscriber_id(session: Session, address: str) -> int | None:
    email = _normalised(address)
    if not email:
        return None
    return session.scalar(select(Subscriber.id).where(Subscriber.email == email))
