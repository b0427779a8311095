"""Scale on PostgreSQL: a million subscribers, a million-row import, several senders.

    python bench/scale_bench.py [--subscribers 1000000] [--import-rows 1000000]
                                [--send 6000] [--concurrency 4] [--repeat 3] [--url URL]

Starts a throwaway PostgreSQL cluster on 127.0.0.1 (initdb as the `postgres` user, as
.ci/run does; server defaults, fsync on) unless --url names a server, and prints:

- deliveries created per second: `outbox.create_deliveries` (one INSERT ... SELECT) for
  an edition with SUBSCRIBERS active subscribers, and the EXPLAIN plans of the claim and
  audience queries on that table (the indexes of migration 0009 in use);
- import rows/s: `digest subscribers import` of an IMPORT-ROWS-line CSV as its own
  process (checking and COPY merge), with its peak resident memory; also 1/10 of it;
- messages/s with 1, 2 and 4 sender processes (`digest send --workers N`, mail
  concurrency CONCURRENCY each) into bench/smtp_sink.py with a 20 ms reply delay: the
  sum of the workers' messages over the longest worker's drain time, and end to end;
- peak memory per sender process for an edition of 100,000 and of 1,000,000 subscribers
  (--memory-sizes; each run stopped with SIGTERM after --memory-seconds).

Every figure is the median of REPEAT runs (default 3), printed with the range. Peak memory
is the kernel's maximum resident set of the measured process and its children (wait4).
Figures only: nothing here asserts; the machine may be shared.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from import_bench import generate
from send_bench import DAY, SAMPLE, sink

DIGEST = [sys.executable, "-m", "digest"]
#: The mail transport of the commands run now (the SMTP sink), if any.
TRANSPORT: list[str] = []
PARTS = ("deliveries", "import", "send", "memory")


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """initdb + pg_ctl start on a free loopback port; stopped and deleted on exit."""
    pg_bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="digest-scale-pg-"))
    os.chmod(folder, 0o777)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def as_postgres(*command: str) -> None:
        subprocess.run(
            ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(command)],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    as_postgres(
        f"{pg_bin}/initdb", "-D", f"{folder}/data", "-A", "trust", "-U", "postgres", "-E", "UTF8"
    )
    as_postgres(
        f"{pg_bin}/pg_ctl",
        "-D",
        f"{folder}/data",
        "-l",
        f"{folder}/log",
        "-w",
        "-o",
        f"'-p {port} -k {folder} -c listen_addresses=127.0.0.1'",
        "start",
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        as_postgres(f"{pg_bin}/pg_ctl", "-D", f"{folder}/data", "-m", "immediate", "stop")
        subprocess.run(["rm", "-rf", str(folder)], check=False)


def fresh_database(server: str, name: str) -> str:
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)


def run(
    site: Path, url: str, *args: str, stop_after: float | None = None
) -> tuple[int, float, float, str]:
    """(exit code, seconds, peak MiB, stdout) of `digest ARGS` as a process in `site`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    env["DIGEST_DATABASE_URL"] = url
    if TRANSPORT:
        env["DIGEST_TRANSPORT"] = TRANSPORT[-1]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = subprocess.Popen([*DIGEST, *args], cwd=site, env=env, stdout=out, stderr=err)
        if stop_after is not None:
            time.sleep(stop_after)
            process.send_signal(signal.SIGTERM)
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stopped = stop_after is not None and code == -signal.SIGTERM  # before its handler
        if code not in (0, 3) and not stopped:
            raise SystemExit(f"digest {' '.join(args)} failed ({code}): {err.read().decode()}")
        return code, seconds, usage.ru_maxrss / 1024, out.read().decode()


def new_site(folder: Path, url: str) -> Path:
    """digest init + the sample English articles + the frozen edition (no subscribers)."""
    folder.mkdir(parents=True)
    run(folder, url, "init")
    run(folder, url, "ingest", str(SAMPLE))
    run(folder, url, "--quiet", "send", "--date", DAY, "--lang", "en")  # freezes, sends none
    return folder


def add_subscribers(url: str, count: int) -> None:
    """`count` active English subscribers, generated inside the database."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO subscribers (email, name, language, sections, timezone, status,"
                " smtputf8, bounce_count, created_at, updated_at)"
                " SELECT 'reader' || n || '@example.com', 'Reader ' || n, 'en', '', 'UTC',"
                " 'active', false, 0, now(), now() FROM generate_series(1, :count) AS n"
            ),
            {"count": count},
        )
        connection.exec_driver_sql("ANALYZE subscribers")
    engine.dispose()


def spread(values: list[float], unit: str = "", digits: int = 0) -> str:
    """`median unit (min-max of N)` for figures of repeated runs."""
    low, high = min(values), max(values)
    return (
        f"median {statistics.median(values):,.{digits}f}{unit} "
        f"({low:,.{digits}f}-{high:,.{digits}f} over {len(values)} runs)"
    )


def reset_edition(url: str) -> None:
    """Back to a frozen edition without deliveries, so the next run sends it all again."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("TRUNCATE deliveries CASCADE")
        connection.exec_driver_sql("UPDATE editions SET status = 'frozen', sent_at = NULL")
    engine.dispose()


def measure_creation(url: str, subscribers: int, repeat: int) -> None:
    from digest import outbox
    from digest.db import Database
    from digest.models import Edition

    db = Database(url)
    try:
        seconds: list[float] = []
        for _ in range(repeat):
            reset_edition(url)
            with db.session() as session:
                edition = session.scalars(sa.select(Edition)).one()
                started = time.perf_counter()
                created = outbox.create_deliveries(session, edition, datetime.now(UTC))
                session.commit()
                seconds.append(time.perf_counter() - started)
        with db.session() as session:
            session.connection().exec_driver_sql("ANALYZE deliveries")
        rates = [created / s for s in seconds]
        print(
            f"deliveries: {created:,} created in {spread(seconds, ' s', 1)} = "
            f"{spread(rates, '/s')} (one INSERT ... SELECT; target 1,000,000 < 30 s)"
        )
        with db.session() as session:
            connection = session.connection()
            claim = outbox._claim_statements(True)[0].compile(dialect=connection.dialect)
            values = {
                **claim.params,
                "c_edition": edition.id,
                "c_owner": "bench",
                "c_now": datetime.now(UTC),
                "c_until": datetime.now(UTC),
                "c_limit": 32,
                "c_revision": edition.revision,
            }
            print("  EXPLAIN claim (32 pending, lowest ids first):")
            for (line,) in connection.exec_driver_sql(f"EXPLAIN {claim.string}", values):
                print(f"    {line}")
            audience = outbox.audience_query(edition, datetime.now(UTC))
            compiled = audience.compile(dialect=connection.dialect)
            print("  EXPLAIN audience (active subscribers of the language lacking a delivery):")
            for (line,) in connection.exec_driver_sql(
                f"EXPLAIN {compiled.string}", compiled.params
            ):
                print(f"    {line}")
            session.rollback()
        late_claims(db.engine, claim, values)
    finally:
        db.dispose()


def late_claims(engine: sa.Engine, claim: Any, values: dict[str, Any]) -> None:
    """Claim time late in a run: 90% of the edition sent and committed, statistics not
    yet refreshed (autovacuum lags a fast run), then after ANALYZE. Each claim is rolled
    back, so all of them see the same table."""
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE deliveries SET status = 'sent' WHERE id <= "
            "(SELECT min(id) + 0.9 * count(*) FROM deliveries)"
        )
    for state in ("stale statistics", "after ANALYZE"):
        with engine.begin() as connection:
            if state == "after ANALYZE":
                connection.exec_driver_sql("ANALYZE deliveries")
            plan = connection.exec_driver_sql(f"EXPLAIN {claim.string}", values).all()
        index = next((r[0].split(" using ")[1].split()[0] for r in plan if " using " in r[0]), "?")
        times = []
        for _ in range(20):
            with engine.connect() as connection:
                started = time.perf_counter()
                claimed = connection.exec_driver_sql(claim.string, values).all()
                times.append(time.perf_counter() - started)
                connection.rollback()
        print(
            f"  a claim of {len(claimed)} with 90% sent, {state}: "
            f"median {1000 * statistics.median(times):.1f} ms (first index: {index})"
        )


def measure_import(root: Path, server: str, rows: int, repeat: int) -> None:
    """Each size into fresh PostgreSQL databases, then into SQLite as the baseline."""
    for count in (rows // 10, rows):
        source = root / f"import-{count}.csv"
        generate(source, count)
        rates: dict[str, float] = {}
        for label in ("PostgreSQL", "SQLite"):
            runs, peaks = [], []
            for attempt in range(repeat):
                name = f"import-{label}-{count}-{attempt}"
                url = (
                    fresh_database(server, name.replace("-", "_").lower())
                    if label == "PostgreSQL"
                    else f"sqlite:///{root / (name + '.db')}"
                )
                site = root / f"site-{name}"
                site.mkdir()
                run(site, url, "init")
                _code, seconds, peak, _out = run(
                    site, url, "--quiet", "subscribers", "import", str(source)
                )
                runs.append(count / seconds)
                peaks.append(peak)
            rates[label] = statistics.median(runs)
            print(
                f"import into {label}: {count:,} rows: {spread(runs, ' rows/s')}, "
                f"peak {spread(peaks, ' MiB')} (whole process)"
            )
        print(
            f"  PostgreSQL / SQLite = {rates['PostgreSQL'] / rates['SQLite']:.2f} (medians; "
            "target 20,000 rows/s on PostgreSQL; SQLite is the same checking pass)"
        )
        source.unlink()


def measure_senders(root: Path, server: str, messages: int, concurrency: int, repeat: int) -> None:
    url = fresh_database(server, "scale_send")
    site = new_site(root / "send-site", url)
    add_subscribers(url, messages)
    rates: dict[int, float] = {}
    with sink(0.02) as port:
        TRANSPORT.append(f"smtp://127.0.0.1:{port}?tls=off")
        try:
            for workers in (1, 2, 4):
                drains, ends, peaks = [], [], []
                for _ in range(repeat):
                    reset_edition(url)
                    sent, drain, seconds, peak = send_once(site, url, concurrency, workers)
                    drains.append(sent / drain)
                    ends.append(sent / seconds)
                    peaks.append(peak)
                rates[workers] = statistics.median(drains)
                print(
                    f"send: {workers} process(es) x {concurrency} connections, {sent:,} "
                    f"messages: {spread(drains, ' msg/s')}; end to end "
                    f"{spread(ends, ' msg/s')}; peak {spread(peaks, ' MiB')} per process"
                )
        finally:
            TRANSPORT.pop()
    print(f"  4 processes / 1 process = {rates[4] / rates[1]:.1f}x (medians; target >= 3x)")


def send_once(
    site: Path, url: str, concurrency: int, workers: int
) -> tuple[int, float, float, float]:
    """(messages sent, longest worker's drain seconds, whole seconds, peak MiB)."""
    _code, seconds, peak, out = run(
        site, url, "send", "--date", DAY, "--lang", "en", "--json",
        "--concurrency", str(concurrency), "--workers", str(workers),
    )  # fmt: skip
    summary = json.loads(out)
    runs = [w["editions"][0] for w in summary.get("workers", [])] or summary["editions"]
    if not runs[0]["transport"].startswith("smtp"):
        raise SystemExit(f"sent via {runs[0]['transport']}, not the sink")
    longest = max(r["elapsed_seconds"] for r in runs)
    return sum(r["sent"] for r in runs), longest, seconds, peak


def measure_sender_memory(
    root: Path, server: str, sizes: list[int], seconds: float, repeat: int
) -> None:
    url = fresh_database(server, "scale_memory")
    site = new_site(root / "memory-site", url)
    peaks_by_size: dict[int, float] = {}
    with sink(0.0) as port:
        TRANSPORT.append(f"smtp://127.0.0.1:{port}?tls=off")
        try:
            for count in sizes:
                engine = sa.create_engine(url)
                with engine.begin() as connection:
                    connection.exec_driver_sql("TRUNCATE deliveries CASCADE")
                    connection.exec_driver_sql("DELETE FROM subscribers")
                engine.dispose()
                add_subscribers(url, count)
                peaks = []
                for _ in range(repeat):
                    reset_edition(url)
                    _code, _s, peak, _out = run(
                        site, url, "--quiet", "send", "--date", DAY, "--lang", "en",
                        stop_after=seconds,
                    )  # fmt: skip
                    peaks.append(peak)
                peaks_by_size[count] = statistics.median(peaks)
                print(
                    f"sender memory, edition of {count:,}: peak {spread(peaks, ' MiB')} per "
                    f"sender process (creating the deliveries, then {seconds:.0f} s of "
                    "sending; target < 200)"
                )
        finally:
            TRANSPORT.pop()
    if len(sizes) > 1:
        ratio = peaks_by_size[sizes[-1]] / peaks_by_size[sizes[0]]
        print(f"  peak at {sizes[-1]:,} / peak at {sizes[0]:,} = {ratio:.2f} (medians)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--import-rows", type=int, default=1_000_000)
    parser.add_argument("--send", type=int, default=6_000, help="messages per sender run")
    parser.add_argument("--concurrency", type=int, default=4, help="connections per process")
    parser.add_argument("--memory-seconds", type=float, default=20.0)
    parser.add_argument(
        "--memory-sizes", default="100000,1000000", help="edition sizes of the memory runs"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--url", help="use this PostgreSQL server instead of a throwaway one")
    parser.add_argument("--parts", default=",".join(PARTS), help="which measurements")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    print(
        f"scale bench, {date.today()}, {os.cpu_count()} CPUs (shared machine: see load), "
        f"medians of {args.repeat} runs per figure"
    )
    with tempfile.TemporaryDirectory(prefix="digest-scale-") as scratch:
        root = Path(scratch)
        with throwaway_cluster() if not args.url else _given(args.url) as server:
            if "deliveries" in parts:
                url = fresh_database(server, "scale_deliveries")
                new_site(root / "site", url)
                add_subscribers(url, args.subscribers)
                measure_creation(url, args.subscribers, args.repeat)
            if "import" in parts:
                measure_import(root, server, args.import_rows, args.repeat)
            if "send" in parts:
                measure_senders(root, server, args.send, args.concurrency, args.repeat)
            if "memory" in parts:
                sizes = [int(size) for size in args.memory_sizes.split(",")]
                measure_sender_memory(root, server, sizes, args.memory_seconds, args.repeat)
            print(f"load average at the end: {os.getloadavg()[0]:.1f}")


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    main()
