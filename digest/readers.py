"""Wiring for each reader's edition: select the pool, render each group, freeze, send.

`digest.variants` holds the pieces (groups, composing a group's stories, the dispatching
skeleton); this module joins them to selection and rendering, as `pipeline` does for
the general edition.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Collection, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from digest.config import Settings
from digest.message import MessageSkeleton
from digest.models import Edition, EditionVariant
from digest.render import RenderedEdition, render_edition
from digest.selection import EditionPlan, plan_edition
from digest.selection.plan import Story, Window
from digest.variants import (
    POOL_FACTOR,
    Audience,
    AudienceKeys,
    Rendering,
    VariantSkeleton,
    audience_of,
    audiences,
    decode_ids,
    decode_stories,
    encode_stories,
    frozen_stories,
    group_plan,
    personal_stories,
    store_variant,
    stored_variants,
)
from subscribers.models import Subscriber

#: The pool never holds more stories than this, whatever top_stories is.
POOL_MAX = 60


def pool_plan(session: Session, settings: Settings, edition_plan: EditionPlan) -> EditionPlan:
    """The wider ranked selection personal variants draw on (same window and rules)."""
    selection = settings.selection
    wider = dataclasses.replace(
        selection, top_stories=min(selection.top_stories * POOL_FACTOR, POOL_MAX)
    )
    return plan_edition(
        session,
        day=edition_plan.date,
        language=edition_plan.language,
        selection=wider,
        schedule=settings.schedule,
        window=edition_plan.window,
    )


def needs_pool(session: Session, settings: Settings, language: str) -> bool:
    """Whether any active subscriber of `language` chose sections."""
    zone = settings.schedule.timezone
    return any(group.sections for group in audiences(session, language, zone))


def encoded_pool(session: Session, settings: Settings, edition_plan: EditionPlan) -> str:
    """The pool to freeze with the edition ("" when no reader chose sections)."""
    if not needs_pool(session, settings, edition_plan.language):
        return ""
    return encode_stories(pool_plan(session, settings, edition_plan).stories)


def _render_group(
    settings: Settings,
    base: EditionPlan,
    general: Sequence[Story],
    pool: Sequence[Story],
    audience: Audience,
) -> tuple[list[Story], RenderedEdition]:
    stories = personal_stories(
        general, pool or general, audience.sections,
        top_stories=settings.selection.top_stories,
        min_stories=settings.selection.min_personal_stories,
    )  # fmt: skip
    return stories, render_edition(group_plan(base, stories), settings, timezone=audience.timezone)


def _base(edition: Edition) -> EditionPlan:
    return EditionPlan(
        edition.date, edition.language, Window(edition.window_start, edition.window_end)
    )


def ensure_variants(
    session: Session, settings: Settings, edition: Edition, now: datetime
) -> dict[str, EditionVariant]:
    """Every current reader group's variant of a frozen edition, freezing missing ones.

    Existing variants never change; a new group's is composed from the edition's frozen
    items and pool, so it shows nothing the edition did not already hold."""
    stored = stored_variants(session, edition.id)
    zone = settings.schedule.timezone
    missing = [g for g in audiences(session, edition.language, zone) if g.key not in stored]
    if not missing:
        return stored
    general = frozen_stories(edition)
    pool = decode_stories(session, edition.pool)
    base = _base(edition)
    for audience in missing:
        stories, rendered = _render_group(settings, base, general, pool, audience)
        stored[audience.key] = store_variant(
            session, edition, audience, stories, _rendering(rendered), now
        )
    session.flush()
    return stored


def freeze_extras(settings: Settings, now: datetime) -> Callable[..., None]:
    """What `editions.freeze` stores with a new edition, under the same lock: the wider
    pool of ranked stories, then every current reader group's variant."""

    def extras(session: Session, edition_plan: EditionPlan, edition: Edition) -> None:
        edition.pool = encoded_pool(session, settings, edition_plan)
        session.flush()
        ensure_variants(session, settings, edition, now)

    return extras


def _without(value: str, article_ids: Collection[int]) -> str:
    """Encoded stories without `article_ids` (a held top story takes its related items)."""
    entries = [
        [top, [item for item in related if item not in article_ids]]
        for top, related in decode_ids(value)
        if top not in article_ids
    ]
    return json.dumps(entries) if value else value


def revise_variants(
    settings: Settings,
    session: Session,
    edition: Edition,
    article_ids: Collection[int],
    general: EditionPlan,
) -> bool:
    """A hold pulls `article_ids` (an article and its copies) from the edition (`general`
    is the new revision's plan): the pool loses them and every frozen variant that had
    one is rendered again without them, in the same transaction as the revision, so no
    reader's message has them from then on. A variant left with no story gets the
    revision's general stories. Returns whether any variant had one."""
    edition.pool = _without(edition.pool, article_ids)
    zone = settings.schedule.timezone
    changed = False
    for variant in stored_variants(session, edition.id).values():
        kept = _without(variant.stories, article_ids)
        if kept == variant.stories:
            continue
        changed = True
        stories = decode_stories(session, kept) or list(general.stories)
        audience = audience_of(variant.sections, variant.timezone, zone)
        rendered = render_edition(
            group_plan(general, stories), settings, timezone=audience.timezone
        )
        variant.subject, variant.preheader = rendered.subject, rendered.preheader
        variant.html_template, variant.text_template = rendered.html, rendered.text
        variant.stories = encode_stories(stories)
    session.flush()
    return changed


def _rendering(rendered: RenderedEdition, stories: int = 0) -> Rendering:
    return Rendering(rendered.subject, rendered.preheader, rendered.html, rendered.text, stories)


def subscriber_rendering(
    session: Session,
    settings: Settings,
    subscriber: Subscriber,
    *,
    edition: Edition | None,
    edition_plan: EditionPlan | None,
) -> Rendering | None:
    """What this subscriber reads when it is not the general variant (None if it is):
    the frozen variant if there is one, else composed the same way, storing nothing."""
    zone = settings.schedule.timezone
    audience = audience_of(subscriber.sections, subscriber.timezone, zone)
    if audience.is_general(zone):
        return None
    if edition is not None:
        variant = stored_variants(session, edition.id).get(audience.key)
        if variant is not None:
            shown = len(decode_ids(variant.stories))
            return Rendering(
                variant.subject, variant.preheader, variant.html_template,
                variant.text_template, shown,
            )  # fmt: skip
        general, base = frozen_stories(edition), _base(edition)
        pool = decode_stories(session, edition.pool)
    elif edition_plan is not None:
        general, base = edition_plan.stories, edition_plan
        pool = pool_plan(session, settings, edition_plan).stories if audience.sections else []
    else:
        raise ValueError("subscriber_rendering needs the edition or its plan")
    stories, rendered = _render_group(settings, base, general, pool, audience)
    return _rendering(rendered, len(stories))


def edition_skeleton(
    settings: Settings,
    general: MessageSkeleton,
    variants: dict[str, EditionVariant],
    make: Callable[[str, str, str], MessageSkeleton],
) -> tuple[MessageSkeleton, AudienceKeys | None]:
    """The skeleton to send with and the subscriber -> variant mapping (None: general only).

    `make(subject, html, text)` builds one skeleton with the edition's headers."""
    if not variants:
        return general, None
    skeletons = {
        key: make(v.subject, v.html_template, v.text_template) for key, v in variants.items()
    }
    keys = AudienceKeys(settings.schedule.timezone, skeletons)
    return VariantSkeleton(general, skeletons), keys
