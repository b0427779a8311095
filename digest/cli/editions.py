"""Commands: editions list | show."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from digest.cli.app import LIMIT, App, pass_app, print_json

if TYPE_CHECKING:
    from digest import outbox
    from digest.models import Edition


@click.group("editions")
def editions() -> None:
    """Frozen editions: what each holds and how its delivery went."""


@editions.command("list")
@click.option("--limit", default=30, show_default=True, type=LIMIT)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_app
def list_command(app: App, limit: int, as_json: bool) -> None:
    """The newest editions with their delivery counts."""
    from digest import outbox

    with app.session() as session:
        rows = outbox.list_editions(session, limit)
    if as_json:
        print_json([_edition_dict(edition, counts) for edition, counts in rows])
        return
    if not rows:
        app.info("no editions yet ('digest send' freezes one)")
        return
    click.echo(f"{'id':>4}  {'edition':<16} {'status':<8} {'sent':>7} {'failed':>6} "
               f"{'deferred':>8} {'uncertain':>9} {'pending':>7}  subject")  # fmt: skip
    for edition, counts in rows:
        waiting = counts["pending"] + counts["sending"]
        click.echo(
            f"{edition.id:>4}  {edition.key:<16} {edition.status:<8} {counts['sent']:>7,} "
            f"{counts['failed']:>6,} {counts['deferred']:>8,} {counts['uncertain']:>9,} "
            f"{waiting:>7,}  {edition.subject}"
        )


@editions.command("show")
@click.argument("edition_ref", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@pass_app
def show_command(app: App, edition_ref: str, as_json: bool) -> None:
    """One edition, by id or key like 2025-06-04/en: stories, counts, failures."""
    from digest import holds, outbox
    from digest.schedule import localtime
    from digest.views import iso

    with app.session() as session:
        report = outbox.edition_report(session, edition_ref, unsent_limit=None if as_json else 50)
    edition = report.edition
    if as_json:
        with app.session() as session:
            extra = _schedule_dict(session, edition)
        print_json({**_report_dict(report), **extra})
        return
    click.echo(f"edition {edition.key} (id {edition.id}): {edition.status}")
    click.echo(f"subject: {edition.subject}")
    click.echo(f"frozen {iso(edition.frozen_at) or '-'}, sent {iso(edition.sent_at) or '-'}")
    click.echo(f"window {iso(edition.window_start)} .. {iso(edition.window_end)}, "
               f"scheduled {iso(edition.scheduled_at) or '-'}")  # fmt: skip
    with app.session() as session:
        revisions = holds.history(session, edition)
        due = localtime.due_times(session, edition.id)
    for view in revisions:
        change = f": held {view.held_guid} ({view.held_title})" if view.held_guid else ""
        reason = f", reason: {view.reason}" if view.reason else ""
        click.echo(f"revision {view.revision} at {iso(view.created_at)}{change}{reason}; "
                   f"{view.delivered:,} delivered with it")  # fmt: skip
    tops = 0
    for item in report.items:
        tops += item.role == "top"
        click.echo(f"{f'{tops:>3}.' if item.role == 'top' else '     -'} {item.article.title}")
    counts = ", ".join(f"{number:,} {status}" for status, number in report.counts.items())
    click.echo(f"deliveries: {counts}")
    if any(moment is not None for moment, _status, _n in due):
        click.echo("deliveries by due time:")
        for moment, status, number in due:
            click.echo(f"  {iso(moment) or 'at once':<20} {status:<9} {number:,}")
    for unsent in report.unsent:
        kind = f" ({unsent.kind})" if unsent.kind and unsent.status == "failed" else ""
        click.echo(
            f"  {unsent.status}{kind}: {unsent.email} ({unsent.attempts} tries): {unsent.error}"
        )
    if report.unsent_total > len(report.unsent):
        click.echo(f"  ... and {report.unsent_total - len(report.unsent):,} more (--json: all)")
    if report.counts["uncertain"]:
        click.echo(
            f"{report.counts['uncertain']:,} uncertain: handed to the relay without a reply, "
            "perhaps delivered; 'digest send --date "
            f"{edition.date.isoformat()} --lang {edition.language} --resend-uncertain' "
            "sends them again"
        )


def _schedule_dict(session: Any, edition: Edition) -> dict[str, Any]:
    from digest import holds
    from digest.schedule import localtime
    from digest.views import iso

    """What #11 adds to `editions show --json`: revisions, holds, due times."""
    return {
        "revision": edition.revision,
        "scheduled_at": iso(edition.scheduled_at),
        "revisions": [
            {"revision": v.revision, "at": iso(v.created_at), "held_guid": v.held_guid,
             "held_title": v.held_title, "reason": v.reason, "delivered": v.delivered}
            for v in holds.history(session, edition)
        ],
        "due": [
            {"due_at": iso(moment), "status": status, "count": number}
            for moment, status, number in localtime.due_times(session, edition.id)
        ],
    }  # fmt: skip


def _edition_dict(edition: Edition, counts: dict[str, int]) -> dict[str, Any]:
    from digest.views import iso

    return {
        "id": edition.id,
        "edition": edition.key,
        "date": edition.date.isoformat(),
        "language": edition.language,
        "variant": edition.variant,
        "status": edition.status,
        "subject": edition.subject,
        "frozen_at": iso(edition.frozen_at),
        "sent_at": iso(edition.sent_at),
        "deliveries": {**counts, "total": sum(counts.values())},
    }


def _report_dict(report: outbox.EditionReport) -> dict[str, Any]:
    from digest.views import iso

    return {
        **_edition_dict(report.edition, report.counts),
        "preheader": report.edition.preheader,
        "window": {
            "start": iso(report.edition.window_start),
            "end": iso(report.edition.window_end),
        },
        "items": [
            {
                "position": item.position,
                "role": item.role,
                "title": item.article.title,
                "url": item.article.url,
                "guid": item.article.guid,
            }
            for item in report.items
        ],
        "unsent": [
            {
                "email": unsent.email,
                "status": unsent.status,
                "failure_kind": unsent.kind,
                "attempts": unsent.attempts,
                "error": unsent.error,
                "next_attempt_at": iso(unsent.next_attempt_at),
            }
            for unsent in report.unsent
        ],
    }
