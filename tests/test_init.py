"""`digest init`: config written once, database created and upgraded."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import Digest


def test_init_writes_config_key_and_database(
    digest: Digest, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_DATABASE_URL", database_url)
    result = digest.ok("init")
    assert "wrote digest.toml" in result.stdout
    assert (tmp_path / "digest.toml").read_text(encoding="utf-8").startswith("# newsletter-digest")
    key = tmp_path / "secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text(encoding="utf-8").strip() not in result.stdout + result.stderr
    engine = sa.create_engine(database_url)
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert {
        "articles",
        "feeds",
        "editions",
        "edition_items",
        "subscribers",
        "deliveries",
        "alembic_version",
    } <= tables


@pytest.mark.usefixtures("database_env")
def test_init_keeps_an_existing_config_unless_forced(digest: Digest, tmp_path: Path) -> None:
    config = tmp_path / "digest.toml"
    config.write_text('[site]\nname = "Mine"\n', encoding="utf-8")
    result = digest.ok("init")
    assert "kept existing" in result.stdout
    assert config.read_text(encoding="utf-8") == '[site]\nname = "Mine"\n'
    digest.ok("init", "--force")
    assert "Mine" not in config.read_text(encoding="utf-8")


@pytest.mark.usefixtures("database_env")
def test_init_is_idempotent_and_upgrades_in_place(digest: Digest, tmp_path: Path) -> None:
    digest.ok("init")
    digest.ok("subscribers", "add", "kept@example.com")
    digest.ok("init")
    assert digest.ok("subscribers", "count").stdout.strip() == "1"


@pytest.mark.sqlite_only("where the SQLite file goes: beside the config named by --config")
def test_init_with_explicit_config_and_db_paths(digest: Digest, tmp_path: Path) -> None:
    target = tmp_path / "site" / "conf.toml"
    digest.ok("--config", str(target), "init")
    assert target.exists()
    assert (tmp_path / "site" / "digest.db").exists()


def test_command_before_init_says_what_to_do(
    digest: Digest, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty database (no schema yet) is named as not initialised."""
    monkeypatch.setenv("DIGEST_DATABASE_URL", database_url)
    result = digest("articles", "list")
    assert result.exit_code == 1
    assert "not initialised" in result.stderr
    assert "digest init" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.sqlite_only("an SQLite file a command would create")
def test_a_command_in_a_folder_without_a_project_leaves_no_database_behind(
    digest: Digest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DIGEST_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    for command in (("articles", "list"), ("status",), ("articles", "related", "x")):
        result = digest(*command)
        assert result.exit_code == 1
        assert "not initialised" in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_malformed_config_is_one_line_exit_1(digest: Digest, tmp_path: Path) -> None:
    (tmp_path / "digest.toml").write_text("[mail]\nconcurrency = 'x'\n", encoding="utf-8")
    result = digest("select")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "digest.toml: [mail] concurrency" in lines[0]


@pytest.mark.postgres_only("checks that a server database leaves no SQLite file behind")
def test_postgres_init_and_ingest(digest: Digest, postgres_url: str, tmp_path: Path) -> None:
    pg = Digest({"DIGEST_DATABASE_URL": postgres_url})
    pg.ok("init")
    fixtures = Path(__file__).parent / "fixtures" / "hostile.xml"
    pg.ok("ingest", str(fixtures))
    assert "From the future" in pg.ok("articles", "list").stdout
    assert not (tmp_path / "digest.db").exists()


@pytest.mark.usefixtures("database_env")
def test_init_writes_the_publication_it_is_given(digest: Digest, tmp_path: Path) -> None:
    digest.ok(
        "init", "--name", "Daily Bugle", "--url", "https://bugle.example.org/",
        "--from", "Bugle Desk <news@bugle.example.org>", "--address", "1 Main St, Springfield",
    )  # fmt: skip
    import tomllib

    config = tomllib.loads((tmp_path / "digest.toml").read_text(encoding="utf-8"))
    assert config["site"]["name"] == "Daily Bugle"
    assert config["site"]["url"] == "https://bugle.example.org"
    assert config["site"]["postal_address"] == "1 Main St, Springfield"
    assert config["mail"]["from"] == "Bugle Desk <news@bugle.example.org>"
    assert config["mail"]["unsubscribe_url"] == "https://bugle.example.org/u/{token}"
    assert config["mail"]["unsubscribe_mailto"] == "unsubscribe@bugle.example.org"
    assert "arabpress" not in repr(config)


@pytest.mark.usefixtures("database_env")
def test_init_without_identity_writes_placeholders_not_the_sample(
    digest: Digest, tmp_path: Path
) -> None:
    import tomllib

    result = digest.ok("init")
    values = repr(tomllib.loads((tmp_path / "digest.toml").read_text(encoding="utf-8")))
    assert "arabpress" not in values and "Arab Press" not in values
    assert "'from': 'newsletter@example.com'" in values
    assert "placeholders" in result.stderr


def test_init_rejects_a_bad_identity_naming_the_setting(digest: Digest, tmp_path: Path) -> None:
    result = digest("init", "--url", "bugle.example.org")
    assert result.exit_code == 1
    assert result.stderr.startswith("digest: error: site.url: expected an absolute https://")
    assert not (tmp_path / "digest.toml").exists()
    result = digest("init", "--from", "not an address")
    assert result.exit_code == 1 and "mail.from:" in result.stderr


@pytest.mark.usefixtures("database_env")
def test_send_refuses_a_real_relay_with_placeholder_identity(
    digest: Digest, tmp_path: Path
) -> None:
    digest.ok("init", "--address", "1 Main St")
    config = tmp_path / "digest.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace('transport = "maildir:./outbox"', 'transport = "smtp://relay.example:587"'),
        encoding="utf-8",
    )
    result = digest("send", "--date", "2025-06-04")
    assert result.exit_code == 1
    assert result.stderr.startswith("digest: error: [mail] from: still 'newsletter@example.com'")
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            'from = "newsletter@example.com"', 'from = "news@bugle.example.org"'
        ),
        encoding="utf-8",
    )
    result = digest("send", "--date", "2025-06-04", "--to", "me@bugle.example.org")
    assert result.exit_code == 1
    assert "[mail] unsubscribe_url: still 'https://example.com/u/{token}'" in result.stderr


@pytest.mark.sqlite_only("digest demo makes its own SQLite database in its folder")
def test_the_demo_keeps_its_sample_identity(digest: Digest, tmp_path: Path) -> None:
    from digest.demo import run_demo

    report = run_demo(tmp_path / "demo")
    text = report.config_path.read_text(encoding="utf-8")
    assert 'name = {en = "Arab Press", ar = "عرب برس"}' in text
    assert "postal_address" in text and "sample publication" in text


@pytest.mark.usefixtures("database_env")
def test_init_asks_for_the_identity_on_a_terminal(tmp_path: Path) -> None:
    """On a terminal, init prompts for what the options did not give."""
    import os
    import subprocess
    import sys
    import tomllib

    from tests.conftest import REPO

    controller, terminal = os.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env = {k: v for k, v in env.items() if k == "DIGEST_DATABASE_URL" or k[:7] != "DIGEST_"}
    process = subprocess.Popen(
        [sys.executable, "-m", "digest", "init", "--name", "Daily Bugle"],
        cwd=tmp_path, env=env, stdin=terminal, stdout=terminal, stderr=terminal,
    )  # fmt: skip
    os.close(terminal)
    answers = b"https://bugle.example.org\nnews@bugle.example.org\n1 Main St, Springfield\n"
    os.write(controller, answers)
    shown = b""
    try:
        while process.poll() is None or shown.count(b"\n") < 4:
            try:
                chunk = os.read(controller, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        process.wait(timeout=60)
        os.close(controller)
    assert process.returncode == 0, shown.decode(errors="replace")
    assert b"Site address" in shown and b"Publication name" not in shown
    config = tomllib.loads((tmp_path / "digest.toml").read_text(encoding="utf-8"))
    assert config["site"]["name"] == "Daily Bugle"
    assert config["site"]["url"] == "https://bugle.example.org"
    assert config["mail"]["from"] == "news@bugle.example.org"
    assert config["site"]["postal_address"] == "1 Main St, Springfield"


@pytest.mark.sqlite_only("a file that is not an SQLite database")
def test_a_file_that_is_not_a_database_is_named_in_one_line(
    digest: Digest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corrupt = tmp_path / "broken.db"
    corrupt.write_bytes(b"not a database, " * 300)
    monkeypatch.setenv("DIGEST_DATABASE_URL", f"sqlite:///{corrupt}")
    for command in (("init",), ("select",), ("articles", "list")):
        result = digest(*command)
        assert result.exit_code == 1, command
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "broken.db" in lines[0], (command, result.stderr)
        assert "file is not a database" in lines[0] and "sqlalche.me" not in lines[0]


@pytest.mark.usefixtures("database_env")
def test_init_replaces_an_empty_key_file_and_refuses_a_short_one(
    digest: Digest, tmp_path: Path
) -> None:
    key = tmp_path / "secret.key"
    key.write_text("\n", encoding="utf-8")
    replaced = digest.ok("init")
    assert f"{key} was empty: wrote a new key" in replaced.stderr
    assert len(key.read_text(encoding="utf-8").strip()) >= 16
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    key.write_text("tiny\n", encoding="utf-8")
    short = digest("init")
    assert short.exit_code == 1
    assert f"{key}: the secret key is too short" in short.stderr
    assert key.read_text(encoding="utf-8") == "tiny\n"  # links may depend on it: the user decides
