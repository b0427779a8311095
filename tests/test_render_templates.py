"""Template overrides, catalogues (adding a language), and clear errors for both."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from digest import i18n
from digest.errors import RenderError
from digest.render import lint
from tests.test_render_support import full_plan, make_settings, plan_of, render, sample_articles

REPO_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
EN_CATALOGUE = Path(i18n.__file__).parent / "locale" / "en.toml"


def override_folder(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "mytemplates"
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def test_override_folder_takes_precedence(tmp_path: Path) -> None:
    folder = override_folder(
        tmp_path, {"email.txt": "Custom {{ site.name }} {{ UNSUBSCRIBE_URL }}\n"}
    )
    settings = make_settings(tmp_path, site__templates=str(folder))
    rendered = render(settings, full_plan("en"))
    assert rendered.text == "Custom Arab Press %%DIGEST_UNSUBSCRIBE_URL%%\n"
    assert "<h1" in rendered.html  # email.html still comes from the package


def test_override_folder_relative_to_the_config(tmp_path: Path) -> None:
    override_folder(tmp_path, {"email.txt": "relative {{ UNSUBSCRIBE_URL }}\n"})
    settings = make_settings(tmp_path, site__templates="mytemplates")
    assert render(settings, full_plan("en")).text.startswith("relative ")


def test_missing_override_folder_is_named(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, site__templates="nowhere")
    with pytest.raises(RenderError, match=r"\[site\] templates: folder .*nowhere does not exist"):
        render(settings, full_plan("en"))


def test_template_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    folder = override_folder(tmp_path, {"email.txt": "line one\n{% for x in %}\n"})
    settings = make_settings(tmp_path, site__templates=str(folder))
    with pytest.raises(RenderError, match=r"email\.txt, line 2: "):
        render(settings, full_plan("en"))


def test_undefined_variable_is_an_error_with_its_line(tmp_path: Path) -> None:
    folder = override_folder(tmp_path, {"email.txt": "ok\n{{ story_list }}\n"})
    settings = make_settings(tmp_path, site__templates=str(folder))
    with pytest.raises(RenderError, match=r"email\.txt, line 2: 'story_list' is undefined"):
        render(settings, full_plan("en"))


def test_autoescape_applies_to_overridden_html(tmp_path: Path) -> None:
    source = (REPO_TEMPLATES / "email.html").read_text(encoding="utf-8")
    folder = override_folder(
        tmp_path, {"email.html": source.replace("</body>", "<p>{{ site.name }}</p></body>")}
    )
    settings = make_settings(
        tmp_path, site__templates=str(folder), site__name='<img src=x onerror="a()">'
    )
    rendered = render(settings, full_plan("en"))
    assert "<img src=x" not in rendered.html
    assert "&lt;img src=x onerror=" in rendered.html


def french_catalogue() -> str:
    text = EN_CATALOGUE.read_text(encoding="utf-8")
    replacements = {
        '"Today\'s top stories"': '"Les titres du jour"',
        'related = "Related"': 'related = "À lire aussi"',
        'unsubscribe = "Unsubscribe"': 'unsubscribe = "Se désabonner"',
        'edition = "EEEE, MMM dd, y"': 'edition = "EEEE d MMMM y"',
        'time = "h:mm a"': 'time = "HH:mm"',
    }
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def test_adding_a_language_is_adding_a_catalogue(tmp_path: Path) -> None:
    folder = override_folder(tmp_path, {"locale/fr.toml": french_catalogue()})
    settings = make_settings(tmp_path, site__templates=str(folder), site__languages="en,fr")
    articles = [a for a in sample_articles("en")[:8]]
    for item in articles:
        item.language = "fr"
    rendered = render(settings, plan_of(articles, "fr", stories=2, related=2))
    assert "mercredi 4 juin 2025" in rendered.html and "mercredi 4 juin 2025" in rendered.text
    assert ">À lire aussi<" in rendered.html and "Se désabonner" in rendered.html
    assert 'lang="fr" dir="ltr"' in rendered.html
    assert (
        lint.check_parts(
            rendered.html, rendered.text, subject=rendered.subject, language="fr", direction="ltr"
        )
        == []
    )
    assert i18n.known_languages([folder / "locale"]) == ["ar", "en", "fr"]


def test_unknown_language_names_the_fix() -> None:
    with pytest.raises(RenderError, match=r"no catalogue for language 'xx'.*locale/xx\.toml"):
        i18n.catalogue("xx")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('related = "Related"\n', ""), r"\[strings\] related: missing"),
        (('related = "Related"', 'related = "Related {site}"'), r"related: unknown field \{site\}"),
        (('greeting = "Hello {name},"', 'greeting = "Hello {name.__class__},"'), "unknown field"),
        (('related = "Related"', 'related = "Related"\nrelatd = "typo"'), "relatd: unknown key"),
        (('edition = "EEEE, MMM dd, y"', "edition = 3"), r"\[dates\] edition: expected a string"),
        (("\n[sections]\n", '\n[extra]\nkey = "v"\n[sections]\n'), r"unknown table \[extra\]"),
        (('direction = "ltr"', 'direction = "sideways"'), r"\[meta\] direction"),
        (("\n[dates]\n", "\n[dates\n"), "cannot read catalogue"),
    ],
)
def test_broken_catalogues_name_file_and_key(tmp_path: Path, change, message: str) -> None:
    old, new = change
    text = EN_CATALOGUE.read_text(encoding="utf-8")
    assert old in text
    folder = tmp_path / "locale"
    folder.mkdir()
    (folder / "en.toml").write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RenderError, match=message) as error:
        i18n.catalogue("en", [folder])
    assert str(folder / "en.toml") in str(error.value)


def test_catalogue_without_babel_locale_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "locale"
    folder.mkdir()
    (folder / "qq.toml").write_text(EN_CATALOGUE.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(RenderError, match="babel has no locale data for 'qq'"):
        i18n.catalogue("qq", [folder])


def test_packaged_catalogues_are_complete_and_dates_localised() -> None:
    day = date(2025, 6, 4)
    assert i18n.long_date(day, "en") == "Wednesday, Jun 04, 2025"
    assert i18n.long_date(day, "ar") == "الأربعاء، 4 يونيو 2025"
    assert i18n.direction("ar") == "rtl" and i18n.direction("en") == "ltr"
    for language in ("en", "ar"):
        strings = i18n.catalogue(language).strings
        assert set(strings) == set(i18n.FIELDS)
