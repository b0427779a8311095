"""Localised strings and dates for the email, per language (babel does dates)."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_time

from digest.errors import RenderError

#: One catalogue per language; adding a language is adding an entry with every key.
CATALOGUES: dict[str, dict[str, str]] = {
    "en": {
        "top_stories": "Top stories",
        "related": "Related",
        "read_more": "Read more",
        "greeting": "Good morning, {name}",
        "greeting_anonymous": "Good morning",
        "intro": "Here are today's top stories from {site}.",
        "why": "You receive this email because you subscribed to the {site} daily digest.",
        "unsubscribe": "Unsubscribe",
        "view_site": "Visit {site}",
        "published": "Published {time}",
        "subject": "{site} · {date}: {headline}",
        "empty": "No new stories today.",
    },
    "ar": {
        "top_stories": "أهم الأخبار",
        "related": "ذات صلة",
        "read_more": "اقرأ المزيد",
        "greeting": "صباح الخير يا {name}",
        "greeting_anonymous": "صباح الخير",
        "intro": "إليك أهم أخبار اليوم من {site}.",
        "why": "تصلك هذه الرسالة لأنك مشترك في النشرة اليومية من {site}.",
        "unsubscribe": "إلغاء الاشتراك",
        "view_site": "زيارة {site}",
        "published": "نُشر {time}",
        "subject": "{site} · {date}: {headline}",
        "empty": "لا أخبار جديدة اليوم.",
    },
}

RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur"})


def catalogue(language: str) -> dict[str, str]:
    try:
        return CATALOGUES[language]
    except KeyError:
        raise RenderError(
            f"no strings for language {language!r}",
            hint=f"known languages: {', '.join(sorted(CATALOGUES))}",
        ) from None


def direction(language: str) -> str:
    return "rtl" if language in RTL_LANGUAGES else "ltr"


def long_date(day: date, language: str) -> str:
    """'Wednesday, Jun 04, 2025' and its equivalent in the edition's language."""
    return format_date(day, "EEEE, MMM dd, y", locale=language)


def short_time(moment: datetime, language: str, timezone: str) -> str:
    return format_time(moment, "HH:mm", tzinfo=_zone(timezone), locale=language)


def _zone(timezone: str):  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo(timezone)
