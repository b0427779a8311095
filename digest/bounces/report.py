"""What an inbound message means: a bounce, a complaint, an unsubscribe request, or none.

Bounce detection is flufl.bounce's (Mailman's detectors: RFC 3464 DSNs first, then the
heuristics for the common non-standard formats); only the per-recipient Status and
Diagnostic-Code fields of a DSN (RFC 3464 §2.3) are read here, to tell an address
failure from a refusal of the relay or sender. Complaints are ARF reports (RFC 5965
§3: multipart/report; report-type=feedback-report). A message sent to the advertised
mailto: address that is neither is an unsubscribe request (RFC 2369 List-Unsubscribe).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parseaddr
from enum import StrEnum

from flufl.bounce import all_failures

from digest.delivery.classify import RCPT, FailureKind, classify

#: flufl.bounce logs a detector's exception with its traceback (and carries on with the
#: next detector); hostile mail would print a screen of it per message. `_failures` sees
#: the outcome, and the operator gets one line per message that is left in place.
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)

#: Largest message read whole. A DSN (RFC 3464 §2) or ARF report (RFC 5965 §2) is a few
#: KB plus the returned message, which the reporting MTA may truncate (RFC 3464 §2
#: "the returned content may be truncated"); a bigger one is not parsed at all.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
#: Of a message too large or too deeply nested, only this much is read, for its summary.
HEAD_BYTES = 64 * 1024
#: MIME boundaries beyond this many are not a report (they nest thousands deep to
#: exhaust the parser's recursion); such a message is unrecognised without being parsed.
MAX_BOUNDARIES = 100


class ReportKind(StrEnum):
    """What an inbound message is (RFC 3464 bounce, RFC 5965 complaint, RFC 2369 request)."""

    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    UNRECOGNISED = "unrecognised"


@dataclass(frozen=True)
class Failure:
    """One failed recipient of a bounce: permanent (hard) or temporary (soft)."""

    recipient: str
    permanent: bool
    #: RFC 3463 enhanced status code ("5.1.1"), "" when the report gives none.
    status: str = ""
    diagnostic: str = ""

    @property
    def kind(self) -> FailureKind:
        """Address, refused or transient, by `failure_kind`."""
        return failure_kind(self.status, self.permanent)


@dataclass(frozen=True)
class Report:
    """What one inbound message or webhook event says, and the clues to its delivery."""

    kind: ReportKind
    failures: tuple[Failure, ...] = ()
    #: Complaint: the address that complained (ARF Original-Rcpt-To), when given.
    complainant: str = ""
    #: Unsubscribe request: the address that asked (From).
    requester: str = ""
    #: Addresses the report says the message was for: a bounce's failed recipients and
    #: its DSN Original-/Final-Recipient (RFC 3464 §2.3.1-2), a complaint's ARF
    #: Original-Rcpt-To (RFC 5965 §3.5) and the returned To.
    reported_addresses: tuple[str, ...] = ()
    #: Addresses the report was sent to or returned from: where a VERP tag may be.
    verp_candidates: tuple[str, ...] = ()
    #: Message-IDs that may be our original message's.
    message_ids: tuple[str, ...] = ()
    #: List-Id values seen in the returned original headers.
    list_ids: tuple[str, ...] = ()
    #: The inbound message's own Message-ID, for the record.
    message_id: str | None = None
    #: Subject and From of the inbound message, for reports to the operator.
    summary: str = ""
    #: From a sending service's authenticated webhook: every event is about mail we sent,
    #: so the failed address alone may name the subscriber.
    about_our_mail: bool = False

    @property
    def worst(self) -> Failure | None:
        """The failure that decides the outcome: a permanent one over a temporary one."""
        if not self.failures:
            return None
        return sorted(self.failures, key=lambda failure: not failure.permanent)[0]


def failure_kind(status: str, permanent: bool) -> FailureKind:
    """Classify a reported failure by the sender's own rule (`delivery.classify`), so a
    later bounce counts exactly as the same reply during the send would.

    A permanent failure is read as a 5xx refusal of the recipient: 5.1.x and 5.2.1 (or no
    enhanced code at all, as the non-standard formats give) mean the address is bad; any
    other 5.x.x refuses the relay or the message. Temporary reports, 4.x.x and 5.2.2
    (mailbox full, which most senders treat as temporary) are transient: soft bounces.
    """
    if not permanent or status.startswith("4.") or status == "5.2.2":
        return FailureKind.TRANSIENT
    return classify(550, status or None, RCPT)


_HEADERS = BytesHeaderParser()
#: A DSN's Status field (RFC 3464 §2.3.4): an RFC 3463 code, then at most a comment.
_STATUS = re.compile(r"\s*([245]\.\d{1,3}\.\d{1,3})\s*(?:\(.*\)\s*)?", re.DOTALL)
#: The Status of a per-recipient block that has one but not a valid code: such a block
#: says nothing we can classify (see `_failures`).
INVALID_STATUS = "invalid"
_MESSAGE_ID = re.compile(rb"<([^<>\s@]+@[^<>\s@]+)>")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_BOUNDARY = re.compile(rb"boundary\s*=", re.IGNORECASE)
_AUTOMATIC = ("auto-replied", "auto-generated", "auto-notified")


def _text(value: object) -> str:
    """A header as text, RFC 2047 words decoded; never raises on broken encodings."""
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value))))
    except (UnicodeError, LookupError, ValueError, TypeError):
        return str(value)


def _addresses(message: Message, *names: str) -> list[str]:
    values = [str(v) for name in names for v in (message.get_all(name) or [])]
    return [address for _name, address in getaddresses(values) if "@" in address]


def _report_type(message: Message) -> str:
    if message.get_content_type() != "multipart/report":
        return ""
    return str(message.get_param("report-type", "") or "").lower()


def _original_parts(message: Message) -> list[Message]:
    """Header blocks of the returned original message (message/rfc822 or rfc822-headers)."""
    found: list[Message] = []
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                found.append(payload[0])
        elif content_type in ("text/rfc822-headers", "message/rfc822-headers"):
            raw = part.get_payload(decode=True)
            if isinstance(raw, bytes):
                found.append(_HEADERS.parsebytes(raw))
    return found


def _dsn_fields(message: Message) -> dict[str, tuple[str, str]]:
    """address (lower case) -> (Status, Diagnostic-Code) from each per-recipient block."""
    fields: dict[str, tuple[str, str]] = {}
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status" or not part.is_multipart():
            continue
        for block in part.get_payload():
            if not isinstance(block, Message):
                continue
            status = _status(block.get("status"))
            diagnostic = " ".join(str(block.get("diagnostic-code", "")).split())
            for header in ("original-recipient", "final-recipient", "x-actual-recipient"):
                value = str(block.get(header, ""))
                address = parseaddr(value.partition(";")[2] or value)[1].lower()
                if address:
                    fields[address] = (status, diagnostic[:1000])
    return fields


def _status(field: object) -> str:
    """A Status field's code; "" when there is none, `INVALID_STATUS` when it is not a
    valid RFC 3463 code (RFC 3464 §2.3.4 requires one)."""
    if field is None:
        return ""
    match = _STATUS.fullmatch(str(field))
    return match.group(1) if match else INVALID_STATUS


def _clues(message: Message, raw: bytes, originals: list[Message]) -> dict[str, tuple[str, ...]]:
    verp = _addresses(message, "delivered-to", "x-original-to", "envelope-to", "to")
    message_ids: list[str] = []
    list_ids: list[str] = []
    for original in originals:
        verp += _addresses(original, "return-path")
        message_ids += [m.strip() for m in original.get_all("message-id") or []]
        list_ids += [str(v) for v in original.get_all("list-id") or []]
    own = str(message.get("message-id", "")).strip()
    header_end = raw.find(b"\n\n")
    body = raw[header_end:] if header_end >= 0 else b""
    for found in _MESSAGE_ID.finditer(body):
        candidate = "<" + found.group(1).decode("ascii", "replace") + ">"
        if candidate != own:
            message_ids.append(candidate)
    for reference in ("in-reply-to", "references"):
        message_ids += re.findall(r"<[^<>\s]+>", str(message[reference] or ""))
    return {
        "verp": tuple(dict.fromkeys(verp)),
        "message_ids": tuple(dict.fromkeys(message_ids)),
        "list_ids": tuple(dict.fromkeys(list_ids)),
    }


def _complaint(message: Message, originals: list[Message]) -> tuple[bool, str]:
    """(is a complaint, the complaining address) from the machine-readable part."""
    for part in message.walk():
        if part.get_content_type() != "message/feedback-report":
            continue
        fields = part.get_payload()
        block = fields[0] if isinstance(fields, list) and fields else None
        if not isinstance(block, Message):
            raw = part.get_payload(decode=True)
            block = message_from_bytes(raw) if isinstance(raw, bytes) else Message()
        if str(block.get("feedback-type", "")).strip().lower() == "not-spam":
            return False, ""
        complainant = parseaddr(str(block.get("original-rcpt-to", "")))[1]
        if not complainant:
            for original in originals:
                found = _addresses(original, "to")
                if found:
                    complainant = found[0]
                    break
        return True, complainant
    return False, ""


def _addressed_to(message: Message, mailbox: str) -> bool:
    wanted = mailbox.strip().lower()
    names = ("to", "cc", "delivered-to", "x-original-to", "envelope-to")
    return bool(wanted) and any(a.lower() == wanted for a in _addresses(message, *names))


def _automatic(message: Message) -> bool:
    auto = str(message.get("auto-submitted", "")).strip().lower()
    sender = parseaddr(str(message.get("from", "")))[1].lower()
    return auto.startswith(_AUTOMATIC) or sender.startswith(("mailer-daemon@", "postmaster@"))


def read_report(raw: bytes, *, unsubscribe_mailto: str = "") -> Report:
    """What the raw inbound message `raw` (RFC 5322 bytes) means.

    `unsubscribe_mailto` is the address advertised in List-Unsubscribe; a human message
    sent to it asks to unsubscribe its sender. Never raises on malformed mail: what
    cannot be read is UNRECOGNISED. The sources hand over at most `MAX_MESSAGE_BYTES`.
    """
    if len(_BOUNDARY.findall(raw)) > MAX_BOUNDARIES:
        return unreadable_report(raw, "too many MIME parts, not read")
    try:
        return _read(raw, unsubscribe_mailto)
    except RecursionError:  # nesting the count above missed: never stop the run
        return unreadable_report(raw, "nested too deeply, not read")


def unreadable_report(raw: bytes, why: str) -> Report:
    """An UNRECOGNISED report for a message not parsed whole: `why`, and the Subject and
    From of its first `HEAD_BYTES` (headers only, no MIME structure) for the operator."""
    head = raw[:HEAD_BYTES]
    end = _HEADER_END.search(head)
    headers = _HEADERS.parsebytes(head if end is None else head[: end.start()])
    return Report(ReportKind.UNRECOGNISED, summary=f"{why}, {_summary(headers)}")


def _summary(message: Message) -> str:
    """Subject and From, as they came: what shows them removes control characters."""
    subject = " ".join(_text(message.get("subject")).split())[:200]
    sender = parseaddr(str(message.get("from", "")))[1][:200]
    return f"from {sender or '?'}: {subject or '(no subject)'}"


def _read(raw: bytes, unsubscribe_mailto: str) -> Report:
    message = message_from_bytes(raw)
    sender = parseaddr(str(message.get("from", "")))[1]
    summary = _summary(message)
    own_id = str(message.get("message-id", "")).strip() or None
    originals = _original_parts(message)
    clues = _clues(message, raw, originals)
    unrecognised = Report(
        ReportKind.UNRECOGNISED,
        verp_candidates=clues["verp"],
        message_ids=clues["message_ids"],
        list_ids=clues["list_ids"],
        message_id=own_id,
        summary=summary,
    )
    report_type = _report_type(message)
    if report_type == "feedback-report" or any(
        part.get_content_type() == "message/feedback-report" for part in message.walk()
    ):
        complaint, complainant = _complaint(message, originals)
        if complaint:
            returned_to = [a for original in originals for a in _addresses(original, "to")]
            return replace(
                unrecognised,
                kind=ReportKind.COMPLAINT,
                complainant=complainant,
                reported_addresses=tuple(dict.fromkeys([complainant, *returned_to])),
            )
        return unrecognised
    if report_type != "delivery-status" and _addressed_to(message, unsubscribe_mailto):
        if sender and not _automatic(message):
            return replace(unrecognised, kind=ReportKind.UNSUBSCRIBE, requester=sender)
        return unrecognised
    failures = _failures(message)
    if failures:
        reported = [failure.recipient for failure in failures] + list(_dsn_fields(message))
        return replace(
            unrecognised,
            kind=ReportKind.BOUNCE,
            failures=failures,
            reported_addresses=tuple(dict.fromkeys(reported)),
        )
    return unrecognised


def _failures(message: Message) -> tuple[Failure, ...]:
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # a detector choking on hostile mail must not stop the run
        return ()
    fields = _dsn_fields(message)
    failures: list[Failure] = []
    for addresses, is_permanent in ((permanent, True), (temporary - permanent, False)):
        for encoded in sorted(addresses):
            address = encoded.decode("ascii", "replace")
            status, diagnostic = fields.get(address.lower(), ("", ""))
            if status == INVALID_STATUS:
                continue  # not a status we can read: not counted against anybody
            hard = is_permanent and not status.startswith("4.")
            failures.append(Failure(address, hard, status, diagnostic))
    return tuple(failures)
