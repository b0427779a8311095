"""The suite's rule that every test opening a database runs on both backends: the guard
in tests/backends.py fails a test that breaks it, run here on a small test module."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import REPO

PROBE = """
import pytest
import sqlalchemy as sa


def _touch(url):
    engine = sa.create_engine(url)
    engine.connect().close()
    engine.dispose()


def test_sqlite_only_by_accident(tmp_path):
    _touch(f"sqlite:///{tmp_path / 'mine.db'}")


def test_sqlite_file_left_by_a_child_process(tmp_path):
    import sqlite3
    db = sqlite3.connect(tmp_path / "child.db")
    db.execute("create table alembic_version (version_num varchar(32))")
    db.close()


@pytest.mark.sqlite_only("the probe says why")
def test_sqlite_only_with_a_reason(tmp_path):
    _touch(f"sqlite:///{tmp_path / 'mine.db'}")


def test_on_both(database_url):
    _touch(database_url)


def test_postgres_run_that_uses_sqlite(backend, tmp_path):
    _touch(f"sqlite:///{tmp_path / 'mine.db'}")


def test_pure():
    assert 1 + 1 == 2
"""


def _run_probe(tmp_path: Path) -> str:
    probe = tmp_path / "test_probe.py"
    probe.write_text(textwrap.dedent(PROBE), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider",
         "-c", str(REPO / "pyproject.toml"), "--rootdir", str(tmp_path), "-rA", str(probe)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return result.stdout


def test_a_test_on_one_backend_without_a_reason_fails(tmp_path: Path) -> None:
    out = _run_probe(tmp_path)
    outcomes = {
        line.split()[1].split("::")[-1]: line.split()[0]
        for line in out.splitlines()
        if line.split()
        and line.split()[0] in ("PASSED", "FAILED", "SKIPPED", "ERROR")
        and "::" in line
    }
    assert outcomes["test_sqlite_only_by_accident"] == "FAILED", out
    assert outcomes["test_sqlite_file_left_by_a_child_process"] == "FAILED", out
    assert outcomes["test_sqlite_only_with_a_reason"] == "PASSED", out
    assert outcomes["test_on_both[sqlite]"] == "PASSED", out
    assert outcomes["test_postgres_run_that_uses_sqlite[sqlite]"] == "PASSED", out
    assert outcomes["test_pure"] == "PASSED", out
    assert "does not run on both backends" in out
    if os.environ.get("DIGEST_TEST_POSTGRES_URL"):
        assert outcomes["test_on_both[postgres]"] == "PASSED", out
        assert outcomes["test_postgres_run_that_uses_sqlite[postgres]"] == "FAILED", out
        assert "postgres run used an SQLite database" in out
