"""What protects the self-service forms: CSRF tokens, the Origin check, rate limits.

- CSRF (OWASP's HMAC-based token pattern, without a session): each form carries a token
  that is the form's path signed with the site's secret and timed; a POST must carry a
  token for its own path, younger than `CSRF_MAX_AGE`. On /p/ and /confirm/ the path
  holds the reader's secret token, so no other site can make a valid one; the sign-up
  form has no secret to bind to, and relies on the Origin check below. No page sets a
  cookie (nothing to consent to, nothing to leak), and scripted clients need none.
- Origin (RFC 6454; the Fetch standard's Origin header): a browser's POST from another
  site names that site. "Same origin" is the address the request was made to, or the
  origin of `web.public_url` (when a proxy in front changes the Host). A request with no
  Origin and no Referer (a non-browser client) is left to the CSRF check.
- Rate limits (the `limits` library, moving windows, kept in this process's memory):
  per client address and per target address, from the [subscribe] settings.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from itsdangerous import BadData, URLSafeTimedSerializer
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import Request

from digest.config import Settings
from digest.errors import ConfigError

FIELD = "csrf_token"
HEADER = "x-csrf-token"
#: How long a form may stay open before it must be reloaded.
CSRF_MAX_AGE = 4 * 3600


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL, lower-cased, default ports dropped."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return ""
    if not scheme or not host:
        return ""
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


class OriginCheck:
    """Is a request from one of our own pages? (See the module docstring.)"""

    def __init__(self, public_url: str) -> None:
        self.public_origin = origin_of(public_url)

    def allowed(self, request: Request) -> bool:
        claimed = request.headers.get("origin")
        if claimed is None:
            referer = request.headers.get("referer")
            if referer is None:
                return True
            claimed = origin_of(referer)
        claimed = claimed.strip().lower()
        own = origin_of(f"{request.url.scheme}://{request.headers.get('host', '')}/")
        return bool(claimed) and claimed in (own, self.public_origin)


class Csrf:
    """Signed, timed tokens, each bound to one form path."""

    def __init__(self, secret_key: str) -> None:
        self.serializer = URLSafeTimedSerializer(secret_key, salt="newsletter-digest.csrf.v1")

    def issue(self, scope: str) -> str:
        """The token a form at `scope` (its path) carries."""
        return str(self.serializer.dumps(scope))

    def valid(self, token: str | None, scope: str) -> bool:
        if not token or len(token) > 1000:
            return False
        try:
            payload = self.serializer.loads(token, max_age=CSRF_MAX_AGE)
        except (BadData, ValueError, UnicodeError):
            return False
        return isinstance(payload, str) and hmac.compare_digest(payload, scope)


class RateLimits:
    """Moving-window limits per client address and per target address."""

    def __init__(self, settings: Settings) -> None:
        self.client = _rate(settings.subscribe.client_rate, "client_rate")
        self.address = _rate(settings.subscribe.address_rate, "address_rate")
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def client_allowed(self, client: str) -> bool:
        """Counts this request against the client's limit; False once it is used up."""
        return self.limiter.hit(self.client, "client", client)

    def address_allowed(self, email: str) -> bool:
        """Counts an email to this address; False once its limit is used up."""
        return self.limiter.hit(self.address, "address", email)


def _rate(value: str, key: str) -> RateLimitItem:
    try:
        return parse(value)
    except ValueError:
        raise ConfigError(f"[subscribe] {key}: {value!r} is not a rate such as 10/hour") from None
