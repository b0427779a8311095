"""Commands: preview."""

from __future__ import annotations

from pathlib import Path

import click

from digest import pipeline
from digest.cli.app import App, pass_app


@click.command()
@click.option("--date", "day", help="Edition date YYYY-MM-DD [default: today].")
@click.option("--lang", "language", help="Edition language [default: first site language].")
@click.option("--subscriber", "subscriber_email", help="Personalise for this subscriber.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("preview"),
    show_default=True,
    help="Folder for the files.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the HTML in a browser.")
@pass_app
def preview(
    app: App,
    day: str | None,
    language: str | None,
    subscriber_email: str | None,
    out_dir: Path,
    open_browser: bool,
) -> None:
    """Write edition.html, edition.txt and edition.eml: exactly what a subscriber gets."""
    settings = app.settings()
    edition_day = pipeline.parse_day(day, settings, app.now())
    result = pipeline.preview(
        app.db(),
        settings,
        edition_day,
        language or settings.site.languages[0],
        out_dir,
        now=app.now(),
        subscriber_email=subscriber_email,
    )
    state = "frozen edition" if result.frozen else "plan (not frozen yet)"
    app.info(f"{result.subject}  [{state}, {result.stories} top stories]")
    for path in result.paths.values():
        click.echo(str(path))
    if open_browser:
        click.launch(str(result.paths["html"]))
