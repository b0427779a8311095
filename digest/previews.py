"""What an edition looks like without sending it: a preview, a dry run, test copies.

Each shows the frozen edition's current revision when there is one, else the plan over the
window that freezing now would use; none of them freezes or records anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from digest import editions, i18n, mailing, readers
from digest.compose import check_language, plan
from digest.config import Settings
from digest.db import Database
from digest.editions import FrozenEdition
from digest.identity import check_ready_to_send
from digest.models import Edition, EditionVariant
from digest.render import lint, locale_dirs, render_edition
from digest.render.files import write_atomically
from digest.render.lint import Finding
from digest.selection import EditionPlan
from digest.send import DrainResult, rehearse, send_copies
from digest.transport import Transport
from digest.variants import stored_variants
from subscribers.models import Subscriber

Clock = Callable[[], datetime]
#: A test copy's subject starts with this, so it never passes for the edition as sent.
TEST_PREFIX = "[TEST] "


@dataclass
class EditionContent:
    """What an edition says: the frozen one if it exists, else the current plan rendered."""

    key: str
    subject: str
    html: str
    text: str
    stories: int
    edition: FrozenEdition | None = None
    trimmed: str = ""
    #: The plan it was rendered from (not frozen only).
    plan: EditionPlan | None = None


def edition_content(
    db: Database, settings: Settings, day: date, language: str, *, now: datetime
) -> EditionContent | None:
    """The edition as it is or would be sent, changing nothing; None if it has no stories."""
    check_language(settings, language)
    frozen = editions.frozen(db, day, language)
    if frozen is not None:
        with db.session() as session:
            stories = _top_stories(session, frozen.id)
        return EditionContent(frozen.key, frozen.subject, frozen.html, frozen.text, stories, frozen)
    with db.session() as session:
        edition_plan = plan(session, settings, day, language, now=now)
        if edition_plan.is_empty:
            return None
        rendered = render_edition(edition_plan, settings)
    return EditionContent(
        f"{day.isoformat()}/{language}", rendered.subject, rendered.html, rendered.text,
        len(edition_plan.stories), trimmed=rendered.trimmed, plan=edition_plan,
    )  # fmt: skip


def _top_stories(session: Session, edition_id: int) -> int:
    from sqlalchemy import func, select

    from digest.models import EditionItem

    return (
        session.scalar(
            select(func.count(EditionItem.id)).where(
                EditionItem.edition_id == edition_id, EditionItem.role == "top"
            )
        )
        or 0
    )


@dataclass
class PreviewMessage:
    """One subscriber's message for an edition, and what the email checks found in it."""

    language: str
    subject: str
    frozen: bool
    stories: int
    html: str
    text: str
    eml: bytes
    findings: list[Finding] = field(default_factory=list)
    trimmed: str = ""


@dataclass
class PreviewResult:
    language: str
    subject: str
    frozen: bool
    paths: dict[str, Path] = field(default_factory=dict)
    stories: int = 0
    findings: list[Finding] = field(default_factory=list)
    trimmed: str = ""


def preview_message(
    db: Database,
    settings: Settings,
    day: date,
    language: str,
    *,
    now: datetime,
    subscriber_email: str | None = None,
) -> PreviewMessage:
    """The message a subscriber gets (or would get): the frozen edition's current
    revision, else the plan (an empty plan renders as an empty edition)."""
    check_language(settings, language)
    content = edition_content(db, settings, day, language, now=now)
    if content is None:
        with db.session() as session:
            empty = plan(session, settings, day, language, now=now)
            rendered = render_edition(empty, settings)
        content = EditionContent("", rendered.subject, rendered.html, rendered.text, 0, plan=empty)
    subject, html, text, stories = content.subject, content.html, content.text, content.stories
    with db.session() as session:
        subscriber = _preview_subscriber(session, language, subscriber_email, now)
        edition = session.get(Edition, content.edition.id) if content.edition else None
        personal = readers.subscriber_rendering(
            session, settings, subscriber, edition=edition,
            edition_plan=None if edition is not None else content.plan,
        )  # fmt: skip
        if personal is not None:  # exactly the reader group's variant
            subject, html, text = personal.subject, personal.html, personal.text
            stories = personal.stories
    identifier = mailing.list_id(settings, db, store=False)
    skeleton = mailing.skeleton_for(settings, subject, html, text, identifier, language=language)
    recipient = mailing.recipient_factory(settings, language, identifier)(subscriber)
    message = skeleton.build(recipient, message_id=skeleton.message_id("preview"), date=now)
    personal_html, personal_text = skeleton.personalised_parts(recipient)
    direction = i18n.direction(language, locale_dirs(settings))
    findings = lint.check_message(message, language=language, direction=direction)
    return PreviewMessage(
        language, subject, content.edition is not None, stories, personal_html,
        personal_text, message, findings, content.trimmed,
    )  # fmt: skip


def preview(
    db: Database,
    settings: Settings,
    day: date,
    language: str,
    out_dir: Path,
    *,
    now: datetime,
    subscriber_email: str | None = None,
) -> PreviewResult:
    """Write edition.html/.txt/.eml (the exact message bytes) and check them."""
    message = preview_message(
        db, settings, day, language, now=now, subscriber_email=subscriber_email
    )
    files = {
        "html": ("edition.html", message.html.encode("utf-8")),
        "text": ("edition.txt", message.text.encode("utf-8")),
        "eml": ("edition.eml", message.eml),
    }
    paths = {kind: write_atomically(out_dir / name, data) for kind, (name, data) in files.items()}
    return PreviewResult(
        message.language, message.subject, message.frozen, paths, message.stories,
        message.findings, message.trimmed,
    )  # fmt: skip


def _preview_subscriber(
    session: Session, language: str, email: str | None, now: datetime
) -> Subscriber:
    from subscribers import store

    if email:
        return store.get(session, email)
    return Subscriber(
        id=0,
        email="reader@example.com",
        name="",
        language=language,
        smtputf8=False,
        created_at=now,
        updated_at=now,
    )


def rehearse_send(
    db: Database,
    settings: Settings,
    content: EditionContent,
    language: str,
    *,
    clock: Clock,
    on_progress: Callable[[DrainResult], None] | None,
) -> DrainResult:
    """Build every message a send would (dry run); write and send nothing."""
    identifier = mailing.list_id(settings, db, store=False)
    skeleton, variant_of = mailing.edition_skeleton(
        settings, language, (content.subject, content.html, content.text),
        _frozen_variants(db, content.edition), identifier,
    )  # fmt: skip
    return rehearse(
        db,
        content.edition.id if content.edition is not None else None,
        language,
        skeleton=skeleton,
        recipient_for=mailing.recipient_factory(
            settings, language, identifier, variant_of=variant_of
        ),
        clock=mailing.delivery_clock(clock),
        message_id_for=lambda number: skeleton.message_id(f"dry-run.{number}"),
        on_progress=on_progress,
    )


@dataclass
class TestCopies:
    edition: str
    language: str
    subject: str = ""
    nothing_to_send: bool = False
    #: (address, error or None) per test address.
    copies: list[tuple[str, str | None]] = field(default_factory=list)


def send_test_copies(
    db: Database,
    settings: Settings,
    day: date,
    language: str,
    addresses: Iterable[str],
    *,
    clock: Clock,
    transport: Transport | None = None,
) -> TestCopies:
    """Mail the edition to `addresses` only, outside the delivery records; freezes nothing.

    An address that is a subscriber gets their own greeting and unsubscribe link.
    """
    from subscribers import store
    from subscribers.validation import normalise_email

    check_language(settings, language)
    check_ready_to_send(settings)
    mailing.send_options(settings)
    sender = mailing.envelope_sender(settings)
    wanted = [normalise_email(address) for address in addresses]
    transport = transport or mailing.open_mail_transport(settings)
    now = clock()
    content = edition_content(db, settings, day, language, now=now)
    if content is None:
        return TestCopies(f"{day.isoformat()}/{language}", language, nothing_to_send=True)
    identifier = mailing.list_id(settings, db, store=False)
    # A test copy must look like one in the inbox: it is not the edition as sent.
    skeleton, variant_of = mailing.edition_skeleton(
        settings, language, (content.subject, content.html, content.text),
        _frozen_variants(db, content.edition), identifier, prefix=TEST_PREFIX,
    )  # fmt: skip
    recipient_for = mailing.recipient_factory(settings, language, identifier, variant_of=variant_of)
    recipients = []
    with db.session() as session:
        for address in wanted:
            subscriber = store.find(session, address.email) or Subscriber(
                id=0,
                email=address.email,
                name="",
                language=language,
                smtputf8=address.smtputf8,
                created_at=now,
                updated_at=now,
            )
            recipients.append(recipient_for(subscriber))
    copies = send_copies(
        transport, sender, skeleton, recipients, clock=mailing.delivery_clock(clock)
    )
    return TestCopies(content.key, language, TEST_PREFIX + content.subject, copies=copies)


def _frozen_variants(db: Database, edition: FrozenEdition | None) -> dict[str, EditionVariant]:
    """The variants frozen so far (nothing is frozen here: for dry runs and test copies)."""
    if edition is None:
        return {}
    with db.session() as session:
        return stored_variants(session, edition.id)
