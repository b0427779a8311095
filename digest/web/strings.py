"""The unsubscribe pages' words, per language, and choosing the language of a page.

`{site}` and `{email}` are filled in (escaped) by the page; every language has every key.
"""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "confirm_title": "Unsubscribe",
        "confirm_heading": "Unsubscribe from the {site} daily digest?",
        "confirm_text": "{email} will no longer receive the daily digest.",
        "button": "Unsubscribe",
        "done_title": "Unsubscribed",
        "done_heading": "You are unsubscribed",
        "done_text": "{email} will not receive the {site} daily digest any more.",
        "already_heading": "You are already unsubscribed",
        "already_text": "{email} does not receive the {site} daily digest.",
        "gone_heading": "This address is not on our list",
        "gone_text": "There is nothing to unsubscribe: this address no longer receives the digest.",
        "invalid_title": "Link not valid",
        "invalid_heading": "This link is not valid",
        "invalid_text": "The unsubscribe link may be incomplete. Open it again from the email, "
        "or use the unsubscribe link in a newer edition.",
        "bad_request_heading": "Nothing was changed",
        "bad_request_text": "This request did not ask to unsubscribe. Use the button on the "
        "unsubscribe page.",
        "visit": "Visit {site}",
    },
    "ar": {
        "confirm_title": "إلغاء الاشتراك",
        "confirm_heading": "إلغاء الاشتراك في النشرة اليومية من {site}؟",
        "confirm_text": "لن تصل النشرة اليومية إلى {email} بعد الآن.",
        "button": "إلغاء الاشتراك",
        "done_title": "تم إلغاء الاشتراك",
        "done_heading": "تم إلغاء اشتراكك",
        "done_text": "لن تصل النشرة اليومية من {site} إلى {email} بعد الآن.",
        "already_heading": "اشتراكك ملغى بالفعل",
        "already_text": "لا تصل النشرة اليومية من {site} إلى {email}.",
        "gone_heading": "هذا العنوان غير موجود في قائمتنا",
        "gone_text": "لا يوجد اشتراك لإلغائه: لم تعد النشرة تصل إلى هذا العنوان.",
        "invalid_title": "رابط غير صالح",
        "invalid_heading": "هذا الرابط غير صالح",
        "invalid_text": "ربما يكون رابط إلغاء الاشتراك ناقصًا. افتحه مرة أخرى من الرسالة، "
        "أو استخدم رابط إلغاء الاشتراك في عدد أحدث.",
        "bad_request_heading": "لم يتغيّر شيء",
        "bad_request_text": "هذا الطلب لا يطلب إلغاء الاشتراك. استخدم الزر في صفحة إلغاء الاشتراك.",
        "visit": "زيارة {site}",
    },
}

RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur"})


def direction(language: str) -> str:
    return "rtl" if language in RTL_LANGUAGES else "ltr"


def page_language(
    preferred: str | None, accept_language: str, site_languages: tuple[str, ...]
) -> str:
    """The subscriber's language if we have its words, else the browser's best choice
    among the site's languages, else the site's first language we have words for."""
    available = [language for language in site_languages if language in STRINGS] or list(STRINGS)
    if preferred in STRINGS:
        return preferred  # type: ignore[return-value]
    for language in _accepted(accept_language):
        if language in available:
            return language
    return available[0]


def _accepted(header: str) -> list[str]:
    """Primary language tags of an Accept-Language header, best first (q=0 dropped)."""
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
