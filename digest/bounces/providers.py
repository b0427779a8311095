"""Webhook events of sending services, read into the same Report a bounce mail gives.

Amazon SES (through SNS): notificationType/eventType "Bounce" with bounceType
Permanent, Transient or Undetermined and per-recipient status codes, and "Complaint"
(https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html). Postmark:
RecordType "Bounce" with Type (HardBounce, SoftBounce, Blocked...), "SpamComplaint" and
"SubscriptionChange" (https://postmarkapp.com/developer/webhooks/). Both services only
report on mail we sent through them, so the recipient address may name the subscriber.
"""

from __future__ import annotations

import json
import re
from typing import Any

from digest.bounces.report import Failure, Report, ReportKind

#: Postmark bounce types, as the kind of failure each one is.
POSTMARK_HARD = frozenset({"HardBounce", "BadEmailAddress"})
POSTMARK_REFUSED = frozenset({"Blocked", "SpamNotification", "ContentRelated", "DMARCPolicy"})
POSTMARK_SOFT = frozenset({"SoftBounce", "Transient", "DnsError"})
_MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _headers(mail: dict[str, Any], name: str) -> list[str]:
    headers = mail.get("headers")
    if not isinstance(headers, list):
        return []
    return [
        _text(header.get("value"))
        for header in headers
        if isinstance(header, dict) and _text(header.get("name")).lower() == name
    ]


def ses_report(notification: dict[str, Any]) -> Report | None:
    """The Report of one SES event (the JSON in an SNS Notification's Message); None for
    events that are neither a bounce nor a complaint (Delivery, Send, Open...)."""
    kind = _text(notification.get("notificationType") or notification.get("eventType"))
    mail = notification.get("mail") if isinstance(notification.get("mail"), dict) else {}
    assert isinstance(mail, dict)
    common = mail.get("commonHeaders") if isinstance(mail.get("commonHeaders"), dict) else {}
    assert isinstance(common, dict)
    message_ids = [_text(common.get("messageId")), *_headers(mail, "message-id")]
    clues = {
        "verp_candidates": (_text(mail.get("source")),),
        "message_ids": tuple(dict.fromkeys(m for m in message_ids if m)),
        "list_ids": tuple(_headers(mail, "list-id")),
        "message_id": _text(mail.get("messageId")) or None,
        "summary": f"SES {kind.lower()} of {_text(common.get('subject'))!r}",
        "about_our_mail": True,
    }
    if kind == "Bounce":
        bounce = notification.get("bounce") or {}
        bounce_type = _text(bounce.get("bounceType"))
        failures = tuple(
            Failure(
                _text(recipient.get("emailAddress")),
                bounce_type == "Permanent",
                _text(recipient.get("status")),
                _text(recipient.get("diagnosticCode"))[:1000],
            )
            for recipient in bounce.get("bouncedRecipients") or []
            if isinstance(recipient, dict) and _text(recipient.get("emailAddress"))
        )
        if not failures:
            return None
        return Report(ReportKind.BOUNCE, failures=failures, **clues)  # type: ignore[arg-type]
    if kind == "Complaint":
        complaint = notification.get("complaint") or {}
        if _text(complaint.get("complaintFeedbackType")).lower() == "not-spam":
            return None
        recipients = [
            _text(r.get("emailAddress"))
            for r in complaint.get("complainedRecipients") or []
            if isinstance(r, dict)
        ]
        complainant = next((r for r in recipients if r), "")
        return Report(ReportKind.COMPLAINT, complainant=complainant, **clues)  # type: ignore[arg-type]
    return None


def postmark_report(event: dict[str, Any]) -> Report | None:
    """The Report of one Postmark webhook event; None for events we do not act on."""
    record = _text(event.get("RecordType"))
    address = _text(event.get("Email") or event.get("Recipient"))
    content = _text(event.get("Content"))
    clues = {
        "message_ids": tuple(dict.fromkeys(_MESSAGE_ID.findall(content))),
        "message_id": _text(event.get("MessageID")) or None,
        "summary": f"Postmark {record} {_text(event.get('Type'))} for {address}".strip(),
        "about_our_mail": True,
    }
    if not address:
        return None
    if record == "Bounce":
        bounce_type = _text(event.get("Type"))
        details = (_text(event.get("Details")) or _text(event.get("Description")))[:1000]
        if bounce_type in POSTMARK_HARD:
            failure = Failure(address, True, "", details)
        elif bounce_type in POSTMARK_REFUSED:
            failure = Failure(address, True, "5.7.1", details)
        elif bounce_type in POSTMARK_SOFT:
            failure = Failure(address, False, "", details)
        else:
            return None
        return Report(ReportKind.BOUNCE, failures=(failure,), **clues)  # type: ignore[arg-type]
    if record == "SpamComplaint":
        return Report(ReportKind.COMPLAINT, complainant=address, **clues)  # type: ignore[arg-type]
    if (
        record == "SubscriptionChange"
        and event.get("SuppressSending") is True
        and _text(event.get("SuppressionReason")) == "ManualSuppression"
    ):
        return Report(ReportKind.UNSUBSCRIBE, requester=address, **clues)  # type: ignore[arg-type]
    return None


def event_key(origin: str, *parts: object) -> str:
    """The once-only key of a webhook event: `origin:` and the event's own ids."""
    return f"{origin}:" + ":".join(str(part) for part in parts)[:180]


def loads(body: bytes) -> dict[str, Any]:
    """A JSON object, or ValueError (also for arrays or objects nested so deep that the
    parser gives up: a few KB of `[` would otherwise end in a RecursionError)."""
    try:
        value = json.loads(body)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value
