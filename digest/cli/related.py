"""Commands: articles related."""

from __future__ import annotations

import click

from digest.cli.app import LIMIT, App, pass_app, print_json, source_option


@click.command("related")
@click.argument("guid")
@click.option(
    "--limit",
    default=10,
    show_default=True,
    type=LIMIT,
    help="Show at most this many articles.",
)
@source_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (see README).")
@pass_app
def related(app: App, guid: str, limit: int, source: str | None, as_json: bool) -> None:
    """What else we have on this story: stored articles most related to GUID.

    Compares whole texts (headline, summary and body) with the selector's measure and
    floor (raised between long texts, unless one article stands far above the rest),
    among the articles of the edition that covers GUID (its window and archive) and
    those published in the following days.
    """
    from digest.selection import related_articles
    from digest.views import iso, related_list

    settings = app.settings()
    with app.session() as session:
        report = related_articles(
            session,
            guid,
            limit=limit,
            selection=settings.selection,
            schedule=settings.schedule,
            source=source,
        )
        if as_json:
            print_json(related_list(report))
            return
        click.echo(
            f"{report.article.title} [{report.article.language}] ({report.article.guid}), "
            f"judged with the edition of {iso(report.window.start)} .. {iso(report.window.end)}"
        )
        if not report.related:
            floor = f"similarity floor {settings.selection.related_floor}"
            if report.long_text_floor is not None:
                floor += f"; {report.long_text_floor} between long texts"
            click.echo(f"nothing related ({floor})")
            return
        for item in report.related:
            marker = "  same report" if item.duplicate else ""
            click.echo(
                f"  {item.similarity:.2f}  {iso(item.article.published_at)}  "
                f"{item.article.title} ({item.article.guid}){marker}"
            )
