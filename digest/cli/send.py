"""Commands: send."""

from __future__ import annotations

import sys

import click

from digest import pipeline
from digest.cli.app import App, pass_app
from digest.errors import ExitCode


@click.command()
@click.option("--date", "day", help="Edition date YYYY-MM-DD [default: today].")
@click.option("--lang", "language", help="Only this language [default: every site language].")
@pass_app
def send(app: App, day: str | None, language: str | None) -> None:
    """Freeze the edition and deliver it once to every active subscriber of its language.

    Safe to rerun: a finished edition sends nothing; an interrupted one is completed."""
    settings = app.settings()
    edition_day = pipeline.parse_day(day, settings, app.now())
    languages = [language] if language else list(settings.site.languages)
    partial = False
    for lang in languages:
        report = pipeline.send(app.db(), settings, edition_day, lang)
        if report.nothing_to_send:
            app.info(f"{report.edition}: nothing to send (no articles in the window)")
        elif report.already_sent:
            app.info(f"{report.edition}: already sent, nothing to do")
        else:
            r = report.result
            app.info(
                f"{report.edition}: {r.sent} sent, {r.failed} failed, {r.skipped} skipped, "
                f"{report.remaining} remaining"
            )
            for email, error in r.failures:
                click.echo(f"failed: {email}: {error}", err=True)
            partial = partial or report.partial
    if partial:
        sys.exit(ExitCode.PARTIAL)
