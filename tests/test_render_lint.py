"""Each email check fires on the fault it names (and a good edition has none)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from digest.errors import RenderError
from digest.render import lint
from tests.test_render_support import (
    POSTAL_ADDRESS,
    full_plan,
    make_settings,
    message_bytes,
    parts,
    render,
)


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, str]:
    """(html, text, subject) of a personalised full English edition."""
    settings = make_settings(tmp_path_factory.mktemp("lint"))
    rendered = render(settings, full_plan("en"))
    html, text = parts(message_bytes(settings, rendered))
    return html, text, rendered.subject


UNSUBSCRIBE = re.compile(r'href="(https://arabpress\.example/u/[^"]+)"')


def rules(html: str, text: str, subject: str, *, direction: str = "ltr", language: str = "en"):
    unsubscribe = UNSUBSCRIBE.search(html)
    return {
        finding.rule
        for finding in lint.check_parts(
            html, text, subject=subject, language=language, direction=direction,
            unsubscribe_url=unsubscribe.group(1) if unsubscribe else "https://x.example/u",
        )
    }  # fmt: skip


def test_good_edition_has_no_findings(good) -> None:
    assert rules(*good) == set()


def before_body_end(snippet: str) -> Callable[[str], str]:
    return lambda html: html.replace("</body>", snippet + "</body>", 1)


HTML_FAULTS: list[tuple[str, Callable[[str], str], str]] = [
    ("script", before_body_end("<script>alert(1)</script>"), "forbidden"),
    (
        "form",
        before_body_end('<form action="https://x.example"><input name="q"></form>'),
        "forbidden",
    ),
    ("iframe", before_body_end('<iframe src="https://x.example"></iframe>'), "forbidden"),
    (
        "external css",
        lambda h: h.replace(
            "</head>", '<link rel="stylesheet" href="https://x.example/a.css"></head>'
        ),
        "forbidden",
    ),
    (
        "handler",
        lambda h: h.replace('<td class="footer"', '<td onclick="x()" class="footer"', 1),
        "forbidden",
    ),
    ("table role", lambda h: h.replace('role="presentation"', "", 1), "table-role"),
    ("img alt", lambda h: re.sub(r' alt="[^"]*"', "", h, count=1), "img"),
    ("img size", lambda h: re.sub(r' height="310"', "", h, count=1), "img"),
    ("relative link", before_body_end('<a href="/relative">x</a>'), "link"),
    ("javascript link", before_body_end('<a href="javascript:x()">x</a>'), "link"),
    ("second h1", before_body_end("<h1>again</h1>"), "h1"),
    ("no h1", lambda h: h.replace("<h1", "<p").replace("</h1>", "</p>"), "h1"),
    ("empty title", lambda h: re.sub(r"<title>.*?</title>", "<title> </title>", h), "title"),
    (
        "flex",
        lambda h: h.replace('class="story"', 'class="story" style="display:flex"', 1),
        "layout",
    ),
    (
        "grid in style",
        lambda h: h.replace("<style>", "<style>@media screen { .x { display: grid } }", 1),
        "layout",
    ),
    (
        "@import",
        lambda h: h.replace("<style>", '<style>@import url("https://x.example/a.css");', 1),
        "external-css",
    ),
    ("non-media rule", lambda h: h.replace("<style>", "<style>a:hover { color: red }", 1), "style"),
    (
        "big style",
        lambda h: h.replace("<style>", "<style>@media screen {" + " .x{color:red}" * 1500 + "}", 1),
        "style",
    ),
    ("too big", before_body_end("<p>" + "x" * 110_000 + "</p>"), "size"),
    ("no body lang", lambda h: re.sub(r'<body lang="en" dir="ltr"', "<body", h), "lang-dir"),
    ("wrong dir", lambda h: h.replace('dir="ltr"', 'dir="rtl"', 1), "lang-dir"),
    (
        "no preheader",
        lambda h: re.sub(r'<div class="preheader".*?</div>', "", h, flags=re.S),
        "preheader",
    ),
    ("no ghost table", lambda h: h.replace("<!--[if mso]><table", "<!--[if mso]><div"), "mso"),
    ("no color-scheme", lambda h: h.replace('name="color-scheme"', 'name="x"'), "dark-mode"),
    ("no viewport", lambda h: h.replace('name="viewport"', 'name="x"'), "meta"),
    (
        "plain link",
        lambda h: h.replace("text-decoration:underline", "text-decoration:none", 1),
        "link-style",
    ),
    (
        "plain headline",
        lambda h: h.replace("text-decoration:none; font-weight:bold", "text-decoration:none", 1),
        "link-style",
    ),
    (
        "no postal address",
        lambda h: re.sub(r'<p class="postal-address".*?</p>', "", h, flags=re.S),
        "postal-address",
    ),
    (
        "hidden unsubscribe",
        lambda h: UNSUBSCRIBE.sub('href="https://arabpress.example/"', h),
        "unsubscribe",
    ),
    ("placeholder left", before_body_end("<p>%%DIGEST_GREETING%%</p>"), "placeholder"),
    (
        "link missing from text",
        before_body_end('<a href="https://only-html.example/">x</a>'),
        "text",
    ),
]


@pytest.mark.parametrize(("fault", "mutate", "rule"), HTML_FAULTS, ids=[f[0] for f in HTML_FAULTS])
def test_each_html_fault_is_reported(good, fault, mutate, rule) -> None:
    html, text, subject = good
    changed = mutate(html)
    assert changed != html, f"the mutation for {fault!r} changed nothing"
    assert rule in rules(changed, text, subject)


def test_rtl_wrapper_needs_inline_direction(tmp_path) -> None:
    settings = make_settings(tmp_path)
    rendered = render(settings, full_plan("ar"))
    html, text = parts(message_bytes(settings, rendered))
    assert rules(html, text, rendered.subject, direction="rtl", language="ar") == set()
    stripped = html.replace("direction:rtl; text-align:right", "", 1)
    assert stripped != html
    assert "lang-dir" in rules(stripped, text, rendered.subject, direction="rtl", language="ar")


TEXT_FAULTS = [
    ("long line", lambda t: t.replace("\n\n", "\n" + "word " * 30 + "\n\n", 1), "text"),
    ("missing link", lambda t: t.replace("https://arabpress.example/en/world/", "", 1), "text"),
    ("no unsubscribe", lambda t: re.sub(r"https://arabpress\.example/u/\S+", "", t), "unsubscribe"),
    ("empty", lambda t: "  \n", "text"),
    ("no postal address", lambda t: t.replace(POSTAL_ADDRESS, ""), "postal-address"),
]


@pytest.mark.parametrize(("fault", "mutate", "rule"), TEXT_FAULTS, ids=[f[0] for f in TEXT_FAULTS])
def test_each_text_fault_is_reported(good, fault, mutate, rule) -> None:
    html, text, subject = good
    changed = mutate(text)
    assert changed != text
    assert rule in rules(html, changed, subject)


@pytest.mark.parametrize(
    "subject", ["x" * 61, "Fine\r\nBcc: x@example.com", "Fine \u202eevil", "   "]
)
def test_subject_faults_are_reported(good, subject: str) -> None:
    html, text, _subject = good
    assert "subject" in rules(html, text, subject)


def test_long_url_lines_are_allowed_in_text(good) -> None:
    html, text, subject = good
    longer = text + "\nhttps://arabpress.example/" + "a" * 200 + "\n"
    assert rules(html, longer, subject) == set()


def test_strict_turns_findings_into_one_error() -> None:
    lint.require_clean([])
    findings = [lint.Finding("h1", "expected exactly one <h1>, found 2"), lint.Finding("img", "x")]
    with pytest.raises(RenderError) as error:
        lint.require_clean(findings)
    assert str(error.value).startswith("the edition fails 2 email checks (--strict): h1:")
    assert "\n" not in str(error.value)


def test_a_message_without_an_html_part_is_reported() -> None:
    raw = b"Subject: x\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
    assert [f.rule for f in lint.check_message(raw, language="en", direction="ltr")] == [
        "structure"
    ]


def test_an_edition_without_a_postal_address_fails_the_checks(tmp_path) -> None:
    """Outside the demo the address must be configured: init leaves it empty."""
    settings = make_settings(tmp_path, site__postal_address="")
    rendered = render(settings, full_plan("en"))
    html, text = parts(message_bytes(settings, rendered))
    assert rules(html, text, rendered.subject) == {"postal-address"}
