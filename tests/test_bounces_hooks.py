"""POST /hooks/ses and /hooks/postmark over real HTTP (uvicorn on 127.0.0.1, port 0).

SNS messages are signed here with a test certificate (trustme) for an
sns.<region>.amazonaws.com name; the certificate fetcher is injected, so no network is
used. A test that forges, alters or re-points a message must see it refused."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette

from digest.bounces.errors import BounceError
from digest.bounces.sns import SnsVerifier, string_to_sign
from digest.config import load_settings
from digest.db import Database
from digest.web import create_app, hooks
from digest.web.server import WebServer, bind
from tests.bounces_support import Site, configure, sent_site
from tests.conftest import Digest

trustme = pytest.importorskip("trustme")

TOPIC = "arn:aws:sns:us-east-1:123456789012:digest-ses"
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"
GONE = "gone@example.com"
ANGRY = "angry@example.com"
READER = "reader@example.com"

pytestmark = pytest.mark.usefixtures("database_env")


@contextmanager
def serving(app: Starlette) -> Iterator[str]:
    server = WebServer(app, bind("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            try:
                httpx.get(server.url + "/nothing", timeout=1)
                break
            except httpx.TransportError:
                threading.Event().wait(0.02)
        yield server.url
    finally:
        server.stop()
        thread.join(10)


class Signer:
    """A certificate and key standing in for AWS's, and the fetcher that serves it."""

    def __init__(self) -> None:
        authority = trustme.CA(key_type=trustme.KeyType.RSA)
        leaf = authority.issue_cert("sns.us-east-1.amazonaws.com", key_type=trustme.KeyType.RSA)
        self.certificate = leaf.cert_chain_pems[0].bytes()
        key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), None)
        assert isinstance(key, rsa.RSAPrivateKey)
        self.key = key
        self.fetched: list[str] = []

    def fetch(self, url: str) -> bytes:
        self.fetched.append(url)
        return self.certificate if url == CERT_URL else b"confirmed"

    def sign(self, message: dict[str, Any], version: str = "2") -> dict[str, Any]:
        message = {**message, "SignatureVersion": version, "SigningCertURL": CERT_URL}
        algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
        signature = self.key.sign(string_to_sign(message), padding.PKCS1v15(), algorithm)
        return {**message, "Signature": base64.b64encode(signature).decode("ascii")}


def notification(event: dict[str, Any], message_id: str) -> dict[str, Any]:
    return {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": TOPIC,
        "Message": json.dumps(event),
        "Timestamp": "2025-06-04T05:00:00.000Z",
    }


def ses_bounce(site: Site, email: str, bounce_type: str = "Permanent", status: str = "5.1.1"):
    sent = site.sent(email)
    message_id = next(
        line.split(b":", 1)[1].strip().decode()
        for line in sent.split(b"\r\n")
        if line.lower().startswith(b"message-id:")
    )
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [
                {"emailAddress": email, "status": status, "diagnosticCode": "smtp; 550 no"}
            ],
        },
        "mail": {
            "source": "digest@bounces.test",
            "messageId": "0100018f-ses-id",
            "commonHeaders": {"messageId": message_id, "subject": "Digest"},
        },
    }


@pytest.fixture
def site(digest: Digest, tmp_path: Path) -> Site:
    site = sent_site(digest, tmp_path, GONE, ANGRY, READER, bounce_threshold=1)
    configure(tmp_path, ses_topic_arns=[TOPIC])
    return site


def _app(site: Site, signer: Signer, **env: str) -> Starlette:
    settings = load_settings(site.folder / "digest.toml", env={**os.environ, **env})
    db = Database(settings.database_url)
    now = lambda: datetime.now(UTC)  # noqa: E731
    return Starlette(routes=hooks.routes(settings, db, clock=now, fetch=signer.fetch))


def test_ses_bounce_and_complaint(site: Site) -> None:
    signer = Signer()
    with serving(_app(site, signer)) as url:
        bounce = signer.sign(notification(ses_bounce(site, GONE), "m-1"))
        answer = httpx.post(url + "/hooks/ses", json=bounce)
        assert answer.status_code == 200 and answer.json()["outcome"] == "hard recorded"
        again = httpx.post(url + "/hooks/ses", json=bounce)  # SNS delivers at least once
        assert again.json()["outcome"] == "already processed"
        complaint = {
            "notificationType": "Complaint",
            "complaint": {"complainedRecipients": [{"emailAddress": ANGRY}]},
            "mail": {"source": "digest@bounces.test", "commonHeaders": {}},
        }
        signed = signer.sign(notification(complaint, "m-2"), version="1")
        assert httpx.post(url + "/hooks/ses", json=signed).status_code == 200
        refused = ses_bounce(site, READER, status="5.7.1")
        signed = signer.sign(notification(refused, "m-3"))
        assert httpx.post(url + "/hooks/ses", json=signed).json()["outcome"] == "hard recorded"
    assert site.status(GONE) == ("bounced", 1)
    assert site.status(ANGRY)[0] == "complained"
    assert site.status(READER) == ("active", 0)
    assert signer.fetched == [CERT_URL]  # fetched once, then kept


def test_ses_refuses_what_aws_did_not_sign(site: Site) -> None:
    signer = Signer()
    genuine = signer.sign(notification(ses_bounce(site, GONE), "m-1"))
    altered = {**genuine, "Message": genuine["Message"].replace(GONE, READER)}
    elsewhere = {**genuine, "SigningCertURL": "https://evil.example.com/cert.pem"}
    plain_http = {**genuine, "SigningCertURL": CERT_URL.replace("https", "http")}
    other_topic = signer.sign({**notification(ses_bounce(site, GONE), "m-9"), "TopicArn": "x"})
    with serving(_app(site, signer)) as url:
        for message in (altered, elsewhere, plain_http, other_topic):
            answer = httpx.post(url + "/hooks/ses", json=message)
            assert answer.status_code == 403, answer.text
        assert httpx.post(url + "/hooks/ses", content=b"[1,").status_code == 400
    assert site.status(GONE) == ("active", 0)
    assert site.status(READER) == ("active", 0)


def test_ses_subscription_confirmation(site: Site) -> None:
    signer = Signer()
    subscribe = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t"
    confirmation = signer.sign(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "c-1",
            "Token": "t",
            "TopicArn": TOPIC,
            "Message": "You have chosen to subscribe.",
            "SubscribeURL": subscribe,
            "Timestamp": "2025-06-04T05:00:00.000Z",
        }
    )
    with serving(_app(site, signer)) as url:
        answer = httpx.post(url + "/hooks/ses", json=confirmation)
    assert answer.json()["outcome"] == "subscription confirmed"
    assert subscribe in signer.fetched


def test_postmark_needs_the_secret(site: Site) -> None:
    signer = Signer()
    app = _app(site, signer, DIGEST_POSTMARK_SECRET="s3cret-hook")
    hard = {"RecordType": "Bounce", "Type": "HardBounce", "ID": 1, "Email": GONE}
    soft = {"RecordType": "Bounce", "Type": "SoftBounce", "ID": 2, "Email": READER}
    spam = {"RecordType": "SpamComplaint", "ID": 3, "Email": ANGRY}
    with serving(app) as url:
        hook = url + "/hooks/postmark"
        assert httpx.post(hook, json=hard).status_code == 401
        assert httpx.post(hook, json=hard, auth=("postmark", "wrong")).status_code == 401
        answer = httpx.post(hook, json=hard, auth=("postmark", "s3cret-hook"))
        assert answer.json()["outcome"] == "hard recorded"
        headers = {"X-Webhook-Secret": "s3cret-hook"}
        assert httpx.post(hook, json=soft, headers=headers).json()["outcome"] == "soft recorded"
        assert httpx.post(hook, json=spam, headers=headers).status_code == 200
    assert site.status(GONE) == ("bounced", 1)
    assert site.status(READER) == ("active", 0)
    assert site.status(ANGRY)[0] == "complained"


def test_digest_serve_mounts_the_hooks_and_unconfigured_ones_are_off(site: Site) -> None:
    configure(site.folder, unsubscribe_mailto="unsubscribe@bounces.test")
    settings = load_settings(site.folder / "digest.toml")
    db = Database(settings.database_url)
    with serving(create_app(settings, db)) as url:
        answer = httpx.post(url + "/hooks/postmark", json={})
        assert answer.status_code == 404  # no DIGEST_POSTMARK_SECRET
        assert httpx.get(url + "/hooks/ses").status_code == 405


class SlowSigner(Signer):
    """A Signer whose certificate fetch hangs until the test lets it go (as a slow or
    forged SigningCertURL would, up to fetch_https's 10 s timeout)."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()
        self.release = threading.Event()

    def fetch(self, url: str) -> bytes:
        self.started.set()
        self.release.wait(10)
        return super().fetch(url)


def test_a_certificate_fetch_does_not_stall_other_requests(site: Site) -> None:
    signer = SlowSigner()
    bounce = signer.sign(notification(ses_bounce(site, GONE), "m-1"))
    other_topic = {**bounce, "TopicArn": "arn:aws:sns:us-east-1:999999999999:not-ours"}
    other_topic["SigningCertURL"] = CERT_URL.replace("test.pem", "other.pem")
    answers: list[httpx.Response] = []
    with serving(_app(site, signer)) as url:
        waiting = threading.Thread(
            target=lambda: answers.append(httpx.post(url + "/hooks/ses", json=bounce, timeout=20))
        )
        waiting.start()
        try:
            assert signer.started.wait(10), "the certificate was never fetched"
            # While the fetch hangs, the server still answers, quickly.
            assert httpx.get(url + "/nothing", timeout=2).status_code == 404
            refused = httpx.post(url + "/hooks/ses", json=other_topic, timeout=2)
            assert refused.status_code == 403 and "TopicArn" in refused.json()["outcome"]
        finally:
            signer.release.set()
            waiting.join(20)
    assert answers[0].json()["outcome"] == "hard recorded"
    assert signer.fetched == [CERT_URL]  # the other topic's certificate was never fetched


class BrokenSigner(Signer):
    """A Signer whose certificate URL cannot be fetched."""

    def fetch(self, url: str) -> bytes:
        self.fetched.append(url)
        raise BounceError(f"cannot fetch {url}: connection refused")


def test_a_certificate_that_cannot_be_fetched_is_not_fetched_again(site: Site) -> None:
    signer = BrokenSigner()
    with serving(_app(site, signer)) as url:
        for message_id in ("m-1", "m-2", "m-3"):
            forged = signer.sign(notification(ses_bounce(site, GONE), message_id))
            answer = httpx.post(url + "/hooks/ses", json=forged)
            assert answer.status_code == 502, answer.text
    assert signer.fetched == [CERT_URL]
    assert site.status(GONE) == ("active", 0)


def test_a_failed_certificate_url_is_tried_again_after_a_while() -> None:
    signer = BrokenSigner()
    now = [datetime(2025, 6, 4, 5, 0, tzinfo=UTC)]
    verifier = SnsVerifier(signer.fetch, lambda: now[0])
    message = signer.sign(notification({}, "m-1"))
    for minutes in (0, 1, 9, 11):
        now[0] = datetime(2025, 6, 4, 5, minutes, tzinfo=UTC)
        with pytest.raises(BounceError):
            verifier.verify(message)
    assert signer.fetched == [CERT_URL, CERT_URL]  # at 5:00, then again at 5:11


def test_json_nested_too_deeply_is_a_400(site: Site) -> None:
    signer = Signer()
    deep = b"[" * 3000 + b"]" * 3000
    with serving(_app(site, signer, DIGEST_POSTMARK_SECRET="s3cret-hook")) as url:
        ses = httpx.post(url + "/hooks/ses", content=deep)
        postmark = httpx.post(url + "/hooks/postmark", content=deep, auth=("pm", "s3cret-hook"))
        inner = signer.sign({**notification({}, "m-1"), "Message": deep.decode()})
        inside = httpx.post(url + "/hooks/ses", json=inner)
    assert (ses.status_code, ses.json()) == (400, {"outcome": "not a JSON object"})
    assert (postmark.status_code, postmark.json()) == (400, {"outcome": "not a JSON object"})
    assert inside.status_code == 400
