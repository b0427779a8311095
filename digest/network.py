"""Which hosts are this machine: one rule for relays, IMAP servers and the send check."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1, `localhost` and `*.localhost` (RFC 6761 §6.3).

    Used where plain text or a placeholder identity is allowed only because nothing
    leaves the machine: `?tls=off`, `imap://`, and sending before `init`'s identity is set.
    """
    name = (host or "").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
