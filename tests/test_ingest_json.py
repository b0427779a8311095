"""JSON (array) and JSON Lines exports: the documented schema, strict types, line numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, Digest

INGEST = FIXTURES / "ingest"


def stored(digest: Digest) -> dict[str, dict[str, object]]:
    rows = json.loads(digest.ok("articles", "list", "--json").stdout)
    return {row["guid"]: row for row in rows}


def test_json_array_fields_land_as_documented(digest: Digest, initialised: Path) -> None:
    result = digest.ok("ingest", str(INGEST / "articles.json"))
    assert "articles.json: 3 new, 0 updated, 0 unchanged, 0 skipped" in result.stdout
    articles = stored(digest)
    iran = articles["cms-5001"]
    assert iran["title"] == "Iran Warns Europe Against Politicizing UN Nuclear Report"
    assert iran["published_at"] == "2025-06-03T15:45:00Z"
    assert iran["date_estimated"] is False
    assert iran["priority"] == 3 and iran["popularity"] == 1520
    assert iran["section"] == "World" and iran["author"] == "Arab Press"
    assert iran["image_url"] == "https://arabpress.example/media/iran.jpg"
    assert 'href="https://arabpress.example/world/iran"' in iran["summary"]
    assert "<b>critical</b>" in iran["summary"]
    assert iran["body"] == (
        "Iran's foreign ministry warned European states.\n\nThe agency's board meets next week."
    )
    assert articles["cms-5002"]["language"] == "ar"  # detected: the item states none
    assert articles["cms-5002"]["popularity"] is None
    # No guid: the URL is the key.
    opec = articles["https://arabpress.example/economy/opec-output"]
    assert opec["priority"] == 0


def test_json_lines_with_blank_lines(digest: Digest, initialised: Path) -> None:
    digest.ok("ingest", str(INGEST / "articles.jsonl"))
    articles = stored(digest)
    assert set(articles) == {"cms-6001", "cms-6002", "cms-6003"}
    assert articles["cms-6002"]["language"] == "ar"
    assert articles["cms-6003"]["published_at"] == "2025-06-03T09:00:00Z"


def test_format_is_detected_from_content_not_the_name(digest: Digest, initialised: Path) -> None:
    (initialised / "export.txt").write_bytes((INGEST / "articles.jsonl").read_bytes())
    (initialised / "looks-like.xml").write_bytes((INGEST / "articles.json").read_bytes())
    result = digest.ok("ingest", "export.txt", "looks-like.xml")
    assert "total: 6 new" in result.stdout


def test_forced_format_that_does_not_fit_is_an_error(digest: Digest, initialised: Path) -> None:
    result = digest("ingest", "--format", "json", str(INGEST / "articles.jsonl"))
    assert result.exit_code == 1
    assert "articles.jsonl: expected a JSON array of articles, got an object" in result.stderr


def test_an_invalid_line_names_source_and_line_and_stores_nothing_of_it(
    digest: Digest, initialised: Path
) -> None:
    good = '{"guid": "ok-%d", "title": "Fine %d", "published_at": "2025-06-03T10:00:00Z"}'
    lines = [good % (n, n) for n in range(1, 5)]
    lines.insert(2, '{"guid": "broken", "title": "Half a line",')
    (initialised / "bad.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = digest("ingest", str(INGEST / "articles.json"), "bad.jsonl")
    assert result.exit_code == 1
    [error] = result.stderr.splitlines()
    assert error.startswith("error: bad.jsonl: line 3: invalid JSON:")
    assert "Traceback" not in result.stderr
    assert not any(guid.startswith("ok-") for guid in stored(digest))
    assert "cms-5001" in stored(digest)  # the good source was stored


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ('{"guid": "a", "title": 42}', "line 2: title: expected a string, got a number"),
        ('{"guid": "a"}', "line 2: title: missing or empty"),
        ('{"title": "No key"}', "line 2: guid: missing, and no usable url"),
        (
            '{"guid": "a", "title": "T", "published_at": "yesterday"}',
            "line 2: published_at: expected an ISO 8601 date-time, got 'yesterday'",
        ),
        (
            '{"guid": "a", "title": "T", "priority": "high"}',
            "line 2: priority: expected a whole number",
        ),
        (
            '{"guid": "a", "title": "T", "popularity": -5}',
            "line 2: popularity: expected a whole number from 0",
        ),
        (
            '{"guid": "a", "title": "T", "priority": true}',
            "line 2: priority: expected a whole number",
        ),
        ('["not", "an", "object"]', "line 2: expected an article object, got an array"),
        ('{"guid": true, "title": "T"}', "line 2: guid: expected a string, got true/false"),
        ('{"guid": 1.5, "title": "T"}', "line 2: guid: expected a string, got a number"),
    ],
)
def test_wrong_fields_name_the_line_and_field(
    digest: Digest, initialised: Path, item: str, message: str
) -> None:
    first = '{"guid": "first", "title": "First"}'
    (initialised / "items.jsonl").write_text(f"{first}\n{item}\n", encoding="utf-8")
    result = digest("ingest", "items.jsonl")
    assert result.exit_code == 1
    assert f"error: items.jsonl: {message}" in result.stderr
    assert stored(digest) == {}


def test_a_cms_number_is_a_guid(digest: Digest, initialised: Path) -> None:
    (initialised / "items.jsonl").write_text(
        '{"guid": 1042, "title": "Numbered"}\n{"guid": "1043", "title": "Texted"}\n',
        encoding="utf-8",
    )
    digest.ok("ingest", "items.jsonl")
    assert set(stored(digest)) == {"1042", "1043"}


def test_json_array_errors_give_the_line_of_the_item(digest: Digest, initialised: Path) -> None:
    document = (
        "[\n"
        '  {"guid": "a", "title": "A"},\n'
        "  {\n"
        '    "guid": "b",\n'
        '    "title": ["not", "text"]\n'
        "  }\n"
        "]\n"
    )
    (initialised / "items.json").write_text(document, encoding="utf-8")
    result = digest("ingest", "items.json")
    assert "error: items.json: line 3: title: expected a string, got an array" in result.stderr
    (initialised / "items.json").write_text('[{"guid": "a", "title": "A"},,]', "utf-8")
    result = digest("ingest", "items.json")
    assert "error: items.json: line 1: invalid JSON: Expecting value (column 30)" in result.stderr
    assert stored(digest) == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{\n  "guid": "a",\n  "title": "A"\n}\n', "expected a JSON array of articles"),
        # one broken object: its own error, not the wrong shape
        (b'{"guid": "x", "title": "ok"', "line 1: invalid JSON: Expecting ',' delimiter"),
        (b'{\n  "guid": "a",\n  "title": "A",\n}\n', "line 4: invalid JSON"),
        (b'[{"guid": "a", "title": "A"}] trailing', "line 1: invalid JSON: unexpected data"),
        (b'[{"guid": "a", "title": "caf\xe9"}]', "not UTF-8 text (byte 28)"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid JSON: nested too deeply"),
    ],
)
def test_malformed_json_documents(
    digest: Digest, initialised: Path, content: bytes, message: str
) -> None:
    (initialised / "doc.json").write_bytes(content)
    result = digest("ingest", "doc.json")
    assert result.exit_code == 1
    assert message in result.stderr


def test_hostile_json_values_are_cleaned(digest: Digest, initialised: Path) -> None:
    item = {
        "guid": "h1",
        "url": "javascript:alert(1)",
        "title": "Line\r\nBcc: x@example.com \u202eevil\u0000",
        "summary": '<img src=x onerror="alert(1)"><script>bad()</script>Text',
        "body": "One\u0000\n\nTwo \ud800",
        "image_url": "data:image/png;base64,AAAA",
        "section": "<b>World</b>",
        "author": '<img src=x onerror="alert(1)">Ann',
        "published_at": "2999-01-01T00:00:00Z",
    }
    (initialised / "h.jsonl").write_text(json.dumps(item) + "\n", encoding="utf-8")
    result = digest.ok("ingest", "h.jsonl")
    # Each address given and dropped is named, so an operator sees why a link is missing.
    assert (
        "warning: h.jsonl: line 1: url: 'javascript:alert(1)' is not an absolute http(s) "
        "address; ignored" in result.stderr
    )
    assert "line 1: image_url: 'data:image/png;base64,AAAA' is not an http(s)" in result.stderr
    article = stored(digest)["h1"]
    assert article["title"] == "Line Bcc: x@example.com evil"
    assert article["url"] == "" and article["image_url"] == ""
    assert "onerror" not in article["summary"] and "script" not in article["summary"]
    assert article["body"] == "One\n\nTwo"
    # Text fields are text, kept as written (escaped wherever they are shown); markup
    # that could run is not text and goes.
    assert article["section"] == "<b>World</b>"
    assert article["author"] == "Ann"
    assert article["date_estimated"] is True and article["published_at"] < "2999"


def test_updated_at_decides_between_versions(digest: Digest, initialised: Path) -> None:
    def write(title: str, updated: str) -> None:
        item = {"guid": "v", "title": title, "published_at": "2025-06-03T08:00:00Z",
                "updated_at": updated}  # fmt: skip
        (initialised / "v.jsonl").write_text(json.dumps(item) + "\n", encoding="utf-8")

    write("First", "2025-06-03T09:00:00Z")
    digest.ok("ingest", "v.jsonl")
    write("Second", "2025-06-03T10:00:00Z")
    assert "1 updated" in digest.ok("ingest", "v.jsonl").stdout
    write("Stale", "2025-06-03T09:30:00Z")
    assert "1 unchanged" in digest.ok("ingest", "v.jsonl").stdout
    assert stored(digest)["v"]["title"] == "Second"
    assert stored(digest)["v"]["updated_at"] == "2025-06-03T10:00:00Z"
