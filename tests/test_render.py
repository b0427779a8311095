"""Rendering a full edition: email-safe structure, direction, dates, text twin, safety."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest

from digest.render import lint
from digest.render.plain import display_width, is_url_line
from digest.render.trim import HTML_LIMIT
from tests.test_render_support import (
    full_plan,
    make_settings,
    message_bytes,
    parse,
    parts,
    render,
    sample_reader,
)

LANGUAGES = [("en", "ltr"), ("ar", "rtl")]


@pytest.fixture(scope="module")
def editions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    """Each language's full edition rendered once, and one subscriber's message."""
    settings = make_settings(tmp_path_factory.mktemp("render"))
    built = {}
    for language, _direction in LANGUAGES:
        rendered = render(settings, full_plan(language))
        built[language] = (settings, rendered, message_bytes(settings, rendered))
    return built


def doc_of(html: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(html)


@pytest.mark.parametrize(("language", "direction"), LANGUAGES)
def test_full_edition_passes_every_email_check(editions, language, direction) -> None:
    _settings, rendered, raw = editions[language]
    assert rendered.trimmed == ""
    template_findings = lint.check_parts(
        rendered.html, rendered.text, subject=rendered.subject, language=language,
        direction=direction,
    )  # fmt: skip
    assert template_findings == []
    assert lint.check_message(raw, language=language, direction=direction) == []


@pytest.mark.parametrize(("language", "direction"), LANGUAGES)
def test_layout_is_email_safe(editions, language, direction) -> None:
    _settings, rendered, _raw = editions[language]
    doc = doc_of(rendered.html)
    tables = doc.findall(".//table")
    assert tables and all(t.get("role") == "presentation" for t in tables)
    container = doc.find_class("container")[0]
    assert "max-width:600px" in container.get("style").replace(" ", "")
    assert re.search(r"<!--\[if mso\]><table[^>]*width=\"600\"", rendered.html)
    for tag in ("script", "form", "iframe", "link", "object", "embed"):
        assert doc.find(f".//{tag}") is None, tag
    assert "@import" not in rendered.html
    assert not re.search(r"display\s*:\s*(flex|grid)", rendered.html)
    styles = [s.text or "" for s in doc.iter("style")]
    assert sum(len(s.encode()) for s in styles) < 16 * 1024
    # Only @media rules are left in <style>; everything else is inlined.
    assert all(
        prelude.startswith("@media") for css in styles for prelude in lint._top_level_rules(css)
    )
    lead = doc.find_class("lead-headline")[0]
    assert "font-size:28px" in lead.get("style").replace(" ", "")
    headline = doc.find_class("headline")[0]
    assert "font-size:20px" in headline.get("style").replace(" ", "")


@pytest.mark.parametrize(("language", "direction"), LANGUAGES)
def test_lang_and_dir_on_html_body_and_wrapper(editions, language, direction) -> None:
    _settings, rendered, _raw = editions[language]
    doc = doc_of(rendered.html)
    wrapper = doc.find(".//body").find(".//table")
    for element in (doc, doc.find(".//body"), wrapper, doc.find_class("container")[0]):
        assert element.get("lang") == language
        assert element.get("dir") == direction
    style = wrapper.get("style").replace(" ", "")
    align = "right" if direction == "rtl" else "left"
    assert f"direction:{direction}" in style and f"text-align:{align}" in style


def test_arabic_edition_isolates_latin_runs(editions) -> None:
    _settings, rendered, _raw = editions["ar"]
    doc = doc_of(rendered.html)
    h1 = doc.findall(".//h1")
    assert len(h1) == 1
    isolated = h1[0].find("bdi")
    assert isolated is not None and isolated.get("dir") == "auto"
    # The masthead and tagline are the Arabic ones, not the English edition's.
    assert isolated.text_content() == "عرب برس"
    assert doc.find_class("tagline")[0].text_content() == "بالشعب و للشعب"
    en = doc_of(editions["en"][1].html)
    assert en.find(".//h1").text_content() == "Arab Press"
    assert en.find_class("tagline")[0].text_content() == "By the people, for the people"
    # The site address in the footer is an LTR island in the RTL footer.
    footer = doc.find_class("footer")[0]
    assert any(b.get("dir") == "ltr" and "https://" in b.text_content() for b in footer.iter("bdi"))


def test_front_page_lead_then_sections(editions) -> None:
    settings, rendered, _raw = editions["en"]
    plan = full_plan("en")
    doc = doc_of(rendered.html)
    assert doc.find(".//title").text == rendered.subject
    # The lead: picture, larger headline, standfirst, its related items under it.
    lead, story = doc.find_class("lead")[0], plan.stories[0]
    image = lead.find(".//img")
    assert image.get("alt") == story.article.title
    assert image.get("width") == "552" and image.get("height") == "310"
    link = lead.find_class("lead-headline")[0].find("a")
    assert link.get("href") == story.article.url
    assert link.text_content() == story.article.title
    assert "Russian officials warn" in lead.find_class("standfirst")[0].text_content()
    assert re.match(r"6:10\sAM GMT\+3$", lead.find_class("meta")[0].text_content())
    related = [a.get("href") for a in lead.find_class("related-block")[0].iter("a")]
    assert related == [item.article.url for item in story.related]
    # In this edition: the other seven, grouped by section in order of their best story.
    assert doc.find_class("toc-title")[0].text_content() == "In this edition"
    stories = doc.find_class("story")
    assert len(stories) == len(plan.stories) - 1 == 7
    shown = [s.find_class("headline")[0].find("a").get("href") for s in stories]
    expected_sections: list[str] = []
    for item in plan.stories[1:]:
        if item.article.section not in expected_sections:
            expected_sections.append(item.article.section)
    grouped = [i.article.url for name in expected_sections for i in plan.stories[1:]
               if i.article.section == name]  # fmt: skip
    assert shown == grouped
    names = [element.text_content() for element in doc.find_class("section-name")]
    assert names == expected_sections
    assert "Read more" not in rendered.html and "Read more" not in rendered.text
    footer = doc.find_class("footer")[0].text_content()
    assert "subscribed to the Arab Press daily digest" in footer
    assert "Manage your preferences" in footer and "Unsubscribe" in footer
    assert settings.site.postal_address in footer
    assert settings.site.url in footer


def test_headlines_are_links_without_underline_in_one_colour(editions) -> None:
    for language, _direction in LANGUAGES:
        _settings, rendered, _raw = editions[language]
        doc = doc_of(rendered.html)
        headlines = [a for a in doc.iter("a") if "headline-link" in (a.get("class") or "")]
        assert len(headlines) > 8
        for link in headlines:
            style = link.get("style").replace(" ", "")
            assert "text-decoration:none" in style and "font-weight:bold" in style
        colours = {
            re.search(r"(?<![-\w])color:\s*(#[0-9a-f]+)", a.get("style") or "").group(1)
            for a in doc.iter("a")
            if a.find(".//img") is None
        }
        assert colours == {"#0b57a4"}


def test_view_in_browser_links_to_the_archive_page(editions) -> None:
    settings, rendered, _raw = editions["ar"]
    url = f"{settings.public_url}/archive/2025-06-04/ar/"
    links = [a.get("href") for a in doc_of(rendered.html).iter("a")]
    assert links[0] == url
    assert url in rendered.text


def test_hidden_preheader_names_the_next_stories(editions) -> None:
    _settings, rendered, _raw = editions["en"]
    doc = doc_of(rendered.html)
    preheader = doc.find(".//body")[0]
    assert "display:none" in preheader.get("style").replace(" ", "")
    plan = full_plan("en")
    assert plan.stories[0].article.title not in rendered.preheader
    assert rendered.preheader.startswith("Also today: " + plan.stories[1].article.title)
    assert plan.stories[2].article.title in rendered.preheader
    assert preheader.text_content().startswith(rendered.preheader)


def test_configured_preheader(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, site__preheader="Your morning\r\nbriefing\u202e")
    rendered = render(settings, full_plan("en"))
    assert rendered.preheader == "Your morning briefing"
    assert "Your morning briefing" in doc_of(rendered.html).find(".//body")[0].text_content()
    templated = make_settings(tmp_path, site__preheader={"en": "{site}: {stories}"})
    rendered = render(templated, full_plan("en"))
    assert rendered.preheader.startswith("Arab Press: Majority of French Voters")


def test_localised_dates_and_strings(editions) -> None:
    _s, en, _ = editions["en"]
    _s, ar, _ = editions["ar"]
    assert "Wednesday, Jun 04, 2025" in en.html and "Wednesday, Jun 04, 2025" in en.text
    assert "الأربعاء، 4 يونيو 2025" in ar.html and "الأربعاء، 4 يونيو 2025" in ar.text
    assert ">Related<" in en.html and ">ذات صلة<" in ar.html
    assert "إلغاء الاشتراك" in ar.html and "Unsubscribe" in en.html
    assert ">العالم<" in ar.html  # section names come from the catalogue


@pytest.mark.parametrize(("language", "direction"), LANGUAGES)
def test_subject_is_the_lead_headline_within_60_columns(editions, language, direction) -> None:
    _settings, rendered, raw = editions[language]
    assert display_width(rendered.subject) <= 60
    assert "Arab Press" not in rendered.subject and "عرب برس" not in rendered.subject
    lead = full_plan(language).stories[0].article.title
    shown = rendered.subject.rstrip("…")
    assert lead.startswith(shown) and len(shown) > 30
    # Cut at a word boundary: what is shown ends where a word of the headline ends.
    assert lead == shown or lead[len(shown)] == " "
    assert parse(raw)["Subject"] == rendered.subject


def test_subject_template_from_settings(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, mail__subject={"en": "{site}: {headline}", "ar": "{headline}"}
    )
    rendered = render(settings, full_plan("en"))
    assert rendered.subject.startswith("Arab Press: Russia Expresses")
    assert display_width(rendered.subject) <= 60
    assert render(settings, full_plan("ar")).subject.startswith("روسيا")


@pytest.mark.parametrize(("language", "direction"), LANGUAGES)
def test_text_part_is_complete_and_wrapped(editions, language, direction) -> None:
    _settings, _rendered, raw = editions[language]
    html, text = parts(raw)
    plan = full_plan(language)
    for story in plan.stories:
        assert story.article.url in text
        for item in story.related:
            assert item.article.url in text
            assert item.article.title.split()[0] in text
    unsubscribe = parse(raw)["List-Unsubscribe"].split("<")[1].split(">")[0]
    assert unsubscribe in text and unsubscribe in html
    for line in text.splitlines():
        assert display_width(line) <= 78 or is_url_line(line), line
    assert "%%DIGEST_" not in text + html


def test_greeting_and_address_are_personalised_and_escaped(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    rendered = render(settings, full_plan("en"))
    reader = sample_reader("eve@example.com", 'Eve <b>"x"</b> %%DIGEST_UNSUBSCRIBE_URL%%')
    html, text = parts(message_bytes(settings, rendered, reader))
    assert "Hello Eve &lt;b&gt;&#34;x&#34;&lt;/b&gt;" in html
    assert "<b>" not in html.split('class="greeting"')[1].split("</td>")[0]
    assert 'Hello Eve <b>"x"</b> %%' in text  # plain text: verbatim
    # The name did not become a second unsubscribe link in either part.
    assert html.count("/u/") == 1 and text.count("/u/") == 1
    assert "eve@example.com" in doc_of(html).find_class("footer")[0].text_content()


def test_every_top_story_url_is_absolute(editions) -> None:
    _settings, rendered, _raw = editions["ar"]
    for link in doc_of(rendered.html).iter("a"):
        href = link.get("href")
        assert href.startswith("https://") or href in (
            "%%DIGEST_UNSUBSCRIBE_URL%%",
            "%%DIGEST_PREFERENCES_URL%%",
        ), href


def test_html_part_as_sent_is_under_the_gmail_budget(editions) -> None:
    for language, _direction in LANGUAGES:
        _settings, _rendered, raw = editions[language]
        html_part = parse(raw).get_body(("html",))
        assert lint.encoded_part_size(html_part) < HTML_LIMIT


def test_rendering_is_deterministic(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    first = render(settings, full_plan("ar"))
    second = render(settings, full_plan("ar"))
    assert first == second


def test_empty_edition_still_renders_a_valid_email(tmp_path: Path) -> None:
    from tests.test_render_support import plan_of

    settings = make_settings(tmp_path)
    rendered = render(settings, plan_of([], "en"))
    assert "No new stories today." in rendered.html and "No new stories today." in rendered.text
    assert rendered.subject == "Arab Press · Wednesday, Jun 04, 2025"
    findings = lint.check_parts(
        rendered.html, rendered.text, subject=rendered.subject, language="en", direction="ltr"
    )
    assert findings == []


def test_logo_and_postal_address(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        site__logo_url="https://arabpress.example/logo.png",
        site__logo_width=240,
        site__logo_height=60,
        site__postal_address="1 Press Street, Riyadh",
    )
    rendered = render(settings, full_plan("en"))
    doc = doc_of(rendered.html)
    logo = doc.find(".//h1//img")
    assert logo.get("src") == "https://arabpress.example/logo.png"
    assert (logo.get("alt"), logo.get("width"), logo.get("height")) == ("Arab Press", "240", "60")
    assert "1 Press Street, Riyadh" in doc.find_class("footer")[0].text_content()
    assert "1 Press Street, Riyadh" in rendered.text
    assert (
        lint.check_parts(
            rendered.html, rendered.text, subject=rendered.subject, language="en", direction="ltr"
        )
        == []
    )


def test_emoji_newer_than_the_unicode_tables_are_kept(tmp_path: Path) -> None:
    """U+1FA77 and U+1FAE8 are unassigned to Python 3.11's tables (Unicode 14): still
    characters, kept in subject, heading and text; non-characters still go."""
    from tests.test_render_support import article, plan_of

    title = "Pink heart \U0001fa77 and shaking face \U0001fae8 reach every phone\ufffe"
    settings = make_settings(tmp_path)
    rendered = render(settings, plan_of([article(1, title=title)], "en", related=0))
    kept = "Pink heart \U0001fa77 and shaking face \U0001fae8 reach every phone"
    assert rendered.subject == kept
    assert doc_of(rendered.html).find_class("lead-headline")[0].text_content() == kept
    assert kept in rendered.text and "\ufffe" not in rendered.text
    assert parse(message_bytes(settings, rendered))["Subject"] == kept
    assert display_width("\U0001fa77") == 2


@pytest.mark.parametrize(("language", "direction"), LANGUAGES)
def test_text_lines_fit_with_a_long_address(tmp_path: Path, language, direction) -> None:
    settings = make_settings(tmp_path)
    rendered = render(settings, full_plan(language))
    reader = sample_reader("layla.haddad.the.long.address@newsroom.example.com", "Layla")
    _html, text = parts(message_bytes(settings, rendered, reader))
    assert "layla.haddad.the.long.address@newsroom.example.com" in text
    for line in text.splitlines():
        assert display_width(line) <= 78 or is_url_line(line), line
