"""Commands: archive build."""

from __future__ import annotations

from pathlib import Path

import click

from digest.cli.app import App, pass_app


@click.group()
def archive() -> None:
    """The web archive of sent editions."""


@archive.command("build")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@pass_app
def build(app: App, directory: Path) -> None:
    """Write the archive as static files into DIRECTORY: index.html, feed.xml and
    DATE/LANG/index.html for every sent edition. Publish DIRECTORY at
    web.public_url + /archive/ (what the emails' "View in browser" links point to)."""
    from digest import archive as library

    with app.db().session() as session:
        report = library.build(session, app.settings(), directory, app.now())
    app.info(f"wrote {report.pages} edition pages, index.html and feed.xml to {directory}")
