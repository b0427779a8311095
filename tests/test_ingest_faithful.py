"""Real-world feeds stored faithfully: text as written, identity, media, dates, characters,
language. Each test writes a small fixture and asserts the exact stored value."""

from __future__ import annotations

import email
import email.policy
import json
import re
from pathlib import Path

import pytest

from tests.conftest import Digest

FIRST_FETCH = "2025-06-04T04:00:00Z"
ANGLES = "Ban on energy drinks for <16s and fines >£500 proposed"
INFLATION = "Inflation < 2% & wages > prices"
TUTORIAL = "HTML tutorial: how to write <br> correctly"
SHORT_TUTORIAL = "How to write <br> correctly"


def stored(digest: Digest) -> dict[str, dict[str, object]]:
    """Rows by "source|guid", a file source named relative to the working directory
    (articles record a file's absolute path)."""
    rows = json.loads(digest.ok("articles", "list", "--json").stdout)
    return {f"{_relative(row['source'])}|{row['guid']}": row for row in rows}


def _relative(source: str) -> str:
    here = Path.cwd().resolve()
    path = Path(source)
    return (
        str(path.relative_to(here)) if path.is_absolute() and path.is_relative_to(here) else source
    )


def by_guid(digest: Digest) -> dict[str, dict[str, object]]:
    return {key.split("|", 1)[1]: row for key, row in stored(digest).items()}


def rss(items: str, channel: str = "<language>en</language>") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:media="http://search.yahoo.com/mrss/"><channel>'
        f"<title>T</title><link>https://news.example/</link>{channel}{items}</channel></rss>"
    )


def item(
    guid: str, title: str, *, link: str = "", extra: str = "", date: str = "", summary: str = ""
) -> str:
    link = link or f"https://news.example/{guid}"
    date = date or "Wed, 04 Jun 2025 01:00:00 +0000"
    summary = summary or f"Summary of {guid}."
    return (
        f"<item><title>{title}</title><link>{link}</link><guid>{guid}</guid>"
        f"<pubDate>{date}</pubDate><description>{summary}</description>{extra}</item>"
    )


def message(folder: Path) -> tuple[str, str, str]:
    """(Subject, HTML part, text part) of the previewed edition."""
    raw = (folder / "prev" / "edition.eml").read_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    parts = {
        part.get_content_type(): part.get_content()
        for part in parsed.walk()
        if part.get_content_maintype() == "text"
    }
    return str(parsed["subject"]), parts["text/html"], parts["text/plain"]


# --- 1. Text fields are text ------------------------------------------------------------


def test_rss_titles_that_look_like_markup_are_kept_as_written(
    digest: Digest, initialised: Path
) -> None:
    items = (
        item("a1", "Ban on energy drinks for &lt;16s and fines &gt;£500 proposed")
        + item("a2", "Inflation &lt; 2% &amp; wages &gt; prices")
        # "&amp;lt;br&amp;gt;": the text is "&lt;br&gt;", which feedparser reports as HTML.
        + item("a3", "HTML tutorial: how to write &amp;lt;br&amp;gt; correctly")
        + item("a4", "<![CDATA[<b>Bold</b> &amp; <i>brave</i>]]>")
    )
    (initialised / "feed.xml").write_text(rss(items), encoding="utf-8")
    digest.ok("ingest", "feed.xml")
    titles = {guid: row["title"] for guid, row in by_guid(digest).items()}
    assert titles == {"a1": ANGLES, "a2": INFLATION, "a3": TUTORIAL, "a4": "Bold & brave"}


def test_an_rss_title_is_decoded_once_and_script_text_survives_as_text(
    digest: Digest, initialised: Path
) -> None:
    """`&amp;lt;script&amp;gt;` in the XML is the text "&lt;script&gt;" (HTML, say
    feedparser), whose one decoding is the text `<script>`: it was decoded a second time
    as a title and removed as markup. It stays as text, escaped in the email."""
    title = "AT&amp;amp;T &amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt; wins"
    (initialised / "feed.xml").write_text(rss(item("e1", title)), encoding="utf-8")
    digest.ok("ingest", "feed.xml")
    assert by_guid(digest)["e1"]["title"] == "AT&T <script>alert(1)</script> wins"
    digest.ok("preview", "--date", "2025-06-04", "--lang", "en", "--out", "prev")
    _, html, text = message(initialised)
    assert "AT&amp;T &lt;script&gt;alert(1)&lt;/script&gt; wins" in html
    assert "<script" not in html
    assert "AT&T <script>alert(1)</script> wins" in text


def test_a_title_taken_from_an_html_summary_is_decoded_once(
    digest: Digest, initialised: Path
) -> None:
    """An item without a title is headed by its summary's opening; an HTML summary's
    `&lt;script&gt;` is the text `<script>` once decoded, and reading that as a title
    again removed it as markup (and the words after it)."""
    script = "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;"
    summary = f"&lt;p&gt;Why {script} still runs in old mail apps&lt;/p&gt;"
    entry = item("t1", "", summary=summary).replace("<title></title>", "")
    (initialised / "feed.xml").write_text(rss(entry), encoding="utf-8")
    digest.ok("ingest", "feed.xml")
    assert (
        by_guid(digest)["t1"]["title"]
        == "Why <script>alert(1)</script> still runs in old mail apps"
    )


def test_script_and_style_text_never_reaches_a_page_title(
    digest: Digest, initialised: Path
) -> None:
    page = (
        "<!doctype html><html lang='en'><head><script>alert(1)</script>"
        "<style>h1 { color: red }</style>"
        "<link rel='canonical' href='https://news.example/p/1'>"
        "<meta property='article:published_time' content='2025-06-04T01:00:00Z'></head>"
        "<body><article><h1>Headline <script>alert(2)</script><style>b {}</style>here</h1>"
        "<p>Prices rose less than two percent in May, the statistics office said on Tuesday,"
        " while wages went up by more than four percent over the same period.</p>"
        "<p>Economists had expected a larger rise, given the cost of energy this spring and"
        " the weaker currency.</p></article></body></html>"
    )
    (initialised / "page.html").write_text(page, encoding="utf-8")
    digest.ok("ingest", "page.html")
    row = by_guid(digest)["https://news.example/p/1"]
    assert (row["title"], row["summary"]) == (
        "Headline here",
        "<p>Prices rose less than two percent in May, the statistics office said on Tuesday,"
        " while wages went up by more than four percent over the same period.</p>",
    )


def test_atom_text_html_and_xhtml_titles(digest: Digest, initialised: Path) -> None:
    atom = (
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en"><title>A</title><id>urn:f</id>'
        "<updated>2025-06-04T01:00:00Z</updated>"
        '<entry><id>t</id><title type="text">Rates &lt; 2% &amp; exports &gt; imports</title>'
        "<updated>2025-06-04T01:00:00Z</updated></entry>"
        '<entry><id>h</id><title type="html">&lt;em&gt;Rates&lt;/em&gt; &amp;lt; 2%</title>'
        "<updated>2025-06-04T01:00:00Z</updated></entry>"
        '<entry><id>x</id><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
        "<b>Rates</b> &lt; 2%</div></title><updated>2025-06-04T01:00:00Z</updated></entry>"
        "</feed>"
    )
    (initialised / "feed.atom").write_text(atom, encoding="utf-8")
    digest.ok("ingest", "feed.atom")
    titles = {guid: row["title"] for guid, row in by_guid(digest).items()}
    assert titles == {
        "t": "Rates < 2% & exports > imports",
        "h": "Rates < 2%",
        "x": "Rates < 2%",
    }


def test_json_and_page_titles_are_plain_text(digest: Digest, initialised: Path) -> None:
    export = {
        "guid": "j1",
        "url": "https://news.example/j/1",
        "title": "Rates < 2% as exports > imports &amp; <br> stays",
        "published_at": "2025-06-04T01:00:00Z",
    }
    (initialised / "export.jsonl").write_text(json.dumps(export) + "\n", encoding="utf-8")
    page = (
        "<!doctype html><html lang='en'><head><title>Inflation &lt; 2% &amp;amp; more</title>"
        "<meta property='og:title' content='Inflation &lt; 2% &amp;amp; more'>"
        "<link rel='canonical' href='https://news.example/p/1'>"
        "<meta property='article:published_time' content='2025-06-04T01:00:00Z'></head>"
        "<body><article><h1>Inflation &lt; 2% &amp;amp; more</h1>"
        "<p>Prices rose less than two percent in May, the statistics office said on Tuesday,"
        " while wages went up by more than four percent over the same period.</p>"
        "</article></body></html>"
    )
    (initialised / "page.html").write_text(page, encoding="utf-8")
    digest.ok("ingest", "export.jsonl", "page.html")
    titles = {guid: row["title"] for guid, row in by_guid(digest).items()}
    assert titles["j1"] == "Rates < 2% as exports > imports &amp; <br> stays"
    assert titles["https://news.example/p/1"] == "Inflation < 2% &amp; more"


def test_title_is_the_same_in_subject_html_and_text_part(digest: Digest, initialised: Path) -> None:
    (initialised / "feed.xml").write_text(
        rss(item("a3", "How to write &amp;lt;br&amp;gt; correctly")),
        encoding="utf-8",
    )
    digest.ok("ingest", "feed.xml")
    digest.ok("preview", "--date", "2025-06-04", "--lang", "en", "--out", "prev")
    subject, html, text = message(initialised)
    assert subject == SHORT_TUTORIAL  # the subject is the lead headline
    assert "How to write &lt;br&gt; correctly" in html
    assert "<br> correctly" not in html
    assert SHORT_TUTORIAL in text


def test_summaries_stay_sanitised_html(digest: Digest, initialised: Path) -> None:
    summary = "&lt;p onclick='x()'&gt;Rates &amp;lt; 2%&lt;script&gt;bad()&lt;/script&gt;&lt;/p&gt;"
    (initialised / "feed.xml").write_text(
        rss(item("s1", "Title").replace("<description>Summary of s1.</description>", "")
            .replace("</item>", f"<description>{summary}</description></item>")),
        encoding="utf-8",
    )  # fmt: skip
    digest.ok("ingest", "feed.xml")
    assert by_guid(digest)["s1"]["summary"] == "<p>Rates &lt; 2%</p>"


# --- 2. Identity ----------------------------------------------------------------------------


def test_the_same_guid_in_two_feeds_is_two_articles(digest: Digest, initialised: Path) -> None:
    (initialised / "one.xml").write_text(rss(item("1", "First feed's story")), "utf-8")
    two = item("1", "Second feed's story", link="https://other.example/1")
    (initialised / "two.xml").write_text(rss(two), "utf-8")
    digest.ok("ingest", "one.xml")
    result = digest.ok("ingest", "two.xml")
    assert "two.xml: 1 new, 0 updated, 0 unchanged, 0 skipped" in result.stdout
    titles = {key: row["title"] for key, row in stored(digest).items()}
    assert titles == {"one.xml|1": "First feed's story", "two.xml|1": "Second feed's story"}


def test_another_feed_never_overwrites_and_a_merge_is_reported(
    digest: Digest, initialised: Path
) -> None:
    (initialised / "wire.xml").write_text(rss(item("w-7", "Wire's headline")), "utf-8")
    mirror = item(
        "m-99", "Mirror's rewrite", link="https://NEWS.example:443/w-7?utm_source=rss#top"
    )
    (initialised / "mirror.xml").write_text(rss(mirror), "utf-8")
    digest.ok("ingest", "wire.xml")
    result = digest.ok("ingest", "mirror.xml")
    assert "mirror.xml: 0 new, 0 updated, 0 unchanged, 0 skipped, 1 merged" in result.stdout
    assert (
        f"mirror.xml: item 'm-99' has the same URL as {(initialised / 'wire.xml').resolve()}'s "
        "article 'w-7': merged into it" in result.stdout
    )
    rows = stored(digest)
    assert list(rows) == ["wire.xml|w-7"]
    assert rows["wire.xml|w-7"]["title"] == "Wire's headline"
    assert rows["wire.xml|w-7"]["canonical_url"] == "https://news.example/w-7"


def test_a_guid_that_changes_on_every_fetch_keeps_one_row(
    digest: Digest, initialised: Path
) -> None:
    feed = initialised / "feed.xml"
    trackings = ("utm_source=a&fbclid=x1", "gclid=y2", "utm_medium=z&PHPSESSID=3")
    for fetch, tracking in enumerate(trackings):
        story = item(
            f"session-{fetch}", "Council approves budget", summary="The vote was 30 to 12.",
            link=f"https://news.example/budget?id=5&{tracking}#comments",
        )  # fmt: skip
        feed.write_text(rss(story), "utf-8")
        result = digest.ok("ingest", "feed.xml")
        expected = (
            "1 new, 0 updated, 0 unchanged" if fetch == 0 else "0 new, 0 updated, 1 unchanged"
        )
        assert f"feed.xml: {expected}" in result.stdout
    rows = stored(digest)
    assert list(rows) == ["feed.xml|session-0"]
    assert rows["feed.xml|session-0"]["canonical_url"] == "https://news.example/budget?id=5"


def test_an_article_listed_again_with_a_later_date_keeps_its_publication_date(
    digest: Digest, initialised: Path
) -> None:
    # The feed lists yesterday's article again under a new guid with this morning's
    # date, then again later: it was updated, not published now.
    feed = initialised / "feed.xml"
    link = "https://news.example/rail-strike"
    for guid, link_used, date in (
        ("h-100", link, "Sat, 28 Nov 2026 20:00:00 +0000"),
        ("h-100-r", f"{link}?utm_source=feed", "Mon, 30 Nov 2026 03:50:00 +0000"),
        ("h-100-s", f"{link}?utm_source=app", "Mon, 30 Nov 2026 05:10:00 +0000"),
    ):
        story = item(guid, "Rail workers announce a national strike", link=link_used, date=date)
        feed.write_text(rss(story), "utf-8")
        digest.ok("ingest", "feed.xml")
    rows = stored(digest)
    assert list(rows) == ["feed.xml|h-100"]
    assert rows["feed.xml|h-100"]["published_at"] == "2026-11-28T20:00:00Z"
    assert rows["feed.xml|h-100"]["updated_at"] == "2026-11-30T05:10:00Z"
    # Under its own guid a new date is the publisher's correction, and is taken.
    story = item("h-100", "Rail workers announce a national strike", link=link,
                 date="Sat, 28 Nov 2026 18:30:00 +0000")  # fmt: skip
    feed.write_text(rss(story), "utf-8")
    digest.ok("ingest", "feed.xml")
    assert stored(digest)["feed.xml|h-100"]["published_at"] == "2026-11-28T18:30:00Z"


def test_items_sharing_a_home_page_link_stay_apart(digest: Digest, initialised: Path) -> None:
    items = item("p1", "First notice", link="https://news.example/") + item(
        "p2", "Second notice", link="https://news.example/"
    )
    (initialised / "feed.xml").write_text(rss(items), "utf-8")
    digest.ok("ingest", "feed.xml")
    (initialised / "feed.xml").write_text(
        rss(item("p3", "Third notice", link="https://news.example/")), "utf-8"
    )
    digest.ok("ingest", "feed.xml")
    assert sorted(by_guid(digest)) == ["p1", "p2", "p3"]


def test_a_story_id_named_sid_tells_two_articles_apart(digest: Digest, initialised: Path) -> None:
    # PHP-Nuke and its descendants address a story as modules.php?...&sid=N: two feeds'
    # items with sid=3 and sid=4 are two stories (they were merged as one page).
    link = "https://news.example/modules.php?name=News&file=article&sid={}"
    (initialised / "politics.xml").write_text(
        rss(item("3", "Parliament passes the budget", link=link.format(3))), "utf-8"
    )
    (initialised / "sport.xml").write_text(
        rss(item("4", "Local club wins the cup final", link=link.format(4))), "utf-8"
    )
    digest.ok("ingest", "politics.xml", "sport.xml")
    assert sorted(by_guid(digest)) == ["3", "4"]


def test_items_without_a_guid_sharing_a_link_are_each_stored(
    digest: Digest, initialised: Path
) -> None:
    # No guid, so the link keys them; a home page, or a link they share, keys none of
    # them: all five stories are stored (four were counted as skipped before).
    items = "".join(
        item(f"unused-{n}", f"Story number {n}", link="https://news.example/").replace(
            f"<guid>unused-{n}</guid>", ""
        )
        for n in range(5)
    )
    (initialised / "feed.xml").write_text(rss(items), "utf-8")
    lines = [
        {"url": "https://news.example/latest", "title": f"Bulletin {n}", "language": "en"}
        for n in range(2)
    ] + [{"url": "https://news.example/solo", "title": "Solo story", "language": "en"}]
    (initialised / "items.jsonl").write_text("\n".join(json.dumps(x) for x in lines), "utf-8")
    digest.ok("ingest", "feed.xml", "items.jsonl")
    assert sorted(by_guid(digest)) == [
        "https://news.example/solo",  # a link of its own still keys its item
        "title:Bulletin 0",
        "title:Bulletin 1",
        *(f"title:Story number {n}" for n in range(5)),
    ]


@pytest.mark.parametrize("link", ["https://news.example/", "http://www.news.example"])
def test_a_home_page_link_fetched_one_item_a_day_keys_no_article(
    digest: Digest, initialised: Path, link: str
) -> None:
    # One item per fetch, each linking to the home page: the second is a new article,
    # not an update of the first (it overwrote the first before).
    feed = initialised / "feed.xml"
    feed.write_text(rss(item("d1", "Volcano erupts near Reykjavik", link=link)), "utf-8")
    digest.ok("ingest", "feed.xml")
    later = item("d2", "Bakery wins bread award", link=link, date="Thu, 05 Jun 2025 01:00:00 +0000")
    feed.write_text(rss(later), "utf-8")
    digest.ok("ingest", "feed.xml")
    titles = {guid: row["title"] for guid, row in by_guid(digest).items()}
    assert titles == {"d1": "Volcano erupts near Reykjavik", "d2": "Bakery wins bread award"}


# --- 3. Media -------------------------------------------------------------------------------


def test_only_images_become_the_story_image(digest: Digest, initialised: Path) -> None:
    podcast = (  # the type says audio even where the URL does not
        '<media:content url="https://cdn.example/episodes/1" type="audio/mpeg"/>'
        '<media:content url="https://cdn.example/ep1.mp3"/>'
        '<enclosure url="https://cdn.example/listen?ep=1" type="audio/mp4" length="1"/>'
    )
    video = (
        '<media:content url="https://cdn.example/clip.mp4" medium="video">'
        '<media:thumbnail url="https://cdn.example/clip.jpg"/></media:content>'
    )
    photo = (
        '<media:content url="https://cdn.example/talk.mp3" medium="audio"/>'
        '<media:content url="https://cdn.example/photo" medium="image"/>'
    )
    enclosure = '<enclosure url="https://cdn.example/pic.webp" type="image/webp" length="1"/>'
    bad_img = (
        "<description>&lt;p&gt;Listen &lt;img src='https://cdn.example/a.mp3'&gt;"
        "&lt;img src='https://cdn.example/b.png' alt=''&gt;&lt;/p&gt;</description>"
    )
    items = (
        item("podcast", "Podcast", extra=podcast)
        + item("video", "Video", extra=video)
        + item("photo", "Photo", extra=photo)
        + item("enclosure", "Enclosure", extra=enclosure)
        + item("inline", "Inline").replace("<description>Summary of inline.</description>", bad_img)
    )
    (initialised / "feed.xml").write_text(rss(items), "utf-8")
    digest.ok("ingest", "feed.xml")
    rows = by_guid(digest)
    images = {guid: row["image_url"] for guid, row in rows.items()}
    assert images == {
        "podcast": "",
        "video": "https://cdn.example/clip.jpg",
        "photo": "https://cdn.example/photo",
        "enclosure": "https://cdn.example/pic.webp",
        "inline": "",
    }
    assert rows["inline"]["summary"] == '<p>Listen <img src="https://cdn.example/b.png" alt=""></p>'
    digest.ok("preview", "--date", "2025-06-04", "--lang", "en", "--out", "prev")
    _, html, _ = message(initialised)
    assert not re.search(r"<img[^>]+\.(mp3|m4a|mp4)", html)


def test_a_pages_og_image_is_its_image(digest: Digest, initialised: Path) -> None:
    page = (
        "<!doctype html><html lang='en'><head><title>Harbour reopens</title>"
        "<meta property='og:image' content='/img/harbour.jpg'>"
        "<link rel='canonical' href='https://news.example/harbour'>"
        "<meta property='article:published_time' content='2025-06-04T01:00:00Z'></head><body>"
        "<article><h1>Harbour reopens</h1><p>The harbour reopened on Tuesday after two years of"
        " works that deepened the channel and rebuilt the northern quay.</p></article>"
        "</body></html>"
    )
    (initialised / "page.html").write_text(page, "utf-8")
    digest.ok("ingest", "page.html")
    assert by_guid(digest)["https://news.example/harbour"]["image_url"] == (
        "https://news.example/img/harbour.jpg"
    )


# --- 4. Dates -------------------------------------------------------------------------------


def test_a_feeds_region_orders_its_numeric_dates(digest: Digest, initialised: Path) -> None:
    # 05/11/2026 is 5 November in a British or Egyptian feed, May 11 in an American one.
    for name, language in (("gb", "en-GB"), ("us", "en-US"), ("eg", "ar-EG")):
        story = item(f"{name}-1", f"Story {name}", date="05/11/2026 08:15")
        (initialised / f"{name}.xml").write_text(
            rss(story, f"<language>{language}</language>"), "utf-8"
        )
        digest.ok("ingest", f"{name}.xml")
    dates = {guid: row["published_at"] for guid, row in by_guid(digest).items()}
    assert dates == {
        "gb-1": "2026-11-05T08:15:00Z",
        "us-1": "2026-05-11T08:15:00Z",
        "eg-1": "2026-11-05T08:15:00Z",
    }


def test_localised_dates_are_read(digest: Digest, initialised: Path) -> None:
    items = (
        item("ar-names", "مكتبة", date="الأحد، 03 مارس 2024 09:15:00 +0300")
        + item("ar-digits", "حافلات", date="الأربعاء، ١٧ يناير ٢٠٢٤ ١١:٠٠:٠٠ +0300")
        + item("fa-digits", "کتابخانه", date="۱۷ ژانویه ۲۰۲۴ ۱۱:۰۰")
        + item("iso", "ISO", date="2024-02-01T10:00:00+02:00")
        + item("rfc822", "RFC 822", date="Thu, 01 Feb 2024 10:00:00 GMT")
    )
    (initialised / "feed.xml").write_text(rss(items, "<language>ar</language>"), "utf-8")
    result = digest.ok("ingest", "feed.xml")
    assert "warning" not in result.stderr
    dates = {
        guid: (row["published_at"], row["date_estimated"]) for guid, row in by_guid(digest).items()
    }
    assert dates == {
        "ar-names": ("2024-03-03T06:15:00Z", False),
        "ar-digits": ("2024-01-17T08:00:00Z", False),
        "fa-digits": ("2024-01-17T11:00:00Z", False),
        "iso": ("2024-02-01T08:00:00Z", False),
        "rfc822": ("2024-02-01T10:00:00Z", False),
    }


def test_localised_dates_in_json_and_pages(digest: Digest, initialised: Path) -> None:
    export = {"guid": "j", "title": "خبر", "published_at": "٣ مارس ٢٠٢٤ ١٠:٣٠", "language": "ar"}
    (initialised / "export.jsonl").write_text(json.dumps(export) + "\n", encoding="utf-8")
    page = (
        "<!doctype html><html lang='ar'><head><title>افتتاح المكتبة</title>"
        "<link rel='canonical' href='https://ar.news.example/library'>"
        "<meta property='article:published_time' content='الأحد، 03 مارس 2024 09:15:00 +0300'>"
        "</head><body><article><h1>افتتاح المكتبة</h1><p>افتتحت البلدية المكتبة العامة الجديدة"
        " في وسط المدينة صباح الأحد بحضور عدد كبير من السكان والطلاب.</p></article></body></html>"
    )
    (initialised / "page.html").write_text(page, "utf-8")
    digest.ok("ingest", "export.jsonl", "page.html")
    rows = by_guid(digest)
    assert rows["j"]["published_at"] == "2024-03-03T10:30:00Z"
    assert rows["https://ar.news.example/library"]["published_at"] == "2024-03-03T06:15:00Z"


def test_an_unreadable_date_warns_and_first_fetch_backlog_is_flagged(
    digest: Digest, initialised: Path
) -> None:
    feed = initialised / "feed.xml"
    feed.write_text(rss(item("old", "Undated backlog", date="sometime last spring")), "utf-8")
    result = digest.ok("ingest", "feed.xml")
    assert (
        "feed.xml: item 'old': date 'sometime last spring' not understood; "
        "stored with the fetch time, marked estimated" in result.stderr
    )
    feed.write_text(
        rss(item("old", "Undated backlog", date="sometime last spring")
            + item("fresh", "Undated but new", date="n/a")),
        "utf-8",
    )  # fmt: skip
    digest.ok("ingest", "feed.xml")
    rows = by_guid(digest)
    flags = {
        guid: (row["date_estimated"], row["estimated_on_first_fetch"]) for guid, row in rows.items()
    }
    # Only what came in the source's first fetch has an unknown age.
    assert flags == {"old": (True, True), "fresh": (True, False)}


def test_future_dates_are_clamped_to_the_fetch_time(digest: Digest, initialised: Path) -> None:
    export = {"guid": "f", "title": "Future", "published_at": "2999-01-01T00:00:00Z"}
    (initialised / "export.jsonl").write_text(json.dumps(export) + "\n", encoding="utf-8")
    digest.ok("ingest", "export.jsonl")
    row = by_guid(digest)["f"]
    assert row["date_estimated"] is True and row["published_at"] < "2999"
    assert row["estimated_on_first_fetch"] is False  # the source gave a date


@pytest.mark.parametrize(
    "zero",
    [
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+03:00",  # east of UTC: before the calendar's first day
        "Mon, 01 Jan 0001 00:00:00 GMT",  # the email module would read 2001
        "1970-01-01T00:00:00Z",
        "1900-01-01",
        "0001-01-01",
    ],
)
def test_a_clock_zero_value_is_no_date(digest: Digest, initialised: Path, zero: str) -> None:
    # Go's, Unix's and spreadsheets' zero dates mean "not set": the item is undated, stored
    # at the fetch time and flagged, and every command that reads it works.
    export = {"guid": "z", "title": "Zero", "url": "https://x.example/z", "published_at": zero}
    (initialised / "export.jsonl").write_text(json.dumps(export) + "\n", encoding="utf-8")
    warned = digest.ok("ingest", "export.jsonl").stderr
    assert f"date {zero!r} is a zero value, not a publication date; stored with" in warned
    row = by_guid(digest)["z"]
    assert row["date_estimated"] is True and row["published_at"] >= "2020"
    assert "nothing related" in digest.ok("articles", "related", "z").stdout


def test_a_feeds_zero_date_does_not_date_its_items(digest: Digest, initialised: Path) -> None:
    undated = "<item><title>No date</title><link>https://news.example/n</link><guid>n</guid></item>"
    feed = rss(undated, "<language>en</language><pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate>")
    (initialised / "feed.xml").write_text(feed, encoding="utf-8")
    digest.ok("ingest", "feed.xml")
    row = by_guid(digest)["n"]
    assert row["date_estimated"] is True and str(row["published_at"]) >= "2020"


# --- 5. Characters --------------------------------------------------------------------------


def test_new_emoji_survive_into_subject_heading_and_text_part(
    digest: Digest, initialised: Path
) -> None:
    title = "Pink heart 🩷 and shaking 🫨"
    dirty = "Pink heart 🩷\u202e and\ue000 shaking\u200b 🫨\x07\ufdd0"
    (initialised / "feed.xml").write_text(rss(item("e1", dirty)), "utf-8")
    digest.ok("ingest", "feed.xml")
    assert by_guid(digest)["e1"]["title"] == title
    digest.ok("preview", "--date", "2025-06-04", "--lang", "en", "--out", "prev")
    subject, html, text = message(initialised)
    assert subject == title
    heading = re.search(r"<h2[^>]*>(.*?)</h2>", html, re.S)
    assert heading and re.sub(r"<[^>]+>", "", heading.group(1)).strip() == title
    assert title in text


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_an_emoji_written_as_two_surrogate_references_is_one_character(
    digest: Digest, initialised: Path, encoding: str
) -> None:
    # Java, .NET and JavaScript serialisers write 😀 as &#xD83D;&#xDE00;, which XML does
    # not allow: the whole feed failed, its good items too (a breaker pass).
    written = "Smile &#xD83D;&#xDE00; or &#55357;&#56832;, lone &#xD800;, &#65;&#xD83D;&#xDE00;"
    items = item("good", "Good story") + item("smile", written)
    feed = rss(items).replace('encoding="utf-8"', f'encoding="{encoding}"')
    (initialised / "feed.xml").write_bytes(feed.encode(encoding))
    digest.ok("ingest", "feed.xml")
    titles = {guid: row["title"] for guid, row in by_guid(digest).items()}
    assert titles == {"good": "Good story", "smile": "Smile 😀 or 😀, lone \ufffd, A😀"}


# --- 6. Language ----------------------------------------------------------------------------


def test_an_arabic_item_in_an_english_feed_lands_in_the_arabic_edition(
    digest: Digest, initialised: Path
) -> None:
    arabic = "افتتاح المكتبة العامة الجديدة في وسط المدينة"
    items = item("ar", arabic) + item("en", "Library opens in the city centre")
    (initialised / "feed.xml").write_text(rss(items), "utf-8")
    result = digest.ok("ingest", "feed.xml")
    assert "feed.xml: 2 new, 0 updated, 0 unchanged, 0 skipped, 1 re-tagged" in result.stdout
    assert {guid: row["language"] for guid, row in by_guid(digest).items()} == {
        "ar": "ar",
        "en": "en",
    }
    digest.ok("preview", "--date", "2025-06-04", "--lang", "ar", "--out", "prev")
    _, html, _ = message(initialised)
    assert arabic in html and 'dir="rtl"' in html


# --- JSON Feed ------------------------------------------------------------------------------


def test_json_feed_titles_are_text_and_content_types_are_honoured(
    digest: Digest, initialised: Path
) -> None:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Wire",
        "home_page_url": "https://news.example/",
        "language": "en",
        "items": [
            {
                "id": 1,
                "url": "/j/1",
                "title": "Rates < 2% as exports > imports, & <br> stays",
                "content_html": "<p>Rates &lt; 2% <script>x()</script><b>now</b></p>",
                "image": "https://cdn.example/1.jpg",
                "date_published": "2025-06-04T01:00:00+03:00",
                "authors": [{"name": "Desk"}],
                "tags": ["Economy"],
            },
            {
                "id": "2",
                "url": "https://news.example/j/2",
                "content_text": "Inflation < 2% <b>is</b> text.\n\nSecond paragraph.",
                "image": "https://cdn.example/2.mp3",
                "date_published": "الأحد، 03 مارس 2024 09:15:00 +0300",
            },
            {"id": "3", "date_published": "soon"},
        ],
    }
    (initialised / "feed.json").write_text(json.dumps(feed, indent=2), encoding="utf-8")
    result = digest.ok("ingest", "feed.json")
    assert "feed.json: 2 new, 0 updated, 0 unchanged, 1 skipped" in result.stdout
    rows = by_guid(digest)
    first, second = rows["1"], rows["2"]
    assert first["title"] == "Rates < 2% as exports > imports, & <br> stays"
    assert first["summary"] == "<p>Rates &lt; 2% <b>now</b></p>"
    assert first["body"] == "Rates < 2% now"
    assert first["url"] == "https://news.example/j/1"
    assert (first["author"], first["section"], first["image_url"]) == (
        "Desk",
        "Economy",
        "https://cdn.example/1.jpg",
    )
    assert first["published_at"] == "2025-06-03T22:00:00Z"
    assert second["title"] == "Inflation < 2% <b>is</b> text."
    assert second["summary"] == "<p>Inflation &lt; 2% &lt;b&gt;is&lt;/b&gt; text.</p>"
    assert second["body"] == "Inflation < 2% <b>is</b> text.\n\nSecond paragraph."
    assert second["image_url"] == ""
    assert second["published_at"] == "2024-03-03T06:15:00Z"


def test_json_feed_fields_of_the_wrong_type_are_warnings_naming_item_and_field(
    digest: Digest, initialised: Path
) -> None:
    """JSON Feed 1.1 types `id` as a string (a number is coerced) and `title` as a string:
    another type is a warning naming the item and field, and the field is ignored; an
    item left with nothing to show is skipped with its reason, never silently."""
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JF",
        "items": [
            {"id": 1, "title": ["list"], "url": 123, "date_published": 42},
            {"id": {"a": 1}, "title": "ok"},
            {"id": 7, "title": "Seven"},
            "not an item",
        ],
    }
    (initialised / "feed.json").write_text(json.dumps(feed), encoding="utf-8")
    result = digest.ok("ingest", "feed.json")
    assert "feed.json: 2 new, 0 updated, 0 unchanged, 2 skipped" in result.stdout
    assert result.stderr.splitlines() == [
        "warning: feed.json: item 1: url: expected a string, got a number; ignored",
        "warning: feed.json: item 1: title: expected a string, got a list; ignored",
        "warning: feed.json: item 1: date_published: expected a string, got a number; ignored",
        "warning: feed.json: item 1: no title, summary or content_text to show; skipped",
        "warning: feed.json: item 2: id: expected a string or number, got an object; ignored",
        "warning: feed.json: item 4: expected an object, got a string; skipped",
    ]
    assert {guid: row["title"] for guid, row in by_guid(digest).items()} == {
        "title:ok": "ok",
        "7": "Seven",
    }
