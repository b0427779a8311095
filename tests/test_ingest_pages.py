"""Article pages through trafilatura: the publisher's page, built from the seed page text.

The fixture is the site's article page as HTML: masthead, tagline, dateline, nav, the
article, a newsletter box and a "Related Articles" rail of 50 other headlines, which
must not end up in the body.
"""

from __future__ import annotations

import json
from pathlib import Path

import lxml.html

from tests.conftest import FIXTURES, Digest

PAGE = FIXTURES / "ingest" / "arabpress-article.html"
PAGE_AR = FIXTURES / "ingest" / "arabpress-article-ar.html"


def only_article(digest: Digest) -> dict[str, object]:
    [article] = json.loads(digest.ok("articles", "list", "--json").stdout)
    return article


def page_parts(path: Path) -> tuple[list[str], list[str]]:
    """The article's paragraphs and the rail's headlines, read from the fixture itself."""
    tree = lxml.html.parse(str(path)).getroot()
    paragraphs = [
        p.text_content().strip() for p in tree.xpath("//article//p[not(@class='byline')]")
    ]
    rail = [item.text_content().strip() for item in tree.xpath("//aside//li")]
    return paragraphs, rail


def test_seed_page_gives_title_time_author_and_canonical_url(
    digest: Digest, initialised: Path
) -> None:
    result = digest.ok("ingest", str(PAGE))
    assert "arabpress-article.html: 1 new" in result.stdout
    article = only_article(digest)
    assert (
        article["title"] == "Russia Expresses Concerns Over NATO's Potential Return to Afghanistan"
    )
    # article:published_time 2025-06-04T06:40:00+03:00, to the minute, in UTC.
    assert article["published_at"] == "2025-06-04T03:40:00Z"
    assert article["updated_at"] == "2025-06-04T05:05:00Z"
    assert article["date_estimated"] is False
    assert article["author"] == "Arab Press Staff"
    canonical = "https://arabpress.example/world/russia-expresses-concerns-over-nato-s-potential-return-to-afghanistan"
    assert article["url"] == canonical and article["guid"] == canonical
    assert article["language"] == "en"
    assert article["section"] == "World"
    assert (
        article["image_url"]
        == "https://arabpress.example/media/2025/06/lavrov-nato-afghanistan.jpg"
    )
    assert article["summary"] == (
        "<p>Russian officials warn of increased NATO activities in Central Asia amidst rising "
        "terrorism threats from Afghanistan.</p>"
    )


def test_seed_page_body_is_the_article_without_the_rail(digest: Digest, initialised: Path) -> None:
    digest.ok("ingest", str(PAGE))
    body = str(only_article(digest)["body"])
    paragraphs, rail = page_parts(PAGE)
    assert len(rail) == 50 and len(paragraphs) > 20
    assert body.split("\n\n")[0] == paragraphs[0]  # the lede
    assert body.split("\n\n")[-1] == paragraphs[-1]
    for paragraph in paragraphs:
        assert paragraph in body
    for headline in rail:
        assert headline not in body, headline
    for chrome in ("Related Articles", "Newsletter", "بالشعب و للشعب", "All rights reserved"):
        assert chrome not in body


def test_arabic_page_language_diacritics_and_json_ld_date(
    digest: Digest, initialised: Path
) -> None:
    digest.ok("ingest", str(PAGE_AR))
    article = only_article(digest)
    assert article["language"] == "ar"
    assert article["title"] == "روسيا تُبدي قلقها من احتمال عودة حلف الناتو إلى أفغانستان"
    assert article["published_at"] == "2025-06-04T03:22:00Z"  # JSON-LD datePublished
    assert article["image_url"] == "https://arabpress.example/media/2025/06/lavrov.jpg"
    _paragraphs, rail = page_parts(PAGE_AR)
    for headline in rail:
        assert headline not in str(article["body"])


def test_reingesting_a_page_changes_nothing(digest: Digest, initialised: Path) -> None:
    digest.ok("ingest", str(PAGE))
    before = digest.ok("articles", "list", "--json").stdout
    assert "0 new, 0 updated, 1 unchanged" in digest.ok("ingest", str(PAGE)).stdout
    assert digest.ok("articles", "list", "--json").stdout == before


def notes_page(head: str = "") -> str:
    """A page with an article and nothing else; `head` goes into its <head>."""
    paragraphs = "".join(
        f"<p>Paragraph {n} of the report explains the budget decision in detail.</p>"
        for n in range(6)
    )
    return (
        f"<!DOCTYPE html><html><head><title>Local notes</title>{head}</head><body><article>"
        f"<h1>Council approves new budget</h1>{paragraphs}</article></body></html>"
    )


def test_a_page_without_canonical_url_or_date(digest: Digest, initialised: Path) -> None:
    (initialised / "notes.html").write_text(notes_page(), encoding="utf-8")
    result = digest.ok("ingest", "notes.html")
    assert "warning: notes.html: no canonical URL in the page; stored without a link" in (
        result.stderr
    )
    article = only_article(digest)
    assert article["url"] == ""
    assert not str(article["body"]).startswith(str(article["title"]))  # not repeated
    assert str(article["body"]).startswith("Paragraph 0 of the report")
    assert article["date_estimated"] is True
    assert article["language"] == "en"


def test_a_page_stating_a_zero_date_is_undated_with_a_warning(
    digest: Digest, initialised: Path
) -> None:
    page = notes_page(
        '<meta property="article:published_time" content="0001-01-01T00:00:00+03:00">'
        '<meta property="article:modified_time" content="1970-01-01T00:00:00Z">'
        '<link rel="canonical" href="https://news.example/notes">'
    )
    (initialised / "zero.html").write_text(page, encoding="utf-8")
    result = digest.ok("ingest", "zero.html")
    assert "date '0001-01-01T00:00:00+03:00' is a zero value, not a publication date" in (
        result.stderr
    )
    article = only_article(digest)
    assert article["date_estimated"] is True and str(article["published_at"]) >= "2020"


def test_a_page_with_no_article_is_an_error(digest: Digest, initialised: Path) -> None:
    (initialised / "empty.html").write_text("<!DOCTYPE html><html><body></body></html>", "utf-8")
    result = digest("ingest", "empty.html")
    assert result.exit_code == 1
    assert "error: empty.html: " in result.stderr
    assert "Traceback" not in result.stderr and "WARNING" not in result.stderr
