"""Commands: ingest."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from typing import Any

import click

from digest import pipeline
from digest.cli.app import App, pass_app, progress
from digest.errors import ExitCode
from digest.ingest.store import IngestCounts

#: auto: detected from the content; rss and atom both mean feedparser.
FORMAT_CHOICES = ["auto", "rss", "atom", "json", "jsonl", "html"]


@click.command()
@click.argument("sources", nargs=-1)
@click.option(
    "--format",
    "source_format",
    type=click.Choice(FORMAT_CHOICES),
    default="auto",
    show_default=True,
    help="Source format (auto: detected from the content, not the file name).",
)
@click.option("--section", help="Section for every article of these sources.")
@click.option("--lang", "language", help="Language of articles whose entry and feed state none.")
@pass_app
def ingest(
    app: App,
    sources: tuple[str, ...],
    source_format: str,
    section: str | None,
    language: str | None,
) -> None:
    """Store articles from SOURCES: feed, JSON, JSON Lines or HTML files, folders of them,
    or http(s) URLs. With no SOURCES, every feed registered with 'digest feeds add'.

    Each source is stored in its own transaction: a bad source is reported (exit 1) and
    leaves nothing behind, and does not stop the others."""
    with ExitStack() as stack:
        bar = _SourcesBar(app, stack)
        report = pipeline.ingest(
            app.db(),
            app.settings(),
            sources,
            now=app.now(),
            source_format=source_format,
            section=section,
            language=language,
            on_start=bar.start,
            on_source=bar.advance,
        )
    for result in report.results:
        for warning in result.warnings:
            app.warn(warning)
        if result.error:
            click.echo(f"error: {result.error}", err=True)
        elif result.not_modified:
            app.info(f"{result.source}: not modified")
        else:
            app.info(f"{result.source}: {_counts(result.counts)}")
            for merge in result.counts.merges:
                app.info(f"{result.source}: {merge}")
    app.info(f"total: {_counts(report.totals())}, {len(report.failed)} failed")
    if report.failed:
        sys.exit(ExitCode.ERROR)


class _SourcesBar:
    """A progress bar (on a terminal) that starts once folders and feeds are expanded."""

    def __init__(self, app: App, stack: ExitStack) -> None:
        self.app, self.stack = app, stack
        self.step: Any = lambda: None

    def start(self, total: int) -> None:
        self.step = self.stack.enter_context(progress(self.app, total, "ingesting"))

    def advance(self, _result: object) -> None:
        self.step()


def _counts(counts: IngestCounts) -> str:
    extra = "".join(
        f", {number} {label}"
        for number, label in ((counts.merged, "merged"), (counts.retagged, "re-tagged"))
        if number
    )
    return (
        f"{counts.new} new, {counts.updated} updated, "
        f"{counts.unchanged} unchanged, {counts.skipped} skipped{extra}"
    )
