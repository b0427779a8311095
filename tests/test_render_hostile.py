"""Feed content is untrusted: nothing in an article can inject markup, a placeholder,
a header or a layout break; the same email checks pass on hostile and Arabic editions."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import lxml.html
import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from digest.i18n import catalogue
from digest.render import lint
from digest.render.context import email_summary, subject_line, web_url
from digest.render.plain import TAG_SEQUENCE, clean_line, display_width, is_url_line
from tests.test_render_support import (
    DAY,
    article,
    make_settings,
    message_bytes,
    parse,
    parts,
    plan_of,
    render,
)

TEMPLATE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "div", "table", "tbody", "tr", "td",
    "h1", "h2", "h3", "p", "a", "img", "ul", "li", "span", "bdi",
}  # fmt: skip
SUMMARY_TAGS = {"b", "strong", "i", "em", "br", "q", "cite", "abbr", "small", "sub", "sup",
                "s", "u", "code", "ol", "blockquote"}  # fmt: skip

HOSTILE_SUMMARY = (
    '<p onclick="steal()" style="display:flex;width:2000px">Hi <script>bad()</script>'
    '<a href="javascript:alert(1)">js</a> <a href="/relative">rel</a> '
    '<a href="https://ok.example/a?b=1&amp;c=2" onmouseover="x()">ok</a>'
    '<img src="https://evil.example/pixel.gif" onerror="x()">'
    "<table><tr><td>cell</td></tr></table><style>body{display:none}</style>"
    '<iframe src="https://evil.example/"></iframe><form action="https://evil.example/">'
    '<input name="q"><button>go</button></form><link rel="stylesheet" href="https://e.example/x.css">'
    "%%DIGEST_UNSUBSCRIBE_URL%% {{ 7*7 }}</p>"
)


def hostile_articles() -> list:
    return [
        article(
            1,
            title='"><script>alert(1)</script><img src=x onerror=alert(2)> %%DIGEST_EMAIL%%',
            url='https://news.example/a"b<c>',
            summary=HOSTILE_SUMMARY,
            image_url='javascript:alert("img")',
            section="<b>World</b>",
        ),
        article(
            2,
            title="Breaking:\r\nBcc: victim@example.com \u202eevil\u202c and " + "W" * 400,
            url="javascript:alert(3)",
            summary="x" * 3000,
            image_url='https://img.example/a.png" onerror="x',
        ),
        article(
            3,
            title="{{ config }} %%DIGEST_UNSUBSCRIBE_URL%% {% raw %}",
            url="https://news.example/" + "very-long-path-segment-" * 60,
            summary="<p>" + "https://news.example/" + "a" * 300 + "</p>",
            image_url="https://img.example/ok.jpg",
        ),
        article(4, title="Related <one>", summary="", url="https://news.example/r1"),
        article(5, title="Related\ttwo\x00", url="ftp://news.example/r2"),
    ]


def arabic_articles() -> list:
    return [
        article(
            11,
            title="إطلاق ChatGPT Plus مجانًا في الإمارات عبر https://openai.example/plus (تجريبي)",
            summary="<p>قالت شركة OpenAI إن الخدمة متاحة لـ 10 ملايين مستخدم، "
            "وفق بيان نشر على <a href='https://openai.example/ar'>الموقع</a>.</p>",
            section="Technology",
            language="ar",
        ),
        article(
            12,
            title="مُحَمَّدٌ يَكتُبُ: ١٢٣ — 2025 «اقتباس» (NATO) ـــــ",
            summary="<p>نص مع تشكيل كامل وأرقام 3.14 و٪ ونسبة 50%</p>",
            section="World",
            language="ar",
            image_url="https://img.example/ar.jpg",
        ),
        article(13, title="خبر ذو صلة: Reuters", language="ar", url="https://news.example/r3"),
        article(14, title="خبر آخر ذو صلة", language="ar", url="https://news.example/r4"),
    ]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory):
    settings = make_settings(tmp_path_factory.mktemp("hostile"))
    rendered = render(settings, plan_of(hostile_articles(), "en", stories=3, related=2))
    return settings, rendered, message_bytes(settings, rendered)


@pytest.fixture(scope="module")
def arabic(tmp_path_factory: pytest.TempPathFactory):
    settings = make_settings(tmp_path_factory.mktemp("arabic"))
    rendered = render(settings, plan_of(arabic_articles(), "ar", stories=2, related=2))
    return settings, rendered, message_bytes(settings, rendered)


@pytest.mark.parametrize("name", ["hostile", "arabic"])
def test_email_checks_pass_on_hostile_and_arabic_editions(name: str, request) -> None:
    _settings, rendered, raw = request.getfixturevalue(name)
    language, direction = ("ar", "rtl") if name == "arabic" else ("en", "ltr")
    assert lint.check_parts(
        rendered.html, rendered.text, subject=rendered.subject, language=language,
        direction=direction,
    ) == []  # fmt: skip
    assert lint.check_message(raw, language=language, direction=direction) == []


def test_article_markup_never_becomes_markup(hostile) -> None:
    _settings, _rendered, raw = hostile
    html, _text = parts(raw)
    doc = lxml.html.document_fromstring(html)
    tags = {element.tag for element in doc.iter() if isinstance(element.tag, str)}
    assert tags <= TEMPLATE_TAGS | SUMMARY_TAGS, tags - TEMPLATE_TAGS - SUMMARY_TAGS
    for element in doc.iter():
        if isinstance(element.tag, str):
            assert not [a for a in element.attrib if a.lower().startswith("on")], element.tag
    hrefs = [a.get("href") for a in doc.iter("a")]
    assert all(href.startswith(("https://", "http://")) for href in hrefs), hrefs
    assert "https://ok.example/a?b=1&c=2" in hrefs
    assert "https://news.example/a%22b%3Cc%3E" in hrefs  # quote and brackets encoded
    assert all("evil.example" not in (img.get("src") or "") for img in doc.iter("img"))
    assert '"><script>' in doc.find_class("lead-headline")[0].text_content()  # shown as text
    assert "<b>World</b>" in doc.find_class("kicker")[0].text_content()


def test_article_text_cannot_forge_placeholders(hostile) -> None:
    _settings, rendered, raw = hostile
    html, text = parts(raw)
    unsubscribe = parse(raw)["List-Unsubscribe"].split("<")[1].split(">")[0]
    assert html.count(unsubscribe) == 1 and text.count(unsubscribe) == 1
    assert html.count("reader@example.com") == 1
    assert "%%DIGEST_" not in rendered.subject + rendered.preheader
    assert "{{ 7*7 }}" in html  # article text is never evaluated as a template


def test_subject_and_headers_stay_clean(hostile) -> None:
    _settings, rendered, raw = hostile
    message = parse(raw)
    assert message["Bcc"] is None
    assert not any(unicodedata.category(ch)[0] == "C" for ch in rendered.subject)
    assert display_width(rendered.subject) <= 78
    assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in rendered.preheader)


def test_long_words_and_urls_do_not_break_the_text_part(hostile) -> None:
    _settings, _rendered, raw = hostile
    _html, text = parts(raw)
    for line in text.splitlines():
        assert display_width(line) <= 78 or is_url_line(line), line
    assert "https://news.example/" + "very-long-path-segment-" * 60 in text


def test_arabic_edition_keeps_latin_runs_isolated(arabic) -> None:
    _settings, _rendered, raw = arabic
    html, text = parts(raw)
    doc = lxml.html.document_fromstring(html)
    headline = doc.find_class("lead-headline")[0].find("a")
    assert headline.get("dir") == "auto"
    assert "ChatGPT Plus" in headline.text_content()
    assert doc.find_class("kicker")[0].text_content().endswith("تقنية")
    assert "مُحَمَّدٌ يَكتُبُ" in html and "مُحَمَّدٌ يَكتُبُ" in text


def test_web_url_accepts_only_clean_absolute_http() -> None:
    assert web_url("https://a.example/x?y=1") == "https://a.example/x?y=1"
    assert web_url('https://a.example/"><x>') == "https://a.example/%22%3E%3Cx%3E"
    for bad in ("javascript:alert(1)", "/relative", "https://a.example/x y", "https:///x",
                "data:text/html,x", "https://a.example/\r\nX: y", "", "http://[::1"):  # fmt: skip
        assert web_url(bad) == "", bad


@hypothesis_settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(site=st.text(max_size=60), headline=st.text(max_size=300))
@example(site="", headline="\U000e0020")
def test_any_subject_is_plain_and_within_78_columns(site: str, headline: str) -> None:
    for language in ("en", "ar"):
        subject = subject_line(catalogue(language), site, DAY, headline)
        assert display_width(subject) <= 78
        assert "\n" not in subject and "\r" not in subject
        shown = TAG_SEQUENCE.sub("", subject)  # a flag's tags are part of the flag
        assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in shown)


@hypothesis_settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(summary=st.text(alphabet=st.sampled_from("<>\"'&=/ ascriptonerrohfjv:%{}ab"), max_size=200))
def test_any_summary_stays_inert(summary: str) -> None:
    cleaned = str(email_summary(summary))
    doc = lxml.html.fragment_fromstring(f"<div>{cleaned}</div>")
    for element in doc.iter():
        assert element.tag in SUMMARY_TAGS | {"div", "p", "a", "ul", "li"}
        assert not [a for a in element.attrib if a.lower().startswith("on")]
        if element.tag == "a" and element.get("href") is not None:
            assert element.get("href").startswith(("http://", "https://", "mailto:"))


def test_hostile_template_override_still_cannot_run_article_code(tmp_path: Path) -> None:
    folder = tmp_path / "mytemplates"
    folder.mkdir()
    (folder / "email.txt").write_text(
        "{% for story in stories %}{{ story.title }}\n{% endfor %}{{ UNSUBSCRIBE_URL }}\n",
        encoding="utf-8",
    )
    settings = make_settings(tmp_path, site__templates=str(folder))
    rendered = render(settings, plan_of(hostile_articles(), "en", stories=3, related=0))
    assert rendered.text.count("%%DIGEST_UNSUBSCRIBE_URL%%") == 1
    assert "{{ config }}" in rendered.text


def test_emoji_tag_characters_stay_only_inside_a_flag() -> None:
    scotland = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    assert clean_line(f"Cup final {scotland} tonight") == f"Cup final {scotland} tonight"
    assert clean_line("Hidden\U000e0020\U000e0041 tags") == "Hidden tags"
    subject = subject_line(catalogue("en"), "Site", DAY, "\U000e0020")
    assert subject == "Site · Wednesday, Jun 04, 2025"
