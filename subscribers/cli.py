"""`digest subscribers ...`: parse, call the store, print.

The group's context object (built by the host program) provides `session()`,
`languages` and `now()`; this package never imports `digest`.
"""

from __future__ import annotations

import csv
import json
import sys
from typing import Any

import click

from subscribers import store
from subscribers.models import Status, Subscriber
from subscribers.store import SubscriberFields

STATUSES = [status.value for status in Status]


def subscriber_dict(subscriber: Subscriber) -> dict[str, Any]:
    return {
        "email": subscriber.email,
        "name": subscriber.name,
        "language": subscriber.language,
        "sections": subscriber.section_list,
        "timezone": subscriber.timezone,
        "status": subscriber.status,
        "created_at": subscriber.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


@click.group("subscribers")
def subscribers_group() -> None:
    """Manage the audience: add, list and count subscribers."""


@subscribers_group.command("add")
@click.argument("email")
@click.option("--name", default="", help="Name used in the greeting.")
@click.option("--lang", "language", help="Edition language [default: first site language].")
@click.option("--sections", help="Comma-separated sections of interest (empty: all).")
@click.option("--tz", "timezone", default="UTC", show_default=True, help="IANA time zone.")
@click.pass_obj
def add_command(
    app: Any, email: str, name: str, language: str | None, sections: str | None, timezone: str
) -> None:
    """Add an active subscriber (an existing one is updated, never duplicated)."""
    fields = SubscriberFields(email, name, language, sections, timezone)
    with app.session() as session:
        subscriber, created = store.add(session, fields, languages=app.languages, now=app.now())
        click.echo(
            f"{'added' if created else 'updated'} {subscriber.email} "
            f"[{subscriber.language}, {subscriber.status}]"
        )


@subscribers_group.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only this status.")
@click.option("--lang", "language", help="Only this language.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@click.pass_obj
def list_command(app: Any, status: str | None, language: str | None, output_format: str) -> None:
    """List subscribers (streamed: fine for very long lists)."""
    with app.session() as session:
        rows = store.iter_subscribers(session, status=status, language=language)
        if output_format == "json":
            _write_json(rows)
        elif output_format == "csv":
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(["email", "name", "language", "sections", "timezone", "status"])
            for s in rows:
                writer.writerow([s.email, s.name, s.language, s.sections, s.timezone, s.status])
        else:
            for s in rows:
                click.echo(f"{s.email:<40} {s.status:<12} {s.language:<4} {s.name}")


def _write_json(rows: Any) -> None:
    """A JSON array written row by row, so memory stays flat."""
    out = sys.stdout
    out.write("[")
    written = 0
    for subscriber in rows:
        out.write(",\n  " if written else "\n  ")
        out.write(json.dumps(subscriber_dict(subscriber), ensure_ascii=False))
        written += 1
    out.write("\n]\n" if written else "]\n")


@subscribers_group.command("count")
@click.option("--status", type=click.Choice(STATUSES), help="Only this status.")
@click.pass_obj
def count_command(app: Any, status: str | None) -> None:
    """Print the number of subscribers."""
    with app.session() as session:
        click.echo(store.count(session, status))
