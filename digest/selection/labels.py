"""Headlines that name a format, not a story: never a top story.

A newsroom's live page or alert often carries a label for its headline ("Live: latest
updates", "Breaking news", "عاجل", "تغطية مباشرة"): the text below it tells the story,
the headline does not. Led by such a line, an edition shows its reader nothing (a
breaker pass's feeds: "Live: latest updates" led, picked over the earthquake report of
its own story). Such an article still counts as its event's report and can be a
related item; it is only never a top story, so its event is led by a headline that
says what happened.

A headline is a label when every word of it that can name a story (`text.is_term`)
stems to one of `LABEL_STEMS`, the words news sites put on such pages in English and
Arabic, or says when or who: a date ("Live Updates – June 3", "Live blog: Tuesday 3
June 2025", "تغطية مباشرة - الثلاثاء 3 حزيران") or the outlet's own name, as its web
address spells it ("Live updates | Bugle" on bugle.example). A breaker pass saw each of
those lead an edition over the report of what happened.
"""

from __future__ import annotations

from functools import lru_cache

from digest.selection.identity import site
from digest.selection.text import is_term, normalise, stem, words

_ENGLISH = """
    live latest update updates breaking news alert alerts blog liveblog minute
    developing developments story stories headline headlines roundup round briefing
    brief bulletin digest today tonight morning evening week weekly daily day video
    videos watch listen podcast photos pictures gallery explainer happened happening
    now recap highlights coverage top key moments untitled follow following reporting
    report reports know need read full inside far
"""
_ARABIC = """
    عاجل عاجلة خبر أخبار اخبار مباشر مباشرة بث تغطية تغطيات حية آخر اخر تطورات تحديث
    تحديثات مستجدات لحظة بلحظة موجز نشرة ملخص فيديو صور شاهد شاهدوا تابع تابعوا اليوم
    الآن الان أبرز ابرز
"""

#: CLDR's month and weekday names (wide and abbreviated, as `babel` gives them) in
#: English, and in Arabic as written in Egypt and the Gulf (يناير), the Levant and Iraq
#: (كانون الثاني) and the Maghreb (جانفي, يوليوز): a date on a live page says when, not
#: what. Written out, not loaded: babel reads these locales in 0.08 s, and every
#: selection process would pay it (`tests/test_select_labels.py` holds the list to
#: babel's).
DATE_WORDS = """
    january february march april may june july august september october november
    december jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday
    thursday friday saturday sunday mon tue wed thu fri sat sun
    يناير فبراير مارس أبريل مايو يونيو يوليو أغسطس سبتمبر أكتوبر نوفمبر ديسمبر
    كانون الثاني شباط آذار نيسان أيار حزيران تموز آب أيلول تشرين الأول
    جانفي فيفري أفريل ماي جوان جويلية أوت يوليوز غشت شتنبر نونبر دجنبر
    الأحد الاثنين الثلاثاء الأربعاء الخميس الجمعة السبت
"""

#: Light stems (`text.stem`) of the words that name a page's format or its date rather
#: than its story: by stem, so that بالفيديو ("in video") and بالصور are فيديو and صور,
#: and "Reporting" is "report".
LABEL_STEMS: frozenset[str] = frozenset(
    stem(word) for word in normalise(f"{_ENGLISH} {_ARABIC} {DATE_WORDS}").split()
)


def is_label(title: str, url: str = "") -> bool:
    """Whether the headline names no story: every word of it that can name one
    (`text.is_term`) stems to one of `LABEL_STEMS`, is a number (a date's day or year),
    or is a word of the name of the site at `url` (its registrable domain without the
    suffix: "bugle" of www.bugle.example, "al" and "monitor" of al-monitor.com). An
    empty headline is one."""
    for word in words(title):
        if _says_nothing(word):
            continue
        # most headlines end here, at their first word: a word the URL does not hold
        # cannot name its site, and the site is read only for one it holds
        if word not in url.lower() or word not in _outlet_words(url):
            return False
    return True


@lru_cache(maxsize=2**14)  # an edition asks of ten thousand headlines, sharing words
def _says_nothing(word: str) -> bool:
    """Whether a normalised word cannot name a story: no term, a number, a label."""
    return not is_term(word) or word.isdigit() or stem(word) in LABEL_STEMS


def _outlet_words(url: str) -> set[str]:
    return set(normalise(site(url).split(".", 1)[0].replace("-", " ")).split())
