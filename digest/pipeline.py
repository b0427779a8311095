"""Wiring: the one module that knows ingest, select, render and send exist.

Each function here is what one CLI command calls; the stages never import each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from digest import i18n, outbox
from digest.config import (
    SECRET_KEY_FILE,
    Settings,
    ensure_secret_key_file,
    load_settings,
    write_default_config,
)
from digest.db import Database
from digest.errors import ConfigError, SelectError
from digest.ingest.feeds import SourceDefaults
from digest.ingest.sources import IngestReport, SourceResult, ingest_sources
from digest.message import MessageSkeleton, Recipient
from digest.models import Edition, EditionItem, EditionStatus
from digest.render import RenderedEdition, render_edition
from digest.selection import EditionPlan, plan_edition
from digest.send import DrainResult, drain
from digest.transport import Transport, open_transport
from subscribers.models import Subscriber
from subscribers.tokens import make_token

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def open_database(settings: Settings, *, check: bool = True) -> Database:
    db = Database(settings.database_url)
    if check:
        db.check_current()
    return db


@dataclass
class InitResult:
    config_path: Path
    config_written: bool
    database_url: str
    key_created: bool
    key_path: Path


def initialise(
    config_path: Path, *, force: bool = False, overrides: dict[str, Any] | None = None
) -> InitResult:
    """Write the commented config (kept unless forced), create or upgrade the database."""
    written = write_default_config(config_path, force=force)
    settings = load_settings(config_path, overrides=overrides)
    key_created = ensure_secret_key_file(settings.base_dir)
    db = open_database(settings, check=False)
    try:
        db.upgrade()
    finally:
        db.dispose()
    return InitResult(
        config_path,
        written,
        settings.database_url,
        key_created,
        settings.base_dir / SECRET_KEY_FILE,
    )


def ingest(
    db: Database,
    settings: Settings,
    sources: Iterable[str],
    *,
    now: datetime,
    section: str | None = None,
    language: str | None = None,
    on_source: Callable[[SourceResult], None] | None = None,
) -> IngestReport:
    if language and language not in settings.site.languages:
        raise ConfigError(
            f"--lang {language!r} is not one of the site's languages "
            f"({', '.join(settings.site.languages)})"
        )
    defaults = SourceDefaults(section=section, language=language, languages=settings.site.languages)
    return ingest_sources(db.session, sources, now=now, defaults=defaults, on_source=on_source)


def check_language(settings: Settings, language: str) -> str:
    if language not in settings.site.languages:
        raise ConfigError(
            f"language {language!r} is not one of the site's languages "
            f"({', '.join(settings.site.languages)})"
        )
    return language


def plan(session: Session, settings: Settings, day: date, language: str) -> EditionPlan:
    return plan_edition(
        session,
        day=day,
        language=check_language(settings, language),
        selection=settings.selection,
        schedule=settings.schedule,
    )


def find_edition(session: Session, day: date, language: str) -> Edition | None:
    return session.scalars(
        select(Edition).where(
            Edition.date == day, Edition.language == language, Edition.variant == ""
        )
    ).first()


def freeze(
    session: Session, edition_plan: EditionPlan, rendered: RenderedEdition, now: datetime
) -> Edition:
    """Store the plan and its rendering; from here on the edition never changes."""
    edition = Edition(
        date=edition_plan.date,
        language=edition_plan.language,
        variant="",
        status=EditionStatus.FROZEN,
        subject=rendered.subject,
        preheader=rendered.preheader,
        window_start=edition_plan.window.start,
        window_end=edition_plan.window.end,
        html_template=rendered.html,
        text_template=rendered.text,
        created_at=now,
        frozen_at=now,
    )
    session.add(edition)
    session.flush()
    position = 0
    for story in edition_plan.stories:
        top = EditionItem(
            edition_id=edition.id,
            article_id=story.article.id,
            position=position,
            role="top",
            score=story.score,
        )
        session.add(top)
        session.flush()
        position += 1
        for item in story.related:
            session.add(
                EditionItem(
                    edition_id=edition.id,
                    article_id=item.article.id,
                    position=position,
                    role="related",
                    parent_id=top.id,
                    score=item.similarity,
                )
            )
            position += 1
    session.flush()
    return edition


def edition_for_sending(
    db: Database, settings: Settings, day: date, language: str, now: datetime
) -> Edition | None:
    """The frozen edition for (day, language), freezing it now if needed; None if empty."""
    with db.session() as session:
        edition = find_edition(session, day, language)
        if edition is not None:
            return edition
        edition_plan = plan(session, settings, day, language)
        if edition_plan.is_empty:
            return None
        rendered = render_edition(edition_plan, settings)
    try:
        with db.session() as session:
            return freeze(session, edition_plan, rendered, now)
    except IntegrityError:
        # Another process froze it first: use theirs, so everyone sends the same thing.
        with db.session() as session:
            edition = find_edition(session, day, language)
        if edition is None:
            raise
        return edition


def list_id(settings: Settings) -> str:
    _name, address = parseaddr(settings.mail.from_address)
    domain = address.rsplit("@", 1)[-1] if "@" in address else "localhost"
    return f"digest.{domain}"


def skeleton_for(settings: Settings, subject: str, html: str, text: str) -> MessageSkeleton:
    return MessageSkeleton(
        from_address=settings.mail.from_address,
        reply_to=settings.mail.reply_to,
        subject=subject,
        html=html,
        text=text,
        list_id=f"{settings.site.name} <{list_id(settings)}>",
        unsubscribe_mailto=settings.mail.unsubscribe_mailto,
    )


def recipient_factory(settings: Settings, language: str) -> Callable[[Subscriber], Recipient]:
    strings = i18n.catalogue(language)
    key = settings.secret_key()
    identifier = list_id(settings)
    template = settings.mail.unsubscribe_url

    def recipient_for(subscriber: Subscriber) -> Recipient:
        token = make_token(key, subscriber.id, identifier)
        greeting = (
            strings["greeting"].format(name=subscriber.name)
            if subscriber.name
            else strings["greeting_anonymous"]
        )
        return Recipient(
            email=subscriber.email,
            name=subscriber.name,
            greeting=greeting,
            unsubscribe_url=template.replace("{token}", token),
            smtputf8=subscriber.smtputf8,
        )

    return recipient_for


@dataclass
class PreviewResult:
    language: str
    subject: str
    frozen: bool
    paths: dict[str, Path] = field(default_factory=dict)
    stories: int = 0


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
    """Write edition.html/.txt/.eml: the frozen edition if there is one, else the plan."""
    check_language(settings, language)
    with db.session() as session:
        edition = find_edition(session, day, language)
        if edition is not None:
            subject, html, text = edition.subject, edition.html_template, edition.text_template
            stories = sum(1 for item in edition.items if item.role == "top")
        else:
            edition_plan = plan(session, settings, day, language)
            rendered = render_edition(edition_plan, settings)
            subject, html, text = rendered.subject, rendered.html, rendered.text
            stories = len(edition_plan.stories)
        subscriber = _preview_subscriber(session, language, subscriber_email, now)
    skeleton = skeleton_for(settings, subject, html, text)
    recipient = recipient_factory(settings, language)(subscriber)
    message = skeleton.build(recipient, message_id=skeleton.message_id("preview"), date=now)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "html": out_dir / "edition.html",
        "text": out_dir / "edition.txt",
        "eml": out_dir / "edition.eml",
    }
    personal_html, personal_text = skeleton.personalised_parts(recipient)
    paths["html"].write_text(personal_html, encoding="utf-8")
    paths["text"].write_text(personal_text, encoding="utf-8")
    paths["eml"].write_bytes(message)
    return PreviewResult(language, subject, edition is not None, paths, stories)


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


@dataclass
class SendReport:
    edition: str
    language: str
    created: int = 0
    result: DrainResult = field(default_factory=DrainResult)
    remaining: int = 0
    already_sent: bool = False
    nothing_to_send: bool = False
    subject: str = ""

    @property
    def partial(self) -> bool:
        return self.remaining > 0


def send(
    db: Database,
    settings: Settings,
    day: date,
    language: str,
    *,
    clock: Clock = utc_now,
    transport: Transport | None = None,
    on_progress: Callable[[DrainResult], None] | None = None,
) -> SendReport:
    """Freeze (if needed), create deliveries, drain them; safe to rerun at any point."""
    check_language(settings, language)
    key = f"{day.isoformat()}/{language}"
    edition = edition_for_sending(db, settings, day, language, clock())
    if edition is None:
        return SendReport(key, language, nothing_to_send=True)
    report = SendReport(edition.key, language, subject=edition.subject)
    if edition.status == EditionStatus.SENT:
        report.already_sent = True
        return report
    with db.session() as session:
        session.add(edition)
        edition.status = EditionStatus.SENDING
        report.created = outbox.create_deliveries(session, edition, clock())
    owns_transport = transport is None
    transport = transport or open_transport(settings.mail.transport, settings.base_dir)
    try:
        report.result = drain(
            db,
            edition,
            skeleton=skeleton_for(
                settings, edition.subject, edition.html_template, edition.text_template
            ),
            recipient_for=recipient_factory(settings, language),
            transport=transport,
            sender=parseaddr(settings.mail.from_address)[1],
            clock=clock,
            batch_size=max(settings.mail.concurrency, 1) * 4,
            on_progress=on_progress,
        )
    finally:
        if owns_transport:
            transport.close()
    with db.session() as session:
        session.add(edition)
        report.remaining = outbox.remaining(session, edition.id)
        if report.remaining == 0:
            edition.status = EditionStatus.SENT
            edition.sent_at = clock()
    return report


def parse_day(value: str | None, settings: Settings, now: datetime) -> date:
    from digest.selection.window import edition_date_for

    if not value:
        return edition_date_for(now, settings.schedule.timezone)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SelectError(f"--date: expected YYYY-MM-DD, got {value!r}") from None


def open_transport_path(settings: Settings) -> Path:
    """The Maildir folder of a maildir: transport (for summaries)."""
    from digest.transport import maildir_path

    return maildir_path(settings.mail.transport, settings.base_dir)
