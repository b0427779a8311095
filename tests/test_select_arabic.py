"""Arabic editions: one event spelt the ways different newsrooms spell it."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Digest
from tests.test_select import guids, plan_of, write_feed


def test_a_name_spelt_with_a_long_vowel_more_or_less_is_one_name(
    digest: Digest, initialised: Path
) -> None:
    # Newsrooms transliterate: ترامب or ترمب, الأمريكي or الأميركي. Two outlets report the
    # president's arrival in Riyadh, each in its own spelling: one event, one top story.
    # A short native word a vowel away from another stays itself: the flag (علم) of
    # Morocco and the World (عالم) Cup in Morocco are two stories.
    items = [
        ("a-1", "ترامب يصل إلى الرياض في أول جولة خليجية", "سياسة", "03T20"),
        ("b-1", "الرئيس الأميركي ترمب يصل الرياض وسط استقبال رسمي", "سياسة", "03T21"),
        ("a-2", "الهلال يفوز على النصر في ديربي العاصمة", "رياضة", "03T19"),
        ("a-3", "أرامكو تطرح سندات دولارية بقيمة 5 مليارات", "اقتصاد", "03T18"),
        ("a-4", "رفع علم المغرب فوق مبنى البلدية الجديد", "محليات", "03T11"),
        ("b-3", "كأس العالم للأندية تنطلق في المغرب", "رياضة", "03T10"),
        # Yesterday's news, in the archive: "Riyadh" is no rare word.
        ("b-2", "افتتاح معرض الرياض الدولي للكتاب", "ثقافة", "02T12"),
        ("b-4", "وفد تجاري يصل الرياض لبحث الاستثمار", "اقتصاد", "02T10"),
    ]
    news = [
        {
            "guid": guid,
            "url": f"https://{guid[0]}.example/{guid}",
            "title": title,
            "summary": "",
            "section": section,
            "language": "ar",
            "published_at": f"2025-06-{when}:00:00Z",
        }
        for guid, title, section, when in items
    ]
    digest.ok("ingest", str(write_feed(initialised, "ar.jsonl", news)))
    tops, related = guids(plan_of(digest, "--lang", "ar"))
    assert sorted(tops) == ["a-2", "a-3", "a-4", "b-1", "b-3"]
    assert related["b-1"] == ["a-1"]
