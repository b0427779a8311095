"""Signed unsubscribe tokens: they name subscriber and list, never the address in clear.

Stable per subscriber (no timestamp), so an old edition's link still works next month.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

from subscribers.errors import SubscriberError

_SALT = "newsletter-digest.unsubscribe.v1"


class InvalidToken(SubscriberError):
    pass


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=_SALT)


def make_token(secret_key: str, subscriber_id: int, list_id: str) -> str:
    return str(_serializer(secret_key).dumps([subscriber_id, list_id]))


def read_token(secret_key: str, token: str, list_id: str) -> int:
    """The subscriber id a token names; InvalidToken for anything forged or foreign."""
    try:
        payload = _serializer(secret_key).loads(token)
    except BadSignature:
        raise InvalidToken("invalid token") from None
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not isinstance(payload[0], int)
        or payload[1] != list_id
    ):
        raise InvalidToken("invalid token")
    return payload[0]
