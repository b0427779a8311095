"""The `digest` command: parse options, call one library function, print the result.

No SQL, SMTP or template work happens here: each module of this package holds the
commands of one area and registers them below. Library errors become one line on
stderr and an exit code; `-v` adds the traceback for debugging.
"""

from __future__ import annotations

from pathlib import Path

import click

from digest.cli import (
    archive,
    articles,
    bounces,
    editions,
    feeds,
    holds,
    ingest,
    preview,
    related,
    schedule,
    select,
    send,
    serve,
    setup,
)
from digest.cli.app import App, DigestGroup
from digest.config import DEFAULT_CONFIG_NAME
from subscribers.cli import subscribers_group


@click.group(cls=DigestGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="DIGEST_CONFIG",
    help=f"Config file [default: ./{DEFAULT_CONFIG_NAME}; env DIGEST_CONFIG].",
)
@click.option(
    "--db",
    "db_url",
    envvar="DIGEST_DATABASE_URL",
    help="SQLAlchemy database URL [env DIGEST_DATABASE_URL].",
)
@click.option("-v", "--verbose", count=True, help="Show tracebacks and more detail.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.version_option(package_name="newsletter-digest")
@click.pass_context
def cli(
    ctx: click.Context, config: Path | None, db_url: str | None, verbose: int, quiet: bool
) -> None:
    """A daily email digest for a news publication: ingest articles, pick the day's top
    stories and related items, render email-safe HTML and text, deliver exactly once."""
    ctx.obj = App(config, db_url, verbose, quiet)
    ctx.call_on_close(ctx.obj.close)


for command in (
    setup.init,
    setup.demo,
    ingest.ingest,
    feeds.feeds,
    articles.articles,
    select.select_command,
    preview.preview,
    send.send,
    editions.editions,
    serve.serve,
    archive.archive,
    schedule.schedule_command,
    schedule.status_command,
    bounces.bounces,
    subscribers_group,
):
    cli.add_command(command)
articles.articles.add_command(related.related)
articles.articles.add_command(holds.hold_command)
articles.articles.add_command(holds.unhold_command)


def main() -> None:
    """Console entry point."""
    cli(prog_name="digest")
