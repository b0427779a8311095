"""Webhooks of sending services: POST /hooks/ses (Amazon SES through SNS) and
POST /hooks/postmark, with the same meaning as `digest bounces process`.

/hooks/ses accepts only SNS messages whose TopicArn is one of `web.ses_topic_arns`
(checked first, so a forged message for another topic makes us fetch nothing) and whose
signature checks (see `bounces.sns`; the certificate is fetched in a worker thread, never
on the event loop, and a URL that failed is not fetched again for a while). A
SubscriptionConfirmation is confirmed by fetching its SubscribeURL (https on an AWS host
only). /hooks/postmark needs the secret from DIGEST_POSTMARK_SECRET, as the HTTP
basic-auth password or an X-Webhook-Secret header. Unconfigured hooks answer 404. Each
event is applied once (SNS retries, Postmark too): the event's id is its once-only key.
Answers are JSON; nothing secret is echoed.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable
from datetime import datetime
from typing import Any

from anyio import CapacityLimiter, to_thread
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from digest.bounces.errors import BounceError
from digest.bounces.identity import process_options
from digest.bounces.process import ProcessOptions, learn
from digest.bounces.providers import event_key, loads, postmark_report, ses_report
from digest.bounces.record import seen
from digest.bounces.report import Report
from digest.bounces.sns import Fetcher, SignatureRefused, SnsVerifier, check_aws_url, fetch_https
from digest.config import Settings
from digest.db import Database

#: How many signature checks may wait on a certificate fetch at once.
FETCH_THREADS = 4
#: SNS messages are at most 256 KB; Postmark events with the bounce content a little more.
MAX_BODY = 1_048_576


def _answer(status: int, outcome: str) -> JSONResponse:
    return JSONResponse({"outcome": outcome}, status_code=status)


async def _body(request: Request) -> bytes | None:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return body


class Hooks:
    """The two endpoints; database work runs in a worker thread, never on the loop."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        clock: Callable[[], datetime],
        fetch: Fetcher = fetch_https,
    ) -> None:
        self.db = db
        self.clock = clock
        self.fetch = fetch
        self.options: ProcessOptions = process_options(settings, db)
        self.topics = frozenset(settings.web.ses_topic_arns)
        self.postmark_secret = settings.secrets.postmark_secret
        self.verifier = SnsVerifier(fetch, clock)
        #: Signature checks (which may fetch a certificate, 10 s at most) get threads of
        #: their own, so slow fetches cannot take the ones database work needs.
        self.fetches = CapacityLimiter(FETCH_THREADS)

    def _learn(self, report: Report | None, key: str, origin: str) -> str:
        if report is None:
            return "ignored"
        try:
            with self.db.session() as session:
                if seen(session, [key]):
                    return "already processed"
                applied = learn(
                    session,
                    report,
                    digest=key,
                    origin=origin,
                    options=self.options,
                    now=self.clock(),
                )
        except IntegrityError:  # the service's retry raced its first delivery
            return "already processed"
        return "not about our mail" if applied is None else f"{applied.event.value} recorded"

    async def ses(self, request: Request) -> JSONResponse:
        """POST /hooks/ses: an SNS message (Notification or SubscriptionConfirmation)."""
        if not self.topics:
            return _answer(404, "not configured")
        body = await _body(request)
        if body is None:
            return _answer(413, "too large")
        try:
            message = loads(body)
        except ValueError:
            return _answer(400, "not a JSON object")
        # Checked before the signature, whose certificate may have to be fetched: a
        # message for another topic costs us nothing.
        if message.get("TopicArn") not in self.topics:
            return _answer(403, "TopicArn is not one of web.ses_topic_arns")
        try:
            await to_thread.run_sync(self.verifier.verify, message, limiter=self.fetches)
        except SignatureRefused as e:
            return _answer(403, str(e))
        except BounceError:
            return _answer(502, "cannot fetch the signing certificate")
        kind = message.get("Type")
        if kind == "SubscriptionConfirmation":
            return await self._confirm(message)
        if kind != "Notification":
            return _answer(200, "ignored")
        try:
            notification = loads(str(message.get("Message", "")).encode("utf-8"))
        except ValueError:
            return _answer(400, "Message is not a JSON object")
        key = event_key("ses", message.get("MessageId"))
        outcome = await run_in_threadpool(self._learn, ses_report(notification), key, "ses")
        return _answer(200, outcome)

    async def _confirm(self, message: dict[str, Any]) -> JSONResponse:
        try:
            url = check_aws_url(str(message.get("SubscribeURL", "")), "SubscribeURL")
            await run_in_threadpool(self.fetch, url)
        except SignatureRefused as e:
            return _answer(403, str(e))
        except BounceError:
            return _answer(502, "cannot confirm the subscription")
        return _answer(200, "subscription confirmed")

    def _authorised(self, request: Request) -> bool:
        secret = self.postmark_secret or ""
        given = request.headers.get("x-webhook-secret", "")
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                given = base64.b64decode(credentials, validate=True).decode().partition(":")[2]
            except (binascii.Error, UnicodeDecodeError):
                return False
        return bool(given) and hmac.compare_digest(given.encode(), secret.encode())

    async def postmark(self, request: Request) -> JSONResponse:
        """POST /hooks/postmark: one Postmark webhook event."""
        if not self.postmark_secret:
            return _answer(404, "not configured")
        if not self._authorised(request):
            return JSONResponse(
                {"outcome": "unauthorised"},
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="hooks"'},
            )
        body = await _body(request)
        if body is None:
            return _answer(413, "too large")
        try:
            event = loads(body)
        except ValueError:
            return _answer(400, "not a JSON object")
        key = event_key(
            "postmark",
            event.get("RecordType"),
            event.get("ID") or event.get("MessageID"),
            event.get("Email") or event.get("Recipient"),
        )
        report = postmark_report(event)
        outcome = await run_in_threadpool(self._learn, report, key, "postmark")
        return _answer(200, outcome)


def routes(
    settings: Settings,
    db: Database,
    *,
    clock: Callable[[], datetime],
    fetch: Fetcher = fetch_https,
) -> list[BaseRoute]:
    """POST /hooks/ses and POST /hooks/postmark."""
    hooks = Hooks(settings, db, clock=clock, fetch=fetch)
    return [
        Route("/hooks/ses", hooks.ses, methods=["POST"]),
        Route("/hooks/postmark", hooks.postmark, methods=["POST"]),
    ]
