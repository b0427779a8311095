"""Shared fixtures: isolated folders, a CLI runner, real databases."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from digest.cli import cli
from tests import backends
from tests.backends import BackendGuard, Databases, PostgresServer, in_ci

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test runs in its own folder with no DIGEST_* variables from the caller."""
    for name in list(os.environ):
        if name.startswith("DIGEST_") and name != "DIGEST_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


class Digest:
    """Runs `digest` in-process and keeps stdout and stderr apart."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.env = env or {}

    def __call__(self, *args: str, input: str | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(cli, list(args), env=self.env, input=input, catch_exceptions=False)

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.exit_code == 0, f"exit {result.exit_code}: {result.stderr}{result.stdout}"
        return result


@pytest.fixture
def digest() -> Digest:
    return Digest()


#: `digest init` options giving the sample publication's identity (init itself writes
#: example.com placeholders when not told who the publication is).
SAMPLE_INIT = (
    "--name", "Arab Press", "--url", "https://arabpress.example",
    "--from", "digest@arabpress.example", "--address", "1 Example Street, Springfield",
)  # fmt: skip


@pytest.fixture
def initialised(
    digest: Digest, tmp_path: Path, migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A folder with `digest init` done, once on SQLite and once on PostgreSQL, with the
    sample identity and a postal address for the footer: the database is named by
    DIGEST_DATABASE_URL for the rest of the test."""
    monkeypatch.setenv("DIGEST_DATABASE_URL", migrated_url)
    digest.ok("init", *SAMPLE_INIT)
    return tmp_path


@pytest.fixture
def database_env(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """DIGEST_DATABASE_URL names this test's database (schema at head), once on SQLite and
    once on PostgreSQL, for tests that run `digest init` and the other commands themselves,
    in this process or as child processes. Returns the URL."""
    monkeypatch.setenv("DIGEST_DATABASE_URL", migrated_url)
    return migrated_url


#: Skip reasons that mean "a service or tool this test needs is missing".
_MISSING_SERVICE = ("not set", "not installed", "needs the", "not running", "not available")


_GUARD = BackendGuard()


def pytest_configure(config: pytest.Config) -> None:
    _GUARD.install()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses PostgreSQL is marked `postgres`, even if its author forgot; the
    backend markers are checked (tests/backends.py)."""
    problems = BackendGuard.check_markers(items)
    if problems:
        raise pytest.UsageError("\n".join(problems))
    for item in items:
        uses = getattr(item, "fixturenames", ())
        postgres = "postgres_url" in uses or item.get_closest_marker("postgres_only")
        if postgres and item.get_closest_marker("postgres") is None:
            item.add_marker(pytest.mark.postgres)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    _GUARD.opened.clear()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A test that opened a database on one backend only without saying why fails
    (tests/backends.py). Under CI=true a test skipped for a missing service fails: CI
    cannot pass by skipping."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call" and report.passed:
        broken = _GUARD.violation(item)
        if broken is not None:
            report.outcome = "failed"
            report.longrepr = broken
    if not (report.skipped and in_ci()) or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    service = item.get_closest_marker("postgres") or item.get_closest_marker("chromium")
    if service is not None or any(words in reason for words in _MISSING_SERVICE):
        report.outcome = "failed"
        report.longrepr = f"CI=true: skipped for a missing service is a failure: {reason}"


# --- databases: every test that asks for one runs on SQLite and on PostgreSQL ---------------


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    """Makes databases on either backend (tests/backends.py)."""
    from digest.db import Database

    template = tmp_path_factory.mktemp("migrated") / "digest.db"
    db = Database(f"sqlite:///{template}")
    _GUARD.paused = True  # made for the session, not by the test that happens to run first
    try:
        db.upgrade()
    finally:
        db.dispose()
        _GUARD.paused = False
    base = os.environ.get("DIGEST_TEST_POSTGRES_URL")
    server = PostgresServer(base) if base else None
    made = Databases(server, template)
    backends._CURRENT.append(made)
    try:
        yield made
    finally:
        backends._CURRENT.remove(made)
        if server is not None:
            server.close()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def backend(request: pytest.FixtureRequest, databases: Databases) -> str:
    """`sqlite`, then `postgres` (needs DIGEST_TEST_POSTGRES_URL): a test that asks for
    a database, directly or through a fixture, runs on both."""
    return str(request.param)


@pytest.fixture(autouse=True)
def _drop_the_tests_databases() -> Iterator[None]:
    """PostgreSQL databases a test made (copies of prepared sites) go when it ends."""
    server = backends._CURRENT[0].server if backends._CURRENT else None
    mark = len(server.made) if server is not None else 0
    yield
    if server is not None:
        server.drop_since(mark)


@pytest.fixture
def database_url(
    backend: str, databases: Databases, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A fresh database: an SQLite file in tmp_path, or a new PostgreSQL database. Empty,
    unless the test also asks for `migrated_url` (through `initialised` or
    `database_env`): then it is that one, with the schema at head."""
    migrated = "migrated_url" in request.fixturenames
    url = databases.create(backend, tmp_path, migrated=migrated)
    yield url
    databases.drop(url)


@pytest.fixture
def migrated_url(database_url: str) -> str:
    """Like `database_url`, with the schema at head (a copy of a database migrated once)."""
    return database_url


@pytest.fixture
def postgres_url(databases: Databases) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, for a test marked `postgres_only`."""
    url = databases.create("postgres", Path())
    yield url
    databases.drop(url)
