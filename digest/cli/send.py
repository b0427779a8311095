"""Commands: send."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

import click

from digest.cli.app import App, pass_app, print_json, stop_on_signals
from digest.cli.send_workers import WORKER_ENV, breaker_line, send_with_workers
from digest.errors import ExitCode

if TYPE_CHECKING:
    from digest import pipeline
    from digest.delivery.results import DrainResult


def iso(moment: Any) -> Any:
    """`digest.views.iso`, imported when first used (start-up time)."""
    from digest.views import iso as view_iso

    return view_iso(moment)


def window_dict(window: Any) -> Any:
    """`digest.views.window_dict`, imported when first used (start-up time)."""
    from digest.views import window_dict as view_window_dict

    return view_window_dict(window)


_PER = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "hour": 3600.0}


class RateType(click.ParamType):
    """Messages per second: `50`, `50/s`, `3000/min`, `100000/h`."""

    name = "R/s"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float):
            return value
        number, _, unit = str(value).strip().lower().partition("/")
        try:
            rate = float(number) / _PER[unit or "s"]
        except (ValueError, KeyError):
            self.fail(f"{value!r} is not a rate like 50, 50/s or 3000/min", param, ctx)
        if not rate >= 0 or rate == float("inf"):
            self.fail(f"{value!r} must be a positive rate (0 = unlimited)", param, ctx)
        return rate


@click.command()
@click.option("--date", "day", help="Edition date YYYY-MM-DD [default: today].")
@click.option("--lang", "language", help="Only this language [default: every site language].")
@click.option("--dry-run", is_flag=True, help="Build every message; write and send nothing.")
@click.option(
    "--to",
    "test_to",
    multiple=True,
    metavar="EMAIL",
    help="Send a test copy to EMAIL only (repeatable); nothing is recorded or frozen.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=1000),
    help="SMTP connections in parallel [default: mail.concurrency].",
)
@click.option("--rate", type=RateType(), help="At most R messages per second [default: mail.rate].")
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=64),
    default=1,
    show_default=True,
    help="Sender processes on this machine, sharing the edition (and --rate) between them.",
)
@click.option(
    "--resend-uncertain",
    is_flag=True,
    help="Send again the deliveries left uncertain (handed over, no reply): perhaps a copy.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@pass_app
def send(
    app: App,
    day: str | None,
    language: str | None,
    dry_run: bool,
    test_to: tuple[str, ...],
    concurrency: int | None,
    rate: float | None,
    workers: int,
    resend_uncertain: bool,
    as_json: bool,
) -> None:
    """Freeze the edition and deliver it once to every active subscriber of its language.

    Safe to rerun: a finished edition sends nothing; an interrupted one is completed.
    Several senders (--workers, or one 'digest send' per host on one PostgreSQL) share
    the work; each exits when nothing is left for it to claim.
    Exits 3 when deliveries remain deferred (run it again later to retry them), 4 when
    the relay refused the same way for mail.circuit_breaker recipients in a row (or
    refused our sender's address)."""
    from digest import pipeline

    if dry_run and test_to:
        raise click.UsageError("--dry-run and --to cannot be combined")
    if workers > 1 and (dry_run or test_to or resend_uncertain):
        raise click.UsageError(
            "--workers cannot be combined with --dry-run, --to or --resend-uncertain"
        )
    settings = app.settings(**{"mail.concurrency": concurrency, "mail.rate": rate})
    edition_day = pipeline.parse_day(day, settings, app.now())
    if language is not None:  # '' (an empty variable) is not "every language"
        pipeline.check_language(settings, language)
    languages = [language] if language is not None else list(settings.site.languages)
    if workers > 1:
        send_with_workers(app, workers, edition_day.isoformat(), languages, as_json)
        return
    if test_to:
        _send_test_copies(app, edition_day, languages, test_to, as_json)
        return
    reports = []
    with stop_on_signals(app, "the messages in flight") as stop:
        for lang in languages:
            with _progress(app, f"{edition_day.isoformat()}/{lang}") as on_progress:
                report = pipeline.send(
                    app.db(), settings, edition_day, lang,
                    on_progress=on_progress, dry_run=dry_run, stop=stop,
                    resend_uncertain=resend_uncertain,
                )  # fmt: skip
            reports.append(report)
            if not as_json:
                _print_report(app, report)
            if stop.is_set() or report.result.breaker:
                break  # interrupted: leave the other languages for the next run
    if as_json:
        print_json({"dry_run": dry_run, "editions": [_report_dict(r) for r in reports]})
    tripped = next((report for report in reports if report.result.breaker), None)
    if tripped is not None:
        if not os.environ.get(WORKER_ENV):  # a worker's parent says it once for all
            click.echo(breaker_line(tripped.result.stopped, tripped.remaining), err=True)
        sys.exit(ExitCode.REFUSED)
    partial = [report for report in reports if report.partial]
    not_started = ", ".join(languages[len(reports) :])
    if (partial or not_started) and os.environ.get(WORKER_ENV):
        sys.exit(ExitCode.PARTIAL)
    if partial or not_started:
        left = sum(report.remaining - report.not_due - report.held_elsewhere for report in partial)
        click.echo(
            f"digest: {left:,} {'delivery' if left == 1 else 'deliveries'} not sent yet"
            f"{_why(partial)}{f'; not started: {not_started}' if not_started else ''}; "
            "run 'digest send' again to finish",
            err=True,
        )
        sys.exit(ExitCode.PARTIAL)


def _why(reports: list[pipeline.SendReport]) -> str:
    """The main reason deliveries remain: the stop reason, else the commonest error."""
    for report in reports:
        reason = report.result.stopped or next(iter(report.deferred_reasons), ("", 0))[0]
        if reason:
            return f" ({reason})"
    return ""


def _send_test_copies(
    app: App, day: Any, languages: list[str], addresses: tuple[str, ...], as_json: bool
) -> None:
    from digest import pipeline

    settings = app.settings()
    results = [
        pipeline.send_test_copies(app.db(), settings, day, lang, addresses, clock=app.now)
        for lang in languages
    ]
    copies = [
        {"edition": r.edition, "to": email, "sent": error is None, "error": error}
        for r in results
        for email, error in r.copies
    ]
    if as_json:
        print_json({"test_copies": copies})
    for r in results:
        if r.nothing_to_send and not as_json:
            app.info(f"{r.edition}: nothing to send (no articles in the window)")
    for copy in copies:
        if copy["error"]:
            click.echo(f"digest: error: test copy of {copy['edition']} to {copy['to']}: "
                       f"{copy['error']}", err=True)  # fmt: skip
        elif not as_json:
            app.info(f"{copy['edition']}: test copy sent to {copy['to']}")
    if any(copy["error"] for copy in copies):
        sys.exit(ExitCode.ERROR)


def _print_report(app: App, report: pipeline.SendReport) -> None:
    r = report.result
    window = report.window
    if report.froze and window is not None and window.early:
        app.info(
            f"{report.edition}: frozen early, before its scheduled time "
            f"{iso(window.scheduled_at)}: its window is {iso(window.window.start)} .. "
            f"{iso(window.window.end)}; the next edition's window starts at "
            f"{iso(window.window.end)}"
        )
    if report.nothing_to_send:
        app.info(f"{report.edition}: nothing to send (no articles in the window)")
    elif report.already_sent:
        app.info(f"{report.edition}: already sent, nothing to do")
    elif report.dry_run:
        app.info(
            f"{report.edition}: dry run: would send {r.sent:,} "
            f"{'message' if r.sent == 1 else 'messages'} (edition {report.status}); "
            f"{r.failed} could not be built; nothing was written or sent"
        )
    else:
        app.info(
            f"{report.edition}: {r.sent:,} sent, {r.failed:,} failed, {r.deferred:,} deferred, "
            f"{r.skipped:,} skipped in {r.elapsed:.1f}s ({r.rate:,.0f} msg/s) "
            f"via {report.transport}"
        )
    if report.resent_uncertain:
        app.info(
            f"  {report.resent_uncertain:,} uncertain deliveries put back in the queue "
            "(counted above with the rest)"
        )
    if report.uncertain:
        app.info(
            f"  {report.uncertain:,} uncertain (handed over, no reply; perhaps delivered): "
            "not resent unless you run 'digest send --resend-uncertain'"
        )
    for email, error in r.failures:
        app.info(f"  failed: {email}: {error}")
    if r.bounced:
        app.info(f"  {r.bounced} subscriber(s) reached the bounce threshold and were suppressed")
    if r.stopped:
        app.info(f"  stopped early: {r.stopped}")
    if report.held_elsewhere:
        app.info(f"  {report.held_elsewhere:,} in flight on other senders (they finish them)")
    if report.not_due:
        app.info(
            f"  {report.not_due:,} due later in their readers' time zones "
            f"(next at {iso(report.next_due_at)}; 'digest schedule' sends them)"
        )
    if report.partial:
        left = report.remaining - report.not_due - report.held_elsewhere
        app.info(f"  {left:,} not sent yet{':' if report.deferred_reasons else ''}")
        for reason, count in report.deferred_reasons:
            app.info(f"    {count:,} × {reason}")


def _report_dict(report: pipeline.SendReport) -> dict[str, Any]:
    r = report.result
    return {
        "edition": report.edition,
        "language": report.language,
        "subject": report.subject,
        "status": (
            "nothing_to_send"
            if report.nothing_to_send
            else "already_sent"
            if report.already_sent
            else report.status
        ),
        "dry_run": report.dry_run,
        "transport": report.transport,
        "created": report.created,
        "sent": r.sent,
        "failed": r.failed,
        "deferred": r.deferred,
        "skipped": r.skipped,
        "retried": r.retried,
        "bounced": r.bounced,
        "uncertain": report.uncertain,
        "resent_uncertain": report.resent_uncertain,
        "requeued": r.requeued,
        "circuit_breaker": r.breaker,
        "remaining": report.remaining,
        "held_elsewhere": report.held_elsewhere,
        "not_due": report.not_due,
        "next_due_at": iso(report.next_due_at),
        "revision": report.revision,
        "froze": report.froze,
        "window": window_dict(report.window) if report.window is not None else None,
        "elapsed_seconds": round(r.elapsed, 3),
        "rate": round(r.rate, 1),
        "stopped": r.stopped,
        "failures": [{"email": email, "error": error} for email, error in r.failures],
        "deferred_reasons": [
            {"reason": reason, "count": count} for reason, count in report.deferred_reasons
        ],
    }


@contextmanager
def _progress(app: App, label: str) -> Iterator[Any]:
    """A one-line progress display on a terminal; nothing otherwise."""
    if not app.progress():
        yield None
        return
    line = _ProgressLine(label, sys.stderr)
    try:
        yield line.update
    finally:
        line.close()


class _ProgressLine:
    WIDTH = 24

    def __init__(self, label: str, stream: TextIO) -> None:
        self.label = label
        self.stream = stream
        self.started = time.monotonic()
        self.shown = 0.0
        self.width = 0  # of the line shown, so a shorter one overwrites all of it
        self.last: DrainResult | None = None

    def update(self, result: DrainResult, *, force: bool = False) -> None:
        moment = time.monotonic()
        if not force and moment - self.shown < 0.1:
            return
        self.shown = moment
        total = max(result.total, result.done, 1)
        elapsed = max(moment - self.started, 1e-6)
        rate = result.done / elapsed
        filled = int(self.WIDTH * result.done / total)
        eta = (total - result.done) / rate if rate > 0 else 0.0
        line = (
            f"{self.label} [{'#' * filled}{'-' * (self.WIDTH - filled)}] "
            f"{100 * result.done // total:3d}%  sent {result.sent:,}  failed {result.failed:,}  "
            f"deferred {result.deferred:,}  {rate:,.0f}/s  ETA {int(eta) // 60}:{int(eta) % 60:02d}"
        )
        self.stream.write(f"\r{line.ljust(self.width)}")
        self.width = len(line)
        self.stream.flush()
        self.last = result

    def close(self) -> None:
        if self.last is not None:
            self.update(self.last, force=True)
            self.stream.write("\n")
            self.stream.flush()
