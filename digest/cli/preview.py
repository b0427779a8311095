"""Commands: preview."""

from __future__ import annotations

from pathlib import Path

import click

from digest.cli.app import App, counted, pass_app


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
@click.option("--strict", is_flag=True, help="Failed email checks are errors (exit 1).")
@click.option("--open", "open_browser", is_flag=True, help="Open the result in a browser.")
@click.option("--serve", is_flag=True, help="Serve a live preview page on 127.0.0.1 instead.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8025, show_default=True,
    help="Port for --serve (0: any free port).",
)  # fmt: skip
@pass_app
def preview(
    app: App,
    day: str | None,
    language: str | None,
    subscriber_email: str | None,
    out_dir: Path,
    strict: bool,
    open_browser: bool,
    serve: bool,
    port: int,
) -> None:
    """Write edition.html, edition.txt and edition.eml: exactly what a subscriber gets.

    Checks the email against the rendering rules and prints warnings (--strict: errors).
    With --serve, shows desktop and mobile frames, the text and the MIME source on a
    local page that reloads when a template changes."""
    from digest import pipeline
    from digest.render.lint import require_clean

    settings = app.settings()
    edition_day = pipeline.parse_day(day, settings, app.now())
    language = pipeline.check_language(
        settings, settings.site.languages[0] if language is None else language
    )
    if serve:
        _serve(app, edition_day.isoformat(), language, subscriber_email, port, open_browser)
        return
    result = pipeline.preview(
        app.db(), settings, edition_day, language, out_dir,
        now=app.now(), subscriber_email=subscriber_email,
    )  # fmt: skip
    state = "frozen edition" if result.frozen else "plan (not frozen yet)"
    app.info(f"{result.subject}  [{state}, {counted(result.stories, 'top story', 'top stories')}]")
    if result.trimmed:
        app.warn(f"trimmed to fit the 100 KB budget: {result.trimmed}")
    for path in result.paths.values():
        click.echo(str(path))
    for finding in result.findings:
        click.echo(f"{'error' if strict else 'warning'}: {finding}", err=True)
    if open_browser:
        _browse(app, result.paths["html"].resolve().as_uri())
    if strict:
        require_clean(result.findings)


def _browse(app: App, url: str) -> None:
    """Open the default browser ($BROWSER is honoured); a warning if there is none."""
    import webbrowser

    try:
        opened = webbrowser.open(url)
    except webbrowser.Error:
        opened = False
    if not opened:
        app.warn(f"could not start a browser; open {url} yourself")


def _serve(
    app: App, day: str, language: str, subscriber_email: str | None, port: int, browse: bool
) -> None:
    from datetime import date

    from digest.web.preview import serve

    def ready(url: str) -> None:
        url = f"{url}?date={day}&lang={language}"
        click.echo(f"Preview at {url} (Ctrl+C to stop)")
        if browse:
            _browse(app, url)

    serve(
        app.settings(), app.db(), port=port, on_ready=ready, day=date.fromisoformat(day),
        language=language, subscriber_email=subscriber_email, clock=app.now,
    )  # fmt: skip
