"""Commands: schedule, status."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from digest.cli.app import App, pass_app, print_json, stop_on_signals

if TYPE_CHECKING:
    from digest.schedule.status import Status


def _send_time(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    hh, _, mm = (value or "").partition(":")
    if value is not None and not (
        hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60 and len(mm) == 2
    ):
        raise click.BadParameter(f"expected HH:MM, got {value!r}")
    return value


def _zone(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return None if value is None else ZoneInfo(value).key
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"unknown time zone {value!r} (an IANA name)") from None


@click.command("schedule")
@click.option(
    "--at", "at", metavar="HH:MM", callback=_send_time, help="Send time [default: schedule.at]."
)
@click.option(
    "--tz",
    "timezone",
    metavar="ZONE",
    callback=_zone,
    help="Its time zone [default: schedule.timezone].",
)
@pass_app
def schedule_command(app: App, at: str | None, timezone: str | None) -> None:
    """Run the daily loop in the foreground: ingest, freeze and send each day at the send
    time, retry deferred deliveries; SIGINT/SIGTERM stop it cleanly (exit 0)."""
    from digest import pipeline
    from digest.views import iso

    settings = app.settings(**{"schedule.at": at, "schedule.timezone": timezone})

    def log(line: str) -> None:
        click.echo(f"{iso(app.now())} {line}", err=True)

    log(f"scheduler started: daily at {settings.schedule.at} {settings.schedule.timezone}")
    with stop_on_signals(app) as stop:
        pipeline.schedule(app.db(), settings, clock=app.now, sleep=stop.wait, stop=stop, log=log)


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object (see README).")
@pass_app
def status_command(app: App, as_json: bool) -> None:
    """The operator's view per language; exit 0 ok, 1 failed or overdue (or the scheduler
    died), 3 deliveries remain."""
    from digest.schedule.status import status
    from digest.views import iso

    report = status(app.db(), app.settings(), app.now())
    if as_json:
        print_json(_status_dict(report))
    else:
        for entry in report.languages:
            counts = ", ".join(f"{n:,} {kind}" for kind, n in entry.deliveries.items())
            click.echo(
                f"{entry.language}: last edition {entry.last_edition or '-'} "
                f"({entry.last_status or 'none'}): {entry.outcome}; next run "
                f"{iso(entry.next_run)}; deliveries {counts}"
            )
            if entry.last_error:
                click.echo(f"    last error: {entry.last_error}")
        click.echo(_scheduler_line(report))
        for problem in report.problems:
            click.echo(f"problem: {problem}", err=True)
    sys.exit(int(report.exit_code))


def _scheduler_line(report: Status) -> str:
    from digest.views import iso

    view = report.scheduler
    if view is None:
        return "scheduler: never ran on this database (cron or manual sends)"
    if view.stopped_at is not None:
        return f"scheduler: stopped at {iso(view.stopped_at)}"
    state = "running" if report.scheduler_alive else "DEAD"
    return (
        f"scheduler: {state}, heartbeat {iso(view.heartbeat_at)}, next run {iso(view.next_run_at)}"
    )


def _status_dict(report: Status) -> dict[str, Any]:
    from digest.views import iso

    view = report.scheduler
    return {
        "exit_code": int(report.exit_code),
        "problems": report.problems,
        "languages": [
            {
                "language": entry.language,
                "last_edition": entry.last_edition,
                "last_status": entry.last_status,
                "outcome": entry.outcome,
                "last_due": iso(entry.last_due),
                "next_run": iso(entry.next_run),
                "deliveries": entry.deliveries,
                "late": entry.late,
                "last_error": entry.last_error,
            }
            for entry in report.languages
        ],
        "scheduler": None
        if view is None
        else {
            "owner": view.owner,
            "alive": report.scheduler_alive,
            "heartbeat_at": iso(view.heartbeat_at),
            "next_run_at": iso(view.next_run_at),
            "stopped_at": iso(view.stopped_at),
            "at": view.at,
            "timezone": view.timezone,
            "last_error": view.last_error,
        },
    }
