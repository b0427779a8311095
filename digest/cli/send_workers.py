"""`digest send --workers N`: N sender processes on the same editions, and the lines
they print once for all (`WORKER_ENV`)."""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import click

from digest.cli.app import App, print_json, stop_on_signals
from digest.errors import ExitCode

if TYPE_CHECKING:
    from digest.senders import WorkerOutcome


#: Set for the `digest send` processes of `--workers`: their parent prints the summary
#: lines once for all of them.
WORKER_ENV = "DIGEST_SEND_WORKER"


def breaker_line(stopped: str | None, remaining: int | None) -> str:
    """The one line a tripped circuit breaker prints: the same words as the run's
    `stopped` reason (count and reply), and what is left."""
    left = f"{remaining:,} deliveries left pending" if remaining is not None else (
        "the deliveries not sent are left pending"
    )  # fmt: skip
    return (
        f"digest: stopped by the circuit breaker: {stopped}; {left}, nobody's bounce count "
        "changed; run 'digest send' again once the relay accepts mail"
    )


def send_with_workers(
    app: App, workers: int, day: str, languages: list[str], as_json: bool
) -> None:
    """N `digest send` processes on the same editions; a summary per worker and in all."""
    from digest.senders import run_senders, taken_over, worst_exit_code

    mail = app.settings().mail
    arguments = ["send", "--date", day, "--concurrency", str(mail.concurrency)]
    if mail.rate:
        arguments += ["--rate", repr(mail.rate / workers)]  # the limit is for all of them
    environment = {"DIGEST_CONFIG": str(app.config)} if app.config else {}
    environment[WORKER_ENV] = "1"
    if app.db_url:
        environment["DIGEST_DATABASE_URL"] = app.db_url
    outcomes: list[WorkerOutcome] = []
    settled: list[WorkerOutcome] = []  # with killed workers whose work others did as OK
    with stop_on_signals(app, "the messages in flight") as stop:
        for language in languages:
            if not as_json:
                app.info(f"{day}/{language}: {workers} sender processes...")
            batch = run_senders(
                workers, [*arguments, "--lang", language], environment=environment, stop=stop
            )
            outcomes += batch
            killed = any(outcome.returncode < 0 for outcome in batch)
            others_sent = killed and not stop.is_set() and taken_over(app.db(), batch)
            if others_sent:  # a killed worker's deliveries were sent: nothing to rerun
                settled += [replace(o, returncode=max(o.returncode, 0)) for o in batch]
            else:
                settled += batch
            for outcome in batch:
                _print_worker(app, outcome, as_json, others_sent)
            if stop.is_set():
                break
    if as_json:
        print_json({"workers": [{"worker": o.number, "pid": o.pid, "exit_code": o.returncode,
                                 "editions": o.editions} for o in outcomes]})  # fmt: skip
    code = worst_exit_code(settled)
    editions = [edition for outcome in outcomes for edition in outcome.editions]
    tripped = next((edition for edition in editions if edition.get("circuit_breaker")), None)
    if tripped is not None:
        click.echo(breaker_line(tripped.get("stopped"), None), err=True)
    elif code == ExitCode.PARTIAL:
        click.echo("digest: deliveries not sent yet; run 'digest send' again to finish", err=True)
    sys.exit(code)


def _print_worker(app: App, outcome: Any, as_json: bool, others_sent: bool) -> None:
    if outcome.returncode < 0:
        then = "the other workers sent its deliveries" if others_sent else "run 'digest send' again"
        click.echo(f"digest: worker {outcome.number} (pid {outcome.pid}) was killed by "
                   f"signal {-outcome.returncode}; {then}", err=True)  # fmt: skip
    for edition in [] if as_json else outcome.editions:
        app.info(
            f"  worker {outcome.number}: {edition['edition']} ({edition['status']}): "
            f"{edition['sent']:,} sent, "
            f"{edition['failed']:,} failed, {edition['deferred']:,} deferred "
            f"({edition['rate']:,.0f} msg/s), exit {outcome.returncode}"
        )
