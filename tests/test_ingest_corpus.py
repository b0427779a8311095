"""feedparser's own corpus of well-formed and ill-formed feeds keeps ingesting: nothing
crashes, nothing dangerous is stored (see tests/fixtures/feedparser-corpus/README.md).

Every file goes the whole way: parsed, cleaned and stored in a real SQLite file.
`FEEDPARSER_CORPUS=…/feedparser-X/tests` adds the whole corpus of an unpacked sdist.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import pytest
import regex

from digest.db import Database
from digest.errors import IngestError
from digest.ingest.clean import html_text, is_html, sanitise_summary, text_field
from digest.ingest.loading import Source, parse_content
from digest.ingest.records import SourceDefaults
from digest.ingest.store import store_records
from digest.models import Article
from tests import backends
from tests.conftest import FIXTURES

NOW = datetime(2025, 6, 4, 4, 0, tzinfo=UTC)
SAMPLE = FIXTURES / "feedparser-corpus"
#: Elements and attributes that can run code, load content or submit data.
FORBIDDEN_ELEMENTS = {
    "script", "style", "iframe", "frame", "object", "embed", "applet",
    "form", "input", "meta", "link", "base", "svg", "math", "noscript",
}  # fmt: skip
SAFE_URL = re.compile(r"(?i)(https?://|mailto:)")
#: Not text in a one-line field: controls, format characters but ZWNJ/ZWJ, private use...
NOT_TEXT = regex.compile(r"(?![\u200c\u200d])[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}]")
#: Markup that could run if a one-line field were ever shown unescaped.
EXECUTABLE = re.compile(
    r"(?is)<\s*(script|style|iframe|object|embed|applet|svg|math)\b[^>]*>.*?</\s*\1|"
    r"<[a-z][^>]*\son[a-z]+\s*="
)


def _corpus() -> list[Path]:
    roots = [SAMPLE]
    if os.environ.get("FEEDPARSER_CORPUS"):
        base = Path(os.environ["FEEDPARSER_CORPUS"])
        roots = [base / "wellformed", base / "illformed"]
    return sorted(path for root in roots for path in root.rglob("*.xml") if path.is_file())


def assert_safe_html(summary: str, where: str) -> None:
    if not summary:
        return
    root = lxml.html.fragment_fromstring(summary, create_parent="div")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # comments were stripped; anything else is not markup
        assert element.tag not in FORBIDDEN_ELEMENTS, f"{where}: <{element.tag}> stored"
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), f"{where}: {name}= stored"
            assert name.lower() != "style", f"{where}: style= stored"
            if name in ("href", "src", "cite"):
                assert SAFE_URL.match(value), f"{where}: {name}={value!r} stored"


def assert_safe_record(article: Article, where: str) -> None:
    for field in ("title", "section", "author", "language"):
        value = getattr(article, field)
        assert not NOT_TEXT.search(value), f"{where}: {field} {value!r} holds non-text"
        assert not EXECUTABLE.search(value), f"{where}: {field} {value!r} holds markup"
    for field in ("url", "image_url", "canonical_url"):
        value = getattr(article, field)
        assert not value or SAFE_URL.match(value), f"{where}: {field} {value!r}"
    assert_safe_html(article.summary, where)
    assert "\x00" not in article.body


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[Database]:
    """One database for the module, per backend; each corpus file is its own source in it."""
    folder = tmp_path_factory.mktemp("corpus")
    database = Database(backends.current().create(backend, folder, migrated=True))
    yield database
    database.dispose()


@pytest.mark.parametrize("path", _corpus(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_feedparser_corpus_ingests_safely(path: Path, database: Database) -> None:
    name = f"{path.parent.name}/{path.name}"
    source = Source(name, path=path, defaults=SourceDefaults(languages=("en", "ar")))
    try:
        parsed = parse_content(path.read_bytes(), source, NOW)
    except IngestError as e:
        assert str(e).startswith(name + ": ")  # a clear, one-line refusal
        assert "\n" not in str(e)
        return
    with database.session() as session:
        counts = store_records(session, parsed.records, NOW)
    with database.session() as session:
        articles = list(session.query(Article).where(Article.source == name))
        # Items whose link another corpus file already stored are merged into that one.
        assert len(articles) == counts.new
        assert counts.new + counts.merged == len({record.guid for record in parsed.records})
        for article in articles:
            assert_safe_record(article, name)


@pytest.mark.parametrize("path", _corpus(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_text_construct_of_the_corpus_is_cleaned_safely(path: Path) -> None:
    """Many attack files hold an entry with nothing a reader could see (skipped at ingest):
    their hostile summaries, contents and titles still go through the cleaning here."""
    import feedparser

    document = feedparser.parse(path.read_bytes(), sanitize_html=False)
    for entry in document.entries:
        details = [
            entry.get("title_detail"),
            entry.get("summary_detail"),
            *entry.get("content", []),
        ]
        for detail in filter(None, details):
            value, kind = detail.get("value") or "", detail.get("type") or ""
            assert_safe_html(sanitise_summary(value, "https://news.example/"), path.name)
            line = html_text(value) if is_html(kind) else text_field(value)
            assert not EXECUTABLE.search(line) and not NOT_TEXT.search(line), (path.name, line)


def test_the_sample_holds_attacks_on_every_field() -> None:
    names = {path.name for path in SAMPLE.rglob("*.xml")}
    for expected in ("entry_title_script.xml", "entry_summary_onclick.xml",
                     "item_description_iframe.xml", "item_content_encoded_crazy.xml",
                     "rss_incomplete_cdata.xml"):  # fmt: skip
        assert expected in names
