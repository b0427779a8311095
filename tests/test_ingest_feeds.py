"""RSS/Atom ingest: every version, hostile content, Arabic, dates, duplicates, re-ingest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, Digest

INGEST = FIXTURES / "ingest"


def stored(digest: Digest, *args: str) -> dict[str, dict[str, object]]:
    rows = json.loads(digest.ok("articles", "list", "--json", *args).stdout)
    return {row["guid"]: row for row in rows}


def rss(items: str, channel: str = "<language>en</language>") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>T</title><link>https://news.example/</link>{channel}{items}</channel></rss>"
    )


def test_rss_091_10_20_and_atom_all_land(digest: Digest, initialised: Path) -> None:
    result = digest.ok(
        "ingest",
        str(INGEST / "rss091.xml"),
        str(INGEST / "rss1.rdf"),
        str(INGEST / "arabic.xml"),
        str(INGEST / "atom.xml"),
    )
    assert "total: 6 new, 0 updated, 0 unchanged, 0 skipped, 0 failed" in result.stdout
    articles = stored(digest)
    rdf = articles["https://news.example/tech/meta-anduril"]
    assert rdf["section"] == "Technology"
    assert rdf["published_at"] == "2025-06-03T14:05:00Z"
    old = articles["https://news.example/europe/denmark-retirement"]
    assert old["summary"] == "Parliament voted for the change; café owners react."
    assert old["date_estimated"] is True  # RSS 0.91 items have no dates


def test_atom_dates_links_and_html_titles(digest: Digest, initialised: Path) -> None:
    digest.ok("ingest", str(INGEST / "atom.xml"))
    articles = stored(digest)
    opec = articles["tag:news.example,2025:opec-output"]
    # type="html" whose HTML is "&lt;b&gt;": entities decoded once, so the text shows "<b>".
    assert opec["title"] == "Oil <b>prices</b> rise after OPEC+ deal"
    assert opec["url"] == "https://news.example/en/economy/opec-output"  # xml:base
    assert 'href="https://news.example/en/economy/opec-explained"' in opec["summary"]
    # Only <updated>: it is the entry's own date (converted to UTC), not an estimate.
    assert opec["published_at"] == "2025-06-03T20:15:00Z"
    assert opec["date_estimated"] is False
    assert opec["language"] == "en"  # xml:lang="en-GB"
    assert opec["author"] == "Economy desk"
    turkey = articles["tag:news.example,2025:turkey-detentions"]
    assert turkey["published_at"] == "2025-06-03T09:00:00Z"
    assert turkey["updated_at"] == "2025-06-03T11:30:00Z"
    assert turkey["body"] == "Police detained officials.\n\nThe mayor's office denied wrongdoing."


def test_arabic_feed_keeps_diacritics_and_resolves_relative_links(
    digest: Digest, initialised: Path
) -> None:
    digest.ok("ingest", str(INGEST / "arabic.xml"))
    articles = stored(digest, "--lang", "ar")
    first = articles["ar-1001"]
    assert first["title"] == "روسيا تُبدي قلقها من احتمال عودة حلف الناتو إلى أفغانستان"
    assert first["url"] == "https://arabpress.example/ar/world/russia-nato-afghanistan"
    assert first["image_url"] == "https://arabpress.example/media/lavrov.jpg"
    assert first["published_at"] == "2025-06-04T03:22:00Z"  # +0300 -> UTC
    assert first["section"] == "العالم"
    assert first["body"].count("\n\n") == 1
    assert 'href="https://arabpress.example/ar/tag/nato"' in first["summary"]
    assert stored(digest, "--lang", "en") == {}


def test_hostile_content_is_neutralised(digest: Digest, initialised: Path) -> None:
    items = (
        "<item><title>Hi&#13;&#10;Bcc: x@example.com&#x202E;&#x2066; \t<![CDATA[<script>"
        "alert(1)</script>]]>there&#x0;</title><link>javascript:alert(1)</link>"
        "<guid>evil-1</guid><pubDate>Tue, 03 Jun 2025 10:00:00 +0000</pubDate>"
        "<description><![CDATA[<p style='x' onmouseover='steal()'>Look"
        "<img src='data:image/png;base64,AAAA' onerror='x()'><a href=' JaVaScRiPt:go()'>a</a>"
        "<a href='data:text/html,<script>1</script>'>b</a><object data='x.swf'></object>"
        "<form action='/steal'><input name='pw'></form><svg onload='x()'></svg>"
        "<a href='/safe'>safe</a><iframe src='https://evil.example'></iframe></p>]]>"
        "</description></item>"
    )
    (initialised / "evil.xml").write_text(rss(items), encoding="utf-8")
    digest.ok("ingest", "evil.xml")
    article = stored(digest)["evil-1"]
    assert article["title"] == "Hi Bcc: x@example.com there"
    assert article["url"] == ""
    summary = article["summary"]
    for forbidden in ("script", "onmouseover", "onerror", "onload", "style", "javascript",
                      "data:", "iframe", "object", "form", "input", "svg"):  # fmt: skip
        assert forbidden not in summary.lower(), forbidden
    assert 'href="https://news.example/safe"' in summary


def test_an_external_entity_is_never_read(digest: Digest, initialised: Path) -> None:
    secret = initialised / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    document = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        '<rss version="2.0"><channel><title>T</title><language>en</language>'
        "<item><title>Leak &xxe;</title><guid>xxe-1</guid><description>d</description>"
        "</item></channel></rss>"
    )
    (initialised / "xxe.xml").write_text(document, encoding="utf-8")
    digest("ingest", "xxe.xml")
    listed = digest.ok("articles", "list", "--json").stdout
    assert "TOP-SECRET-CONTENT" not in listed


def test_language_comes_from_entry_feed_option_then_detection(
    digest: Digest, initialised: Path
) -> None:
    arabic_title = "الإمارات تقدّم اشتراكات مجانًا لمواطنيها"
    items = (
        f"<item><title>{arabic_title}</title><guid>detected</guid></item>"
        "<item><title>Plain English headline</title><guid>english</guid></item>"
    )
    (initialised / "nolang.xml").write_text(rss(items, channel=""), encoding="utf-8")
    (initialised / "optlang.xml").write_text(
        rss("<item><title>Expo 2030</title><guid>forced</guid></item>", ""),
        encoding="utf-8",
    )
    (initialised / "feedlang.xml").write_text(
        rss(
            f"<item><title>{arabic_title} 2</title><guid>feed-says-en</guid></item>"
            "<item><title>Dubai Expo</title><guid>too-short-to-tell</guid></item>"
        ),
        encoding="utf-8",
    )
    result = digest.ok("ingest", "nolang.xml", "feedlang.xml")
    assert "feedlang.xml: 2 new, 0 updated, 0 unchanged, 0 skipped, 1 re-tagged" in result.stdout
    digest.ok("ingest", "optlang.xml", "--lang", "ar")
    languages = {guid: row["language"] for guid, row in stored(digest).items()}
    assert languages == {
        "detected": "ar",
        "english": "en",
        "forced": "ar",  # too little text to overrule what the operator said
        # The feed says English, but the item is clearly Arabic: re-tagged.
        "feed-says-en": "ar",
        "too-short-to-tell": "en",
    }


def test_unknown_language_falls_back_to_a_site_language(digest: Digest, initialised: Path) -> None:
    (initialised / "fr.xml").write_text(
        rss("<item><title>Bonjour</title><guid>fr-1</guid></item>", "<language>fr</language>"),
        encoding="utf-8",
    )
    digest.ok("ingest", "fr.xml")
    assert stored(digest)["fr-1"]["language"] in ("en", "ar")


def test_dates_missing_future_or_feed_level(digest: Digest, initialised: Path) -> None:
    items = (
        "<item><title>Feed date</title><guid>feed-date</guid></item>"
        "<item><title>Future</title><guid>future</guid>"
        "<pubDate>Fri, 01 Jan 2100 00:00:00 +0000</pubDate></item>"
        "<item><title>Offset</title><guid>offset</guid>"
        "<pubDate>Wed, 04 Jun 2025 06:40:00 +0300</pubDate></item>"
    )
    channel = "<language>en</language><lastBuildDate>Tue, 03 Jun 2025 08:00:00 GMT</lastBuildDate>"
    (initialised / "dates.xml").write_text(rss(items, channel), encoding="utf-8")
    digest.ok("ingest", "dates.xml")
    articles = stored(digest)
    assert articles["feed-date"]["published_at"] == "2025-06-03T08:00:00Z"
    assert articles["feed-date"]["date_estimated"] is True
    assert articles["future"]["date_estimated"] is True
    assert articles["future"]["published_at"] < "2100"
    assert articles["offset"]["published_at"] == "2025-06-04T03:40:00Z"
    assert articles["offset"]["date_estimated"] is False


def test_an_undated_article_keeps_its_first_seen_date(digest: Digest, initialised: Path) -> None:
    feed = initialised / "undated.xml"
    feed.write_text(rss("<item><title>Undated</title><guid>u</guid></item>"), encoding="utf-8")
    digest.ok("ingest", "undated.xml")
    first = stored(digest)["u"]["published_at"]
    feed.write_text(
        rss("<item><title>Undated, corrected</title><guid>u</guid></item>"), encoding="utf-8"
    )
    assert "1 updated" in digest.ok("ingest", "undated.xml").stdout
    again = stored(digest)["u"]
    assert again["title"] == "Undated, corrected"
    assert again["published_at"] == first


def test_duplicate_guids_in_one_feed_keep_the_newest(digest: Digest, initialised: Path) -> None:
    items = (
        "<item><title>Old version</title><guid>dup</guid>"
        "<pubDate>Tue, 03 Jun 2025 08:00:00 GMT</pubDate></item>"
        "<item><title>New version</title><guid>dup</guid>"
        "<pubDate>Tue, 03 Jun 2025 09:00:00 GMT</pubDate></item>"
        "<item><title>Older copy</title><guid>dup</guid>"
        "<pubDate>Tue, 03 Jun 2025 07:00:00 GMT</pubDate></item>"
    )
    (initialised / "dup.xml").write_text(rss(items), encoding="utf-8")
    result = digest.ok("ingest", "dup.xml")
    assert "dup.xml: 1 new, 0 updated, 0 unchanged, 2 skipped" in result.stdout
    assert stored(digest)["dup"]["title"] == "New version"


def test_an_item_with_nothing_to_show_is_skipped_with_its_reason(
    digest: Digest, initialised: Path
) -> None:
    items = (
        "<item><guid>empty</guid><pubDate>Tue, 03 Jun 2025 08:00:00 GMT</pubDate></item>"
        "<item><title>Kept</title><guid>kept</guid>"
        "<pubDate>Tue, 03 Jun 2025 09:00:00 GMT</pubDate></item>"
    )
    (initialised / "bare.xml").write_text(rss(items), encoding="utf-8")
    result = digest.ok("ingest", "bare.xml")
    assert "bare.xml: 1 new, 0 updated, 0 unchanged, 1 skipped" in result.stdout
    assert "warning: bare.xml: item 1: no title or summary to show; skipped" in result.stderr
    assert set(stored(digest)) == {"kept"}


def test_reingest_is_a_no_op_and_changes_update(digest: Digest, initialised: Path) -> None:
    feed = initialised / "news.xml"
    item = (
        "<item><title>{title}</title><guid>g1</guid><link>https://news.example/g1</link>"
        "<pubDate>Tue, 03 Jun 2025 08:00:00 GMT</pubDate></item>"
    )
    feed.write_text(rss(item.format(title="First")), encoding="utf-8")
    digest.ok("ingest", "news.xml", str(INGEST / "arabic.xml"))
    before = digest.ok("articles", "list", "--json").stdout
    again = digest.ok("ingest", "news.xml", str(INGEST / "arabic.xml"))
    assert "total: 0 new, 0 updated, 3 unchanged, 0 skipped, 0 failed" in again.stdout
    assert digest.ok("articles", "list", "--json").stdout == before
    feed.write_text(rss(item.format(title="First, corrected")), encoding="utf-8")
    changed = digest.ok("ingest", "news.xml")
    assert "news.xml: 0 new, 1 updated, 0 unchanged" in changed.stdout
    assert stored(digest)["g1"]["title"] == "First, corrected"
    feed.write_text(
        rss(item.format(title="First, corrected").replace("08:00:00", "08:30:00")), "utf-8"
    )
    assert "news.xml: 0 new, 1 updated" in digest.ok("ingest", "news.xml").stdout
    assert stored(digest)["g1"]["published_at"] == "2025-06-03T08:30:00Z"


def test_an_older_copy_never_overwrites_a_newer_one(digest: Digest, initialised: Path) -> None:
    def atom(updated: str, title: str) -> str:
        return (
            '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en"><title>A</title>'
            f"<id>urn:a</id><updated>{updated}</updated><entry><id>urn:e</id>"
            f"<title>{title}</title><updated>{updated}</updated></entry></feed>"
        )

    # The same source serving a stale copy (a cache, a mirror behind the same URL).
    (initialised / "feed.atom").write_text(atom("2025-06-03T12:00:00Z", "Newer"), "utf-8")
    digest.ok("ingest", "feed.atom")
    (initialised / "feed.atom").write_text(atom("2025-06-03T10:00:00Z", "Older"), "utf-8")
    result = digest.ok("ingest", "feed.atom")
    assert "feed.atom: 0 new, 0 updated, 1 unchanged" in result.stdout
    assert stored(digest)["urn:e"]["title"] == "Newer"


def test_section_option_replaces_categories(digest: Digest, initialised: Path) -> None:
    digest.ok("ingest", str(INGEST / "atom.xml"), "--section", "  Front\r\npage ")
    assert {row["section"] for row in stored(digest).values()} == {"Front page"}


def test_recoverable_feed_is_ingested_with_a_warning(digest: Digest, initialised: Path) -> None:
    broken = rss(
        "<item><title>Fish & chips</title><guid>b1</guid><description>a <br> b</description></item>"
    )
    (initialised / "bozo.xml").write_text(broken, encoding="utf-8")
    result = digest.ok("ingest", "bozo.xml")
    assert "warning: bozo.xml: malformed feed, recovered: line 1, column" in result.stderr
    assert stored(digest)["b1"]["title"] == "Fish & chips"


_ITEM = b"<item><title>x</title><guid>g</guid></item>"


@pytest.mark.parametrize(
    ("content", "place"),
    [
        (b"<rss><channel>" + _ITEM + b"</chanel></rss>", "line 1"),
        (b"\xef\xbb\xbf<rss><channel>" + _ITEM + b"</chanel></rss>", "line 1"),
        (b"<?xml version='1.0'?><rss><channel>" + _ITEM + b"</x></rss>", "line 1"),
        (b"<rss>\n<channel>\n" + _ITEM + b"\n</chanel></rss>", "line 4"),
        (b"<?xml version='1.0'?>\n<rss><channel>" + _ITEM + b"</x></rss>", "line 2"),
    ],
)
def test_an_xml_error_is_placed_on_the_sources_own_line(
    digest: Digest, initialised: Path, content: bytes, place: str
) -> None:
    # feedparser reads a document without an XML declaration with one of its own and a
    # line break put in front: its errors were one line late.
    (initialised / "late.xml").write_bytes(content)
    result = digest.ok("ingest", "late.xml")
    assert f"warning: late.xml: malformed feed, recovered: {place}, column" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("<rss version='2.0'><channel><title>x</title><item><title>Cut", "nothing recoverable"),
        ("<?xml version='1.0'?><catalog><book>1</book></catalog>", "not an RSS or Atom feed"),
        ("just some words", "not a feed, JSON or HTML page"),
        ("   \n\t ", "empty"),
    ],
)
def test_bad_feeds_fail_cleanly_after_good_ones(
    digest: Digest, initialised: Path, content: str, message: str
) -> None:
    (initialised / "bad.xml").write_text(content, encoding="utf-8")
    result = digest("ingest", str(INGEST / "rss1.rdf"), "bad.xml")
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert error.startswith("error: bad.xml: ") and message in error
    assert "1 new" in result.stdout
    assert list(stored(digest)) == ["https://news.example/tech/meta-anduril"]
