"""Amazon SNS message signatures, checked as AWS documents them.

The string to sign is the message's fields, each as "Name\\nValue\\n" in a fixed order
(Notification: Message, MessageId, Subject when present, Timestamp, TopicArn, Type;
(Un)SubscriptionConfirmation: Message, MessageId, SubscribeURL, Timestamp, Token,
TopicArn, Type). SignatureVersion 1 signs it with SHA1withRSA, 2 with SHA256withRSA, by
the key in the X.509 certificate at SigningCertURL, which must be https on an
sns.*.amazonaws.com host (so nobody can point us at a certificate of their own).
A valid signature only proves AWS sent it: any AWS account can sign, so the caller also
checks TopicArn against the topics it trusts.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from digest.bounces.errors import BounceError

#: url -> the bytes at that https URL (certificates, and subscription confirmations).
Fetcher = Callable[[str], bytes]

NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
SUBSCRIPTION_FIELDS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
SUBSCRIPTION_TYPES = ("SubscriptionConfirmation", "UnsubscribeConfirmation")
#: How long a certificate URL that could not be fetched (or was no certificate) is not
#: tried again: a forger must not make us fetch the same URL for every message sent.
FAILED_FETCH_MEMORY = timedelta(minutes=10)
#: At most this many failed URLs are remembered (the oldest is forgotten first), so
#: forged messages naming ever new URLs cannot grow the memory without bound.
FAILED_FETCH_LIMIT = 1000


class SignatureRefused(BounceError):
    """The SNS message is not signed by AWS (or not in a way we accept)."""


def check_aws_url(url: str, field: str) -> str:
    """`url` if it is https on an sns.<region>.amazonaws.com host; else SignatureRefused."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if (
        parts.scheme != "https"
        or not host.startswith("sns.")
        or not host.endswith(".amazonaws.com")
    ):
        raise SignatureRefused(f"{field}: {url!r} is not https on an sns.*.amazonaws.com host")
    return url


def string_to_sign(message: dict[str, Any]) -> bytes:
    """The canonical bytes SNS signs for this message (see the module docstring)."""
    kind = message.get("Type")
    fields = SUBSCRIPTION_FIELDS if kind in SUBSCRIPTION_TYPES else NOTIFICATION_FIELDS
    if kind != "Notification" and kind not in SUBSCRIPTION_TYPES:
        raise SignatureRefused(f"Type: {kind!r} is not an SNS message type")
    lines: list[str] = []
    for name in fields:
        value = message.get(name)
        if value is None and name == "Subject":
            continue
        if not isinstance(value, str):
            raise SignatureRefused(f"{name}: missing from the SNS message")
        lines += [name, value]
    return ("\n".join(lines) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Signed:
    """What an SNS message's signature is checked with, read without the network."""

    algorithm: hashes.HashAlgorithm
    signature: bytes
    certificate_url: str
    text: bytes


def signed_parts(message: dict[str, Any]) -> Signed:
    """Everything `SnsVerifier.verify` checks before it fetches a certificate: the
    version, the signature's encoding, the certificate's URL and the signed fields.
    SignatureRefused for the first that is wrong."""
    version = message.get("SignatureVersion")
    algorithm: hashes.HashAlgorithm
    if version == "1":
        algorithm = hashes.SHA1()
    elif version == "2":
        algorithm = hashes.SHA256()
    else:
        raise SignatureRefused(f"SignatureVersion: {version!r} is not 1 or 2")
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureRefused("Signature: not base64") from None
    url = check_aws_url(str(message.get("SigningCertURL", "")), "SigningCertURL")
    return Signed(algorithm, signature, url, string_to_sign(message))


class SnsVerifier:
    """Checks SNS signatures; certificates are fetched once per URL and kept, and a URL
    that failed is not fetched again for `FAILED_FETCH_MEMORY`.

    `verify` blocks while it fetches: call it from a worker thread, never on the event
    loop. It is safe to call from several threads at once."""

    def __init__(self, fetch: Fetcher, clock: Callable[[], datetime]) -> None:
        self.fetch = fetch
        self.clock = clock
        self._lock = threading.Lock()
        self._certificates: dict[str, x509.Certificate] = {}
        #: url -> (when it failed, the error to raise again and its message), oldest first.
        self._failed: OrderedDict[str, tuple[datetime, type[BounceError], str]] = OrderedDict()

    def verify(self, message: dict[str, Any]) -> None:
        """Return if AWS signed `message`; raise SignatureRefused otherwise (BounceError
        when the certificate cannot be fetched)."""
        signed = signed_parts(message)
        key = self._certificate(signed.certificate_url).public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise SignatureRefused("SigningCertURL: not an RSA certificate")
        try:
            key.verify(signed.signature, signed.text, padding.PKCS1v15(), signed.algorithm)
        except InvalidSignature:
            raise SignatureRefused("Signature: does not match the message") from None

    def _certificate(self, url: str) -> x509.Certificate:
        now = self.clock().astimezone(UTC)
        with self._lock:
            certificate = self._certificates.get(url)
            failed = self._failed.get(url)
            if failed is not None and now - failed[0] >= FAILED_FETCH_MEMORY:
                del self._failed[url]
                failed = None
        if failed is not None:
            raise failed[1](f"{failed[2]} (not tried again for a while)")
        if certificate is None:
            certificate = self._fetch_certificate(url, now)
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise SignatureRefused(f"SigningCertURL: the certificate at {url} has expired")
        return certificate

    def _fetch_certificate(self, url: str, now: datetime) -> x509.Certificate:
        try:
            certificate = x509.load_pem_x509_certificate(self.fetch(url))
        except ValueError:
            message = f"SigningCertURL: {url} is not a PEM certificate"
            self._remember_failure(url, now, SignatureRefused, message)
            raise SignatureRefused(message) from None
        except BounceError as e:
            self._remember_failure(url, now, BounceError, e.detail)
            raise
        with self._lock:
            self._certificates[url] = certificate
        return certificate

    def _remember_failure(
        self, url: str, now: datetime, kind: type[BounceError], message: str
    ) -> None:
        with self._lock:
            self._failed[url] = (now, kind, message)
            self._failed.move_to_end(url)
            while len(self._failed) > FAILED_FETCH_LIMIT:
                self._failed.popitem(last=False)


def fetch_https(url: str) -> bytes:
    """GET an https URL (certificate verified), 10 s at most; BounceError on failure."""
    import httpx

    try:
        response = httpx.get(url, timeout=10.0, follow_redirects=False)
        response.raise_for_status()
    except httpx.HTTPError as e:
        raise BounceError(f"cannot fetch {url}: {e}") from e
    return response.content
