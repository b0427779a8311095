"""The wheel carries the templates, migrations and sample data (non-editable installs)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO


def test_wheel_contains_templates_migrations_and_samples(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
    )
    wheel = next(tmp_path.glob("newsletter_digest-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "digest/templates/email.html",
        "digest/templates/email.txt",
        "digest/migrations/env.py",
        "digest/migrations/versions/0001_initial_schema.py",
        "digest/migrations/versions/0007_signup_confirmation.py",
        "digest/templates/page.html",
        "digest/templates/subscribe.html",
        "digest/templates/confirm.html",
        "digest/templates/preferences.html",
        "digest/templates/message.html",
        "digest/templates/signup_email.html",
        "digest/templates/signup_email.txt",
        "digest/locale/en.toml",
        "digest/locale/ar.toml",
        "digest/data/sample/arabpress-en.xml",
        "digest/data/sample/arabpress-ar.xml",
        "subscribers/models.py",
    ):
        assert required in names, required
    assert not any(name.startswith("tests/") for name in names)


def test_subscribers_never_imports_digest() -> None:
    for path in (REPO / "subscribers").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import digest" not in text and "from digest" not in text, path
