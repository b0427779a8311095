"""Who the digest is from: the identity `digest init` writes, and the check before sending.

`init` writes the publication's own name, address, sender and postal address when it is
given them; without them it writes obvious placeholders (example.com), never the sample
publication of the demo. `digest send` refuses to hand mail to a real relay while the
sender or the unsubscribe link is still a placeholder or the sample's: mail from
example.com or arabpress.example would be rejected or, worse, point readers at a site
that is not theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from digest.config import Settings
from digest.errors import ConfigError
from digest.network import is_loopback

#: What `init` writes when it is not given the publication's identity.
INIT_NAME = "My Newsletter"
INIT_URL = "https://example.com"
INIT_FROM = "newsletter@example.com"
INIT_UNSUBSCRIBE_URL = "https://example.com/u/{token}"

#: The sample publication of `digest demo` (also the built-in defaults).
SAMPLE_FROM = "digest@arabpress.example"
SAMPLE_UNSUBSCRIBE_URL = "https://arabpress.example/u/{token}"
SAMPLE_POSTAL_ADDRESS = "Arab Press (sample publication), 1 Example Street, Riyadh, Saudi Arabia"

_NOT_LIVE_FROM = {INIT_FROM, SAMPLE_FROM}
_NOT_LIVE_UNSUBSCRIBE = {INIT_UNSUBSCRIBE_URL, SAMPLE_UNSUBSCRIBE_URL}


@dataclass(frozen=True)
class Identity:
    """The publication as `digest init` is told it; empty fields get placeholders."""

    name: str = ""
    url: str = ""
    from_address: str = ""
    postal_address: str = ""

    def config_values(self) -> dict[str, Any]:
        """ "section.key" -> value for the config file, checked (ConfigError names the key)."""
        name = " ".join(self.name.split()) or INIT_NAME
        url = (self.url.strip() or INIT_URL).rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"site.url: expected an absolute https:// address, got {url!r}")
        sender = self.from_address.strip() or INIT_FROM
        _display, address = parseaddr(sender)
        if "@" not in address or address.startswith("@") or address.endswith("@"):
            raise ConfigError(f"mail.from: {sender!r} is not an email address")
        domain = address.rsplit("@", 1)[1]
        unsubscribe = INIT_UNSUBSCRIBE_URL if url == INIT_URL else f"{url}/u/{{token}}"
        return {
            "site.name": name,
            "site.tagline": "",
            "site.url": url,
            "site.postal_address": " ".join(self.postal_address.split()),
            "mail.from": sender,
            "mail.unsubscribe_url": unsubscribe,
            "mail.unsubscribe_mailto": f"unsubscribe@{domain}",
        }


def sample_values() -> dict[str, Any]:
    """The demo's config values: the sample publication, with its (sample) postal address."""
    return {"site.postal_address": SAMPLE_POSTAL_ADDRESS}


def placeholder_setting(settings: Settings) -> str | None:
    """The first identity setting still at a placeholder or sample value, if any."""
    if parseaddr(settings.mail.from_address)[1].lower() in _NOT_LIVE_FROM:
        return "mail.from"
    if settings.mail.unsubscribe_url in _NOT_LIVE_UNSUBSCRIBE:
        return "mail.unsubscribe_url"
    return None


def is_loopback_relay(transport: str) -> bool:
    """True for a Maildir or an SMTP relay on this machine (127.0.0.0/8, ::1, localhost)."""
    parts = urlsplit(transport)
    if parts.scheme not in ("smtp", "smtps"):
        return True
    return is_loopback(parts.hostname)


def check_ready_to_send(settings: Settings) -> None:
    """ConfigError naming the setting when a real relay would get placeholder identity."""
    if is_loopback_relay(settings.mail.transport):
        return
    setting = placeholder_setting(settings)
    if setting is None:
        return
    section, key = setting.split(".")
    value = settings.mail.from_address if key == "from" else settings.mail.unsubscribe_url
    raise ConfigError(
        f"[{section}] {key}: still {value!r}, a placeholder; refusing to send through "
        f"{urlsplit(settings.mail.transport).hostname}",
        hint=f"set {setting} in {settings.config_path or 'digest.toml'} to your own "
        "(or run 'digest init --force --from ... --url ...')",
    )
