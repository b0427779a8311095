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
Arabic.
"""

from __future__ import annotations

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

#: Light stems (`text.stem`) of the words that name a page's format rather than its
#: story: by stem, so that بالفيديو ("in video") and بالصور are فيديو and صور, and
#: "Reporting" is "report".
LABEL_STEMS: frozenset[str] = frozenset(
    stem(word) for word in normalise(f"{_ENGLISH} {_ARABIC}").split()
)


def is_label(title: str) -> bool:
    """Whether the headline names no story: every word of it that can name one
    (`text.is_term`) stems to one of `LABEL_STEMS` (an empty headline included)."""
    return all(stem(word) in LABEL_STEMS for word in words(title) if is_term(word))
