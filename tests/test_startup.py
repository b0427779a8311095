"""Start-up stays light: the CLI loads SQLAlchemy, templates and the web stack only in
the commands that use them (see `digest.cli.COMMANDS`)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import click
import pytest

from digest.cli import COMMANDS, cli

HEAVY = ("sqlalchemy", "jinja2", "premailer", "starlette", "trafilatura")


def _loaded_after(code: str) -> list[str]:
    """The HEAVY modules a fresh interpreter has loaded after running `code`."""
    probe = textwrap.dedent(code) + textwrap.dedent(
        f"""
        import json, sys
        print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert _loaded_after("import digest.cli") == []


def test_help_of_every_command_loads_no_heavy_library() -> None:
    """`--help` imports every command module: each must keep its heavy imports inside
    its functions."""
    loaded = _loaded_after(
        """
        import click
        from click.testing import CliRunner
        from digest.cli import cli

        def walk(command, path):
            result = CliRunner().invoke(cli, [*path, "--help"])
            assert result.exit_code == 0, (path, result.output)
            if isinstance(command, click.Group):
                ctx = click.Context(command)
                for name in command.list_commands(ctx):
                    walk(command.get_command(ctx, name), [*path, name])

        walk(cli, [])
        """
    )
    assert loaded == []


def test_every_registered_command_resolves_and_has_help() -> None:
    ctx = click.Context(cli)
    assert set(COMMANDS) <= set(cli.list_commands(ctx))
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert isinstance(command, click.Command), name
        assert command.help, f"{name} has no help text"


@pytest.mark.usefixtures("database_env")
def test_a_command_that_needs_the_database_still_works(digest, tmp_path) -> None:
    digest.ok("init")
    digest.ok("subscribers", "add", "reader@example.com")
    assert digest.ok("subscribers", "count").stdout.strip() == "1"


def test_the_operators_status_does_not_load_the_selector() -> None:
    """`digest status` runs every minute under monitoring: it reads editions and windows,
    which must not pull in the selector's numpy/scipy text pipeline."""
    probe = textwrap.dedent(
        """
        import json, sys
        import digest.schedule.status
        heavy = ("scipy", "numpy", "digest.selection.selector")
        print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
