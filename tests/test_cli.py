"""The command line: help everywhere, documented commands, clear errors."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import click
import pytest

from digest.cli import cli
from tests.conftest import FIXTURES, REPO, Digest


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path, lazily registered ones included (list_commands/get_command)."""
    found = []
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        path = (*prefix, name)
        found.append(path)
        if isinstance(command, click.Group):
            found.extend(all_commands(command, path))
    return found


COMMANDS = all_commands(cli)


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_has_help_and_is_in_the_readme(digest: Digest, path: tuple[str, ...]) -> None:
    result = digest.ok(*path, "--help")
    assert "Usage:" in result.stdout
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)
        assert found is not None, path
        command = found
    assert command.help and command.help.strip(), f"{' '.join(path)} has no help text"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"digest {' '.join(path)}" in readme, f"'digest {' '.join(path)}' missing from README"


def readme_scheduled_commands() -> list[str]:
    """The `digest` commands of the README's cron lines and systemd units, as written."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:cron|ini)\n(.*?)```", readme, re.DOTALL)
    return [
        command.strip()
        for block in blocks
        for command in re.findall(r"(?:^|&& |/bin/)digest ([^>&\n]+)", block, re.MULTILINE)
    ]


def test_the_readme_cron_and_systemd_commands_parse(digest: Digest) -> None:
    """Every command a cron line or unit runs is accepted as written (`--help` stops it
    after parsing: an unknown option is still refused first)."""
    commands = readme_scheduled_commands()
    for command in commands:
        result = digest(*shlex.split(command), "--help")
        assert (command, result.exit_code, result.stderr) == (command, 0, "")
    assert commands == ["ingest", "send", "--quiet send", "ingest", "send"]


def test_ingest_reports_bad_sources_after_storing_good_ones(
    digest: Digest, initialised: Path
) -> None:
    (initialised / "junk.xml").write_text("this is not a feed at all", encoding="utf-8")
    result = digest(
        "ingest",
        str(FIXTURES / "hostile.xml"),
        str(initialised / "junk.xml"),
        str(initialised / "missing.xml"),
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2
    assert "junk.xml: not a feed, JSON or HTML page" in errors[0]
    assert "missing.xml: no such file" in errors[1]
    assert "3 new" in result.stdout
    listed = json.loads(digest.ok("articles", "list", "--json").stdout)
    assert len(listed) == 3


def test_reingest_changes_nothing(digest: Digest, initialised: Path) -> None:
    digest.ok("ingest", str(FIXTURES / "hostile.xml"))
    before = digest.ok("articles", "list", "--json").stdout
    again = digest.ok("ingest", str(FIXTURES / "hostile.xml"))
    assert "0 new, 0 updated, 3 unchanged" in again.stdout
    assert digest.ok("articles", "list", "--json").stdout == before


def test_articles_list_json_fields(digest: Digest, initialised: Path) -> None:
    digest.ok("ingest", str(FIXTURES / "hostile.xml"))
    articles = json.loads(digest.ok("articles", "list", "--json", "--lang", "en").stdout)
    required = {
        "guid",
        "url",
        "title",
        "summary",
        "body",
        "section",
        "language",
        "published_at",
        "source",
    }
    for article in articles:
        assert required <= set(article)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", article["published_at"])
    assert json.loads(digest.ok("articles", "list", "--json", "--lang", "ar").stdout) == []


def test_articles_list_since_rejects_nonsense(digest: Digest, initialised: Path) -> None:
    result = digest("articles", "list", "--since", "yesterday-ish")
    assert result.exit_code == 1
    assert "--since" in result.stderr


def test_select_json_shape_and_nothing_to_send(digest: Digest, initialised: Path) -> None:
    digest.ok("ingest", str(FIXTURES / "hostile.xml"))
    plan = json.loads(digest.ok("select", "--date", "2025-06-04", "--lang", "en", "--json").stdout)
    assert set(plan) == {"date", "language", "window", "stories", "set_aside"}
    window = {key: plan["window"][key] for key in ("start", "end", "scheduled_at", "early")}
    assert window == {
        "start": "2025-06-03T04:00:00Z",
        "end": "2025-06-04T04:00:00Z",
        "scheduled_at": "2025-06-04T04:00:00Z",
        "early": False,
    }
    assert [s["article"]["guid"] for s in plan["stories"]] == ["hostile-1"]
    empty = digest.ok("select", "--date", "2020-01-01")
    assert "nothing to send" in empty.stdout
    sent = digest.ok("send", "--date", "2020-01-01", "--lang", "en")
    assert "nothing to send" in sent.stdout


def test_bad_date_and_language(digest: Digest, initialised: Path) -> None:
    bad_date = digest("select", "--date", "04/06/2025")
    assert bad_date.exit_code == 1 and "--date: expected YYYY-MM-DD" in bad_date.stderr
    no_day = digest("select", "--date", "2023-02-30")  # the right form, but no such day
    assert no_day.exit_code == 1 and "--date: no such day: '2023-02-30'" in no_day.stderr
    for far in ("0001-01-05", "9999-12-31"):  # a window or a week around it: no datetime
        for command in ("select", "preview", "send"):
            result = digest(command, "--date", far, "--lang", "en")
            assert result.exit_code == 1 and "Traceback" not in result.stderr
            assert "--date: expected a day from 1971-01-01" in result.stderr
    bad_lang = digest("select", "--lang", "fr")
    assert bad_lang.exit_code == 1 and "'fr' is not one of the site's languages" in bad_lang.stderr
    # an empty value, or another ISO spelling of a day, is not quietly today
    for command in ("select", "preview"):
        for day in ("", "20250604", "2025-W23-2"):
            result = digest(command, "--date", day)
            assert result.exit_code == 1 and f"--date: expected YYYY-MM-DD, got {day!r}" in (
                result.stderr
            )
        empty = digest(command, "--lang", "")
        assert empty.exit_code == 1 and "'' is not one of the site's languages" in empty.stderr
    # an empty variable must not mean every language
    for command in (("send", "--dry-run"), ("articles", "list")):
        empty = digest(*command, "--lang", "")
        assert empty.exit_code == 1 and "'' is not one of the site's languages" in empty.stderr


def test_verbose_shows_traceback(digest: Digest, initialised: Path) -> None:
    result = digest("-v", "select", "--lang", "fr")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr


def test_subscribers_add_list_count(digest: Digest, initialised: Path) -> None:
    digest.ok("subscribers", "add", "Alice@Example.COM", "--name", "Alice", "--lang", "en")
    again = digest.ok("subscribers", "add", "alice@example.com", "--lang", "ar")
    assert "updated alice@example.com" in again.stdout
    digest.ok(
        "subscribers",
        "add",
        "layla@example.com",
        "--name",
        "ليلى",
        "--lang",
        "ar",
        "--tz",
        "Asia/Riyadh",
    )
    assert digest.ok("subscribers", "count").stdout.strip() == "2"
    rows = json.loads(digest.ok("subscribers", "list", "--format", "json").stdout)
    assert [(r["email"], r["language"], r["status"]) for r in rows] == [
        ("alice@example.com", "ar", "active"),
        ("layla@example.com", "ar", "active"),
    ]
    csv_out = digest.ok("subscribers", "list", "--format", "csv").stdout.splitlines()
    assert csv_out[0] == "email,name,language,sections,timezone,status"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not-an-address"], "email: 'not-an-address' is not a valid address"),
        (["a@example.com", "--lang", "fr"], "language: 'fr' is not one of the site's languages"),
        (["a@example.com", "--tz", "Nowhere/City"], "timezone: 'Nowhere/City' is not an IANA"),
    ],
)
def test_subscribers_add_rejects_bad_fields(
    digest: Digest, initialised: Path, args: list[str], message: str
) -> None:
    result = digest("subscribers", "add", *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert digest.ok("subscribers", "count").stdout.strip() == "0"


def test_subscriber_name_cannot_carry_header_breaks(digest: Digest, initialised: Path) -> None:
    digest.ok("subscribers", "add", "x@example.com", "--name", "Eve\r\nBcc: all@example.com")
    rows = json.loads(digest.ok("subscribers", "list", "--format", "json").stdout)
    assert rows[0]["name"] == "Eve Bcc: all@example.com"


@pytest.mark.parametrize(
    "command", [("editions", "list"), ("articles", "related", "guid")], ids=" ".join
)
@pytest.mark.parametrize("limit", ["99999999999999999999", "10001"])
def test_a_limit_too_large_for_sql_is_a_usage_error(
    digest: Digest, initialised: Path, command: tuple[str, ...], limit: str
) -> None:
    """A --limit beyond 64-bit integers reached SQLite as an OverflowError traceback."""
    result = digest(*command, "--limit", limit)
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (
        2,
        f"Error: Invalid value for '--limit': {limit} is not in the range 1<=x<=10000.",
    )
    assert digest("editions", "list", "--limit", "10000").exit_code == 0
