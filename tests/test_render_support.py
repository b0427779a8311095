"""Builders shared by the render, preview and spam tests (this module holds no tests).

Editions are built from the bundled sample feeds (real headlines and summaries of the
site, in English and Arabic) straight into a plan, so the render tests do not depend on
what selection picks; hostile articles come from the cases below.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from digest import editions, pipeline
from digest.config import Settings, load_settings
from digest.db import Database
from digest.models import Article
from digest.render import RenderedEdition, render_edition
from digest.selection.plan import EditionPlan, RelatedItem, Story, Window
from subscribers.models import Subscriber

SAMPLES = Path(pipeline.__file__).parent / "data" / "sample"
DAY = date(2025, 6, 4)
NOW = datetime(2025, 6, 4, 3, 30, tzinfo=UTC)
SECRET = "test-secret-key-for-render-tests"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
POSTAL_ADDRESS = "Arab Press, 12 Example Street, Riyadh 12345, Saudi Arabia"


def make_settings(base: Path, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults (plus `section.key` overrides) with a fixed token key, no config file."""
    options = {key.replace("__", "."): value for key, value in overrides.items()}
    options.setdefault("site.postal_address", POSTAL_ADDRESS)
    config = base / "digest.toml"
    if not config.exists():
        config.write_text("", encoding="utf-8")
    return load_settings(
        config, env={"DIGEST_SECRET_KEY": SECRET, **(env or {})}, overrides=options
    )


def article(number: int = 0, **fields: Any) -> Article:
    values: dict[str, Any] = {
        "guid": f"https://arabpress.example/a/{number}",
        "url": f"https://arabpress.example/a/{number}",
        "title": f"Story number {number}",
        "summary": "<p>A short summary.</p>",
        "body": "",
        "section": "World",
        "author": "",
        "language": "en",
        "image_url": "",
        "published_at": NOW - timedelta(minutes=10 * number),
        "updated_at": None,
        "date_estimated": False,
        "source": "test",
        "priority": 0,
        "popularity": None,
        "ingested_at": NOW,
    }
    values.update(fields)
    values["content_hash"] = hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()
    return Article(**values)


def sample_articles(language: str) -> list[Article]:
    """The bundled sample feed of `language` as unsaved articles, newest first."""
    root = ET.parse(SAMPLES / f"arabpress-{language}.xml").getroot()
    found = []
    for number, item in enumerate(root.iter("item")):
        summary = item.findtext("description") or ""
        found.append(
            article(
                number,
                guid=item.findtext("guid") or item.findtext("link"),
                url=item.findtext("link"),
                title=item.findtext("title"),
                summary=f"<p>{summary}</p>",
                section=item.findtext("category") or "",
                language=language,
                published_at=parsedate_to_datetime(item.findtext("pubDate")).astimezone(UTC),
            )
        )
    return found


def plan_of(
    articles: list[Article], language: str, *, stories: int = 8, related: int = 3
) -> EditionPlan:
    """`stories` top stories each followed by `related` items (reused when few)."""
    tops, rest = articles[:stories], articles[stories:] or articles
    plan = EditionPlan(DAY, language, Window(NOW - timedelta(hours=24), NOW))
    for index, top in enumerate(tops):
        items = [rest[(index * related + k) % len(rest)] for k in range(related)]
        plan.stories.append(
            Story(top, 1.0 - index / 10, [RelatedItem(item, 0.5) for item in items])
        )
    return plan


def full_plan(language: str, *, images: bool = True) -> EditionPlan:
    """A full edition (8 top stories, 3 related each) from the sample feed."""
    articles = sample_articles(language)
    if images:
        for number, item in enumerate(articles[:8]):
            item.image_url = f"https://arabpress.example/images/{number}.jpg"
    return plan_of(articles, language)


def sample_reader(email_address: str = "reader@example.com", name: str = "") -> Subscriber:
    return Subscriber(
        id=7, email=email_address, name=name, language="en", smtputf8=False,
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip


def message_bytes(
    settings: Settings, rendered: RenderedEdition, reader: Subscriber | None = None
) -> bytes:
    skeleton = pipeline.skeleton_for(
        settings, rendered.subject, rendered.html, rendered.text, language=rendered.language
    )
    recipient = pipeline.recipient_factory(settings, rendered.language)(reader or sample_reader())
    return skeleton.build(recipient, message_id="<1.preview@arabpress.example>", date=NOW)


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def parts(raw: bytes) -> tuple[str, str]:
    """(html, text) of a message."""
    message = parse(raw)
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    assert html is not None and text is not None
    return html.get_content(), text.get_content()


def render(settings: Settings, plan: EditionPlan) -> RenderedEdition:
    return render_edition(plan, settings)


def store_frozen(db: Database, settings: Settings, plan: EditionPlan) -> None:
    """Save the plan's articles and freeze the edition (what preview then shows)."""
    with db.session() as session:
        for item in plan.articles():
            session.merge(item) if item.id else session.add(item)
        session.flush()
        editions.insert_frozen(session, plan, render_edition(plan, settings), NOW)
