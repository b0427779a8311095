"""What a report means, on real bounce samples (flufl.bounce's corpus) and built ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.bounces.report import ReportKind, failure_kind, read_report
from digest.models import FailureKind
from tests.bounces_support import UNSUBSCRIBE, arf, dsn, unsubscribe_request

SAMPLES = Path(__file__).parent / "data" / "bounces"
ORIGINAL = (
    b"From: d@news.example\r\nTo: r@example.com\r\nMessage-ID: <m.1@news.example>\r\n\r\nx\r\n"
)


@pytest.mark.parametrize(
    ("sample", "kind", "recipient", "permanent"),
    [
        ("dsn_01.txt", ReportKind.BOUNCE, "userx@example.com", True),
        ("qmail_01.txt", ReportKind.BOUNCE, "userx@example.de", True),
        ("exim_01.txt", ReportKind.BOUNCE, "userx@its.example.nl", True),
        ("yahoo_01.txt", ReportKind.BOUNCE, "userx@example.com", True),
        ("postfix_01.txt", ReportKind.BOUNCE, "xxxxx@local.ie", True),
        ("simple_03.txt", ReportKind.BOUNCE, "userx@example.za", False),
        ("dumbass_01.txt", ReportKind.UNRECOGNISED, None, None),
    ],
)
def test_real_bounce_formats(
    sample: str, kind: ReportKind, recipient: str | None, permanent: bool | None
) -> None:
    report = read_report((SAMPLES / sample).read_bytes(), unsubscribe_mailto=UNSUBSCRIBE)
    assert report.kind == kind
    if recipient is not None:
        assert [(f.recipient, f.permanent) for f in report.failures] == [(recipient, permanent)]


@pytest.mark.parametrize(
    ("status", "permanent", "kind"),
    [
        ("5.1.1", True, FailureKind.ADDRESS),
        ("5.2.1", True, FailureKind.ADDRESS),
        ("", True, FailureKind.ADDRESS),
        ("5.7.1", True, FailureKind.REFUSED),
        ("5.4.4", True, FailureKind.REFUSED),
        ("5.3.4", True, FailureKind.REFUSED),
        ("5.5.0", True, FailureKind.REFUSED),
        ("5.0.0", True, FailureKind.REFUSED),
        ("5.2.2", True, FailureKind.TRANSIENT),
        ("4.2.2", True, FailureKind.TRANSIENT),
        ("5.1.1", False, FailureKind.TRANSIENT),
    ],
)
def test_failure_kinds_follow_rfc_3463(status: str, permanent: bool, kind: FailureKind) -> None:
    assert failure_kind(status, permanent) == kind


def test_dsn_status_and_returned_message_id() -> None:
    report = read_report(dsn(ORIGINAL, "r@example.com", status="5.7.1"))
    assert report.kind == ReportKind.BOUNCE
    assert report.failures[0].status == "5.7.1" and report.failures[0].permanent
    assert "<m.1@news.example>" in report.message_ids


def test_arf_complaint_and_not_spam() -> None:
    report = read_report(arf(ORIGINAL, "r@example.com"))
    assert report.kind == ReportKind.COMPLAINT and report.complainant == "r@example.com"
    assert "<m.1@news.example>" in report.message_ids
    not_spam = arf(ORIGINAL, "r@example.com").replace(
        b"Feedback-Type: abuse", b"Feedback-Type: not-spam"
    )
    assert read_report(not_spam).kind == ReportKind.UNRECOGNISED


def test_unsubscribe_request_only_to_the_advertised_address() -> None:
    request = unsubscribe_request("Reader <r@example.com>")
    assert read_report(request, unsubscribe_mailto=UNSUBSCRIBE).requester == "r@example.com"
    assert read_report(request, unsubscribe_mailto="other@x.example").kind != ReportKind.UNSUBSCRIBE


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="x"\r\n\r\n--x',
        b"Subject: =?utf-8?b?////?=\r\nFrom: <<<@@@>>>\r\n\r\n",
        b"Content-Type: message/delivery-status\r\n\r\nAction: failed\r\nStatus: 5.1.1\r\n",
    ],
)
def test_malformed_mail_never_raises(raw: bytes) -> None:
    assert read_report(raw, unsubscribe_mailto=UNSUBSCRIBE).kind in set(ReportKind)
