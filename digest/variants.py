"""Each reader's edition: one rendering per reader group, never one per reader.

A reader group is (sections, time zone) within an edition's language. A subscriber with
sections gets the top stories of those sections first, drawn from the edition's wider
ranked selection (its *pool*, frozen with the edition); when fewer than
`selection.min_personal_stories` match, the general selection fills the edition up to
that many, so nobody's edition is empty. Times are shown in the group's zone.

The general group (no sections, the site's zone) is the edition row itself. Every other
group's rendering is frozen as an `EditionVariant` the first time the edition is sent to
it (at freeze for the groups that exist then; later ones are composed from the same
frozen pool and items, so they never see anything newer). Sending picks a reader's
rendering with one dictionary look-up (`VariantSkeleton`), so the per-recipient cost is
unchanged however many groups there are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.message import MessageSkeleton, Recipient
from digest.models import Article, Edition, EditionVariant
from digest.selection.plan import EditionPlan, RelatedItem, Story
from subscribers.models import Status, Subscriber

#: The pool is this many times `selection.top_stories` (capped), ranked like the edition.
POOL_FACTOR = 4


@dataclass(frozen=True)
class Audience:
    """A reader group: sections (casefolded, sorted; empty = all) and an IANA zone."""

    sections: tuple[str, ...]
    timezone: str

    @property
    def key(self) -> str:
        return f"{','.join(self.sections)}|{self.timezone}"

    def is_general(self, site_zone: str) -> bool:
        return not self.sections and self.timezone == site_zone


def normalise_sections(value: str | Iterable[str]) -> tuple[str, ...]:
    """ "Sport, weather,sport" -> ("sport", "weather")."""
    parts = value.split(",") if isinstance(value, str) else value
    return tuple(sorted({part.strip().casefold() for part in parts if part.strip()}))


def audience_of(sections: str, timezone: str, site_zone: str) -> Audience:
    """A subscriber's group from their stored `sections` and `timezone` (empty: site's)."""
    return Audience(normalise_sections(sections or ""), timezone or site_zone)


def audiences(session: Session, language: str, site_zone: str) -> list[Audience]:
    """The distinct groups among active subscribers of `language` (one query, no rows)."""
    rows = session.execute(
        select(Subscriber.sections, Subscriber.timezone)
        .where(Subscriber.language == language, Subscriber.status == Status.ACTIVE)
        .distinct()
    )
    found = {audience_of(sections, zone, site_zone) for sections, zone in rows}
    return sorted(
        (a for a in found if not a.is_general(site_zone)), key=lambda a: (a.sections, a.timezone)
    )


def personal_stories(
    general: Sequence[Story], pool: Sequence[Story], sections: tuple[str, ...], *,
    top_stories: int, min_stories: int,
) -> list[Story]:  # fmt: skip
    """The group's stories: its sections' first (pool order), then the general selection
    up to `min_stories`; no article twice (a related item already shown is dropped)."""
    if not sections:
        return list(general)
    chosen = [s for s in pool if s.article.section.strip().casefold() in sections][:top_stories]
    shown = {story.article.id for story in chosen}
    for story in general:
        if len(chosen) >= max(min_stories, 1):
            break
        if story.article.id not in shown:
            chosen.append(story)
            shown.add(story.article.id)
    result = []
    for story in chosen:
        related = [item for item in story.related if item.article.id not in shown]
        shown.update(item.article.id for item in related)
        result.append(Story(story.article, story.score, related))
    return result


def encode_stories(stories: Sequence[Story]) -> str:
    """Stories as JSON article ids, to freeze: [[top id, [related ids]], ...]."""
    return json.dumps([[s.article.id, [r.article.id for r in s.related]] for s in stories])


def decode_ids(value: str) -> list[Any]:
    """[[top id, [related ids]], ...] from `encode_stories`."""
    return list(json.loads(value)) if value else []


def decode_stories(session: Session, value: str) -> list[Story]:
    """Stories back from `encode_stories` (articles loaded in one query)."""
    entries = decode_ids(value)
    ids = {top for top, _ in entries} | {item for _, related in entries for item in related}
    articles = {a.id: a for a in session.scalars(select(Article).where(Article.id.in_(ids)))}
    return [
        Story(articles[top], 0.0, [RelatedItem(articles[i], 0.0) for i in related if i in articles])
        for top, related in entries
        if top in articles
    ]


def frozen_stories(edition: Edition) -> list[Story]:
    """The edition's general selection, from its frozen items."""
    stories: dict[int, Story] = {}
    for item in edition.items:
        if item.role == "top":
            stories[item.id] = Story(item.article, item.score, [])
    for item in edition.items:
        if item.role == "related" and item.parent_id in stories:
            stories[item.parent_id].related.append(RelatedItem(item.article, item.score))
    return list(stories.values())


def group_plan(base: EditionPlan, stories: list[Story]) -> EditionPlan:
    """The edition's plan (date, language, window) with a group's stories."""
    return EditionPlan(base.date, base.language, base.window, stories)


@dataclass(frozen=True)
class Rendering:
    """What a variant is: subject, preheader and the two templates."""

    subject: str
    preheader: str
    html: str
    text: str
    #: Top stories shown.
    stories: int = 0


def store_variant(
    session: Session,
    edition: Edition,
    audience: Audience,
    stories: Sequence[Story],
    rendering: Rendering,
    now: datetime,
) -> EditionVariant:
    """Add the group's frozen rendering to the session (the caller commits)."""
    variant = EditionVariant(
        edition_id=edition.id,
        key=audience.key,
        sections=",".join(audience.sections),
        timezone=audience.timezone,
        subject=rendering.subject,
        preheader=rendering.preheader,
        html_template=rendering.html,
        text_template=rendering.text,
        stories=encode_stories(stories),
        created_at=now,
    )
    session.add(variant)
    return variant


def stored_variants(session: Session, edition_id: int) -> dict[str, EditionVariant]:
    """The edition's frozen variants by group key."""
    rows = session.scalars(select(EditionVariant).where(EditionVariant.edition_id == edition_id))
    return {variant.key: variant for variant in rows}


class VariantSkeleton(MessageSkeleton):
    """The edition's message for every reader group: `build` picks the recipient's
    group's skeleton by `Recipient.variant` (unknown or "" = the general one)."""

    def __init__(self, general: MessageSkeleton, variants: Mapping[str, MessageSkeleton]) -> None:
        # Not MessageSkeleton.__init__: everything edition-wide is the general skeleton's.
        self.__dict__.update(general.__dict__)
        self.general = general
        self.variants = dict(variants)

    def _for(self, recipient: Recipient) -> MessageSkeleton:
        return self.variants.get(recipient.variant, self.general)

    def personalised_parts(self, recipient: Recipient) -> tuple[str, str]:
        return self._for(recipient).personalised_parts(recipient)

    def build(self, recipient: Recipient, *, message_id: str, date: datetime) -> bytes:
        return self._for(recipient).build(recipient, message_id=message_id, date=date)


class AudienceKeys:
    """Subscriber -> variant key, memoised on the raw (sections, zone) pair."""

    def __init__(self, site_zone: str, known: Iterable[str]) -> None:
        self.site_zone = site_zone
        self.known = set(known)
        self._memo: dict[tuple[str, str], str] = {}

    def __call__(self, sections: str, timezone: str) -> str:
        raw = (sections, timezone)
        key = self._memo.get(raw)
        if key is None:
            key = audience_of(sections, timezone, self.site_zone).key
            key = key if key in self.known else ""
            self._memo[raw] = key
        return key
