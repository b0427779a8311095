"""Commands: select."""

from __future__ import annotations

import click

from digest.cli.app import App, pass_app, print_json


@click.command("select")
@click.option("--date", "day", help="Edition date YYYY-MM-DD [default: today, schedule zone].")
@click.option("--lang", "language", help="Edition language [default: first site language].")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (see README).")
@click.option(
    "--explain",
    is_flag=True,
    help="Also show why: each story's score in parts, the reports grouped into it, and "
    "the candidates it beat on section diversity.",
)
@pass_app
def select_command(
    app: App, day: str | None, language: str | None, as_json: bool, explain: bool
) -> None:
    """Show the edition plan: top stories and related items. Changes nothing."""
    from digest import pipeline
    from digest.views import explanation_lines, iso, plan_dict, report_lines, window_dict

    settings = app.settings()
    edition_day = pipeline.parse_day(day, settings, app.now())
    language = pipeline.check_language(
        settings, settings.site.languages[0] if language is None else language
    )
    with app.session() as session:
        window = pipeline.edition_window(session, settings, edition_day, language, app.now())
        plan = pipeline.plan(session, settings, edition_day, language, now=app.now())
        if as_json:
            print_json({**plan_dict(plan, explain=explain), "window": window_dict(window)})
            return
        if plan.is_empty:
            between = f"between {iso(plan.window.start)} and {iso(plan.window.end)}"
            if plan.repeats:
                click.echo(
                    f"nothing to send: the {plan.repeats} {plan.language} article(s) {between} "
                    f"led an edition in the last {settings.selection.no_repeat_days} days"
                )
            else:
                click.echo(f"nothing to send: no {plan.language} articles {between}")
            return
        click.echo(
            f"edition {plan.date} [{plan.language}], window {iso(plan.window.start)} .. "
            f"{iso(plan.window.end)}{' (frozen)' if window.frozen else ''}"
        )
        for number, story in enumerate(plan.stories, 1):
            click.echo(
                f"{number:2}. [{story.article.section or '-'}] {story.article.title} "
                f"(score {story.score})"
            )
            if explain and story.explanation is not None:
                click.echo("\n".join(explanation_lines(story.explanation)))
            for item in story.related:
                click.echo(f"      related {item.similarity:.2f}: {item.article.title}")
        if len(plan.stories) < settings.selection.top_stories:
            click.echo(
                f"({len(plan.stories)} of {settings.selection.top_stories} top stories: "
                "not enough distinct stories in the window)"
            )
        if plan.set_aside:
            click.echo(
                f"({len(plan.set_aside)} report(s) only one source carries set aside as "
                "uncorroborated, most of this window's news being carried by several"
                f"{'):' if explain else '; --explain lists them)'}"
            )
            if explain:
                click.echo("\n".join(f"      {line}" for line in report_lines(plan.set_aside)))
