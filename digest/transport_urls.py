"""Transport URLs, parsed and checked once: maildir:PATH, smtp://[user@]host[:port] and
smtps://[user@]host[:port]. Settings check them when loaded, so a typo stops `digest`
before anything is rendered or claimed; the transports open what these describe.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from digest.errors import ConfigError
from digest.network import is_loopback

#: Message submission (RFC 6409 section 3.1) and submission over implicit TLS (RFC 8314
#: section 3.3).
SMTP_PORT = 587
SMTPS_PORT = 465


@dataclass(frozen=True)
class SmtpTarget:
    """A parsed smtp:// or smtps:// transport URL (it never holds a password)."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    user: str | None

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def description(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = "" if self.starttls or self.implicit_tls else "?tls=off"
        return f"{scheme}://{user}{host}:{self.port}{query}"


def parse_smtp_url(url: str) -> SmtpTarget:
    """smtp://[user@]host[:port][?tls=off] or smtps://[user@]host[:port]."""
    where = "[mail] transport"
    try:
        parts = urlsplit(url)
    except ValueError as e:  # "Invalid IPv6 URL": an unclosed [
        raise ConfigError(f"{where}: not a URL ({e}): {url!r}") from None
    implicit_tls = parts.scheme == "smtps"
    if parts.password is not None:
        raise ConfigError(
            f"{where}: the URL must not contain a password",
            hint="set DIGEST_SMTP_PASSWORD in the environment instead",
        )
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ConfigError(f"{where}: invalid port in {parts.scheme}:// URL") from None
    if not host:
        raise ConfigError(f"{where}: {parts.scheme}:// needs a host, e.g. smtp://relay:587")
    if port == 0:
        raise ConfigError(f"{where}: port 0 is not a port (1 to 65535)")
    if parts.path not in ("", "/") or parts.fragment:
        raise ConfigError(f"{where}: unexpected path in {parts.scheme}:// URL")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"tls"})
    if unknown:
        raise ConfigError(f"{where}: unknown option {unknown[0]!r} (known: tls=off)")
    tls = [value.lower() for value in query.get("tls", ["on"])]
    if tls not in (["on"], ["off"]):
        raise ConfigError(f"{where}: tls must be 'off' (or left out), got {query['tls'][0]!r}")
    if tls == ["off"]:
        if implicit_tls:
            raise ConfigError(f"{where}: smtps:// is TLS; tls=off contradicts it")
        if not is_loopback(host):
            raise ConfigError(
                f"{where}: ?tls=off is only allowed for a loopback host, not {host!r}",
                hint="mail to any other host travels over verified TLS",
            )
    return SmtpTarget(
        host=host,
        port=port or (SMTPS_PORT if implicit_tls else SMTP_PORT),
        implicit_tls=implicit_tls,
        starttls=not implicit_tls and tls == ["on"],
        user=unquote(parts.username) if parts.username else None,
    )


def maildir_path(url: str, base_dir: Path) -> Path:
    path = Path(url[len("maildir:") :]).expanduser()
    if not str(path) or str(path) == ".":
        raise ConfigError("[mail] transport: maildir: needs a folder, e.g. maildir:./outbox")
    return path if path.is_absolute() else (base_dir / path)


def check_transport_url(url: str) -> None:
    """Raise ConfigError for a transport URL no transport can be opened for."""
    if url.startswith("maildir:"):
        maildir_path(url, Path("."))
        return
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme in ("smtp", "smtps"):
        parse_smtp_url(url)
        return
    raise ConfigError(
        f"[mail] transport: unsupported transport {scheme or url!r}",
        hint="use maildir:PATH, smtp://[user@]host[:port] or smtps://[user@]host[:port]",
    )
