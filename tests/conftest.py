"""Shared fixtures: isolated folders, a CLI runner, real databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from digest.cli import cli

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
    digest: Digest, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A folder with `digest init` done, once on SQLite and once on PostgreSQL, with the
    sample identity and a postal address for the footer: the database is named by
    DIGEST_DATABASE_URL for the rest of the test."""
    monkeypatch.setenv("DIGEST_DATABASE_URL", database_url)
    digest.ok("init", *SAMPLE_INIT)
    return tmp_path


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


#: Skip reasons that mean "a service or tool this test needs is missing".
_MISSING_SERVICE = ("not set", "not installed", "needs the", "not running", "not available")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses PostgreSQL is marked `postgres`, even if its author forgot."""
    for item in items:
        uses = getattr(item, "fixturenames", ())
        if "postgres_url" in uses and item.get_closest_marker("postgres") is None:
            item.add_marker(pytest.mark.postgres)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI=true a test skipped for a missing service fails: CI cannot pass by skipping."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not (report.skipped and in_ci()) or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    service = item.get_closest_marker("postgres") or item.get_closest_marker("chromium")
    if service is not None or any(words in reason for words in _MISSING_SERVICE):
        report.outcome = "failed"
        report.longrepr = f"CI=true: skipped for a missing service is a failure: {reason}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh database on the PostgreSQL server named by DIGEST_TEST_POSTGRES_URL."""
    yield from _fresh_postgres_database()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: an SQLite file in tmp_path, then a fresh PostgreSQL
    database (the `postgres` run needs DIGEST_TEST_POSTGRES_URL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'digest.db'}"
    else:
        yield from _fresh_postgres_database()


def _fresh_postgres_database() -> Iterator[str]:
    base = os.environ.get("DIGEST_TEST_POSTGRES_URL")
    if not base:
        if in_ci():
            pytest.fail("DIGEST_TEST_POSTGRES_URL not set, and CI=true: PostgreSQL must run")
        pytest.skip("DIGEST_TEST_POSTGRES_URL not set (CI sets it)")
    import sqlalchemy as sa

    name = f"digest_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
