"""Golden files: a fixed small edition renders byte for byte as reviewed.

After an intended change to templates, catalogues or rendering, regenerate and review
the diff:

    DIGEST_REGENERATE_GOLDEN=1 python -m pytest tests/test_render_golden.py

Message-ID, MIME boundaries and dates are normalised before comparing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from digest.render import render_edition
from digest.selection.plan import EditionPlan
from digest.variants import personal_stories
from tests.test_render_support import (
    article,
    make_settings,
    message_bytes,
    plan_of,
    render,
    sample_reader,
)

GOLDEN = Path(__file__).resolve().parent / "golden"
#: Read at import: the autouse fixture clears DIGEST_* variables before each test.
REGENERATE = os.environ.get("DIGEST_REGENERATE_GOLDEN") == "1"


def golden_articles(language: str) -> list:
    if language == "ar":
        return [
            article(1, title="روسيا تُبدي قلقها من عودة الناتو إلى أفغانستان", language="ar",
                    summary="<p>مسؤولون روس يحذّرون من أنشطة <b>الناتو</b> في آسيا الوسطى.</p>",
                    image_url="https://arabpress.example/img/1.jpg", section="World"),
            article(2, title="أوبك+ تتفق على زيادة الإنتاج", language="ar", section="Business",
                    summary="<p>ثالث زيادة شهرية على التوالي، بحسب <a href='https://opec.example/'>OPEC</a>.</p>"),
            article(3, title="لافروف: الحلف يبحث عن طريق للعودة", language="ar"),
            article(4, title="طالبان خارج قائمة الإرهاب الروسية", language="ar"),
            article(5, title="أسعار النفط تتراجع بعد القرار", language="ar"),
            article(6, title="السعودية ترفع إنتاجها في يوليو", language="ar"),
        ]  # fmt: skip
    return [
        article(1, title="Russia Expresses Concerns Over NATO's Return to Afghanistan",
                summary="<p>Russian officials warn of <b>NATO</b> activities in Central Asia.</p>",
                image_url="https://arabpress.example/img/1.jpg", section="World"),
        article(2, title="OPEC+ Agrees to Increase Oil Output", section="Business",
                summary="<p>The third monthly rise in a row, says <a href='https://opec.example/'>OPEC</a>.</p>"),
        article(3, title="Lavrov: the alliance is looking for a way back"),
        article(4, title="Taliban removed from Russia's list of terrorist groups"),
        article(5, title="Oil prices slip after the decision"),
        article(6, title="Saudi Arabia to raise output in July"),
    ]  # fmt: skip


def normalise(data: bytes) -> bytes:
    boundaries = set(re.findall(rb'boundary="([^"]+)"', data))
    for number, boundary in enumerate(sorted(boundaries)):
        data = data.replace(boundary, b"BOUNDARY-%d" % number)
    data = re.sub(rb"^Message-ID: [^\r\n]*", b"Message-ID: <MESSAGE-ID>", data, flags=re.MULTILINE)
    return re.sub(rb"^Date: [^\r\n]*", b"Date: DATE", data, flags=re.MULTILINE)


def check(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return
    if not path.exists():
        pytest.fail(f"{path.name} is missing: run with DIGEST_REGENERATE_GOLDEN=1 and review it")
    expected = path.read_bytes()
    if data != expected:
        got = data.decode("utf-8", "replace").splitlines()
        want = expected.decode("utf-8", "replace").splitlines()
        first = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), None)
        line = min(len(got), len(want)) if first is None else first
        pytest.fail(
            f"{name} differs from the golden file at line {line + 1}:\n"
            f"  expected: {want[line] if line < len(want) else '<end>'}\n"
            f"  got:      {got[line] if line < len(got) else '<end>'}\n"
            "If the change is intended, regenerate with DIGEST_REGENERATE_GOLDEN=1."
        )


@pytest.mark.parametrize("language", ["en", "ar"])
def test_edition_matches_golden_files(tmp_path: Path, language: str) -> None:
    settings = make_settings(tmp_path)
    rendered = render(settings, plan_of(golden_articles(language), language, stories=2, related=2))
    check(f"edition-{language}.html", rendered.html.encode("utf-8"))
    check(f"edition-{language}.txt", rendered.text.encode("utf-8"))
    reader = sample_reader("layla@example.com", "Layla Haddad")
    check(f"edition-{language}.eml", normalise(message_bytes(settings, rendered, reader)))


#: Two reader groups besides the general one: (language, sections, zone).
GROUPS = [("en", ("business",), "Europe/London"), ("ar", ("world",), "America/New_York")]


@pytest.mark.parametrize(("language", "sections", "zone"), GROUPS)
def test_reader_group_variants_match_golden_files(tmp_path: Path, language, sections, zone) -> None:
    settings = make_settings(tmp_path, selection__min_personal_stories=2)
    general = plan_of(golden_articles(language), language, stories=2, related=2)
    pool = plan_of(golden_articles(language), language, stories=6, related=0).stories
    stories = personal_stories(general.stories, pool, sections, top_stories=2, min_stories=2)
    group = EditionPlan(general.date, language, general.window, stories)
    rendered = render_edition(group, settings, timezone=zone)
    name = f"edition-{language}-{'-'.join(sections)}-{zone.replace('/', '-').lower()}"
    check(f"{name}.html", rendered.html.encode("utf-8"))
    check(f"{name}.txt", rendered.text.encode("utf-8"))


def test_normalise_removes_what_changes_per_message() -> None:
    raw = (
        b'Content-Type: multipart/alternative; boundary="=_digest_abc"\r\n'
        b"Message-ID: <1.2@x.example>\r\nDate: Wed, 04 Jun 2025 03:30:00 +0000\r\n"
        b"\r\n--=_digest_abc--\r\n"
    )
    assert normalise(raw) == (
        b'Content-Type: multipart/alternative; boundary="BOUNDARY-0"\r\n'
        b"Message-ID: <MESSAGE-ID>\r\nDate: DATE\r\n\r\n--BOUNDARY-0--\r\n"
    )
