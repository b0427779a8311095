"""VERP: an envelope sender per delivery, `local+<delivery id>-<mac>@domain`.

A bounce goes back to the envelope sender (RFC 5321 §4.5.5), so the address it arrives at
names the delivery even when the failed address in the report is a forwarding target we
never mailed. The id is signed (HMAC-SHA256 with the site's secret, truncated to 64 bits)
so nobody can make us count a bounce against a delivery they guessed. Hex only: some
relays lower-case local parts.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable

_TAG = re.compile(r"^(?P<local>.+)\+(?P<id>[0-9]{1,18})-(?P<mac>[0-9a-f]{16})$", re.IGNORECASE)


def _mac(secret_key: str, delivery_id: int) -> str:
    message = b"verp-delivery\0" + str(delivery_id).encode("ascii")
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:16]


def verp_address(base: str, delivery_id: int, secret_key: str) -> str:
    """`base` (local@domain) with `+<delivery id>-<mac>` appended to its local part."""
    local, _, domain = base.rpartition("@")
    return f"{local}+{delivery_id}-{_mac(secret_key, delivery_id)}@{domain}"


def read_verp(address: str, base: str, secret_key: str) -> int | None:
    """The delivery id a VERP address names; None if it is not ours or the mac is wrong.

    `address` may carry angle brackets or a display name; comparison ignores case.
    """
    address = address.strip().strip("<>").strip()
    local, _, domain = address.rpartition("@")
    base_local, _, base_domain = base.rpartition("@")
    if domain.lower() != base_domain.lower():
        return None
    found = _TAG.match(local)
    if found is None or found["local"].lower() != base_local.lower():
        return None
    delivery_id = int(found["id"])
    if not hmac.compare_digest(found["mac"].lower(), _mac(secret_key, delivery_id)):
        return None
    return delivery_id


def sender_factory(base: str, secret_key: str) -> Callable[[int], str]:
    """delivery id -> its envelope sender (what the drain calls per message)."""
    return lambda delivery_id: verp_address(base, delivery_id, secret_key)
