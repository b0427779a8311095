"""Commands: init, demo."""

from __future__ import annotations

from pathlib import Path

import click

from digest.cli.app import App, pass_app
from digest.config import DEFAULT_CONFIG_NAME


@click.command()
@click.option("--force", is_flag=True, help="Overwrite an existing config file.")
@pass_app
def init(app: App, force: bool) -> None:
    """Write a commented digest.toml (kept if present) and create or upgrade the database."""
    from digest import pipeline
    from digest.db import redact_url

    path = app.config or Path(DEFAULT_CONFIG_NAME)
    result = pipeline.initialise(path, force=force, overrides={"database.url": app.db_url})
    app.info(f"{'wrote' if result.config_written else 'kept existing'} {path}")
    if result.key_created:
        app.info(f"created {result.key_path} (signs unsubscribe tokens; keep it private)")
    app.info(f"database ready: {redact_url(result.database_url)}")


@click.command()
@click.argument(
    "directory",
    required=False,
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("digest-demo"),
)
@pass_app
def demo(app: App, directory: Path) -> None:
    """Run the whole pipeline on bundled sample data in DIRECTORY (default ./digest-demo).

    Writes a config and database there, ingests the sample feeds, adds sample subscribers,
    writes previews and delivers the edition to DIRECTORY/outbox (a Maildir). Running it
    again delivers nothing twice."""
    from digest.demo import run_demo

    report = run_demo(directory)
    totals = report.ingest.totals()
    app.info(f"demo folder: {report.directory}")
    app.info(
        f"ingested {totals.new} new, {totals.updated} updated, {totals.unchanged} unchanged "
        f"articles; {report.subscribers_added} sample subscribers added"
    )
    for edition in report.languages:
        app.info(
            f"[{edition.language}] {_count(edition.stories, 'top story', 'top stories')}, "
            f"{_count(edition.related, 'related item', 'related items')}: {edition.subject}"
        )
        app.info(f"     preview: {edition.preview_dir}/edition.html, edition.txt, edition.eml")
        if edition.already_sent:
            app.info("     already sent: nobody gets a second copy")
        else:
            app.info(
                f"     {_count(edition.sent, 'message', 'messages')} written to {report.maildir}"
            )
    app.info(f"Maildir: {report.maildir}")


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"
