"""Wiring: the one module that knows ingest, select, render and send exist.

Each function here is what one CLI command calls; the stages never import each other.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from digest import i18n, outbox, placeholders, readers
from digest.config import (
    SECRET_KEY_FILE,
    Settings,
    ensure_secret_key_file,
    load_settings,
    localised,
    write_default_config,
)
from digest.db import Database
from digest.delivery.clock import Clock as DeliveryClock
from digest.delivery.clock import ManualClock, SystemClock
from digest.delivery.copies import rehearse, send_copies
from digest.delivery.identity import read_list_id, stored_list_id
from digest.delivery.options import MailIdentity, SendOptions
from digest.delivery.pacing import message_id_factory
from digest.delivery.results import DrainResult
from digest.delivery.run import drain
from digest.errors import ConfigError, SelectError
from digest.identity import check_ready_to_send
from digest.ingest.fetch import FetchOptions, default_user_agent
from digest.ingest.records import SourceDefaults
from digest.ingest.sources import IngestOptions, IngestReport, SourceResult, ingest_sources
from digest.message import DkimSigner, MessageSkeleton, Recipient
from digest.models import DeliveryStatus, Edition, EditionItem, EditionStatus, EditionVariant
from digest.render import RenderedEdition, lint, locale_dirs, render_edition
from digest.render.files import write_atomically
from digest.render.lint import Finding
from digest.render.plain import clean_line
from digest.selection import EditionPlan, plan_edition
from digest.transport import MaildirTransport, SmtpTransport, Transport
from digest.variants import AudienceKeys, stored_variants
from subscribers.models import Subscriber
from subscribers.tokens import TokenMaker

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
    config_path: Path,
    *,
    force: bool = False,
    overrides: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
) -> InitResult:
    """Write the commented config (kept unless forced), create or upgrade the database.

    `values` ("section.key" -> value) go into a newly written config: the publication's
    identity (`digest.identity.Identity.config_values`)."""
    written = write_default_config(config_path, force=force, values=values)
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
    source_format: str = "auto",
    section: str | None = None,
    language: str | None = None,
    on_start: Callable[[int], None] | None = None,
    on_source: Callable[[SourceResult], None] | None = None,
) -> IngestReport:
    """Ingest files, folders and URLs (every registered feed if none), each on its own."""
    if language and language not in settings.site.languages:
        raise ConfigError(
            f"--lang {language!r} is not one of the site's languages "
            f"({', '.join(settings.site.languages)})"
        )
    ingest_settings = settings.ingest
    options = IngestOptions(
        source_format=source_format,
        defaults=SourceDefaults(
            section=section, language=language, languages=settings.site.languages
        ),
        fetch=FetchOptions(
            timeout=ingest_settings.timeout,
            retries=ingest_settings.retries,
            backoff=ingest_settings.retry_backoff,
            max_bytes=ingest_settings.max_bytes,
            user_agent=ingest_settings.user_agent or default_user_agent(settings.site.url),
        ),
        concurrency=ingest_settings.concurrency,
    )
    return ingest_sources(
        db.session, sources, now=now, options=options, on_start=on_start, on_source=on_source
    )


def known_sections(session: Session) -> tuple[str, ...]:
    """Section names subscribers may choose: those of stored articles and configured feeds."""
    from digest.models import Article, Feed

    names = session.scalars(select(Article.section).union(select(Feed.section)))
    return tuple(sorted(name for name in names if name))


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
    session: Session,
    edition_plan: EditionPlan,
    rendered: RenderedEdition,
    now: datetime,
    *,
    pool: str = "",
) -> Edition:
    """Store the plan and its rendering; from here on the edition never changes.

    `pool` is the wider selection reader variants draw on (`readers.encoded_pool`)."""
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
        pool=pool,
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
    """The frozen edition for (day, language), freezing it now if needed; None if empty.

    Every reader group's variant is frozen with it (`readers.ensure_variants`)."""
    with db.session() as session:
        edition = find_edition(session, day, language)
        if edition is not None:
            return edition
        edition_plan = plan(session, settings, day, language)
        if edition_plan.is_empty:
            return None
        rendered = render_edition(edition_plan, settings)
        pool = readers.encoded_pool(session, settings, edition_plan)
    try:
        with db.session() as session:
            edition = freeze(session, edition_plan, rendered, now, pool=pool)
            readers.ensure_variants(session, settings, edition, now)
            return edition
    except IntegrityError:
        # Another process froze it first: use theirs, so everyone sends the same thing.
        with db.session() as session:
            edition = find_edition(session, day, language)
        if edition is None:
            raise
        return edition


def list_id(settings: Settings, db: Database | None = None) -> str:
    """The token scope and List-Id: the stored one when `db` is given (see
    `digest.delivery.identity`), else `site.list_id` or the value derived from the From."""
    identity = settings.mail_identity
    if db is None:
        return identity.list_id or identity.default_list_id
    with db.session() as session:
        return read_list_id(session, identity)


def from_header(settings: Settings, language: str) -> str:
    """The From header for an edition: the display name in the edition's language
    (mail.from_name, else a name written in mail.from, else site.name), the site's name
    there rather than in the subject."""
    display, address = parseaddr(settings.mail.from_address)
    name = localised(settings.mail.from_name, language) or display
    name = name or localised(settings.site.name, language)
    if not name:
        return address
    quoted = clean_line(name).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{address}>'


def skeleton_for(
    settings: Settings,
    subject: str,
    html: str,
    text: str,
    list_identifier: str | None = None,
    *,
    language: str = "",
) -> MessageSkeleton:
    identity = settings.mail_identity
    return MessageSkeleton(
        from_address=from_header(settings, language),
        reply_to=identity.reply_to,
        subject=subject,
        html=html,
        text=text,
        list_id=f"{identity.list_name} <{list_identifier or list_id(settings)}>",
        unsubscribe_mailto=identity.unsubscribe_mailto,
        dkim=dkim_signer(settings),
    )


def dkim_signer(settings: Settings) -> DkimSigner | None:
    """The configured DKIM signer, or None when [mail] dkim_selector is empty."""
    mail = settings.mail
    if not mail.dkim_selector:
        return None
    if not mail.dkim_key_file:
        raise ConfigError("[mail] dkim_key_file: needed when dkim_selector is set")
    domain = mail.dkim_domain or parseaddr(mail.from_address)[1].rpartition("@")[2]
    key_file = settings.resolve_path(mail.dkim_key_file)
    return DkimSigner.from_file(mail.dkim_selector, domain, key_file)


def recipient_factory(
    settings: Settings,
    language: str,
    list_identifier: str | None = None,
    *,
    variant_of: AudienceKeys | None = None,
) -> Callable[[Subscriber], Recipient]:
    """Subscriber -> Recipient (greeting, signed links, and with `variant_of` the key of
    the reader group's variant)."""
    strings = i18n.catalogue(language, locale_dirs(settings))
    key = settings.secret_key()
    make = TokenMaker(key, list_identifier or list_id(settings))
    template = settings.mail.unsubscribe_url
    preferences = f"{settings.public_url}/p/"
    greeting_format = strings["greeting"].format
    anonymous = placeholders.defuse(strings["greeting_anonymous"])

    def recipient_for(subscriber: Subscriber) -> Recipient:
        token = make(subscriber.id, subscriber.email)
        raw = subscriber.name
        # Printable ASCII has nothing for clean_line to remove but runs of spaces.
        name = " ".join(raw.split()) if raw.isascii() and raw.isprintable() else clean_line(raw)
        # Substituted per recipient: the greeting must not look like a placeholder.
        greeting = placeholders.defuse(greeting_format(name=name)) if name else anonymous
        return Recipient(
            email=subscriber.email,
            name=raw,
            greeting=greeting,
            unsubscribe_url=template.replace("{token}", token),
            smtputf8=subscriber.smtputf8,
            preferences_url=preferences + token,
            variant=variant_of(subscriber.sections, subscriber.timezone) if variant_of else "",
        )

    return recipient_for


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
    """The message a subscriber gets (or would get): the frozen edition, else the plan."""
    check_language(settings, language)
    trimmed = ""
    with db.session() as session:
        edition = find_edition(session, day, language)
        edition_plan = None
        if edition is not None:
            subject, html, text = edition.subject, edition.html_template, edition.text_template
            stories = sum(1 for item in edition.items if item.role == "top")
        else:
            edition_plan = plan(session, settings, day, language)
            rendered = render_edition(edition_plan, settings)
            subject, html, text = rendered.subject, rendered.html, rendered.text
            stories, trimmed = len(edition_plan.stories), rendered.trimmed
        subscriber = _preview_subscriber(session, language, subscriber_email, now)
        personal = readers.subscriber_rendering(
            session, settings, subscriber, edition=edition, edition_plan=edition_plan
        )
        if personal is not None:  # exactly the reader group's variant
            subject, html, text = personal.subject, personal.html, personal.text
            stories = personal.stories
    identifier = list_id(settings, db)
    skeleton = skeleton_for(settings, subject, html, text, identifier, language=language)
    recipient = recipient_factory(settings, language, identifier)(subscriber)
    message = skeleton.build(recipient, message_id=skeleton.message_id("preview"), date=now)
    personal_html, personal_text = skeleton.personalised_parts(recipient)
    direction = i18n.direction(language, locale_dirs(settings))
    findings = lint.check_message(message, language=language, direction=direction)
    return PreviewMessage(
        language, subject, edition is not None, stories, personal_html, personal_text,
        message, findings, trimmed,
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


@dataclass
class SendReport:
    edition: str
    language: str
    created: int = 0
    result: DrainResult = field(default_factory=DrainResult)
    #: Deliveries not yet final after this run (deferred, or held by a stopped run).
    remaining: int = 0
    already_sent: bool = False
    nothing_to_send: bool = False
    dry_run: bool = False
    subject: str = ""
    transport: str = ""
    #: Edition status after the run: frozen, sending or sent.
    status: str = ""
    #: (last error, deliveries) of what is still deferred, commonest first.
    deferred_reasons: list[tuple[str, int]] = field(default_factory=list)
    #: Uncertain deliveries put back to be sent again (`--resend-uncertain`).
    resent_uncertain: int = 0
    #: Deliveries of the edition still uncertain after the run.
    uncertain: int = 0

    @property
    def partial(self) -> bool:
        return self.remaining > 0 and not self.dry_run


def send_options(settings: Settings) -> SendOptions:
    """The sender's knobs from [mail], checked when the settings loaded."""
    return settings.send_options


def envelope_sender(settings: Settings) -> str:
    """The SMTP envelope sender (bounces go there): the From address, in ASCII."""
    return settings.mail_identity.envelope_sender


def open_mail_transport(settings: Settings) -> Transport:
    """The transport of the `MailIdentity` parsed when the settings loaded."""
    options, identity = settings.send_options, settings.mail_identity
    if identity.smtp is None:
        assert identity.maildir is not None
        return MaildirTransport(identity.maildir)
    return SmtpTransport(
        identity.smtp,
        password=settings.secrets.smtp_password,
        timeout=options.timeout,
        data_timeout=options.data_timeout,
    )


def _edition_skeleton(
    settings: Settings,
    language: str,
    content: tuple[str, str, str],
    variants: dict[str, EditionVariant],
    list_identifier: str,
    *,
    prefix: str = "",
) -> tuple[MessageSkeleton, AudienceKeys | None]:
    """The skeleton for (subject, html, text) and each reader group's variant."""

    def make(subject: str, html: str, text: str) -> MessageSkeleton:
        return skeleton_for(
            settings, prefix + subject, html, text, list_identifier, language=language
        )

    return readers.edition_skeleton(settings, make(*content), variants, make)


def _ensure_variants(
    db: Database, settings: Settings, edition: Edition, now: datetime
) -> dict[str, EditionVariant]:
    """Freeze the variants of reader groups that appeared since the edition was frozen;
    when another process froze the same group first, theirs is kept."""
    try:
        with db.session() as session:
            session.add(edition)
            return readers.ensure_variants(session, settings, edition, now)
    except IntegrityError:
        with db.session() as session:
            session.add(edition)
            return readers.ensure_variants(session, settings, edition, now)


def _frozen_variants(db: Database, edition: Edition | None) -> dict[str, EditionVariant]:
    """The variants frozen so far (nothing is frozen here: for dry runs and test copies)."""
    if edition is None:
        return {}
    with db.session() as session:
        return stored_variants(session, edition.id)


def _delivery_clock(clock: Clock | DeliveryClock) -> DeliveryClock:
    """The sender's clock: a `Clock` as given, or the system clocks with this `now`."""
    if isinstance(clock, SystemClock | ManualClock):
        return clock
    return SystemClock(clock)  # type: ignore[arg-type]


def _message_ids(edition: Edition, skeleton: MessageSkeleton) -> Callable[[int], str]:
    return message_id_factory(edition.id, edition.key, edition.frozen_at, skeleton.domain)


def with_verp(settings: Settings, identity: MailIdentity) -> MailIdentity:
    """`identity` with a VERP envelope sender per delivery when `[mail] verp` is on."""
    if not settings.mail.verp:
        return identity
    from digest.bounces.verp import sender_factory

    verp = sender_factory(identity.envelope_sender, settings.secret_key())
    return dataclasses.replace(identity, verp_sender=verp)


def send(
    db: Database,
    settings: Settings,
    day: date,
    language: str,
    *,
    clock: Clock = utc_now,
    transport: Transport | None = None,
    on_progress: Callable[[DrainResult], None] | None = None,
    dry_run: bool = False,
    stop: threading.Event | None = None,
    resend_uncertain: bool = False,
) -> SendReport:
    """Freeze (if needed), create deliveries, drain them; safe to rerun at any point.

    With `dry_run`, build every message that would go out, and write and send nothing.
    With `resend_uncertain`, deliveries left `uncertain` (no reply after the message was
    handed over) are sent again: the operator's decision, never automatic.
    """
    check_language(settings, language)
    options = send_options(settings)
    identity = with_verp(settings, settings.mail_identity)
    transport = transport or open_mail_transport(settings)
    if not dry_run:
        check_ready_to_send(settings)
    if dry_run:
        return _rehearse(db, settings, day, language, clock=clock, on_progress=on_progress)
    key = f"{day.isoformat()}/{language}"
    edition = edition_for_sending(db, settings, day, language, clock())
    if edition is None:
        return SendReport(key, language, nothing_to_send=True)
    report = SendReport(edition.key, language, subject=edition.subject)
    report.transport = transport.description
    with db.session() as session:
        identifier = stored_list_id(session, identity, clock())
        if resend_uncertain:
            report.resent_uncertain = outbox.requeue_uncertain(session, edition.id, clock())
    if edition.status == EditionStatus.SENT and not report.resent_uncertain:
        report.already_sent, report.status = True, EditionStatus.SENT
        return report
    variants = _ensure_variants(db, settings, edition, clock())
    with db.session() as session:
        session.add(edition)
        edition.status = EditionStatus.SENDING
        report.created = outbox.create_deliveries(session, edition, clock())
    content = (edition.subject, edition.html_template, edition.text_template)
    skeleton, variant_of = _edition_skeleton(settings, language, content, variants, identifier)
    report.result = drain(
        db,
        edition.id,
        skeleton=skeleton,
        recipient_for=recipient_factory(settings, language, identifier, variant_of=variant_of),
        transport=transport,
        identity=identity,
        clock=_delivery_clock(clock),
        options=options,
        message_id_for=_message_ids(edition, skeleton),
        on_progress=on_progress,
        stop=stop,
    )
    with db.session() as session:
        session.add(edition)
        report.remaining = outbox.remaining(session, edition.id)
        report.uncertain = outbox.counts(session, edition.id)[DeliveryStatus.UNCERTAIN]
        if report.remaining == 0 and edition.status != EditionStatus.SENT:
            edition.status = EditionStatus.SENT
            edition.sent_at = clock()
        report.status = edition.status
        report.deferred_reasons = outbox.deferred_reasons(session, edition.id)
    return report


@dataclass
class EditionContent:
    """What an edition says: the frozen one if it exists, else the current plan rendered."""

    key: str
    subject: str
    html: str
    text: str
    edition: Edition | None = None


def edition_content(
    db: Database, settings: Settings, day: date, language: str
) -> EditionContent | None:
    """The edition as it is or would be sent, changing nothing; None if it has no stories."""
    with db.session() as session:
        edition = find_edition(session, day, language)
        if edition is not None:
            return EditionContent(
                edition.key, edition.subject, edition.html_template, edition.text_template, edition
            )
        edition_plan = plan(session, settings, day, language)
        if edition_plan.is_empty:
            return None
        rendered = render_edition(edition_plan, settings)
    return EditionContent(
        f"{day.isoformat()}/{language}", rendered.subject, rendered.html, rendered.text
    )


def _rehearse(
    db: Database,
    settings: Settings,
    day: date,
    language: str,
    *,
    clock: Clock,
    on_progress: Callable[[DrainResult], None] | None,
) -> SendReport:
    content = edition_content(db, settings, day, language)
    if content is None:
        return SendReport(f"{day.isoformat()}/{language}", language, nothing_to_send=True)
    edition = content.edition
    report = SendReport(content.key, language, subject=content.subject, dry_run=True)
    report.status = edition.status if edition is not None else "not frozen"
    if edition is not None and edition.status == EditionStatus.SENT:
        report.already_sent = True
        return report
    identifier = list_id(settings, db)
    skeleton, variant_of = _edition_skeleton(
        settings, language, (content.subject, content.html, content.text),
        _frozen_variants(db, edition), identifier,
    )  # fmt: skip
    report.result = rehearse(
        db,
        edition.id if edition is not None else None,
        language,
        skeleton=skeleton,
        recipient_for=recipient_factory(settings, language, identifier, variant_of=variant_of),
        clock=_delivery_clock(clock),
        message_id_for=lambda number: skeleton.message_id(f"dry-run.{number}"),
        on_progress=on_progress,
    )
    return report


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
    clock: Clock = utc_now,
    transport: Transport | None = None,
) -> TestCopies:
    """Mail the edition to `addresses` only, outside the delivery records; freezes nothing.

    An address that is a subscriber gets their own greeting and unsubscribe link.
    """
    from subscribers import store
    from subscribers.validation import normalise_email

    check_language(settings, language)
    send_options(settings)
    sender = envelope_sender(settings)
    wanted = [normalise_email(address) for address in addresses]
    transport = transport or open_mail_transport(settings)
    check_ready_to_send(settings)
    content = edition_content(db, settings, day, language)
    if content is None:
        return TestCopies(f"{day.isoformat()}/{language}", language, nothing_to_send=True)
    identifier = list_id(settings, db)
    # A test copy must look like one in the inbox: it is not the edition as sent.
    skeleton, variant_of = _edition_skeleton(
        settings, language, (content.subject, content.html, content.text),
        _frozen_variants(db, content.edition), identifier, prefix="[TEST] ",
    )  # fmt: skip
    recipient_for = recipient_factory(settings, language, identifier, variant_of=variant_of)
    now = clock()
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
    copies = send_copies(transport, sender, skeleton, recipients, clock=_delivery_clock(clock))
    return TestCopies(content.key, language, f"[TEST] {content.subject}", copies=copies)


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
