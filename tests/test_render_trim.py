"""The 100 KB budget: long editions are trimmed predictably, never clipped mid-tag."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import lxml.html
import pytest

from digest import placeholders
from digest.errors import RenderError
from digest.render import edition, lint
from digest.render.context import Limits
from digest.render.trim import BUDGET, HTML_LIMIT, encoded_size, fit, ladder
from tests.test_render_support import (
    make_settings,
    message_bytes,
    parse,
    plan_of,
    render,
    sample_articles,
)


def giant_plan(language: str, repeat: int = 40):
    """A full edition whose summaries are far too long for one email."""
    articles = sample_articles(language)
    for item in articles:
        text = item.summary.removeprefix("<p>").removesuffix("</p>")
        item.summary = "<p>" + " ".join([text] * repeat) + "</p>"
    return plan_of(articles, language, stories=8, related=3)


@pytest.fixture(scope="module", params=["en", "ar"])
def giant(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    settings = make_settings(tmp_path_factory.mktemp("giant"))
    plan = giant_plan(request.param)
    return request.param, settings, plan, render(settings, plan)


def test_long_edition_is_trimmed_to_fit(giant) -> None:
    language, settings, plan, rendered = giant
    assert rendered.trimmed, "the giant edition should not fit untrimmed"
    assert rendered.html_size <= BUDGET
    raw = message_bytes(settings, rendered)
    html_part = parse(raw).get_body(("html",))
    assert lint.encoded_part_size(html_part) < HTML_LIMIT
    direction = "rtl" if language == "ar" else "ltr"
    assert lint.check_message(raw, language=language, direction=direction) == []
    # Whole documents: every story still has its headline link, the footer is there.
    doc = lxml.html.document_fromstring(html_part.get_content())
    assert len(doc.find_class("lead")) + len(doc.find_class("story")) == len(plan.stories)
    assert doc.find_class("footer") and rendered.html.rstrip().endswith("</html>")


def test_trimming_follows_the_ladder(giant, monkeypatch: pytest.MonkeyPatch) -> None:
    """The result is the first step of the ladder that fits: the step before does not."""
    _language, settings, plan, rendered = giant
    steps = ladder(len(plan.stories), 3)
    chosen = next(i for i, step in enumerate(steps) if step.describe() == rendered.trimmed)
    assert chosen > 0

    def size_at(limits: Limits) -> int:
        monkeypatch.setattr(edition, "ladder", lambda _stories, _related: [limits])
        with pytest.raises(RenderError) if limits == steps[chosen - 1] else nullcontext():
            return edition.render_edition(plan, settings).html_size
        return BUDGET + 1

    assert size_at(steps[chosen - 1]) > BUDGET
    assert size_at(steps[chosen]) <= BUDGET


def test_trimming_is_deterministic(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    first = render(settings, giant_plan("ar"))
    second = render(settings, giant_plan("ar"))
    assert first == second


def test_ladder_goes_from_full_to_one_bare_story() -> None:
    steps = ladder(8, 3)
    assert steps[0] == Limits()
    assert steps[-1] == Limits(stories=1, related=0, summary=0)
    assert len(steps) == len(set(steps))
    related = [step.related for step in steps if step.related is not None]
    assert related == sorted(related, reverse=True)
    assert ladder(1, 0)[-1] == Limits(related=0, summary=0)


def test_fit_picks_the_first_step_that_fits() -> None:
    steps = [Limits(stories=n) for n in (None, 7, 6, 5, 4, 3, 2, 1)]
    size = {step: 1000 - 100 * i for i, step in enumerate(steps)}
    calls: list[Limits] = []

    def render_step(step: Limits) -> Limits:
        calls.append(step)
        return step

    chosen, limits = fit(render_step, size.__getitem__, steps, budget=650)
    assert chosen == limits == steps[4]
    assert len(calls) < len(steps)  # binary search, not every step
    with pytest.raises(RenderError, match="does not fit"):
        fit(render_step, size.__getitem__, steps, budget=10)


def test_encoded_size_matches_the_mime_part(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    for language in ("en", "ar"):
        rendered = render(settings, plan_of(sample_articles(language)[:4], language, stories=2))
        html_part = parse(message_bytes(settings, rendered)).get_body(("html",))
        # The estimate used while rendering is the size of the part as sent, give or take
        # the short lines where per-recipient values meet the segments encoded once per
        # edition (digest/mime_parts.py): a few bytes of line breaks per placeholder.
        slack = 8 * rendered.html.count(placeholders.MARKER) + 4
        sent = lint.encoded_part_size(html_part)
        assert 0 <= sent - encoded_size(html_part.get_content()) <= slack


def test_a_budget_that_cannot_be_met_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    folder.mkdir()
    padding = "<!-- " + "x" * 120_000 + " -->"
    source = (Path(__file__).resolve().parent.parent / "templates" / "email.html").read_text(
        encoding="utf-8"
    )
    (folder / "email.html").write_text(source.replace("</body>", padding + "</body>"), "utf-8")
    settings = make_settings(tmp_path, site__templates=str(folder))
    with pytest.raises(RenderError, match="does not fit in 100 KB"):
        render(settings, plan_of(sample_articles("en")[:6], "en", stories=2, related=2))
