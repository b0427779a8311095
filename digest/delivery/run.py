"""One run over an edition's outbox: a feeder, `concurrency` workers, one recorder.

After a crash at any moment at most one message per connection was handed over without
its outcome recorded (see `before_data`); rerunning resumes where the run stopped.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from digest import outbox
from digest.db import Database
from digest.delivery.claims import Feeder
from digest.delivery.clock import Clock
from digest.delivery.control import RunControl
from digest.delivery.leases import HandedOver
from digest.delivery.options import MailIdentity, SendOptions
from digest.delivery.pacing import run_coroutine
from digest.delivery.recorder import Recorder
from digest.delivery.results import DrainResult, ProgressCallback
from digest.delivery.worker import Connections, RecipientFactory, Worker
from digest.message import MessageSkeleton
from digest.stopping import StopRequest
from digest.transport import Transport


def drain(
    db: Database,
    edition_id: int,
    *,
    skeleton: MessageSkeleton,
    recipient_for: RecipientFactory,
    transport: Transport,
    identity: MailIdentity,
    clock: Clock,
    options: SendOptions,
    message_id_for: Callable[[int], str],
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    owner: str | None = None,
) -> DrainResult:
    """Send every due delivery of the edition; returns when none is left to this run.

    Raises what stopped the run for good (SendError for a refused sender or login, a
    database error); a tripped circuit breaker is not an error: see `DrainResult.breaker`.
    """

    async def main() -> DrainResult:
        run = RunControl(
            db,
            edition_id,
            owner or outbox.worker_id(),
            clock=clock,
            options=options,
            on_progress=on_progress,
            stop=stop,
        )
        try:
            return await _drain(run, skeleton, recipient_for, transport, identity, message_id_for)
        finally:
            run.close()

    if isinstance(stop, StopRequest):
        with stop.hurry_aware():
            return run_coroutine(main())
    return run_coroutine(main())


async def _drain(
    run: RunControl,
    skeleton: MessageSkeleton,
    recipient_for: RecipientFactory,
    transport: Transport,
    identity: MailIdentity,
    message_id_for: Callable[[int], str],
) -> DrainResult:
    started = run.clock.monotonic()
    feeder: Feeder | None = None
    watching: asyncio.Task[None] | None = None
    try:
        now = run.clock.now()
        dead = await run.db(outbox.dead_owners, run.edition_id, run.owner)
        run.result.total = await run.db(outbox.due_count, run.edition_id, run.owner, now, dead)
        connections = Connections(run, transport)
        recorder = Recorder(
            run,
            lambda *retry: feeder.schedule_retry(*retry) if feeder else None,
            peers=lambda: connections.live,
        )
        feeder = Feeder(run, recorder, dead)
        recording = asyncio.create_task(recorder.run_loop())
        watching = asyncio.create_task(run.watch_stop(connections.interrupt))
        workers = [
            asyncio.create_task(
                Worker(
                    run,
                    feeder,
                    recorder,
                    connections,
                    skeleton=skeleton,
                    recipient_for=recipient_for,
                    identity=identity,
                    message_id_for=message_id_for,
                ).work()
            )
            for _ in range(run.options.concurrency)
        ]
        for outcome in await asyncio.gather(*workers, return_exceptions=True):
            if isinstance(outcome, BaseException) and run.fatal is None:
                run.fatal = outcome
        recorder.close()
        await recording
        if run.fatal is not None or run.stopping:
            released = await _release(run, recorder.unrecorded)
            if run.interrupted:
                run.result.stopped = _interrupted(released, run.result.uncertain)
    finally:
        if watching is not None:
            watching.cancel()
        if feeder is not None:
            feeder.cancel()
        run.result.elapsed = run.clock.monotonic() - started
    if run.fatal is not None:
        raise run.fatal
    return run.result


async def _release(run: RunControl, handed_over: list[HandedOver]) -> int:
    """Give back this run's leases at once, so the next run need not wait for them;
    returns how many deliveries went back to the queue. `handed_over`: deliveries whose
    outcome the run could not commit, recorded now (see `leases.release`)."""
    try:
        return await run.db(outbox.release, run.edition_id, run.owner, run.clock.now(), handed_over)
    except Exception as e:
        if run.fatal is None:
            raise
        run.fatal.add_note(f"and releasing the leases failed too: {e}")
        return 0


def _interrupted(released: int, uncertain: int) -> str:
    """The stop's one line: what went back to the queue, what may have been delivered."""
    line = (
        f"interrupted: {released} {'delivery' if released == 1 else 'deliveries'} released "
        "to the queue unsent"
    )
    if uncertain:
        line += f", {uncertain} handed over without a reply recorded uncertain"
    return line
