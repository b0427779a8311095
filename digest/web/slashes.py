"""Trailing-slash redirects (`/subscribe/` -> `/subscribe`) with a relative Location.

Starlette's own (`Router.redirect_slashes`) writes an absolute URL built from the Host
header, so `Host: evil.example` made us send readers to http://evil.example/subscribe.
RFC 9110 section 10.2.2 lets Location be a relative reference, which the browser
resolves against the address it really asked: nothing from the request's headers is
needed. The path is kept to one leading slash, so it never reads as `//host/...` (a
network-path reference to another site).
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import RedirectResponse
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send

#: What may stay unescaped in the redirected path (RFC 3986 pchar and "/"; "%" because
#: the path is already decoded, as Starlette's own redirect quotes it).
PATH_SAFE = "/:@!$&'()*+,;=%"


class SlashRedirect:
    """A router's fallback: if the path with its trailing slash removed (or added)
    matches a route, redirect there (307, relative); otherwise `fallback` (the 404)."""

    def __init__(self, router: Router, fallback: ASGIApp) -> None:
        self.router = router
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        location = self._location(scope) if scope["type"] == "http" else None
        if location is None:
            await self.fallback(scope, receive, send)
            return
        await RedirectResponse(location, 307)(scope, receive, send)

    def _location(self, scope: Scope) -> str | None:
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        route_path = path[len(root) :] if root and path.startswith(root) else path
        if route_path in ("", "/"):
            return None
        other = path.rstrip("/") if route_path.endswith("/") else path + "/"
        candidate = {**scope, "path": other}
        if not any(route.matches(candidate)[0] is not Match.NONE for route in self.router.routes):
            return None
        location = "/" + quote(other.lstrip("/"), safe=PATH_SAFE)
        query = scope.get("query_string", b"").decode("latin-1")
        return f"{location}?{query}" if query else location


def relative_slash_redirects(router: Router) -> Router:
    """`router`, its trailing-slash redirects made relative (see the module docstring)."""
    router.redirect_slashes = False
    router.default = SlashRedirect(router, router.not_found)
    return router
