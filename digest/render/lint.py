"""Email checks: what `digest preview` warns about (errors with --strict) and tests assert.

The rules are the ones the email must follow to look right in Gmail, Outlook, Apple Mail
and phones: size under Gmail's clipping point, a small <style> with only @media rules,
no script/form/iframe/external CSS, layout tables marked presentational, images with
alt/width/height, lang and dir where clients read them, absolute links, one <h1>, a
title, a hidden preheader, a visible unsubscribe link, a postal address, a subject within
60 columns, and a complete text part.
"""

from __future__ import annotations

import email
import email.policy
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage, MIMEPart
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from digest import placeholders
from digest.errors import RenderError
from digest.render.plain import TAG_SEQUENCE, display_width, is_url_line
from digest.render.trim import HTML_LIMIT, encoded_size

STYLE_LIMIT = 16 * 1024
TEXT_WIDTH = 78
#: Subject columns: phones show about 40, desktop clients cut past about 60.
SUBJECT_WIDTH = 60
FORBIDDEN_TAGS = (
    "script", "form", "iframe", "frame", "frameset", "object", "embed", "applet", "input",
    "button", "select", "textarea", "base", "link",
)  # fmt: skip
_FLEX_GRID = re.compile(r"display\s*:\s*(inline-)?(flex|grid)\b", re.IGNORECASE)
_NO_UNDERLINE = re.compile(r"text-decoration(-line)?\s*:\s*none", re.IGNORECASE)
_PERSONAL_LINKS = (placeholders.UNSUBSCRIBE_URL, placeholders.PREFERENCES_URL)
_BOLD = re.compile(r"font-weight\s*:\s*(bold|bolder|[6-9]00)", re.IGNORECASE)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_GHOST_TABLE = re.compile(r"<table\b[^>]*\bwidth\s*=\s*[\"']?600\b", re.IGNORECASE)
_HIDDEN = re.compile(r"display\s*:\s*none", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


def _style(element: etree._Element) -> str:
    return (element.get("style") or "").replace(" ", "").lower()


def _some(items: list[str], limit: int = 2) -> str:
    shown = ", ".join(repr(item[:80]) for item in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _is_absolute(url: str, *, schemes: tuple[str, ...] = ("http", "https", "mailto")) -> bool:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    if parts.scheme.lower() == "mailto":
        return "mailto" in schemes and bool(parts.path)
    return parts.scheme.lower() in schemes and bool(parts.netloc)


def _top_level_rules(css: str) -> Iterator[str]:
    """The preludes of the top-level rules of a style sheet (`@media ...`, `a:hover`)."""
    css = _CSS_COMMENT.sub("", css)
    depth = 0
    prelude: list[str] = []
    for ch in css:
        if ch == "{":
            if depth == 0:
                yield "".join(prelude).strip()
                prelude = []
            depth += 1
        elif ch == "}":
            depth = max(depth - 1, 0)
        elif depth == 0:
            prelude.append(ch)
            if ch == ";":  # at-rules without a block: @import url(...);
                statement = "".join(prelude).strip()
                if statement.startswith("@"):
                    yield statement
                prelude = []


def check_styles(doc: etree._Element) -> Iterator[Finding]:
    styles = [element.text or "" for element in doc.iter("style")]
    total = sum(len(css.encode("utf-8")) for css in styles)
    if total > STYLE_LIMIT:
        yield Finding("style", f"<style> is {total} bytes; Gmail drops it past {STYLE_LIMIT}")
    leftover = [
        prelude
        for css in styles
        for prelude in _top_level_rules(css)
        if not prelude.lower().startswith("@media")
    ]
    imports = [prelude for prelude in leftover if prelude.lower().startswith("@import")]
    if imports:
        yield Finding("external-css", f"@import in <style>: {_some(imports)}")
    others = [prelude for prelude in leftover if prelude not in imports]
    if others:
        yield Finding(
            "style", f"only @media rules may stay in <style> (inline the rest): {_some(others)}"
        )
    if any(_FLEX_GRID.search(css) for css in styles) or any(
        _FLEX_GRID.search(element.get("style") or "")
        for element in doc.iter()
        if isinstance(element.tag, str)
    ):
        yield Finding("layout", "flex or grid layout; many clients ignore it (use tables)")


def check_tags(doc: etree._Element) -> Iterator[Finding]:
    found = sorted({element.tag for tag in FORBIDDEN_TAGS for element in doc.iter(tag)})
    if found:
        yield Finding(
            "forbidden", f"email clients strip or block: {', '.join('<' + t + '>' for t in found)}"
        )
    handlers = sorted(
        {
            name
            for element in doc.iter()
            if isinstance(element.tag, str)
            for name in element.attrib
            if name.lower().startswith("on")
        }
    )
    if handlers:
        yield Finding("forbidden", f"event handler attributes: {', '.join(handlers)}")
    tables = list(doc.iter("table"))
    bare = [t for t in tables if (t.get("role") or "").lower() != "presentation"]
    if bare:
        yield Finding("table-role", f'{len(bare)} of {len(tables)} tables lack role="presentation"')
    if len(list(doc.iter("h1"))) != 1:
        yield Finding("h1", f"expected exactly one <h1>, found {len(list(doc.iter('h1')))}")
    title = doc.find(".//title")
    if title is None or not (title.text_content() or "").strip():
        yield Finding("title", "the <title> is missing or empty")


def check_images(doc: etree._Element) -> Iterator[Finding]:
    for attribute in ("alt", "width", "height"):
        missing = [img.get("src") or "?" for img in doc.iter("img") if img.get(attribute) is None]
        if missing:
            yield Finding("img", f"{len(missing)} images without {attribute}: {_some(missing)}")
    relative = [
        img.get("src") or ""
        for img in doc.iter("img")
        if not _is_absolute(img.get("src") or "", schemes=("http", "https", "cid"))
        and not (img.get("src") or "").startswith("cid:")
    ]
    if relative:
        yield Finding("link", f"image sources must be absolute: {_some(relative)}")


def check_direction(doc: etree._Element, language: str, direction: str) -> Iterator[Finding]:
    body = doc.find("body")
    wrapper = next(iter(body.iter("table")), None) if body is not None else None
    for name, element in (("<html>", doc), ("<body>", body), ("wrapper table", wrapper)):
        if element is None:
            yield Finding("lang-dir", f"no {name}")
            continue
        if element.get("lang") != language or element.get("dir") != direction:
            yield Finding(
                "lang-dir",
                f'{name} needs lang="{language}" dir="{direction}" '
                f"(has lang={element.get('lang')!r} dir={element.get('dir')!r})",
            )
    if direction == "rtl" and wrapper is not None:
        style = _style(wrapper)
        if "direction:rtl" not in style or "text-align:right" not in style:
            yield Finding("lang-dir", "the wrapper needs inline direction:rtl; text-align:right")


def check_links(doc: etree._Element, *, personalised: bool) -> Iterator[Finding]:
    bad, plain_links, no_href = [], [], 0
    for link in doc.iter("a"):
        href = link.get("href")
        if href is None:
            no_href += 1
            continue
        if not personalised and href in _PERSONAL_LINKS:
            continue
        if not _is_absolute(href):
            bad.append(href)
        style = link.get("style") or ""
        # WCAG 1.4.1: a link must differ from its text by more than colour; a headline
        # link does by its weight, so only it may drop the underline.
        if link.text_content().strip() and _NO_UNDERLINE.search(style) and not _BOLD.search(style):
            plain_links.append(link.text_content().strip())
    if bad:
        yield Finding("link", f"{len(bad)} links are not absolute http(s)/mailto: {_some(bad)}")
    if no_href:
        yield Finding("link", f"{no_href} <a> elements without href")
    if plain_links:
        yield Finding(
            "link-style",
            f"{len(plain_links)} links are neither underlined nor bold: {_some(plain_links)}",
        )


def _hidden(element: etree._Element) -> bool:
    while element is not None:
        if isinstance(element.tag, str) and _HIDDEN.search(element.get("style") or ""):
            return True
        element = element.getparent()
    return False


def check_structure(doc: etree._Element, raw_html: str, unsubscribe_url: str) -> Iterator[Finding]:
    head = doc.find("head")
    metas = {
        (m.get("name") or "").lower(): m for m in (head.iter("meta") if head is not None else [])
    }
    if "viewport" not in metas:
        yield Finding("meta", "no viewport <meta>; phones will zoom out")
    if "color-scheme" not in metas:
        yield Finding("dark-mode", 'no color-scheme <meta> (e.g. content="light dark")')
    conditional = re.findall(r"<!--\[if mso\]>(.*?)<!\[endif\]-->", raw_html, re.DOTALL)
    if not any(_GHOST_TABLE.search(block) for block in conditional):
        yield Finding("mso", "no Outlook (<!--[if mso]>) 600px ghost table")
    body = doc.find("body")
    first = next((e for e in body if isinstance(e.tag, str)), None) if body is not None else None
    if (
        first is None
        or not _HIDDEN.search(first.get("style") or "")
        or not first.text_content().strip()
    ):
        yield Finding("preheader", "no hidden preheader at the top of <body>")
    visible = [
        link for link in doc.iter("a") if link.get("href") == unsubscribe_url and not _hidden(link)
    ]
    if not visible:
        yield Finding("unsubscribe", "no visible unsubscribe link in the HTML")


def check_postal_address(doc: etree._Element, text: str) -> Iterator[Finding]:
    """CAN-SPAM (15 U.S.C. 7704(a)(5)) wants a valid physical postal address in every
    commercial email: an element of class "postal-address" in the HTML, repeated in text."""
    found = [
        " ".join(element.text_content().split())
        for element in doc.iter()
        if isinstance(element.tag, str) and "postal-address" in (element.get("class") or "").split()
    ]
    address = next((value for value in found if value), "")
    if not address:
        yield Finding(
            "postal-address",
            "no postal address in the footer (CAN-SPAM requires one): set site.postal_address",
        )
    elif address not in " ".join(text.split()):
        yield Finding("postal-address", "the text part lacks the postal address")


def _html_links(doc: etree._Element) -> list[str]:
    links = []
    for link in doc.iter("a"):
        href = (link.get("href") or "").strip()
        if _is_absolute(href, schemes=("http", "https")) and href not in links:
            links.append(href)
    return links


def check_text(text: str, doc: etree._Element, unsubscribe_url: str) -> Iterator[Finding]:
    if not text.strip():
        yield Finding("text", "the text part is empty")
        return
    missing = [href for href in _html_links(doc) if href not in text]
    if missing:
        yield Finding(
            "text", f"the text part lacks {len(missing)} links of the HTML: {_some(missing)}"
        )
    if unsubscribe_url not in text:
        yield Finding("unsubscribe", "no unsubscribe link in the text part")
    long_lines = [
        number
        for number, line in enumerate(text.splitlines(), 1)
        if display_width(line) > TEXT_WIDTH and not is_url_line(line)
    ]
    if long_lines:
        numbers = ", ".join(str(n) for n in long_lines[:5])
        yield Finding(
            "text", f"{len(long_lines)} text lines exceed {TEXT_WIDTH} columns (lines {numbers})"
        )


def check_subject(subject: str) -> Iterator[Finding]:
    if not subject.strip():
        yield Finding("subject", "the subject is empty")
    if display_width(subject) > SUBJECT_WIDTH:
        yield Finding(
            "subject", f"the subject is {display_width(subject)} columns (at most {SUBJECT_WIDTH})"
        )
    shown = TAG_SEQUENCE.sub("", subject)  # a flag's tag characters are part of it
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in shown):
        yield Finding("subject", "the subject contains control or bidi characters")


def check_parts(
    html: str,
    text: str,
    *,
    subject: str,
    language: str,
    direction: str,
    encoded_html_size: int | None = None,
    unsubscribe_url: str | None = None,
) -> list[Finding]:
    """Every rule on an HTML/text pair. Without `unsubscribe_url` the parts are the
    edition's templates (placeholders still in); with it, a personalised message."""
    personalised = unsubscribe_url is not None
    unsubscribe = unsubscribe_url or placeholders.UNSUBSCRIBE_URL
    try:
        doc = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as e:
        return [Finding("html", f"the HTML does not parse: {e}")]
    size = encoded_html_size if encoded_html_size is not None else encoded_size(html)
    findings: list[Finding] = []
    if size > HTML_LIMIT:
        findings.append(
            Finding(
                "size",
                f"the HTML part is {size} bytes encoded; Gmail clips past ~102 KB "
                f"(limit {HTML_LIMIT})",
            )
        )
    checks: Iterable[Iterator[Finding]] = (
        check_styles(doc),
        check_tags(doc),
        check_images(doc),
        check_direction(doc, language, direction),
        check_links(doc, personalised=personalised),
        check_structure(doc, html, unsubscribe),
        check_text(text, doc, unsubscribe),
        check_postal_address(doc, text),
        check_subject(subject),
    )
    for check in checks:
        findings.extend(check)
    if personalised and placeholders.MARKER in html + text:
        findings.append(Finding("placeholder", "an unfilled %%DIGEST_ placeholder is left"))
    return findings


def _unsubscribe_from(message: EmailMessage) -> str | None:
    header = str(message.get("List-Unsubscribe") or "")
    urls = re.findall(r"<(https?://[^>]+)>", header)
    return urls[0] if urls else None


def encoded_part_size(part: MIMEPart) -> int:
    """Bytes of a part's body as sent (transfer-encoded, CRLF line ends)."""
    encoded = str(part.get_payload(decode=False)).replace("\r\n", "\n")
    return len(encoded.encode("utf-8")) + encoded.count("\n")


def check_message(raw: bytes, *, language: str, direction: str) -> list[Finding]:
    """Every rule on a complete message as sent; the HTML part is measured encoded."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    html_part = message.get_body(("html",))
    text_part = message.get_body(("plain",))
    if html_part is None or text_part is None:
        return [Finding("structure", "the message needs a text/plain and a text/html part")]
    size = encoded_part_size(html_part)
    unsubscribe = _unsubscribe_from(message)
    findings = check_parts(
        html_part.get_content(),
        text_part.get_content(),
        subject=str(message.get("Subject") or ""),
        language=language,
        direction=direction,
        encoded_html_size=size,
        unsubscribe_url=unsubscribe or "",
    )
    if unsubscribe is None:
        findings.append(Finding("unsubscribe", "no https List-Unsubscribe header"))
    return findings


def require_clean(findings: list[Finding]) -> None:
    """For --strict: any finding is an error."""
    if findings:
        raise RenderError(
            f"the edition fails {len(findings)} email check{'s' if len(findings) > 1 else ''} "
            f"(--strict): {findings[0]}"
        )
