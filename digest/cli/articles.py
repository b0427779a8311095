"""Commands: articles list | related."""

from __future__ import annotations

import click

from digest.cli.app import App, LazyGroup, pass_app, print_json

#: Subcommands of `articles`: name -> "module:attribute".
ARTICLE_COMMANDS: dict[str, str] = {
    "list": "digest.cli.articles:articles_list",
    "related": "digest.cli.related:related",
    "hold": "digest.cli.holds:hold_command",
    "unhold": "digest.cli.holds:unhold_command",
}


@click.group(cls=LazyGroup, lazy_commands=ARTICLE_COMMANDS)
def articles() -> None:
    """Inspect stored articles."""


@click.command("list")
@click.option("--since", help="Only articles published since: 24h, 7d, 30m, 2w or an ISO date.")
@click.option("--lang", "language", help="Only articles in this language.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (see README).")
@pass_app
def articles_list(app: App, since: str | None, language: str | None, as_json: bool) -> None:
    """List stored articles, newest first (dates in UTC; '~' marks an estimated date)."""
    from digest import articles as article_queries
    from digest.views import article_dict, iso

    since_at = article_queries.parse_since(since, app.now()) if since else None
    with app.session() as session:
        rows = article_queries.list_articles(
            session, since=since_at, language=language, languages=app.languages
        )
        if as_json:
            print_json([article_dict(a) for a in rows])
            return
        if not rows:
            app.info("no articles")
        for a in rows:
            mark = "~" if a.date_estimated else " "
            section = a.section or "-"
            click.echo(f"{iso(a.published_at)}{mark} {a.language}  {section:<12} {a.title}")
