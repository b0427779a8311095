"""The `digest` command: parse options, call one library function, print the result.

No SQL, SMTP or template work happens here: each module of this package holds the
commands of one area. Commands are registered by name in `COMMANDS` and imported only
when run (or when `--help` lists them), so that starting `digest` never loads
SQLAlchemy, the renderer or the web stack; command modules keep such imports inside
their functions. Library errors become one line on stderr and an exit code; `-v` adds
the traceback for debugging.
"""

from __future__ import annotations

from pathlib import Path

import click

from digest.cli.app import App, DigestGroup
from digest.config import DEFAULT_CONFIG_NAME

#: Every top-level command: name -> "module:attribute". Add a command with one line.
COMMANDS: dict[str, str] = {
    "init": "digest.cli.setup:init",
    "demo": "digest.cli.setup:demo",
    "ingest": "digest.cli.ingest:ingest",
    "feeds": "digest.cli.feeds:feeds",
    "articles": "digest.cli.articles:articles",
    "select": "digest.cli.select:select_command",
    "preview": "digest.cli.preview:preview",
    "send": "digest.cli.send:send",
    "editions": "digest.cli.editions:editions",
    "serve": "digest.cli.serve:serve",
    "bounces": "digest.cli.bounces:bounces",
    "archive": "digest.cli.archive:archive",
    "schedule": "digest.cli.schedule:schedule_command",
    "status": "digest.cli.schedule:status_command",
    "subscribers": "subscribers.cli:subscribers_group",
}


@click.group(
    cls=DigestGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
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


def main() -> None:
    """Console entry point."""
    cli(prog_name="digest")
