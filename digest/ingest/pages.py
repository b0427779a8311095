"""Article pages (HTML) into one ArticleRecord, through trafilatura.

trafilatura finds the main text (not the nav, the rail of other headlines, the footer)
and the title and author; the page's own metadata (`article:published_time`, JSON-LD,
`<link rel="canonical">`, `<html lang>`) gives what it does not: a time to the minute,
the canonical URL, the language.
"""

from __future__ import annotations

import html
import json
import logging
from datetime import datetime
from typing import Any

from lxml.html import HtmlElement

from digest.errors import IngestError
from digest.ingest.clean import (
    absolute_url,
    is_image_url,
    paragraphs,
    plain_text,
    text_field,
    text_summary,
    title_text,
)
from digest.ingest.dates import (
    EARLIEST,
    SourceDate,
    parse_any_date,
    settle,
    try_parse_date,
    undated_reason,
    zone_warnings,
)
from digest.ingest.language import choose_language
from digest.ingest.records import ArticleRecord, ParsedSource, SourceDefaults

# trafilatura and htmldate log what we report as errors ("empty HTML tree"); without a
# handler of their own, Python would print those records on stderr beside our message.
for _name in ("trafilatura", "htmldate", "courlan"):
    logging.getLogger(_name).addHandler(logging.NullHandler())

#: Where a page states its publication time, most trustworthy first: metadata about the
#: page itself (meta tags, then JSON-LD), then microdata; a bare `<time>` in `<article>`
#: comes last, as it may date a related article in a rail, or a comment.
_PUBLISHED_META = (
    "//meta[@property='article:published_time' or @name='article:published_time'"
    " or @property='og:published_time' or @itemprop='datePublished'"
    " or @name='pubdate' or @name='publishdate' or @name='DC.date.issued'"
    " or @name='dcterms.created']/@content",
)
_PUBLISHED_MARKUP = (
    "//*[@itemprop='datePublished']/@datetime",
    "//article//time/@datetime",
)
_MODIFIED_META = (
    "//meta[@property='article:modified_time' or @name='article:modified_time'"
    " or @property='og:updated_time' or @itemprop='dateModified'"
    " or @name='dcterms.modified']/@content",
)
_MODIFIED_MARKUP = ("//*[@itemprop='dateModified']/@datetime",)
_CANONICAL = ("//link[@rel='canonical']/@href", "//meta[@property='og:url']/@content")
_LANGUAGE = (
    "/html/@lang",
    "/html/@xml:lang",
    "//meta[@http-equiv='content-language' or @http-equiv='Content-Language']/@content",
    "//meta[@property='og:locale']/@content",
)
_SECTION = ("//meta[@property='article:section' or @name='article:section']/@content",)
_IMAGE = (
    "//meta[@property='og:image' or @property='og:image:url']/@content",
    "//meta[@name='twitter:image']/@content",
)


def parse_page(
    content: bytes, *, source: str, now: datetime, defaults: SourceDefaults, base_url: str = ""
) -> ParsedSource:
    """One article from a page; IngestError when there is no page or no article in it."""
    found = _extract(content, source, base_url, defaults.languages)
    meta = found["meta"]
    # lxml hands over text (entities decoded once): kept as written.
    title = title_text(_faithful_title(found.get("title"), meta["titles"]))
    if not title:
        raise IngestError(f"{source}: no article found in the page (no title or main text)")
    parsed = ParsedSource(title=plain_text(found.get("sitename")))
    body = paragraphs("\n\n".join((found.get("text") or "").splitlines()))
    first, _, rest = body.partition("\n\n")
    if plain_text(first) == title:
        body = rest  # the headline, repeated as the text's first line
    url = absolute_url(meta["canonical"] or found.get("url"), base_url or None) or base_url
    if not url:
        parsed.warnings.append(f"{source}: no canonical URL in the page; stored without a link")
    dating = settle(
        meta["published"] or _day(found.get("date")), meta["modified"], fallback=None, now=now
    )
    dates = {"published": meta["published"], "modified": meta["modified"]}
    parsed.warnings += zone_warnings(f"{source}: item {url or title!r}", dates)
    if dating.undated and meta["unread_date"]:
        parsed.warnings.append(
            f"{source}: item {url or title!r}: date {meta['unread_date'][:80]!r} "
            f"{undated_reason(meta['unread_date'])}; stored with the fetch time, marked estimated"
        )
    language = choose_language(
        [*meta["languages"], defaults.language],
        defaults.languages,
        lambda: f"{title} {body[:400]}",
        title=title,
    )
    image_url = absolute_url(meta["image"] or found.get("image"), url or base_url or None)
    parsed.records.append(
        ArticleRecord(
            guid=url or "title:" + title,
            title=title,
            url=url,
            summary=(text_summary(found.get("description")) or text_summary(body.split("\n\n")[0])),
            body=body,
            section=defaults.section or meta["section"] or _first(found.get("categories")),
            author=text_field(found.get("author")),
            language=language.code,
            language_retagged=language.retagged,
            image_url=image_url if is_image_url(image_url) else "",
            published_at=dating.published_at,
            updated_at=dating.updated_at,
            date_estimated=dating.estimated,
            date_undated=dating.undated,
            source=source,
        )
    )
    return parsed


def _extract(
    content: bytes, source: str, base_url: str, languages: tuple[str, ...]
) -> dict[str, Any]:
    """trafilatura's findings (title, text, author...) plus the page's own metadata."""
    import trafilatura  # here, not at the top: it takes a fifth of a second to import

    try:
        tree = trafilatura.load_html(content)
        if tree is None:
            raise IngestError(f"{source}: not an HTML page")
        meta = _page_meta(tree, languages)  # before trafilatura, which prunes the tree
        _drop_unseen(tree)
        meta["titles"] = _stated_titles(tree)
        document = trafilatura.bare_extraction(
            tree,
            url=base_url or None,
            with_metadata=True,
            include_comments=False,
            include_images=False,
            favor_precision=True,
        )
    except IngestError:
        raise
    except Exception as e:  # hostile input can trip the extractor itself: a bad source, no crash
        raise IngestError(f"{source}: page extraction failed: {type(e).__name__}: {e}") from e
    if document is None:
        raise IngestError(f"{source}: no article found in the page (no title or main text)")
    found = document if isinstance(document, dict) else document.as_dict()
    return {**found, "meta": meta}


def _first_value(tree: HtmlElement, paths: tuple[str, ...]) -> str:
    for path in paths:
        for value in tree.xpath(path):
            text = str(value).strip()
            if text:
                return text
    return ""


def _first_date(
    tree: HtmlElement,
    paths: tuple[tuple[str, ...], tuple[str, ...]],
    ld_key: str,
    languages: tuple[str, ...],
) -> tuple[SourceDate | None, str]:
    """The first readable date the page states (meta tags, then JSON-LD `ld_key`, then
    markup), and the first unreadable (or zero-valued, `dates.EARLIEST`) one ("" if none)."""
    unread = ""
    meta, markup = ([str(value) for path in group for value in tree.xpath(path)] for group in paths)
    for value in [*meta, *_json_ld_values(tree, ld_key), *markup]:
        if not value.strip():
            continue
        found = parse_any_date(value, languages)
        if found and found.moment >= EARLIEST:
            return found, ""
        unread = unread or value.strip()  # unreadable, or a zero value
    return None, unread


def _page_meta(tree: HtmlElement, languages: tuple[str, ...]) -> dict[str, Any]:
    stated = [str(v) for path in _LANGUAGE for v in tree.xpath(path)]
    hints = (*stated, *languages)  # whole tags: a region orders numeric dates
    published_paths = (_PUBLISHED_META, _PUBLISHED_MARKUP)
    published, unread = _first_date(tree, published_paths, "datePublished", hints)
    modified, _ = _first_date(tree, (_MODIFIED_META, _MODIFIED_MARKUP), "dateModified", hints)
    return {
        "published": published,
        "unread_date": unread,
        "modified": modified,
        "canonical": _first_value(tree, _CANONICAL),
        "languages": stated,
        "section": plain_text(_first_value(tree, _SECTION)),
        "image": _first_value(tree, _IMAGE),
    }


#: Elements whose text no reader sees (JSON-LD stays: trafilatura reads its metadata).
_UNSEEN = "//script[not(@type='application/ld+json')]|//style|//noscript|//template"


def _drop_unseen(tree: HtmlElement) -> None:
    """Remove script, style... elements (their tails stay): their text leaked into a
    heading's text (`<h1>Headline <script>alert(2)</script>here</h1>`) and so into the
    title trafilatura and `_stated_titles` read."""
    for element in tree.xpath(_UNSEEN):
        element.drop_tree()


def _json_ld_values(tree: HtmlElement, key: str) -> list[str]:
    """Values of `key` in the page's JSON-LD blocks (Article, NewsArticle, @graph...)."""
    found: list[str] = []
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            data = json.loads(str(script))
        except ValueError:
            continue
        stack = [data]
        while stack and len(found) < 10:
            node = stack.pop()
            if isinstance(node, dict):
                if isinstance(node.get(key), str):
                    found.append(node[key])
                stack.extend(v for v in node.values() if isinstance(v, dict | list))
            elif isinstance(node, list):
                stack.extend(node)
    return found


def _stated_titles(tree: HtmlElement) -> list[str]:
    """The page's own headlines: og:title, <title>, the first <h1> (as text)."""
    found = [str(value) for value in tree.xpath("//meta[@property='og:title']/@content")[:1]]
    found += [str(value) for value in tree.xpath("//title/text()")[:1]]
    found += [heading.text_content() for heading in tree.xpath("//h1")[:1]]
    return [title for title in found if title.strip()]


def _faithful_title(extracted: str | None, stated: list[str]) -> str:
    """trafilatura's headline (it trims "| Site name"), but as the page wrote it.

    trafilatura decodes entities a second time ("&amp;lt;" in the source becomes "<");
    a headline the page states (og:title, <title>, <h1>, decoded once by lxml) that
    decodes to the same text is the faithful spelling.
    """
    if not extracted:
        return next((title for title in stated if title.strip()), "")
    for title in stated:
        if title.strip() != extracted.strip() and html.unescape(title).strip() == extracted.strip():
            return title
    return extracted


def _day(value: str | None) -> SourceDate | None:
    found = try_parse_date(value)
    return SourceDate(found.moment, precise=False) if found else None


def _first(values: list[str] | None) -> str:
    return next((plain_text(v) for v in values or [] if plain_text(v)), "")
