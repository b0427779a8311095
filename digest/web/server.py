"""Running the web application: bind the socket first (clear errors, known port), then uvicorn.

Access logs are off unless asked for: every unsubscribe URL carries a subscriber's token.
"""

from __future__ import annotations

import socket

import uvicorn
from starlette.applications import Starlette

from digest.errors import DigestError


class ServeError(DigestError):
    """The server cannot start (address in use, no permission, unknown host)."""


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: any free port)."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as e:
        raise ServeError(f"cannot listen on {host}:{port}: {getattr(e, 'strerror', e)}") from None
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(128)
    except OSError as e:
        listener.close()
        raise ServeError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    listener.set_inheritable(True)
    return listener


class WebServer:
    """uvicorn on an already bound socket; `stop()` ends `run()` from another thread."""

    def __init__(self, app: Starlette, listener: socket.socket, *, verbose: bool = False) -> None:
        self.listener = listener
        config = uvicorn.Config(
            app,
            log_level="info" if verbose else "warning",
            access_log=verbose,
            lifespan="off",
            server_header=False,
        )
        self.server = uvicorn.Server(config)

    @property
    def url(self) -> str:
        host, port = self.listener.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def run(self) -> None:
        """Serve until stopped or interrupted (Ctrl-C ends it quietly)."""
        try:
            self.server.run(sockets=[self.listener])
        except KeyboardInterrupt:
            pass
        finally:
            self.listener.close()

    def stop(self) -> None:
        self.server.should_exit = True
