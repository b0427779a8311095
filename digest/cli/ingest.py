"""Commands: ingest."""

from __future__ import annotations

import sys

import click

from digest import pipeline
from digest.cli.app import App, pass_app, progress
from digest.errors import ExitCode


@click.command()
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "--format",
    "source_format",
    type=click.Choice(["auto", "rss", "atom"]),
    default="auto",
    show_default=True,
    help="Source format (auto: from content).",
)
@click.option("--section", help="Section for every article of these sources.")
@click.option("--lang", "language", help="Language of articles that do not state one.")
@pass_app
def ingest(
    app: App,
    sources: tuple[str, ...],
    source_format: str,
    section: str | None,
    language: str | None,
) -> None:
    """Store articles from feed files or folders of feed files (RSS/Atom).

    Each source is stored in its own transaction: a bad source is reported and leaves
    nothing behind, and does not stop the others."""
    settings = app.settings()
    with progress(app, len(sources), "ingesting") as advance:
        report = pipeline.ingest(
            app.db(),
            settings,
            sources,
            now=app.now(),
            section=section,
            language=language,
            on_source=lambda _r: advance(),
        )
    for result in report.results:
        c = result.counts
        for warning in c.warnings:
            app.warn(warning)
        if result.error:
            click.echo(f"error: {result.error}", err=True)
        else:
            app.info(
                f"{result.source}: {c.new} new, {c.updated} updated, "
                f"{c.unchanged} unchanged, {c.skipped} skipped"
            )
    totals = report.totals()
    app.info(
        f"total: {totals.new} new, {totals.updated} updated, {totals.unchanged} unchanged, "
        f"{totals.skipped} skipped, {len(report.failed)} failed"
    )
    if report.failed:
        sys.exit(ExitCode.ERROR)
