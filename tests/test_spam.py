"""SpamAssassin's local rules score a real edition well under 2.0, in both languages."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Digest
from tests.test_render_support import DAY, SAMPLES

SPAMASSASSIN = shutil.which("spamassassin")
LIMIT = 2.0


def spam_report(message: Path, home: Path) -> tuple[float, str]:
    """(score, rules that fired) from `spamassassin -L -t` (local tests only)."""
    if SPAMASSASSIN is None:
        pytest.skip("spamassassin is not installed (Debian package spamassassin)")
    done = subprocess.run(
        [SPAMASSASSIN, "-L", "-t", "-p", str(home / "user_prefs")],
        input=message.read_bytes(),
        capture_output=True,
        timeout=180,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
    )
    output = done.stdout.decode("utf-8", "replace")
    status = re.search(r"^X-Spam-Status: \w+, score=(-?[\d.]+)", output, re.MULTILINE)
    assert status, f"no X-Spam-Status in spamassassin output: {done.stderr[-1000:]!r}"
    details = output.split("Content analysis details:", 1)[-1]
    return float(status.group(1)), details


@pytest.mark.parametrize("language", ["en", "ar"])
def test_real_edition_scores_under_two(
    digest: Digest, initialised: Path, tmp_path: Path, language: str
) -> None:
    digest.ok("ingest", str(SAMPLES))
    digest.ok(
        "subscribers", "add", "layla@example.com", "--name", "Layla Haddad", "--lang", language
    )
    digest.ok(
        "preview", "--date", DAY.isoformat(), "--lang", language,
        "--subscriber", "layla@example.com", "--out", "out",
    )  # fmt: skip
    home = tmp_path / "sa-home"
    home.mkdir()
    score, details = spam_report(initialised / "out" / "edition.eml", home)
    assert score < LIMIT, f"{language} edition scored {score}:\n{details}"
