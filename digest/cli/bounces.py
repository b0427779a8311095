"""Command: bounces process (DSNs, ARF complaints and mailto unsubscribes after the send)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from digest.cli.app import App, pass_app, print_json

if TYPE_CHECKING:
    from digest.bounces.process import ProcessResult


@click.group("bounces")
def bounces() -> None:
    """Learn from mail that arrives after the send: bounces, complaints, unsubscribes."""


@bounces.command("process")
@click.argument("source")
@click.option("--dry-run", is_flag=True, help="Report what would happen; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@pass_app
def process(app: App, source: str, dry_run: bool, as_json: bool) -> None:
    """Read SOURCE (a Maildir folder, an mbox file or imaps://user@host[:port]/FOLDER with
    the password in DIGEST_IMAP_PASSWORD) and apply each bounce, complaint and unsubscribe
    request to its delivery. Processed messages are moved or flagged; anything else is
    left in place and listed."""
    from digest.bounces import api

    settings = app.settings()

    def progress(so_far: ProcessResult) -> None:  # the total is unknown: a running count
        click.echo(f"\rread {so_far.read:,} messages...", nl=False, err=True)

    on_progress = progress if app.progress() else None
    result = api.process(
        app.db(), settings, source, dry_run=dry_run, clock=app.now, on_progress=on_progress
    )
    if on_progress is not None:
        click.echo("\r\033[K", nl=False, err=True)
    if as_json:
        print_json(result.as_json())
        return
    prefix = "dry run: would have " if dry_run else ""
    app.info(
        f"{result.source}: read {result.read:,}; {prefix}processed {result.processed:,} "
        f"({result.hard:,} hard bounces, {result.soft:,} soft, {result.complaints:,} "
        f"complaints, {result.unsubscribes:,} unsubscribes); {result.counted:,} counted "
        f"towards the bounce threshold"
    )
    app.info(
        f"subscribers: {result.bounced:,} bounced, {result.complained:,} complained, "
        f"{result.unsubscribed:,} unsubscribed"
        + (f"; {result.already:,} processed by an earlier run" if result.already else "")
    )
    for key, reason in result.left:
        click.echo(f"left in place: {key}: {reason}", err=True)
    hidden = result.unrecognised + result.unmatched - len(result.left)
    if hidden > 0:
        click.echo(f"left in place: ... and {hidden:,} more (--json lists them)", err=True)
