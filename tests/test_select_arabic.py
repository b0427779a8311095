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


def test_two_rate_rises_in_two_countries_are_two_stories(digest: Digest, initialised: Path) -> None:
    # Egypt's and Turkey's central banks raise rates the same day: their headlines share
    # every word of what happened and name two countries (one by its adjective). An
    # edition has no names step; where headlines name places and none in common, they
    # are two events, never one story's reports or each other's related items.
    items = [
        ("a-1", "المركزي المصري يرفع الفائدة 300 نقطة أساس في اجتماع استثنائي", "اقتصاد", "03T08"),
        ("b-1", "مصر ترفع أسعار الفائدة 3% لكبح التضخم", "اقتصاد", "03T09"),
        ("a-2", "المركزي التركي يرفع الفائدة 500 نقطة أساس في اجتماع استثنائي", "اقتصاد", "03T10"),
        ("b-2", "الهلال يتوج بلقب الدوري بعد فوزه على النصر", "رياضة", "03T11"),
        ("a-3", "افتتاح معرض للكتاب بمشاركة مئات دور النشر", "ثقافة", "03T12"),
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
    digest.ok("ingest", str(write_feed(initialised, "rates.jsonl", news)))
    plan = plan_of(digest, "--lang", "ar", "--explain")
    tops, related = guids(plan)
    assert "a-2" in tops and ("a-1" in tops) != ("b-1" in tops)
    egypt = next(story for story in plan["stories"] if story["article"]["guid"] in ("a-1", "b-1"))
    grouped = {report["guid"] for report in egypt["explanation"]["reports"]}
    assert "a-2" not in grouped and "a-2" not in related[egypt["article"]["guid"]]
