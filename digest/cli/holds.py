"""Commands: articles hold | unhold."""

from __future__ import annotations

import click

from digest.cli.app import App, counted, pass_app, print_json, source_option


@click.command("hold")
@click.argument("guid")
@click.option("--reason", default="", help="Why (shown by 'digest editions show').")
@source_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@pass_app
def hold_command(app: App, guid: str, reason: str, source: str | None, as_json: bool) -> None:
    """Pull an article from every edition not yet fully sent (a new revision of each);
    it is never selected again."""
    from digest import pipeline

    report = pipeline.hold(app.db(), app.settings(), guid, reason, app.now(), source)
    if as_json:
        print_json(
            {
                "guid": report.guid,
                "title": report.title,
                "newly_held": report.newly,
                "copies": [{"guid": guid, "title": title} for guid, title in report.copies],
                "editions": [
                    {"edition": e.key, "revision": e.revision, "withdrawn": e.withdrawn,
                     "had_it": e.had_it}
                    for e in report.editions
                ],
            }
        )  # fmt: skip
        return
    click.echo(f"held {guid}: {report.title}" + ("" if report.newly else " (held already)"))
    for copy_guid, title in report.copies:
        click.echo(f"  and its copy {copy_guid}: {title}")
    if not report.editions:
        click.echo("  in no edition still being sent")
    for edition in report.editions:
        state = "withdrawn (no story left)" if edition.withdrawn else "unsent deliveries get it"
        click.echo(f"  {edition.key}: revision {edition.revision} without it; {state}")
        if edition.had_it:
            click.echo(f"    {len(edition.had_it):,} already had it: {', '.join(edition.had_it)}")


@click.command("unhold")
@click.argument("guid")
@source_option
@pass_app
def unhold_command(app: App, guid: str, source: str | None) -> None:
    """Let a held article be selected again (editions it was pulled from stay as revised)."""
    from digest.holds import unhold

    release = unhold(app.db(), guid, source)
    click.echo(f"{'released' if release.was_held else 'was not held'}: {guid}: {release.title}")
    if release.copies:
        click.echo(f"  and {counted(release.copies, 'copy', 'copies')} held with it")
    if release.copy_of:
        click.echo(f"  shown on its own, though {release.copy_of}, which it copies, stays held")
