"""The reader-facing pages' words and rendering: one catalogue system, one Jinja environment.

The words come from the `[web]` table of the same TOML catalogues as the email
(`digest/i18n.py`). A site language without a catalogue, or a catalogue without some web
keys, shows the English words; `digest serve` says so once in the log, at start-up. The
page's `lang` and `dir` stay those of the reader's language (babel knows which scripts
run right to left), and the fallback text is marked `lang="en" dir="ltr"` inside it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup, escape
from starlette.responses import HTMLResponse

from digest import i18n
from digest.config import Settings, localised
from digest.render.environment import get_template, locale_dirs, make_environment

log = logging.getLogger("digest.web")

FALLBACK = "en"

#: Sent with every reader-facing page: no scripts, nothing from elsewhere, never framed.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    # Not "no-referrer": with it, browsers send `Origin: null` on the form posts, and the
    # Origin check could not tell our forms from anyone's. Same-origin still keeps tokens
    # in our URLs from ever reaching another site.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class PageWords:
    """One page language's words: `language`/`direction` are the page's, `text_*` the words'."""

    language: str
    direction: str
    text_language: str
    text_direction: str
    strings: Mapping[str, str]
    sections: Mapping[str, str] = field(default_factory=dict)

    @property
    def fell_back(self) -> bool:
        return self.text_language != self.language

    def say(self, key: str, **fields: Any) -> Markup:
        """The string, HTML-escaped; each field escaped, and an address isolated in `<bdi>`."""
        values = {
            name: Markup('<bdi dir="ltr">{}</bdi>').format(value)
            if name == "email"
            else escape(value)
            for name, value in fields.items()
        }
        return Markup(str(escape(self.strings[key])).format(**values))

    def plain(self, key: str, **fields: Any) -> str:
        return self.strings[key].format(**{name: str(v) for name, v in fields.items()})

    def section(self, name: str) -> str:
        return self.sections.get(name, name)


def load_words(languages: Sequence[str], extra: Sequence[Path] = ()) -> dict[str, PageWords]:
    """Words for each site language, English filling what a catalogue lacks (logged once).

    Raises RenderError for a catalogue that exists but is broken: that is the operator's
    to fix, not to hide.
    """
    english = i18n.catalogue(FALLBACK, extra)
    words: dict[str, PageWords] = {}
    for language in dict.fromkeys([*languages, FALLBACK]):
        found = i18n.find_catalogue(language, extra)
        direction = found.direction if found else i18n.script_direction(language)
        if found is None:
            log.warning(
                "no catalogue for site language %r: its web pages show English text "
                "(add locale/%s.toml to the templates folder)",
                language,
                language,
            )
            words[language] = PageWords(
                language, direction, FALLBACK, english.direction, english.web, english.sections
            )
            continue
        missing = sorted(set(english.web) - set(found.web))
        if missing:
            log.warning(
                "%s: no [web] %s: those pages show English text there",
                found.source,
                ", ".join(missing),
            )
            strings = {**english.web, **found.web}
        else:
            strings = dict(found.web)
        words[language] = PageWords(
            language, direction, language, direction, strings, found.sections
        )
    return words


def choose_language(
    preferred: str | None, accept_language: str, site_languages: Sequence[str]
) -> str:
    """The subscriber's (or asked-for) language if the site has it, else the browser's best
    choice among the site's languages, else the site's first language."""
    if preferred in site_languages:
        return preferred  # type: ignore[return-value]
    for language in accepted_languages(accept_language):
        if language in site_languages:
            return language
    return site_languages[0]


def accepted_languages(header: str) -> list[str]:
    """Primary language tags of an Accept-Language header, best first (q=0 dropped).

    RFC 9110 section 12.5.4; only the first 20 entries are read."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary and quality > 0:
            ranked.append((-quality, position, primary))
    return [language for _q, _p, language in sorted(ranked)]


def mask(email: str) -> str:
    """`l•••@example.com`: enough for the reader to recognise, little for anyone else."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}•••@{domain}"


class PageRenderer:
    """Renders the reader-facing pages in a language, with the site's identity."""

    def __init__(self, settings: Settings) -> None:
        self.environment = make_environment(settings)
        self.languages = settings.site.languages
        self.words = load_words(self.languages, locale_dirs(settings))
        self._site_name = settings.site.name
        site_url = settings.site.url
        self.site_url = site_url if urlsplit(site_url).scheme in ("http", "https") else ""

    def site_name(self, words: PageWords) -> str:
        """The publication's name in the page's language (`site.name` may be a table per
        language: an Arabic page said "Arab Press" where the email says "عرب برس")."""
        return localised(self._site_name, words.language)

    def language(self, preferred: str | None, accept_language: str) -> PageWords:
        return self.words[choose_language(preferred, accept_language, self.languages)]

    def render(
        self,
        template: str,
        words: PageWords,
        *,
        title: str,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        headers = {**HEADERS, **(headers or {})}
        html = get_template(self.environment, template).render(
            referrer_policy=headers["Referrer-Policy"],
            page=words,
            w=words.say,
            title=words.strings[title],
            site_name=self.site_name(words),
            site_url=self.site_url,
            visit=words.say("visit", site=self.site_name(words)),
            **context,
        )
        return HTMLResponse(html, status_code=status, headers=headers)
