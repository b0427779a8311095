"""Commands: feeds add | list | remove (what `digest ingest` with no source fetches)."""

from __future__ import annotations

import click

from digest.cli.app import App, pass_app, print_json


@click.group()
def feeds() -> None:
    """Register the feeds (and pages) that 'digest ingest' fetches when given no source."""


@feeds.command("add")
@click.argument("url")
@click.option("--name", help="A name to show for the feed (default: the feed's own title).")
@click.option("--section", help="Section of every article from this feed.")
@click.option("--lang", "language", help="Language of its articles that state none.")
@pass_app
def feeds_add(
    app: App, url: str, name: str | None, section: str | None, language: str | None
) -> None:
    """Register URL (an RSS/Atom feed, JSON export or article page); an existing
    registration is updated with the options given."""
    from digest.ingest import registry
    from digest.ingest.fetch import display_url

    with app.session() as session:
        feed, created = registry.add_feed(
            session, url, languages=app.languages, name=name, section=section, language=language
        )
        app.info(f"{'added' if created else 'updated'} {display_url(feed.url)}")


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (see README).")
@pass_app
def feeds_list(app: App, as_json: bool) -> None:
    """List registered feeds with the outcome of their last fetch."""
    from digest.ingest import registry
    from digest.ingest.fetch import display_url
    from digest.views import iso

    with app.session() as session:
        rows = [
            {
                "url": display_url(feed.url),
                "name": feed.name,
                "section": feed.section,
                "language": feed.language,
                "last_fetched_at": iso(feed.last_fetched_at),
                "last_error": feed.last_error,
            }
            for feed in registry.list_feeds(session)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        app.info("no feeds registered (add one: digest feeds add URL)")
    for row in rows:
        labels = "".join(f" [{row[key]}]" for key in ("section", "language") if row[key])
        if not row["last_fetched_at"]:
            status = "never fetched"
        else:
            outcome = f"error: {row['last_error']}" if row["last_error"] else "ok"
            status = f"fetched {row['last_fetched_at']}: {outcome}"
        click.echo(f"{row['url']}  {row['name'] or '-'}{labels}  ({status})")


@feeds.command("remove")
@click.argument("url")
@pass_app
def feeds_remove(app: App, url: str) -> None:
    """Forget the feed at URL (its articles stay in the store)."""
    from digest.ingest import registry
    from digest.ingest.fetch import display_url

    with app.session() as session:
        feed = registry.remove_feed(session, url)
        app.info(f"removed {display_url(feed.url)}")
