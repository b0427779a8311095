"""Command: serve (unsubscribe, sign-up, confirmation, preferences and preview pages)."""

from __future__ import annotations

import click

from digest.cli.app import App, pass_app


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0: every interface; put HTTPS in front).",
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port).",
)
@pass_app
def serve(app: App, host: str, port: int) -> None:
    """Serve one-click unsubscribe (GET /u/TOKEN confirms, POST unsubscribes), sign-up
    with double opt-in (/subscribe, /api/subscribe, /confirm/TOKEN), preferences
    (/p/TOKEN), the latest edition's preview (GET /preview/) and the archive of sent
    editions (GET /archive/, /archive/DATE/LANG/, /archive/feed.xml) until Ctrl-C.

    Access logs (which would record subscribers' tokens) are written only with -v."""
    from digest import web  # Starlette and uvicorn load for this command only

    server = web.open_server(
        app.settings(), app.db(), host=host, port=port, verbose=bool(app.verbose)
    )
    app.info(
        f"serving on {server.url} (sign-up: {server.url}/subscribe, unsubscribe: "
        f"{server.url}/u/TOKEN, preview: {server.url}/preview/, archive: "
        f"{server.url}/archive/); Ctrl-C stops"
    )
    server.run()
    app.info("stopped")
