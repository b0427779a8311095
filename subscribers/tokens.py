"""Signed tokens: they name subscriber and list, never the address in clear.

Two kinds, under different salts so neither passes for the other: the subscriber's
token (unsubscribe and preferences links), and the confirmation token of a sign-up.

The subscriber's token carries the subscriber's id and a short keyed digest of their address, signed
with the site's secret; the list id is part of the signing salt, so a token made for one
list is worthless on another. The digest makes an id that was reused (a removed
subscriber's id given to a new one, or ids renumbered by a restore) match nobody instead
of the wrong person. No timestamp: a subscriber's token never changes, so one edition's
link still works next month.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadData, TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer

from subscribers.errors import SubscriberError

_SALT = "newsletter-digest.unsubscribe.v2"
#: Anything longer is not one of ours; refuse it before doing any work.
TOKEN_MAX = 200


class InvalidToken(SubscriberError):
    """Forged, truncated, tampered with or made for another list: all look the same."""

    def __init__(self) -> None:
        super().__init__("invalid unsubscribe token")


@dataclass(frozen=True)
class TokenClaim:
    """What a genuine token says: this subscriber id, whose address has this digest."""

    subscriber_id: int
    #: None for a token made without the address (nothing to compare then).
    address_digest: str | None

    def matches(self, secret_key: str, email: str) -> bool:
        if self.address_digest is None:
            return True
        return hmac.compare_digest(self.address_digest, address_digest(secret_key, email))


def address_digest(secret_key: str, email: str) -> str:
    """A short keyed digest of an address: useless to anyone without the secret."""
    mac = hmac.new(secret_key.encode(), b"unsubscribe-address\0" + email.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:9]).decode("ascii")


def _serializer(secret_key: str, list_id: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=f"{_SALT}:{list_id}")


def make_token(secret_key: str, subscriber_id: int, list_id: str, email: str | None = None) -> str:
    """The subscriber's token for this list (the same every time it is asked for).

    Give the address: without it the token still works but cannot tell a reused id."""
    payload: list[int | str] = [subscriber_id]
    if email is not None:
        payload.append(address_digest(secret_key, email))
    return str(_serializer(secret_key, list_id).dumps(payload))


class TokenMaker:
    """`make_token` for one key and list, cheap enough to run per recipient of a send.

    The keys are derived once; each token is then two HMACs on a copied state. The output
    is byte for byte what `make_token` gives (itsdangerous' URL-safe serializer: compact
    JSON, base64url without padding, "." and the HMAC-SHA1 signature under the key
    derived as SHA1(salt + "signer" + secret)), so either can make a subscriber's token.
    """

    def __init__(self, secret_key: str, list_id: str) -> None:
        salt = f"{_SALT}:{list_id}".encode()
        derived = hashlib.sha1(salt + b"signer" + secret_key.encode()).digest()
        self._signer = hmac.new(derived, digestmod=hashlib.sha1)
        self._address = hmac.new(secret_key.encode(), b"unsubscribe-address\0", hashlib.sha256)

    def __call__(self, subscriber_id: int, email: str) -> str:
        address = self._address.copy()
        address.update(email.encode())
        digest = base64.urlsafe_b64encode(address.digest()[:9])
        value = base64.urlsafe_b64encode(b'[%d,"%s"]' % (subscriber_id, digest)).rstrip(b"=")
        signer = self._signer.copy()
        signer.update(value)
        signature = base64.urlsafe_b64encode(signer.digest()).rstrip(b"=")
        return (value + b"." + signature).decode("ascii")


def read_token(secret_key: str, token: str, list_id: str) -> TokenClaim:
    """What a token claims; InvalidToken for anything forged, damaged or foreign."""
    if not token or len(token) > TOKEN_MAX or not token.isascii():
        raise InvalidToken()
    try:
        payload = _serializer(secret_key, list_id).loads(token)
    except (BadData, ValueError, UnicodeError):
        raise InvalidToken() from None
    if (
        not isinstance(payload, list)
        or len(payload) not in (1, 2)
        or type(payload[0]) is not int
        or payload[0] < 1
        or not all(isinstance(part, str) for part in payload[1:])
    ):
        raise InvalidToken()
    return TokenClaim(payload[0], payload[1] if len(payload) == 2 else None)


# --- confirmation tokens (double opt-in) ------------------------------------------------

_CONFIRM_SALT = "newsletter-digest.confirm.v1"


@dataclass(frozen=True)
class ConfirmClaim:
    """What a genuine, unexpired confirmation token says."""

    subscriber_id: int
    address_digest: str
    nonce: str

    def matches(self, secret_key: str, email: str, nonce: str | None) -> bool:
        """True if it names this address and the sign-up still waiting (its nonce)."""
        return (
            nonce is not None
            and hmac.compare_digest(self.nonce, nonce)
            and hmac.compare_digest(self.address_digest, address_digest(secret_key, email))
        )


def _timed(secret_key: str, list_id: str, now: datetime) -> URLSafeTimedSerializer:
    """A timed serializer whose clock is `now` (itsdangerous reads time.time otherwise)."""
    seconds = int(now.timestamp())

    class Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return seconds

    return URLSafeTimedSerializer(secret_key, salt=f"{_CONFIRM_SALT}:{list_id}", signer=Signer)


def make_confirm_token(
    secret_key: str, subscriber_id: int, list_id: str, email: str, nonce: str, *, now: datetime
) -> str:
    """A confirmation link's token: subscriber, address digest and sign-up nonce, signed
    with its time of issue (so it can expire) under a salt no unsubscribe token shares."""
    payload = [subscriber_id, address_digest(secret_key, email), nonce]
    return str(_timed(secret_key, list_id, now).dumps(payload))


def read_confirm_token(
    secret_key: str, token: str, list_id: str, *, max_age: timedelta, now: datetime
) -> ConfirmClaim:
    """What a confirmation token claims. InvalidToken if forged, damaged, foreign or
    older than `max_age` (or issued in the future by more than a minute of clock skew)."""
    if not token or len(token) > TOKEN_MAX or not token.isascii():
        raise InvalidToken()
    try:
        payload, issued = _timed(secret_key, list_id, now).loads(
            token, max_age=int(max_age.total_seconds()), return_timestamp=True
        )
    except (BadData, ValueError, UnicodeError):
        raise InvalidToken() from None
    if issued > now + timedelta(minutes=1):
        raise InvalidToken()
    if (
        not isinstance(payload, list)
        or len(payload) != 3
        or type(payload[0]) is not int
        or payload[0] < 1
        or not all(isinstance(part, str) for part in payload[1:])
    ):
        raise InvalidToken()
    return ConfirmClaim(payload[0], payload[1], payload[2])
