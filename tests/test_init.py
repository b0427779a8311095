"""`digest init`: config written once, database created and upgraded."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from tests.conftest import Digest


def test_init_writes_config_key_and_database(digest: Digest, tmp_path: Path) -> None:
    result = digest.ok("init")
    assert "wrote digest.toml" in result.stdout
    assert (tmp_path / "digest.toml").read_text(encoding="utf-8").startswith("# newsletter-digest")
    key = tmp_path / "secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text(encoding="utf-8").strip() not in result.stdout + result.stderr
    tables = {
        row[0]
        for row in sqlite3.connect(tmp_path / "digest.db").execute(
            "select name from sqlite_master where type='table'"
        )
    }
    assert {
        "articles",
        "feeds",
        "editions",
        "edition_items",
        "subscribers",
        "deliveries",
        "alembic_version",
    } <= tables


def test_init_keeps_an_existing_config_unless_forced(digest: Digest, tmp_path: Path) -> None:
    config = tmp_path / "digest.toml"
    config.write_text('[site]\nname = "Mine"\n', encoding="utf-8")
    result = digest.ok("init")
    assert "kept existing" in result.stdout
    assert config.read_text(encoding="utf-8") == '[site]\nname = "Mine"\n'
    digest.ok("init", "--force")
    assert "Mine" not in config.read_text(encoding="utf-8")


def test_init_is_idempotent_and_upgrades_in_place(digest: Digest, tmp_path: Path) -> None:
    digest.ok("init")
    digest.ok("subscribers", "add", "kept@example.com")
    digest.ok("init")
    assert digest.ok("subscribers", "count").stdout.strip() == "1"


def test_init_with_explicit_config_and_db_paths(digest: Digest, tmp_path: Path) -> None:
    target = tmp_path / "site" / "conf.toml"
    digest.ok("--config", str(target), "init")
    assert target.exists()
    assert (tmp_path / "site" / "digest.db").exists()


def test_command_before_init_says_what_to_do(digest: Digest) -> None:
    result = digest("articles", "list")
    assert result.exit_code == 1
    assert "not initialised" in result.stderr
    assert "digest init" in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_config_is_one_line_exit_1(digest: Digest, tmp_path: Path) -> None:
    (tmp_path / "digest.toml").write_text("[mail]\nconcurrency = 'x'\n", encoding="utf-8")
    result = digest("select")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "digest.toml: [mail] concurrency" in lines[0]


@pytest.mark.postgres
def test_postgres_init_and_ingest(digest: Digest, postgres_url: str, tmp_path: Path) -> None:
    pg = Digest({"DIGEST_DATABASE_URL": postgres_url})
    pg.ok("init")
    fixtures = Path(__file__).parent / "fixtures" / "hostile.xml"
    pg.ok("ingest", str(fixtures))
    assert "From the future" in pg.ok("articles", "list").stdout
    assert not (tmp_path / "digest.db").exists()
