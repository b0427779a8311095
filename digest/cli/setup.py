"""Commands: init, demo."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from digest.cli.app import App, counted, pass_app
from digest.config import DEFAULT_CONFIG_NAME

IDENTITY_PROMPTS = (
    ("name", "Publication name"),
    ("url", "Site address (https://...)"),
    ("from_address", "From address (newsletter@your-domain)"),
    ("postal_address", "Postal address (required in the footer by anti-spam law)"),
)


@click.command()
@click.option("--force", is_flag=True, help="Overwrite an existing config file.")
@click.option("--name", help="Publication name (masthead, From name).")
@click.option("--url", help="Public address of the site, https://...")
@click.option("--from", "from_address", help="From address of the digest.")
@click.option("--address", "postal_address", help="Postal address for the email footer.")
@pass_app
def init(
    app: App,
    force: bool,
    name: str | None,
    url: str | None,
    from_address: str | None,
    postal_address: str | None,
) -> None:
    """Write a commented digest.toml (kept if present) and create or upgrade the database.

    The publication's identity comes from --name, --url, --from and --address; on a
    terminal, init asks for those not given. Without them it writes example.com
    placeholders, and `digest send` refuses a real relay until they are replaced."""
    from digest import pipeline
    from digest.db import redact_url
    from digest.identity import Identity

    path = app.config or Path(DEFAULT_CONFIG_NAME)
    given = {"name": name, "url": url, "from_address": from_address,
             "postal_address": postal_address}  # fmt: skip
    writing = force or not path.exists()
    if writing and sys.stdin.isatty():
        for key, label in IDENTITY_PROMPTS:
            if given[key] is None:
                given[key] = click.prompt(label, default="", show_default=False)
    identity = Identity(**{key: value or "" for key, value in given.items()})
    result = pipeline.initialise(
        path, force=force, overrides={"database.url": app.db_url},
        values=identity.config_values(),
    )  # fmt: skip
    app.info(f"{'wrote' if result.config_written else 'kept existing'} {path}")
    if result.config_written and not (identity.from_address and identity.url):
        app.warn(
            "mail.from and mail.unsubscribe_url are example.com placeholders; set them "
            "(or run init --force --from ... --url ...) before sending through a relay"
        )
    if result.key_created:
        app.info(f"created {result.key_path} (signs unsubscribe tokens; keep it private)")
    if result.key_replaced:
        app.warn(f"{result.key_path} was empty: wrote a new key into it (keep it private)")
    if result.terms_filled:
        count = result.terms_filled
        app.info(f"term cache filled: {count:,} recent article{'s' if count > 1 else ''}")
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
            f"[{edition.language}] {counted(edition.stories, 'top story', 'top stories')}, "
            f"{counted(edition.related, 'related item', 'related items')}: {edition.subject}"
        )
        app.info(f"     preview: {edition.preview_dir}/edition.html, edition.txt, edition.eml")
        if edition.already_sent:
            app.info("     already sent: nobody gets a second copy")
        else:
            app.info(
                f"     {counted(edition.sent, 'message', 'messages')} written to {report.maildir}"
            )
    app.info(f"Maildir: {report.maildir}")
