"""`digest subscribers import` and `export`: real CSV files, real databases."""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import pty
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subscribers import bulk, importer
from subscribers.export import escape_cell, unescape_cell
from tests.backends import Databases
from tests.conftest import REPO, Digest

HEADER = "email,name,language,sections,timezone,status"


def write(path: Path, text: str, *, bom: bool = False, newline: str = "\n") -> Path:
    data = text.replace("\n", newline).encode("utf-8")
    path.write_bytes(b"\xef\xbb\xbf" + data if bom else data)
    return path


def everyone(digest: Digest) -> list[dict]:
    return json.loads(digest.ok("subscribers", "export", "--format", "json").stdout)


def identities(rows: list[dict]) -> set[tuple]:
    """What a subscriber is, without the timestamps of when this database learnt it."""
    keys = ("email", "name", "language", "sections", "timezone", "status")
    return {tuple(str(row[key]) for key in keys) for row in rows}


def count(digest: Digest) -> int:
    return int(digest.ok("subscribers", "count").stdout)


@pytest.mark.parametrize(
    ("bom", "newline"), [(False, "\n"), (True, "\r\n"), (True, "\n"), (False, "\r")]
)
def test_import_reads_utf8_with_or_without_bom_and_any_newline(
    digest: Digest, initialised: Path, bom: bool, newline: str
) -> None:
    source = write(
        initialised / "list.csv",
        "Email, Name ,LANGUAGE,timezone\n"
        'layla@example.com,"ليلى حداد",ar,asia/riyadh\n'
        '"Smith@Example.com","Smith, John\n(London)",en,\n'
        "\n"
        "plain@example.com,,,\n",
        bom=bom,
        newline=newline,
    )
    result = digest.ok("subscribers", "import", source.name)
    assert "3 rows: 3 added, 0 updated, 0 unchanged" in result.stdout
    assert result.stderr == ""
    rows = {r["email"]: r for r in everyone(digest)}
    assert rows["layla@example.com"]["name"] == "ليلى حداد"
    assert rows["layla@example.com"]["timezone"] == "Asia/Riyadh"
    # A quoted line break in a name becomes a space: names are single-line text.
    assert rows["smith@example.com"]["name"] == "Smith, John (London)"
    # No time zone given: none stored, so the site's schedule.timezone applies.
    assert (rows["plain@example.com"]["language"], rows["plain@example.com"]["timezone"]) == (
        "en",
        "",
    )
    assert all(r["status"] == "active" for r in rows.values())


def test_header_row_is_required(digest: Digest, initialised: Path) -> None:
    headless = write(initialised / "headless.csv", "alice@example.com,Alice\nbob@example.com,Bob\n")
    result = digest("subscribers", "import", headless.name)
    assert result.exit_code == 1
    assert "headless.csv: line 1: the header row has no 'email' column" in result.stderr
    empty = digest("subscribers", "import", str(write(initialised / "empty.csv", "")))
    assert empty.exit_code == 1 and "empty.csv: the file is empty" in empty.stderr
    missing = digest("subscribers", "import", str(initialised / "nope.csv"))
    assert missing.exit_code == 1 and "nope.csv: no such file" in missing.stderr
    for outcome in (result, empty, missing):
        assert "Traceback" not in outcome.stderr
    assert count(digest) == 0


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("skip_invalid", [False, True])
def test_an_unterminated_quote_refuses_the_file(
    digest: Digest, initialised: Path, newline: str, skip_invalid: bool
) -> None:
    """A quote that never closes would swallow every later line into one name: the file's
    structure is broken, so no row of it can be trusted, --skip-invalid or not."""
    source = write(
        initialised / "quote.csv",
        'email,name\nok@example.com,"Two\nlines"\nbq@example.com,"unterminated\n'
        "bq2@example.com,ok\nbq3@example.com,ok\n",
        newline=newline,
    )
    options = ["--skip-invalid"] if skip_invalid else []
    result = digest("subscribers", "import", source.name, *options)
    assert result.exit_code == 1
    assert result.stderr == (
        "digest: error: quote.csv: line 4: a quoted field opens here and never closes "
        '(a missing "?); nothing imported\n'
    )
    assert count(digest) == 0


def test_an_unterminated_quote_in_a_long_file(digest: Digest, initialised: Path) -> None:
    """Past the csv module's field size limit the reader gives up mid-file; that is the
    same broken structure, not one bad row to skip."""
    rows = "".join(f"r{number}@example.com,Reader {number}\n" for number in range(10_000))
    source = write(initialised / "long.csv", f'email,name\nbq@example.com,"oops\n{rows}')
    result = digest("subscribers", "import", source.name, "--skip-invalid")
    assert result.exit_code == 1
    assert result.stderr.startswith("digest: error: long.csv: line 2: a field runs on for more")
    assert "(a quote that never closes?); nothing imported" in result.stderr
    assert count(digest) == 0


def test_one_bad_row_and_nothing_is_imported(digest: Digest, initialised: Path) -> None:
    lines = [HEADER]
    bad_lines = []
    for number in range(60):
        if number % 2:
            lines.append(f"good{number}@example.com,Good,en,,UTC,")
        else:
            lines.append(f"bad{number}-at-example.com,Bad,en,,UTC,")
            bad_lines.append(len(lines))
    lines.insert(3, 'quoted@example.com,"two\nlines",fr,,Nowhere/Town,')  # line 4, spans 2
    bad_lines = [n if n < 4 else n + 2 for n in bad_lines]
    source = write(initialised / "mixed.csv", "\n".join(lines) + "\n")
    result = digest("subscribers", "import", source.name)
    assert result.exit_code == 1
    stderr = result.stderr.splitlines()
    named = [line for line in stderr if re.match(r"error: mixed\.csv: line \d+: ", line)]
    assert len(named) == 20
    assert named[0] == (
        "error: mixed.csv: line 2: email: 'bad0-at-example.com' is not a valid address: "
        "An email address must have an @-sign."
    )
    assert named[1].startswith(
        "error: mixed.csv: line 4: language: 'fr' is not one of the site's languages (en, ar); "
        "timezone: 'Nowhere/Town' is not an IANA time zone"
    )
    assert [int(line.split("line ")[1].split(":")[0]) for line in named[2:]] == bad_lines[1:19]
    assert "error: mixed.csv: ... and 11 more" in stderr
    assert stderr[-1] == (
        "digest: error: mixed.csv: 31 invalid rows (of 61); nothing imported "
        "(fix them, or use --skip-invalid to import the 30 valid rows)"
    )
    assert count(digest) == 0
    dry = digest("subscribers", "import", source.name, "--dry-run")
    assert dry.exit_code == 1 and count(digest) == 0

    skipped = digest.ok("subscribers", "import", source.name, "--skip-invalid")
    assert "61 rows: 30 added, 0 updated, 0 unchanged, 31 invalid skipped" in skipped.stdout
    assert "warning: mixed.csv: line 2: email:" in skipped.stderr
    assert count(digest) == 30


def test_dry_run_reports_without_writing(digest: Digest, initialised: Path) -> None:
    digest.ok("subscribers", "add", "old@example.com", "--name", "Old")
    source = write(
        initialised / "a.csv", f"{HEADER}\nold@example.com,New,,,,\nnew@example.com,,,,,\n"
    )
    before = everyone(digest)
    dry = digest.ok("subscribers", "import", source.name, "--dry-run")
    assert dry.stdout.startswith("dry run, nothing written: a.csv: 2 rows: 1 added, 1 updated")
    assert everyone(digest) == before


def test_reimport_changes_nothing_and_updates_in_place(digest: Digest, initialised: Path) -> None:
    source = write(
        initialised / "list.csv",
        f"{HEADER}\n"
        "a@example.com,A,en,World,UTC,\n"
        "b@example.com,B,ar,,Asia/Riyadh,pending\n"
        "c@example.com,C,en,,UTC,unsubscribed\n",
    )
    digest.ok("subscribers", "import", source.name)
    first = everyone(digest)
    again = digest.ok("subscribers", "import", source.name)
    assert "3 rows: 0 added, 0 updated, 3 unchanged" in again.stdout
    assert everyone(digest) == first  # not even updated_at moved
    changed = write(
        initialised / "changed.csv",
        "email,name,status\nA@EXAMPLE.COM,Anna,\nb@example.com,,active\nc@example.com,C,active\n",
    )
    result = digest.ok("subscribers", "import", str(changed))
    assert "3 rows: 0 added, 2 updated, 1 unchanged" in result.stdout
    assert "1 rows asked for a status their address may not go back to; kept" in result.stderr
    rows = {r["email"]: r for r in everyone(digest)}
    assert len(rows) == 3
    assert (rows["a@example.com"]["name"], rows["a@example.com"]["sections"]) == ("Anna", ["World"])
    assert rows["b@example.com"]["status"] == "active"
    assert rows["b@example.com"]["confirmed_at"] is not None
    # An unsubscribed address is never reactivated by an import.
    assert rows["c@example.com"]["status"] == "unsubscribed"


def test_repeated_address_in_one_file(digest: Digest, initialised: Path) -> None:
    source = write(
        initialised / "dups.csv",
        f"{HEADER}\n"
        "d@example.com,First,en,,,\n"
        "other@example.com,,,,,\n"
        "D@Example.com,,ar,,,unsubscribed\n"
        "d@example.com,Last,,,,active\n",
    )
    result = digest.ok("subscribers", "import", source.name)
    assert "4 rows (2 repeating an address): 2 added" in result.stdout
    assert "warning: dups.csv: line 5: d@example.com is on 3 lines (first on line 2)" in (
        result.stderr
    )
    rows = everyone(digest)
    assert [r["email"] for r in rows] == ["d@example.com", "other@example.com"]
    # Details: the last non-empty value wins; status: once unsubscribed, it stays so.
    assert (rows[0]["name"], rows[0]["language"], rows[0]["status"]) == (
        "Last",
        "ar",
        "unsubscribed",
    )
    again = digest.ok("subscribers", "import", source.name)
    assert "0 added, 0 updated, 2 unchanged" in again.stdout
    assert everyone(digest) == rows


def test_hostile_rows(digest: Digest, initialised: Path) -> None:
    source = write(
        initialised / "hostile.csv",
        "email,name\n"
        '"eve@example.com\r\nBcc: all@example.com",Eve\n'
        '"mallory@example.com","Mallory\r\nBcc: all@example.com\u202e"\n'
        "x@example.com,too,many,fields\n"
        "y@example.com,trailing,,\n"
        "=cmd|' /C calc'!A0@example.com,=HYPERLINK(\"http://evil\")\n",
    )
    result = digest("subscribers", "import", source.name, "--skip-invalid")
    assert result.exit_code == 0
    assert "line 2: email:" in result.stderr
    assert "line 6: 4 fields but the header has 2" in result.stderr
    assert "line 8: email:" in result.stderr
    rows = {r["email"]: r for r in everyone(digest)}
    assert set(rows) == {"mallory@example.com", "y@example.com"}
    assert rows["mallory@example.com"]["name"] == "Mallory Bcc: all@example.com"


def test_binary_file_is_refused_in_one_line(digest: Digest, initialised: Path) -> None:
    source = initialised / "photo.csv"
    source.write_bytes(bytes(range(256)) * 40)
    result = digest("subscribers", "import", source.name)
    assert result.exit_code == 1
    assert result.stderr.startswith("digest: error: photo.csv: ")
    assert len(result.stderr.splitlines()) == 1
    assert count(digest) == 0


def test_progress_is_shown_on_a_terminal(initialised: Path) -> None:
    lines = [HEADER, *(f"p{number}@example.com,,,,," for number in range(1200))]
    write(initialised / "many.csv", "\n".join(lines) + "\n")
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "digest", "subscribers", "import", "many.csv"],
        cwd=initialised,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed: the process is done with it
            break
        if not chunk:
            break
        shown += chunk
    out = process.communicate(timeout=60)[0]
    os.close(controller)
    assert process.returncode == 0
    assert b"1200 rows: 1200 added" in out
    assert b"checking" in shown and b"writing" in shown and b"100%" in shown


def test_import_from_standard_input(digest: Digest, initialised: Path) -> None:
    result = digest("subscribers", "import", "-", input=f"{HEADER}\nin@example.com,In,,,,\n")
    assert result.exit_code == 0, result.stderr
    assert "imported: <stdin>: 1 rows: 1 added" in result.stdout


def fresh_site(databases: Databases, backend: str, folder: Path) -> Digest:
    """A second site with its own new database (DIGEST_DATABASE_URL names the first)."""
    folder.mkdir()
    url = databases.create(backend, folder, migrated=True)
    other = Digest({"DIGEST_CONFIG": str(folder / "digest.toml"), "DIGEST_DATABASE_URL": url})
    other.ok("init")
    return other


TRICKY = [
    ["plain@example.com", "", "en", "", "UTC", "active"],
    ["layla@example.com", "ليلى حداد", "ar", "Politics,World", "Asia/Riyadh", "active"],
    ["=sum@example.com", "=SUM(A1:A9)", "en", "", "UTC", "pending"],
    ["-dash@example.com", "'=quoted", "en", "", "Europe/London", "unsubscribed"],
    ["+plus@example.com", "@handle", "ar", "", "UTC", "bounced"],
    ["ñoño@exämple.com", 'Quote "Q" Comma, Name', "en", "World", "America/New_York", "complained"],
]


def test_export_reads_back_to_the_identical_set(
    digest: Digest, initialised: Path, tmp_path: Path, databases: Databases, backend: str
) -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER.split(","), *TRICKY])
    digest.ok("subscribers", "import", str(write(initialised / "tricky.csv", buffer.getvalue())))
    exported = initialised / "export.csv"
    assert "exported 6 subscribers" in digest.ok("subscribers", "export", str(exported)).stdout
    assert exported.stat().st_mode & 0o077 == 0
    cells = list(csv.reader(io.StringIO(exported.read_text(encoding="utf-8"))))
    assert cells[3][:2] == ["'=sum@example.com", "'=SUM(A1:A9)"]  # no live formulas
    original = identities(everyone(digest))

    other = fresh_site(databases, backend, tmp_path / "fresh")
    other.ok("subscribers", "import", str(exported))
    assert identities(everyone(other)) == original
    assert len(original) == len(TRICKY)
    assert other.ok("subscribers", "export").stdout == exported.read_text(encoding="utf-8")


def test_export_import_export_is_byte_identical(
    digest: Digest, initialised: Path, tmp_path: Path, databases: Databases, backend: str
) -> None:
    """Blank cells (no name, no time zone, every section) read back blank, not as defaults:
    an empty time zone means the site's, and "UTC" would move someone's delivery hour."""
    digest.ok("subscribers", "add", "bare@example.com")
    digest.ok("subscribers", "add", "ar@example.com", "--name", "ليلى", "--lang", "ar")
    digest.ok("subscribers", "add", "tz@example.com", "--tz", "asia/riyadh", "--sections", "")
    digest.ok("subscribers", "add", "both@example.com", "--name", "=1+1", "--sections", "World")
    digest.ok("subscribers", "add", "gone@example.com", "--name", "Gone")
    digest.ok("subscribers", "unsubscribe", "gone@example.com")
    digest.ok("subscribers", "add", "wait@example.com", "--pending")
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER.split(","), *TRICKY])
    digest.ok("subscribers", "import", str(write(initialised / "tricky.csv", buffer.getvalue())))
    first = digest.ok("subscribers", "export").stdout
    assert "\nbare@example.com,,en,,,active\n" in first
    exported = write(tmp_path / "export.csv", first)

    other = fresh_site(databases, backend, tmp_path / "fresh")
    other.ok("subscribers", "import", str(exported))
    assert count(other) == 12
    assert other.ok("subscribers", "export").stdout == first
    # Into the same database: blank cells change nothing.
    assert (
        "0 added, 0 updated, 12 unchanged"
        in digest.ok("subscribers", "import", str(exported)).stdout
    )


def test_export_refuses_a_folder_and_leaves_no_partial_file(
    digest: Digest, initialised: Path
) -> None:
    digest.ok("subscribers", "add", "a@example.com")
    result = digest("subscribers", "export", str(initialised))
    assert result.exit_code == 1 and "is a folder" in result.stderr
    nowhere = digest("subscribers", "export", str(initialised / "missing" / "x.csv"))
    assert nowhere.exit_code == 1 and "cannot write" in nowhere.stderr
    assert not list(initialised.glob(".*.part"))


@given(st.text(max_size=20))
def test_formula_escaping_round_trips(value: str) -> None:
    escaped = escape_cell(value)
    assert unescape_cell(escaped) == value
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_import_and_export_of_tricky_rows(database_env: str, tmp_path: Path) -> None:
    digest = Digest({"DIGEST_DATABASE_URL": database_env})
    digest.ok("init")
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER.split(","), *TRICKY, TRICKY[1]])
    source = write(tmp_path / "pg.csv", buffer.getvalue())
    first = digest.ok("subscribers", "import", source.name)
    assert "7 rows (1 repeating an address): 6 added" in first.stdout
    rows = everyone(digest)
    again = digest.ok("subscribers", "import", source.name)
    assert "0 added, 0 updated, 6 unchanged" in again.stdout
    assert everyone(digest) == rows
    assert {r["status"] for r in rows} == {
        "active",
        "pending",
        "unsubscribed",
        "bounced",
        "complained",
    }
    digest.ok("subscribers", "add", "pg@example.com", "--name", "PG")
    assert digest.ok("subscribers", "count").stdout.strip() == "7"
    digest.ok("subscribers", "remove", "pg@example.com")


@pytest.mark.parametrize("repeated", [False, True], ids=["unique", "repeated"])
def test_an_interrupt_while_writing_prints_one_line_and_writes_nothing(
    digest: Digest, initialised: Path, monkeypatch: pytest.MonkeyPatch, repeated: bool
) -> None:
    """Ctrl-C in pass two, with the staged rows half read: the rows' generator is closed
    while the staging file is still open, so nothing but click's line is printed
    (left to the garbage collector, its cursor's close raised on a closed database)."""

    rows = "".join(f"u{i % 700 if repeated else i}@example.com,U {i}\n" for i in range(1200))
    write(initialised / "big.csv", "email,name\n" + rows)

    def interrupted(session: object, rows: Iterator[tuple], **options: object) -> None:
        next(rows)
        raise KeyboardInterrupt

    unraisable: list[str] = []
    with monkeypatch.context() as patched:
        patched.setattr(importer, "merge_rows", interrupted)  # SQLite
        patched.setattr(bulk, "merge_copied", interrupted)  # PostgreSQL
        patched.setattr(sys, "unraisablehook", lambda hook: unraisable.append(repr(hook.exc_value)))
        result = digest("subscribers", "import", "big.csv")
        del result.exc_info  # its traceback holds the generator's frames
        gc.collect()
    assert (result.exit_code, result.stderr, unraisable) == (1, "\nAborted!\n", [])
    assert count(digest) == 0
